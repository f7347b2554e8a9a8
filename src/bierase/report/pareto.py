"""Erasure against preservation, one point per (method, configuration), per scenario, intervals as bars.

Pure data first (``points``, ``front``), then two drawings of the same points: SVG for the HTML reports and
PNG (Pillow only) for the README. Lower erasure figures are better (the concept shown less often), higher
preservation is better, so the goal is the upper left.
"""

from __future__ import annotations

import html
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

Interval = tuple[float, float]


@dataclass(frozen=True)
class Point:
    label: str
    shown: float  # concept rate on the explicit prompts (ACC_e for names): lower is better
    kept: float  # preservation: higher is better
    shown_ci: Interval | None = None
    kept_ci: Interval | None = None


def points(rows: list[dict]) -> dict[str, list[Point]]:
    """Benchmark rows (with their ``metrics``) as points, grouped by scenario, in the rows' order."""
    out: dict[str, list[Point]] = defaultdict(list)
    for r in rows:
        ci = (r.get("metrics") or {}).get("intervals", {})
        names = ("acc_erased", "preservation") if "acc_erased" in r else ("concept_rate.explicit", "preservation")
        shown = r.get("acc_erased", r.get("concept_rate_explicit"))
        if shown is None or r.get("preservation") is None:
            continue
        label = r["method"] if r["config"] in ("-", "default") else f"{r['method']} {r['config']}"
        out[r["scenario"]].append(Point(label, float(shown), float(r["preservation"]),
                                        _ci(ci.get(names[0])), _ci(ci.get(names[1]))))  # fmt: skip
    return dict(out)


def _ci(entry: dict | None) -> Interval | None:
    return None if not entry or "ci95" not in entry else (float(entry["ci95"][0]), float(entry["ci95"][1]))


def dominates(a: Point, b: Point) -> bool:
    """``a`` shows the concept no more often and keeps no less than ``b``, and is better in one of the two."""
    return a.shown <= b.shown and a.kept >= b.kept and (a.shown < b.shown or a.kept > b.kept)


def clearly_dominates(a: Point, b: Point) -> bool:
    """``a`` dominates ``b`` and, on one axis at least, their 95 % intervals do not overlap: a lead the samples
    show, not one a few images could reverse."""
    if not dominates(a, b):
        return False
    shown_apart = a.shown_ci is not None and b.shown_ci is not None and a.shown_ci[1] < b.shown_ci[0]
    kept_apart = a.kept_ci is not None and b.kept_ci is not None and a.kept_ci[0] > b.kept_ci[1]
    return shown_apart or kept_apart


def standing(point: Point, others: list[Point]) -> dict[str, list[str]]:
    """Where ``point`` stands among ``others`` (the baselines): which dominate it and which it dominates, on the
    point estimates and clearly (``clearly_dominates``). Pareto-ahead of them: ``behind`` is empty."""
    return {
        "behind": [q.label for q in others if dominates(q, point)],
        "clearly_behind": [q.label for q in others if clearly_dominates(q, point)],
        "ahead": [q.label for q in others if dominates(point, q)],
        "clearly_ahead": [q.label for q in others if clearly_dominates(point, q)],
    }


def front(scenario_points: list[Point]) -> list[str]:
    """Labels of the points no other point dominates (the Pareto front), in their order."""
    return [p.label for p in scenario_points if not any(dominates(q, p) for q in scenario_points if q is not p)]


# -- drawing: the same frame for SVG and PNG ---------------------------------------------------------------
WIDTH, HEIGHT, PAD, PLOT_RIGHT = 660, 340, 48, 420  # the legend sits right of PLOT_RIGHT
FRONT, OTHER = "#c0392b", "#2471a3"


@dataclass(frozen=True)
class Frame:
    """The ranges drawn, as fractions: erasure from 0 to ``shown_max``, preservation from ``kept_min`` to 1."""

    shown_max: float = 1.0
    kept_min: float = 0.0


def frame(scenario_points: list[Point]) -> Frame:
    """The methods' own ranges with their bars, rounded out to tenths, so that methods a few points apart do not
    sit on each other; the original model (the concept everywhere) is left out of it and named in the title."""
    inner = [p for p in scenario_points if p.label != "original"] or scenario_points
    shown = max(max(p.shown, p.shown_ci[1] if p.shown_ci else 0.0) for p in inner)
    kept = min(min(p.kept, p.kept_ci[0] if p.kept_ci else 1.0) for p in inner)
    return Frame(
        min(1.0, max(0.1, math.ceil(round(shown * 10, 6)) / 10)), max(0.0, math.floor(round(kept * 10, 6)) / 10)
    )


def _inside(p: Point, f: Frame) -> bool:
    return p.shown <= f.shown_max and p.kept >= f.kept_min


def _xy(shown: float, kept: float, f: Frame = Frame()) -> tuple[float, float]:
    x = PAD + shown / f.shown_max * (PLOT_RIGHT - PAD)
    return x, HEIGHT - PAD - (kept - f.kept_min) / (1 - f.kept_min) * (HEIGHT - 2 * PAD)


def _marks(scenario_points: list[Point], f: Frame):
    """(x, y, bars, colour, number, label) per point inside ``f``; bars are ((x0, y0), (x1, y1)) segments."""
    on_front = set(front(scenario_points))
    for number, p in enumerate([p for p in scenario_points if _inside(p, f)], start=1):
        x, y = _xy(p.shown, p.kept, f)
        bars = []
        if p.shown_ci:
            bars.append((_xy(p.shown_ci[0], p.kept, f), _xy(p.shown_ci[1], p.kept, f)))
        if p.kept_ci:
            bars.append((_xy(p.shown, p.kept_ci[0], f), _xy(p.shown, p.kept_ci[1], f)))
        yield x, y, bars, FRONT if p.label in on_front else OTHER, number, p.label


def _axis_text(scenario: str, erased_name: str, scenario_points: list[Point], f: Frame):
    outside = "; ".join(f"{p.label} at {100 * p.shown:.0f} %, {100 * p.kept:.0f} % (outside)"
                        for p in scenario_points if not _inside(p, f))  # fmt: skip
    return [(PAD, 4, f"{scenario}: erasure against preservation (red: Pareto front)"), (PAD, 18, outside),
            (PAD + 60, HEIGHT - 14, f"{erased_name}, % (lower is better)"),
            (4, PAD - 16, "preservation, % (higher is better)"), (PAD - 6, HEIGHT - PAD + 4, "0"),
            (PLOT_RIGHT - 12, HEIGHT - PAD + 4, f"{100 * f.shown_max:.0f}"), (PAD - 30, PAD - 4, "100"),
            (PAD - 24, HEIGHT - PAD - 6, f"{100 * f.kept_min:.0f}")]  # fmt: skip


def _legend(marks: list) -> list[tuple[float, float, str]]:
    return [(PLOT_RIGHT + 20, PAD + 14 * i, f"{number}  {label}") for i, (*_, number, label) in enumerate(marks)]


def svg(scenario: str, scenario_points: list[Point], erased_name: str = "concept rate (explicit)") -> str:
    f = frame(scenario_points)
    marks = list(_marks(scenario_points, f))
    body = [f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{PLOT_RIGHT}" y2="{HEIGHT - PAD}" stroke="#999"/>',
            f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>']  # fmt: skip
    texts = _axis_text(scenario, erased_name, scenario_points, f) + _legend(marks)
    body += [f'<text x="{x:.0f}" y="{y + 10:.0f}">{html.escape(t)}</text>' for x, y, t in texts]
    for x, y, bars, colour, number, _ in marks:
        body += [f'<line x1="{a[0]:.1f}" y1="{a[1]:.1f}" x2="{b[0]:.1f}" y2="{b[1]:.1f}" stroke="{colour}" '
                 f'stroke-opacity="0.5"/>' for a, b in bars]  # fmt: skip
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>')
        body.append(f'<text x="{x + 6:.1f}" y="{y - 4:.1f}" font-size="10">{number}</text>')
    return f'<svg width="{WIDTH}" height="{HEIGHT}" font-size="11">{"".join(body)}</svg>'


def png(path: str | Path, scenario: str, scenario_points: list[Point], erased_name: str = "concept rate (explicit)"):
    f = frame(scenario_points)
    marks = list(_marks(scenario_points, f))
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.line([(PAD, HEIGHT - PAD), (PLOT_RIGHT, HEIGHT - PAD)], fill="#999")
    draw.line([(PAD, PAD), (PAD, HEIGHT - PAD)], fill="#999")
    for x, y, text in _axis_text(scenario, erased_name, scenario_points, f) + _legend(marks):
        draw.text((x, y), text, fill="#222")
    for x, y, bars, colour, number, _ in marks:
        for a, b in bars:
            draw.line([a, b], fill=colour)
        draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=colour)
        draw.text((x + 6, y - 12), str(number), fill="#222")
    image.save(path)
    return Path(path)

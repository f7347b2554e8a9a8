"""Erasure against preservation, one point per (method, configuration), per scenario, intervals as bars.

Pure data first (``points``, ``front``), then two drawings of the same points: SVG for the HTML reports and
PNG (Pillow only) for the README. Lower erasure figures are better (the concept shown less often), higher
preservation is better, so the goal is the upper left.
"""

from __future__ import annotations

import html
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
WIDTH, HEIGHT, PAD = 460, 340, 48
FRONT, OTHER = "#c0392b", "#2471a3"


def _xy(shown: float, kept: float) -> tuple[float, float]:
    return PAD + shown * (WIDTH - 2 * PAD), HEIGHT - PAD - kept * (HEIGHT - 2 * PAD)


def _marks(scenario_points: list[Point]):
    """(x, y, bars, colour, label) per point; bars are ((x0, y0), (x1, y1)) segments."""
    on_front = set(front(scenario_points))
    for p in scenario_points:
        x, y = _xy(p.shown, p.kept)
        bars = []
        if p.shown_ci:
            bars.append((_xy(p.shown_ci[0], p.kept), _xy(p.shown_ci[1], p.kept)))
        if p.kept_ci:
            bars.append((_xy(p.shown, p.kept_ci[0]), _xy(p.shown, p.kept_ci[1])))
        yield x, y, bars, FRONT if p.label in on_front else OTHER, p.label


def _axis_text(scenario: str, erased_name: str) -> list[tuple[float, float, str]]:
    return [(PAD, 14, f"{scenario}: erasure against preservation (red: Pareto front)"),
            (WIDTH / 2 - 70, HEIGHT - 14, f"{erased_name}, % (lower is better)"),
            (4, PAD - 16, "preservation, % (higher is better)"), (PAD - 6, HEIGHT - PAD + 4, "0"),
            (WIDTH - PAD - 12, HEIGHT - PAD + 4, "100"), (PAD - 30, PAD - 4, "100")]  # fmt: skip


def svg(scenario: str, scenario_points: list[Point], erased_name: str = "concept rate (explicit)") -> str:
    body = [f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>',
            f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>']  # fmt: skip
    body += [
        f'<text x="{x:.0f}" y="{y + 10:.0f}">{html.escape(t)}</text>' for x, y, t in _axis_text(scenario, erased_name)
    ]
    for x, y, bars, colour, label in _marks(scenario_points):
        body += [f'<line x1="{a[0]:.1f}" y1="{a[1]:.1f}" x2="{b[0]:.1f}" y2="{b[1]:.1f}" stroke="{colour}" '
                 f'stroke-opacity="0.5"/>' for a, b in bars]  # fmt: skip
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>')
        body.append(f'<text x="{x + 6:.1f}" y="{y - 4:.1f}" font-size="10">{html.escape(label)}</text>')
    return f'<svg width="{WIDTH}" height="{HEIGHT}" font-size="11">{"".join(body)}</svg>'


def png(path: str | Path, scenario: str, scenario_points: list[Point], erased_name: str = "concept rate (explicit)"):
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    draw.line([(PAD, HEIGHT - PAD), (WIDTH - PAD, HEIGHT - PAD)], fill="#999")
    draw.line([(PAD, PAD), (PAD, HEIGHT - PAD)], fill="#999")
    for x, y, text in _axis_text(scenario, erased_name):
        draw.text((x, y), text, fill="#222")
    for x, y, bars, colour, label in _marks(scenario_points):
        for a, b in bars:
            draw.line([a, b], fill=colour)
        draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=colour)
        draw.text((x + 6, y - 12), label, fill="#222")
    image.save(path)
    return Path(path)

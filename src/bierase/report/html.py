"""Building blocks of an HTML report: image grids, a loss curve as SVG, a metrics table."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence

import numpy as np
from PIL import Image

from bierase.images import grid

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1, h2 { font-weight: 600; } table { border-collapse: collapse; } td, th { padding: 4px 10px; border-bottom: 1px solid #ddd; }
th { text-align: left; } .num { text-align: right; font-variant-numeric: tabular-nums; } .grids { display: flex; gap: 2em; flex-wrap: wrap; }
figure { margin: 0; } figcaption { font-size: 0.9em; color: #555; } img { image-rendering: pixelated; }
.protocol { font-size: 0.85em; color: #555; }
"""


def data_uri(image: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def figure(images: np.ndarray, caption: str, columns: int = 8, scale: int = 3) -> str:
    return (
        f'<figure><img alt="{html.escape(caption)}" src="{data_uri(grid(images, columns, scale))}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def loss_curve(history: Sequence[dict[str, float]], keys: Sequence[str], width: int = 520, height: int = 220) -> str:
    """An SVG line chart of ``keys`` over steps (smoothed over 10 steps)."""
    if not history:
        return "<p>no losses recorded</p>"
    colours = ["#c0392b", "#2471a3", "#555"]
    series = {}
    for key in keys:
        values = np.array([h[key] for h in history], dtype=float)
        kernel = min(10, len(values))
        series[key] = np.convolve(values, np.ones(kernel) / kernel, mode="valid")
    top = max(float(s.max()) for s in series.values()) or 1.0
    pad = 40
    lines = []
    for colour, (key, values) in zip(colours, series.items()):
        xs = pad + np.linspace(0, width - 2 * pad, len(values))
        ys = height - pad - (values / top) * (height - 2 * pad)
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys))
        lines.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/>')
        lines.append(f'<text x="{width - pad - 60}" y="{pad + 15 * len(lines) // 2}" fill="{colour}">{key}</text>')
    axes = (
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#999"/>'
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#999"/>'
        f'<text x="{pad}" y="{height - 12}">step 1</text><text x="{width - pad - 60}" y="{height - 12}">'
        f"step {len(history)}</text>"
        f'<text x="2" y="{pad}">{top:.3g}</text><text x="20" y="{height - pad}">0</text>'
    )
    return f'<svg width="{width}" height="{height}" font-size="11">{axes}{"".join(lines)}</svg>'


def metrics_table(rows: Sequence[tuple[str, float | None, float | None, str]]) -> str:
    """Rows of (metric, before, after, goal)."""

    def cell(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.1f} %"

    body = "".join(
        f"<tr><td>{html.escape(name)}</td><td class=num>{cell(b)}</td><td class=num>{cell(a)}</td>"
        f"<td>{html.escape(goal)}</td></tr>"
        for name, b, a, goal in rows
    )
    return f"<table><tr><th>metric</th><th>before</th><th>after</th><th>goal</th></tr>{body}</table>"


def page(title: str, sections: Sequence[str]) -> str:
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{''.join(sections)}</body></html>"
    )

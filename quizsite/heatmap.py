"""Attention weights as a server-rendered SVG heatmap: a pure function, no Django.

Every cell prints its value; its colour comes from one of ``LEVELS`` steps of a ramp, with a
ramp for light mode and one for dark mode (chosen by ``prefers-color-scheme`` inside the SVG's
own ``<style>``), and the text colour of each step is whichever of black and white contrasts
more with it. Any colour has a contrast ratio of at least 4.5 with black or with white (the
luminance where both fall below 4.5 would have to be both >= 0.175 and <= 0.183), so every cell
is readable in both palettes; the tests compute the ratio for every cell drawn.

Masked positions (a weight forced to 0 by a mask) are hatched, so they read differently from a
weight that merely came out small.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from html import escape

LEVELS = 8
# Low weight -> close to the page background, high weight -> strong colour, in each scheme.
LIGHT_RAMP = ("#f1f4ff", "#dbe3ff", "#bccbff", "#94a9fa", "#6d86ee", "#4a63d8", "#2f45b0", "#1b2a7a")
DARK_RAMP = ("#1c2030", "#232b4a", "#2d3a6b", "#3b4f93", "#5068bb", "#6f86db", "#9aabf0", "#c9d3ff")
MASKED = {"light": "#e9eaee", "dark": "#262932"}
HATCH = {"light": "#b4b8c4", "dark": "#4b5060"}
TEXT_CHOICES = ("#000000", "#ffffff")

CELL_W, CELL_H = 64, 36
ROW_LABEL_W, COL_LABEL_H, PAD = 96, 26, 4


def _channel(c: int) -> float:
    s = c / 255
    return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb``."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio ``(L1 + 0.05) / (L2 + 0.05)`` of two ``#rrggbb`` colours (1 to 21)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_colour(background: str) -> str:
    """Black or white, whichever contrasts more with ``background``."""
    return max(TEXT_CHOICES, key=lambda t: contrast_ratio(t, background))


def palette(scheme: str) -> dict[str, tuple[str, str]]:
    """``{css class: (background, text)}`` for ``scheme`` in ``("light", "dark")``."""
    ramp = LIGHT_RAMP if scheme == "light" else DARK_RAMP
    colours = {f"hm-c{i}": (bg, text_colour(bg)) for i, bg in enumerate(ramp)}
    colours["hm-masked"] = (MASKED[scheme], text_colour(MASKED[scheme]))
    return colours


def level(value: float, vmin: float = 0.0, vmax: float = 1.0) -> int:
    """The ramp step of ``value`` (clamped to ``[vmin, vmax]``)."""
    if not math.isfinite(value) or vmax <= vmin:
        return 0
    t = min(max((value - vmin) / (vmax - vmin), 0.0), 1.0)
    return min(int(t * LEVELS), LEVELS - 1)


def format_value(value: float) -> str:
    if not math.isfinite(value):
        return "?"
    text = f"{value:.3f}"
    return "0.000" if text == "-0.000" else text


def _style(scheme: str) -> str:
    rules = [
        f".{cls} rect.hm-bg{{fill:{bg}}}.{cls} text{{fill:{fg}}}"
        for cls, (bg, fg) in palette(scheme).items()
    ]
    rules.append(f".hm-hatch{{stroke:{HATCH[scheme]}}}")
    return "".join(rules)


def heatmap_svg(
    matrix: Sequence[Sequence[float]],
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    *,
    title: str,
    description: str,
    masked: Sequence[Sequence[bool]] | None = None,
    id_prefix: str = "hm",
    vmin: float = 0.0,
    vmax: float = 1.0,
) -> str:
    """An accessible SVG heatmap of ``matrix`` (rows x cols), every label and text escaped.

    ``masked[i][j]`` true draws cell (i, j) hatched. Raises ``ValueError`` when the labels or
    the mask do not match the matrix's shape, or the rows have different lengths.
    """
    rows = [[float(v) for v in row] for row in matrix]
    n_rows = len(rows)
    n_cols = len(rows[0]) if rows else 0
    if any(len(r) != n_cols for r in rows):
        raise ValueError("rows have different lengths")
    if len(row_labels) != n_rows or len(col_labels) != n_cols:
        raise ValueError(f"labels are {len(row_labels)}x{len(col_labels)}, the matrix is {n_rows}x{n_cols}")
    if masked is not None and (len(masked) != n_rows or any(len(m) != n_cols for m in masked)):
        raise ValueError("the mask's shape differs from the matrix's")
    prefix = re.sub(r"[^A-Za-z0-9_-]", "-", id_prefix) or "hm"
    width = ROW_LABEL_W + n_cols * CELL_W + PAD
    height = COL_LABEL_H + n_rows * CELL_H + PAD
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" role="img" '
        f'aria-labelledby="{prefix}-title {prefix}-desc" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}">',
        f'<title id="{prefix}-title">{escape(title)}</title>',
        f'<desc id="{prefix}-desc">{escape(description)}</desc>',
        f"<style>{_style('light')}@media (prefers-color-scheme: dark){{{_style('dark')}}}"
        ".heatmap .hm-label{fill:currentColor;font:12px system-ui,sans-serif}"
        ".heatmap .hm-cell text{font:13px ui-monospace,monospace}</style>",
        f'<defs><pattern id="{prefix}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" class="hm-hatch" '
        'stroke-width="1.5"/></pattern></defs>',
    ]
    for j, label in enumerate(col_labels):
        x = ROW_LABEL_W + j * CELL_W + CELL_W / 2
        out.append(f'<text class="hm-label" x="{x:g}" y="{COL_LABEL_H - 8}" text-anchor="middle">{escape(str(label))}</text>')
    for i, label in enumerate(row_labels):
        y = COL_LABEL_H + i * CELL_H + CELL_H / 2 + 4
        out.append(f'<text class="hm-label" x="{ROW_LABEL_W - 8}" y="{y:g}" text-anchor="end">{escape(str(label))}</text>')
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            is_masked = bool(masked and masked[i][j])
            cls = "hm-masked" if is_masked else f"hm-c{level(value, vmin, vmax)}"
            x = ROW_LABEL_W + j * CELL_W
            y = COL_LABEL_H + i * CELL_H
            text = format_value(value)
            note = f"{row_labels[i]}, {col_labels[j]}: {text}" + (" (masked)" if is_masked else "")
            out.append(
                f'<g class="hm-cell {cls}" data-row="{i}" data-col="{j}"><title>{escape(note)}</title>'
                f'<rect class="hm-bg" x="{x}" y="{y}" width="{CELL_W - 2}" height="{CELL_H - 2}" rx="3"/>'
                + (
                    f'<rect x="{x}" y="{y}" width="{CELL_W - 2}" height="{CELL_H - 2}" rx="3" fill="url(#{prefix}-hatch)"/>'
                    if is_masked
                    else ""
                )
                + f'<text x="{x + (CELL_W - 2) / 2:g}" y="{y + CELL_H / 2 + 3:g}" text-anchor="middle">{escape(text)}</text></g>'
            )
    out.append("</svg>")
    return "".join(out)

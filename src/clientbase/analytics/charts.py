"""Small server-side SVG charts: heat maps, bars and lines, as inline markup. No JavaScript, nothing fetched.

Every label goes through ``escape``; the result is marked safe for templates. Colours come from two CSS
custom properties with fallbacks, so the page's stylesheet may restyle them.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

SERIES_COLOURS = ("#2b6cb0", "#dd6b20", "#38a169", "#805ad5")
FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def _svg(width: int, height: int, body: list[str], title: str) -> SafeString:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
            f'role="img" aria-label="{escape(title)}" {FONT}><title>{escape(title)}</title>')
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308 - every text is escaped above


def _blue(share: float) -> str:
    """White to deep blue for 0..1."""
    s = max(0.0, min(1.0, share))
    r, g, b = (int(255 - (255 - c) * s) for c in (33, 102, 172))
    return f"rgb({r},{g},{b})"


def heatmap(values: Sequence[Sequence[float | None]], rows: Sequence[str], columns: Sequence[str], *,
            title: str, row_title: str = "", column_title: str = "", fmt: str = "{:.0f}",
            cell: int = 38) -> SafeString:
    """A grid of coloured cells with their values; None cells stay blank."""
    finite = [v for row in values for v in row if v is not None]
    top = max(finite) if finite else 1.0
    left, top_margin = 70, 34
    width = left + cell * len(columns) + 10
    height = top_margin + cell * len(rows) + 34
    body = [f'<text x="{left}" y="14" font-weight="bold">{escape(row_title)}</text>']
    for j, label in enumerate(columns):
        body.append(f'<text x="{left + j * cell + cell / 2}" y="{top_margin - 6}" text-anchor="middle">'
                    f'{escape(label)}</text>')
    for i, label in enumerate(rows):
        y = top_margin + i * cell
        body.append(f'<text x="{left - 6}" y="{y + cell / 2 + 4}" text-anchor="end">{escape(label)}</text>')
        for j, value in enumerate(values[i]):
            if value is None:
                continue
            share = value / top if top else 0.0
            colour = "#fff" if share > 0.55 else "#1a202c"
            body.append(f'<rect x="{left + j * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                        f'fill="{_blue(share)}"><title>{escape(label)} / {escape(columns[j])}: '
                        f'{escape(fmt.format(value))}</title></rect>')
            body.append(f'<text x="{left + j * cell + cell / 2 - 1}" y="{y + cell / 2 + 3}" text-anchor="middle" '
                        f'fill="{colour}">{escape(fmt.format(value))}</text>')
    body.append(f'<text x="{left + cell * len(columns) / 2}" y="{height - 8}" text-anchor="middle">'
                f'{escape(column_title)}</text>')
    return _svg(width, height, body, title)


def bars(labels: Sequence[str], series: dict[str, Sequence[float]], *, title: str, fmt: str = "{:.0f}",
         width: int = 640, height: int = 240) -> SafeString:
    """Grouped vertical bars, one colour per series, with a legend."""
    left, bottom, top_margin = 50, 40, 24
    plot_w, plot_h = width - left - 10, height - bottom - top_margin
    top = max([v for values in series.values() for v in values] + [0.0]) or 1.0
    group = plot_w / max(len(labels), 1)
    bar = group * 0.8 / max(len(series), 1)
    body = _axis(left, top_margin, plot_w, plot_h, top, fmt)
    for s, (name, values) in enumerate(series.items()):
        colour = SERIES_COLOURS[s % len(SERIES_COLOURS)]
        body.append(f'<rect x="{left + 10 + s * 110}" y="4" width="10" height="10" fill="{colour}"/>'
                    f'<text x="{left + 24 + s * 110}" y="13">{escape(name)}</text>')
        for i, value in enumerate(values):
            h = plot_h * value / top
            x = left + i * group + group * 0.1 + s * bar
            body.append(f'<rect x="{x:.1f}" y="{top_margin + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                        f'fill="{colour}"><title>{escape(labels[i])}: {escape(fmt.format(value))}</title></rect>')
    step = max(1, len(labels) // 12)
    for i, label in enumerate(labels):
        if i % step == 0:
            body.append(f'<text x="{left + i * group + group / 2:.1f}" y="{top_margin + plot_h + 14}" '
                        f'text-anchor="middle">{escape(label)}</text>')
    return _svg(width, height, body, title)


def lines(labels: Sequence[str], series: dict[str, Sequence[float | None]], *, title: str, fmt: str = "{:.0%}",
          top: float | None = None, width: int = 640, height: int = 240) -> SafeString:
    """Line chart over shared x labels; None points break the line."""
    left, bottom, top_margin = 50, 40, 24
    plot_w, plot_h = width - left - 10, height - bottom - top_margin
    finite = [v for values in series.values() for v in values if v is not None]
    ceiling = top if top is not None else (max(finite + [0.0]) or 1.0)
    step_x = plot_w / max(len(labels) - 1, 1)
    body = _axis(left, top_margin, plot_w, plot_h, ceiling, fmt)
    for s, (name, values) in enumerate(series.items()):
        colour = SERIES_COLOURS[s % len(SERIES_COLOURS)]
        body.append(f'<rect x="{left + 10 + s * 150}" y="4" width="10" height="10" fill="{colour}"/>'
                    f'<text x="{left + 24 + s * 150}" y="13">{escape(name)}</text>')
        points = [(left + i * step_x, top_margin + plot_h * (1 - v / ceiling), v, labels[i])
                  for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y, v, label in points:
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{escape(label)}: '
                        f'{escape(fmt.format(v))}</title></circle>')
    every = max(1, len(labels) // 10)
    for i, label in enumerate(labels):
        if i % every == 0:
            body.append(f'<text x="{left + i * step_x:.1f}" y="{top_margin + plot_h + 14}" '
                        f'text-anchor="middle">{escape(label)}</text>')
    return _svg(width, height, body, title)


def _axis(left: int, top_margin: int, plot_w: int, plot_h: int, top: float, fmt: str) -> list[str]:
    body = [f'<line x1="{left}" y1="{top_margin + plot_h}" x2="{left + plot_w}" y2="{top_margin + plot_h}" '
            f'stroke="#999"/>']
    for k in range(5):
        value = top * k / 4
        y = top_margin + plot_h * (1 - k / 4)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#eee"/>'
                    f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt.format(value))}</text>')
    return body

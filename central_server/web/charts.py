"""SVG charts drawn by the server (no JS charting library, no CDN): stacked horizontal bars, a daily trend line
and a site's map. Every text is escaped with markupsafe; sizes are viewBox units, so a chart scales to a phone;
colours are ui.md's status colours, and every colour comes with a mark or a label as text (never colour alone)."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# ui.md's status colours; "no_entry" is drawn as an outline only (like a pending day).
COLOURS = {"present": "#1a7f37", "late": "#9a6700", "half_day": "#bc4c00", "absent": "#cf222e",
           "on_leave": "#0969da", "on_tour": "#8250df", "off": "#57606a", "no_entry": "#ffffff"}
INK, MUTED, LINE = "#1f2328", "#57606a", "#d0d7de"
WIDTH = 340  # every chart's viewBox width (about a phone's, so text keeps its size there); CSS sets the shown width
FONT = 14
_BAR_ROW, _BAR_H, _LEGEND_ROW = 46, 16, 21


@dataclass(frozen=True)
class Segment:
    """One status's part of a bar: its key (a COLOURS key), value, mark (e.g. "✓") and label."""

    key: str
    value: float
    mark: str
    label: str


@dataclass(frozen=True)
class Bar:
    """One row of a bar chart: its label (a link when href is given), the parts, the value the whole bar stands
    for (e.g. working employee-days), the figure shown at its end and the tooltip."""

    label: str
    segments: Sequence[Segment]
    total: float
    value_text: str
    tooltip: str = ""
    href: str | None = None


@dataclass(frozen=True)
class LegendItem:
    key: str
    mark: str
    label: str


def num(v: float) -> str:
    """A coordinate: one decimal at most, no trailing .0, never exponent notation."""
    s = f"{v:.1f}"
    return s[:-2] if s.endswith(".0") else s


def text(x: float, y: float, content: str, *, size: int = FONT, anchor: str = "start", fill: str = INK,
         bold: bool = False, halo: bool = False) -> str:
    """A <text> element; content escaped. halo: a white outline so it reads over lines and fills."""
    extra = ' font-weight="700"' if bold else ""
    if halo:
        extra += ' stroke="#fff" stroke-width="3" paint-order="stroke" stroke-linejoin="round"'
    return (f'<text x="{num(x)}" y="{num(y)}" font-size="{size}" text-anchor="{anchor}" fill="{fill}"{extra}>'
            f"{escape(content)}</text>")


def title(content: str) -> str:
    """A tooltip (the title child of the element it is in)."""
    return f"<title>{escape(content)}</title>" if content else ""


def svg(width: float, height: float, label: str, body: list[str], css: str = "chart") -> Markup:
    """The <svg> root: sized by its viewBox only (it scales with its box), an image with a name for readers."""
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css)}" viewBox="0 0 {num(width)} '
                  f'{num(height)}" role="img" aria-label="{escape(label)}">{title(label)}{"".join(body)}</svg>')


def shorten(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[:limit - 1].rstrip() + "…"


def legend(items: Sequence[LegendItem], y: float, columns: int = 2) -> tuple[list[str], float]:
    """Swatches with their mark in them and the label beside, in columns; returns the parts and the height."""
    out = []
    col_w = WIDTH / columns
    for i, item in enumerate(items):
        x, top = (i % columns) * col_w, y + (i // columns) * _LEGEND_ROW
        out.append(_swatch(x, top, 26, 15, item.key, item.mark))
        out.append(text(x + 31, top + 12, item.label, size=13))
    return out, math.ceil(len(items) / columns) * _LEGEND_ROW


def _swatch(x: float, y: float, w: float, h: float, key: str, mark: str) -> str:
    outline = key == "no_entry"
    rect = (f'<rect x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}" rx="2" fill="{COLOURS[key]}"'
            + (f' stroke="{INK}" stroke-width="1"' if outline else "") + "/>")
    return rect + text(x + w / 2, y + h - 3.5, mark, size=10, anchor="middle", fill=INK if outline else "#fff",
                       bold=True)


def stacked_bars(bars: Sequence[Bar], items: Sequence[LegendItem], *, label: str) -> Markup:
    """A horizontal bar per row, stacked by status: each part's width is its share of the row's total, so a
    bar's present part is as long as its attendance %. Label and figure above the bar, the legend on top."""
    parts, legend_h = legend(items, 0)
    y = legend_h + 10
    for bar in bars:
        parts.append(_bar_row(bar, y))
        y += _BAR_ROW
    return svg(WIDTH, y, label, parts, "chart bars")


def _bar_row(bar: Bar, y: float) -> str:
    head = text(0, y + 14, shorten(bar.label, 36), bold=bar.href is not None, fill="#0550ae" if bar.href else INK)
    head += text(WIDTH, y + 14, bar.value_text, anchor="end", bold=True)
    inner = [f'<rect x="0" y="{num(y + 20)}" width="{WIDTH}" height="{_BAR_H}" fill="#fff" stroke="{LINE}"/>']
    x = 0.0
    for seg in bar.segments:
        if seg.value <= 0 or bar.total <= 0:
            continue
        w = WIDTH * seg.value / bar.total
        inner.append(_bar_part(x, y + 20, w, seg))
        x += w
    row = head + "".join(inner)
    if bar.href:
        # The whole row is the link's target, the gap between name and bar too (an invisible hit area).
        hit = f'<rect x="0" y="{num(y)}" width="{WIDTH}" height="{_BAR_ROW - 6}" fill="#fff" fill-opacity="0"/>'
        row = f'<a href="{escape(bar.href)}">{hit}{row}</a>'
    return f'<g class="bar">{title(bar.tooltip or bar.label)}{row}</g>'


def _bar_part(x: float, y: float, w: float, seg: Segment) -> str:
    outline = seg.key == "no_entry"
    rect = (f'<rect class="part-{escape(seg.key)}" x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{_BAR_H}" '
            f'fill="{COLOURS[seg.key]}"' + (f' stroke="{MUTED}" stroke-dasharray="3 2"' if outline else "") + ">"
            + title(f"{seg.label}: {seg.mark}") + "</rect>")
    if w >= 9 * max(1, len(seg.mark)) + 4:  # the mark inside the part when it fits
        rect += text(x + w / 2, y + 12, seg.mark, size=10, anchor="middle", fill=INK if outline else "#fff",
                     bold=True)
    return rect


@dataclass(frozen=True)
class Point:
    """One day of a trend: the axis label (often ''), the value (None: no working day, a gap) and a tooltip."""

    label: str
    value: float | None
    tooltip: str


def trend_line(points: Sequence[Point], *, label: str, top: float = 100.0, unit: str = "%") -> Markup:
    """A small line of a value per day (0..top), with gaps where there is none; gridlines at 0, 50, 100 %."""
    h, left, right, up, down = 150.0, 40.0, 8.0, 10.0, 24.0
    plot_w, plot_h = WIDTH - left - right, h - up - down
    parts = []
    for frac in (0.0, 0.5, 1.0):
        gy = up + plot_h * (1 - frac)
        parts.append(f'<line x1="{num(left)}" y1="{num(gy)}" x2="{num(WIDTH - right)}" y2="{num(gy)}" '
                     f'stroke="{LINE}"/>')
        parts.append(text(left - 4, gy + 4, f"{num(top * frac)}{unit}", size=11, anchor="end", fill=MUTED))
    step = plot_w / max(1, len(points) - 1)
    xy = [(left + i * step if len(points) > 1 else left + plot_w / 2,
           None if p.value is None else up + plot_h * (1 - max(0.0, min(p.value, top)) / top))
          for i, p in enumerate(points)]
    parts.append(_polyline(xy))
    for (x, y), p in zip(xy, points, strict=True):
        if y is not None:
            parts.append(f'<circle cx="{num(x)}" cy="{num(y)}" r="3" fill="{COLOURS["present"]}">'
                         f"{title(p.tooltip)}</circle>")
        if p.label:
            parts.append(text(x, h - 8, p.label, size=11, anchor="middle", fill=MUTED))
    return svg(WIDTH, h, label, parts, "chart trend")


def _polyline(xy: list[tuple[float, float | None]]) -> str:
    """One path, broken where a day has no value."""
    d, pen = [], False
    for x, y in xy:
        if y is None:
            pen = False
            continue
        d.append(f"{'L' if pen else 'M'}{num(x)} {num(y)}")
        pen = True
    if not d:
        return ""
    return f'<path d="{" ".join(d)}" fill="none" stroke="{COLOURS["present"]}" stroke-width="2"/>'


@dataclass(frozen=True)
class MapArea:
    """A fence to draw: its name and rings (outer first, then holes) in metres east and north of the origin."""

    name: str
    rings: Sequence[Sequence[tuple[float, float]]]


@dataclass(frozen=True)
class MapSpot:
    """A check-in to draw at (x, y) metres: inside its fence (None: no fence to test), the GPS accuracy radius,
    the number it has in the table beside the map, and the tooltip."""

    x: float
    y: float
    inside: bool | None
    accuracy_m: float
    number: str
    tooltip: str


@dataclass(frozen=True)
class MapText:
    """The words a map shows (translated by the caller)."""

    label: str
    origin: str
    inside: str
    outside: str
    accuracy: str
    north: str = "N"


MAP_MARGIN = 28.0
MIN_SPAN_M = 120.0  # a lone point still shows its surroundings
MAX_SPAN_M = 6_000.0  # beyond this from the origin a check-in is pinned to the edge, with its distance
_NICE_M = (5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000)


def site_map(areas: Sequence[MapArea], spots: Sequence[MapSpot], words: MapText) -> Markup:
    """The fences (filled light, named), the site's reference point at (0, 0) and each check-in as a circle:
    inside ✓ green, outside ✗ red with a dashed ring of its GPS accuracy; a scale bar in metres, north up."""
    x0, y0, x1, y1 = _extent(areas, spots)
    scale = (WIDTH - 2 * MAP_MARGIN) / (x1 - x0)
    legend_h = 48
    height = max(220.0, min(WIDTH * 1.1, (y1 - y0) * scale + 2 * MAP_MARGIN)) + legend_h
    scale = min(scale, (height - legend_h - 2 * MAP_MARGIN) / (y1 - y0))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    plot_h = height - legend_h

    def at(x: float, y: float) -> tuple[float, float]:
        return WIDTH / 2 + (x - cx) * scale, plot_h / 2 - (y - cy) * scale

    parts = [f'<rect x="0" y="0" width="{WIDTH}" height="{num(plot_h)}" fill="#f6f8fa" stroke="{LINE}"/>']
    parts += [_area(a, at) for a in areas]
    ox, oy = at(0.0, 0.0)
    parts.append(f'<g class="origin">{title(words.origin)}<path d="M{num(ox - 6)} {num(oy)}L{num(ox)} {num(oy - 6)}'
                 f'L{num(ox + 6)} {num(oy)}L{num(ox)} {num(oy + 6)}Z" fill="{INK}"/>'
                 + text(ox + 9, oy + 16, words.origin, size=11, halo=True) + "</g>")
    box = (4.0, 4.0, WIDTH - 4.0, plot_h - 4.0)
    parts += [_spot(s, at, scale, box, words) for s in spots]
    parts.append(_scale_bar(scale, plot_h))
    parts.append(text(WIDTH - 12, 20, f"↑ {words.north}", size=12, anchor="end", bold=True, halo=True))
    parts += _map_legend(plot_h + 8, words)
    return svg(WIDTH, height, words.label, parts, "chart map")


def _extent(areas: Sequence[MapArea], spots: Sequence[MapSpot]) -> tuple[float, float, float, float]:
    xs, ys = [0.0], [0.0]
    for a in areas:
        for ring in a.rings:
            xs += [p[0] for p in ring]
            ys += [p[1] for p in ring]
    for s in spots:
        if math.hypot(s.x, s.y) <= MAX_SPAN_M:
            r = 0.0 if s.inside else min(s.accuracy_m, MAX_SPAN_M / 4)
            xs += [s.x - r, s.x + r]
            ys += [s.y - r, s.y + r]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    pad_x, pad_y = max(0.0, MIN_SPAN_M - (x1 - x0)) / 2, max(0.0, MIN_SPAN_M - (y1 - y0)) / 2
    return x0 - pad_x, y0 - pad_y, x1 + pad_x, y1 + pad_y


def _area(area: MapArea, at) -> str:
    d = " ".join("M" + "L".join(f"{num(px)} {num(py)}" for px, py in (at(*p) for p in ring)) + "Z"
                 for ring in area.rings if ring)
    outer = [at(*p) for p in (area.rings[0] if area.rings else [(0.0, 0.0)])]
    # The name just inside the top of the area: its middle is where the office and the check-ins are.
    lx, ly = (min(p[0] for p in outer) + max(p[0] for p in outer)) / 2, min(p[1] for p in outer) + 16
    return (f'<g class="fence">{title(area.name)}<path d="{d}" fill="#dafbe1" fill-opacity="0.8" fill-rule="evenodd" '
            f'stroke="{COLOURS["present"]}" stroke-width="1.5"/>'
            + text(lx, ly, area.name, size=12, anchor="middle", fill="#116329", bold=True, halo=True) + "</g>")


def _spot(spot: MapSpot, at, scale: float, box: tuple[float, float, float, float], words: MapText) -> str:
    far = math.hypot(spot.x, spot.y) > MAX_SPAN_M
    x, y = at(spot.x, spot.y)
    x, y = min(max(x, box[0] + 8), box[2] - 8), min(max(y, box[1] + 8), box[3] - 8)
    ok = spot.inside is not False
    colour = COLOURS["present"] if spot.inside else (COLOURS["absent"] if spot.inside is False else COLOURS["off"])
    mark = "✓" if spot.inside else ("✗" if spot.inside is False else "?")
    parts = [title(spot.tooltip)]
    if not ok and not far:
        parts.append(f'<circle cx="{num(x)}" cy="{num(y)}" r="{num(max(spot.accuracy_m * scale, 9.0))}" '
                     f'fill="none" stroke="{colour}" stroke-width="1.5" stroke-dasharray="4 3"/>')
    parts.append(f'<circle cx="{num(x)}" cy="{num(y)}" r="8" fill="{colour}" stroke="#fff" stroke-width="1.5"/>')
    parts.append(text(x, y + 4, mark, size=11, anchor="middle", fill="#fff", bold=True))
    tag = spot.number + (f" → {_metres(math.hypot(spot.x, spot.y))}" if far else "")
    parts.append(text(x + 11, y - 6, tag, size=11, bold=True, halo=True,
                      anchor="end" if x > WIDTH - 60 else "start"))
    return f'<g class="spot {"inside" if spot.inside else "outside"}">{"".join(parts)}</g>'


def _metres(m: float) -> str:
    if m >= 1000:
        return f"{num(m / 1000)} km"
    return f"{round(m)} m"


def _scale_bar(scale: float, plot_h: float) -> str:
    """A bar of a round length, about a quarter of the map wide, bottom left."""
    target = (WIDTH / 4) / scale
    metres = max([n for n in _NICE_M if n <= target] or [_NICE_M[0]])
    w, x, y = metres * scale, 12.0, plot_h - 12
    return (f'<g class="scale"><path d="M{num(x)} {num(y - 5)}V{num(y)}H{num(x + w)}V{num(y - 5)}" fill="none" '
            f'stroke="{INK}" stroke-width="2"/>' + text(x + w + 5, y + 1, _metres(metres), size=11, bold=True,
                                                         halo=True) + "</g>")


def _map_legend(y0: float, words: MapText) -> list[str]:
    col = WIDTH / 2
    out = []
    for i, (colour, mark, label, ring) in enumerate(((COLOURS["present"], "✓", words.inside, False),
                                                     (COLOURS["absent"], "✗", words.outside, False),
                                                     (COLOURS["absent"], "", words.accuracy, True))):
        x, y = (i % 2) * col + 8, y0 + (i // 2) * 20
        if ring:
            out.append(f'<circle cx="{num(x)}" cy="{num(y + 8)}" r="7" fill="none" stroke="{colour}" '
                       f'stroke-width="1.5" stroke-dasharray="4 3"/>')
        else:
            out.append(f'<circle cx="{num(x)}" cy="{num(y + 8)}" r="7" fill="{colour}"/>')
            out.append(text(x, y + 12, mark, size=10, anchor="middle", fill="#fff", bold=True))
        out.append(text(x + 12, y + 12, label, size=11))
    return out

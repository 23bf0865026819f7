"""The server-drawn SVG charts: well-formed XML, every text escaped, parts as wide as their share, accessible
names, marks as text, and the map's projection, rings and scale bar."""

import re
import xml.etree.ElementTree as ET

import pytest

from central_server.web import charts

NS = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert("x")</script> & "quotes"'
ITEMS = [charts.LegendItem("present", "✓ P", "Present"), charts.LegendItem("absent", "✗ A", "Absent"),
         charts.LegendItem("no_entry", "…", "No entry")]


def parse(markup) -> ET.Element:
    root = ET.fromstring(str(markup))
    assert root.tag == f"{NS}svg" and root.get("role") == "img" and root.get("aria-label")
    assert root.get("viewBox", "").startswith("0 0 ") and root.get("width") is None  # scales with its box
    return root


def bar(label: str, present: float, absent: float, no_entry: float = 0, href: str | None = "/sites/x") -> charts.Bar:
    segs = [charts.Segment("present", present, "✓ P", "Present"), charts.Segment("absent", absent, "✗ A", "Absent"),
            charts.Segment("no_entry", no_entry, "…", "No entry")]
    return charts.Bar(label, segs, present + absent + no_entry, "50%", f"{label}: 50%", href)


def widths(group: ET.Element) -> dict[str, float]:
    return {r.get("class"): float(r.get("width")) for r in group.iter(f"{NS}rect") if r.get("class")}


def test_bars_parse_as_xml_and_escape_every_text():
    svg = charts.stacked_bars([bar(EVIL, 1, 1, href='/sites/a"b<c>')], ITEMS, label=EVIL)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    root = parse(svg)
    assert root.get("aria-label") == EVIL and root.findtext(f"{NS}title") == EVIL
    assert root.find(f".//{NS}a").get("href") == '/sites/a"b<c>'  # an attribute, escaped, reads back whole
    assert EVIL[:30] in {t.text[:30] for t in root.iter(f"{NS}text") if t.text}


def test_each_part_is_as_wide_as_its_share_of_the_bar():
    root = parse(charts.stacked_bars([bar("A", 30, 10, 60), bar("B", 75, 25)], ITEMS, label="chart"))
    a, b = root.findall(f".//{NS}g[@class='bar']")
    wa, wb = widths(a), widths(b)
    assert wa["part-present"] == pytest.approx(charts.WIDTH * 0.30, abs=0.1)
    assert wa["part-absent"] == pytest.approx(charts.WIDTH * 0.10, abs=0.1)
    assert wa["part-no_entry"] == pytest.approx(charts.WIDTH * 0.60, abs=0.1)
    assert wb["part-present"] / wb["part-absent"] == pytest.approx(3, rel=0.01)
    assert "part-no_entry" not in wb  # a zero part is not drawn
    xs = [float(r.get("x")) for r in b.iter(f"{NS}rect") if r.get("class")]
    assert xs == [0.0, pytest.approx(wb["part-present"], abs=0.1)]  # stacked left to right


def test_marks_and_labels_are_text_and_every_bar_has_a_tooltip():
    root = parse(charts.stacked_bars([bar("Office A", 8, 2)], ITEMS, label="chart"))
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert {"✓ P", "✗ A", "…", "Present", "Absent", "No entry", "Office A", "50%"} <= set(texts)
    (group,) = root.findall(f".//{NS}g[@class='bar']")
    assert group.findtext(f"{NS}title") == "Office A: 50%"
    assert all(r.findtext(f"{NS}title") for r in group.iter(f"{NS}rect") if r.get("class"))
    # A long name is shortened in the chart; the tooltip keeps it whole.
    long = charts.stacked_bars([bar("क" * 80, 1, 1)], ITEMS, label="chart")
    assert max(len(t.text or "") for t in parse(long).iter(f"{NS}text")) <= 36


def test_trend_line_has_a_point_per_value_and_gaps_for_none():
    points = [charts.Point("01", 50.0, "01: 50%"), charts.Point("", None, "02: —"), charts.Point("", 100.0, "x"),
              charts.Point("04", 75.0, "04: 75%")]
    root = parse(charts.trend_line(points, label="trend"))
    circles = root.findall(f".//{NS}circle")
    assert [c.findtext(f"{NS}title") for c in circles] == ["01: 50%", "x", "04: 75%"]
    (path,) = root.findall(f".//{NS}path")
    assert path.get("d").count("M") == 2  # the line breaks at the day without a value
    ys = [float(c.get("cy")) for c in circles]
    assert ys[1] < ys[2] < ys[0]  # 100% highest, 50% lowest
    assert {"01", "04", "0%", "50%", "100%"} <= {t.text for t in root.iter(f"{NS}text")}


def test_numbers_are_plain_decimals():
    assert charts.num(12.0) == "12" and charts.num(3.14159) == "3.1" and charts.num(1e-9) == "0"
    assert charts.num(123456.78) == "123456.8"


WORDS = charts.MapText(label="Map of <b>office</b>", origin="Office", inside="Inside", outside="Outside",
                       accuracy="GPS accuracy")
SQUARE = [[(-50.0, -50.0), (50.0, -50.0), (50.0, 50.0), (-50.0, 50.0), (-50.0, -50.0)]]


def test_the_map_draws_fences_spots_and_a_round_scale_bar():
    spots = [charts.MapSpot(0, 0, True, 10, "1", "in"), charts.MapSpot(0, 300, False, 50, "2", "out <x>")]
    root = parse(charts.site_map([charts.MapArea("campus <1>", SQUARE)], spots, WORDS))
    assert root.get("aria-label") == "Map of <b>office</b>"
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert "campus <1>" in texts and "Office" in texts and "↑ N" in texts
    scale = [t for t in texts if t and (t.endswith(" m") or t.endswith(" km"))]
    assert len(scale) == 1 and int(scale[0].split()[0]) in charts._NICE_M
    groups = {g.get("class"): g for g in root.iter(f"{NS}g")}
    fence = groups["fence"].find(f"{NS}path").get("d")
    xs = [float(v) for v in re.findall(r"[ML]([\d.]+) ", fence)]
    ring = [c for c in groups["spot outside"].iter(f"{NS}circle") if c.get("stroke-dasharray")][0]
    # 100 m of fence and the 50 m accuracy ring share one scale.
    assert float(ring.get("r")) == pytest.approx((max(xs) - min(xs)) / 2, abs=0.5)
    assert groups["spot outside"].findtext(f"{NS}title") == "out <x>"
    assert not [c for c in groups["spot inside"].iter(f"{NS}circle") if c.get("stroke-dasharray")]


def test_a_far_check_in_is_pinned_to_the_edge_with_its_distance():
    far = charts.MapSpot(12_000, 0, False, 20, "3", "far")
    root = parse(charts.site_map([charts.MapArea("campus", SQUARE)], [far], WORDS))
    spot = [g for g in root.iter(f"{NS}g") if g.get("class") == "spot outside"][0]
    (dot,) = [c for c in spot.iter(f"{NS}circle") if c.get("r") == "8"]
    assert float(dot.get("cx")) <= charts.WIDTH - 4 and "3 → 12 km" in {t.text for t in spot.iter(f"{NS}text")}

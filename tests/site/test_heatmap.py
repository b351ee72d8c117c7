"""The attention heatmap: a pure SVG function, readable in light and dark mode, masks drawn apart."""

import re
import xml.etree.ElementTree as ET
from fractions import Fraction

import numpy as np
import pytest

from quizsite.disclosure import attention_maps
from quizsite.heatmap import heatmap_svg
from quizsite.templatetags.answer_ui import axis_plural

SVG = "{http://www.w3.org/2000/svg}"


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance, written here independently of the code under test."""
    channels = []
    for k in (1, 3, 5):
        c = int(colour[k : k + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def palettes(svg: str) -> dict[str, dict[str, tuple[str, str]]]:
    """``{scheme: {class: (background, text)}}`` read from the SVG's own <style>."""
    style = re.search(r"<style>(.*?)</style>", svg, re.S).group(1)
    light, dark = style.split("@media (prefers-color-scheme: dark){", 1)
    rule = re.compile(r"\.(hm-[\w-]+) rect\.hm-bg\{fill:(#[0-9a-fA-F]{6})\}\.\1 text\{fill:(#[0-9a-fA-F]{6})\}")
    return {
        "light": {m.group(1): (m.group(2), m.group(3)) for m in rule.finditer(light)},
        "dark": {m.group(1): (m.group(2), m.group(3)) for m in rule.finditer(dark)},
    }


def cells(svg: str) -> list[ET.Element]:
    root = ET.fromstring(svg)
    return [g for g in root.iter(f"{SVG}g") if "hm-cell" in g.get("class", "").split()]


def test_every_cell_is_readable_in_light_and_dark_mode():
    values = np.linspace(-0.25, 1.25, 60).reshape(6, 10)  # every ramp step, and values out of range
    masked = np.zeros_like(values, dtype=bool)
    masked[0, 0] = masked[5, 9] = True
    svg = heatmap_svg(values, [f"q{i}" for i in range(6)], [f"k{j}" for j in range(10)],
                      title="t", description="d", masked=masked.tolist())
    schemes = palettes(svg)
    drawn = cells(svg)
    assert len(drawn) == 60
    classes = set()
    for g in drawn:
        cls = next(c for c in g.get("class").split() if c != "hm-cell")
        classes.add(cls)
        for scheme in ("light", "dark"):
            background, text = schemes[scheme][cls]
            assert contrast(background, text) >= 4.5, (scheme, cls, background, text)
    assert "hm-masked" in classes and len(classes) >= 9  # all eight steps and the mask were drawn
    # Light mode: more weight, darker cell; dark mode: more weight, brighter cell.
    light = [luminance(schemes["light"][f"hm-c{i}"][0]) for i in range(8)]
    dark = [luminance(schemes["dark"][f"hm-c{i}"][0]) for i in range(8)]
    assert light == sorted(light, reverse=True) and dark == sorted(dark)


def test_labels_title_and_values_are_escaped_and_the_svg_is_accessible():
    evil = '<script>alert("x")</script>&'
    svg = heatmap_svg([[0.25, 0.75]], [evil], ["a&b", "<k>"], title=evil, description="d<", id_prefix='x"y')
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    root = ET.fromstring(svg)  # well-formed XML
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert title.text == evil and root.find(f"{SVG}desc").text == "d<"
    assert root.get("aria-labelledby") == f"{title.get('id')} {root.find(f'{SVG}desc').get('id')}"
    assert [t.text for g in cells(svg) for t in g.iter(f"{SVG}text")] == ["0.250", "0.750"]


@pytest.mark.parametrize(
    ("matrix", "rows", "cols", "masked"),
    [
        ([[0.1, 0.9]], ["a", "b"], ["x", "y"], None),  # too many row labels
        ([[0.1, 0.9]], ["a"], ["x"], None),  # too few column labels
        ([[0.1, 0.9], [0.5]], ["a", "b"], ["x", "y"], None),  # ragged
        ([[0.1, 0.9]], ["a"], ["x", "y"], [[True]]),  # mask of another shape
    ],
)
def test_shapes_must_agree(matrix, rows, cols, masked):
    with pytest.raises(ValueError):
        heatmap_svg(matrix, rows, cols, title="t", description="d", masked=masked)


def test_shape_of_the_drawing_follows_the_matrix():
    svg = heatmap_svg(np.full((3, 5), 0.2).tolist(), list("abc"), list("vwxyz"), title="t", description="d")
    positions = {(int(g.get("data-row")), int(g.get("data-col"))) for g in cells(svg)}
    assert positions == {(i, j) for i in range(3) for j in range(5)}


def test_masked_cells_are_hatched_and_named():
    svg = heatmap_svg([[1.0, 0.0], [0.4, 0.6]], ["q1", "q2"], ["k1", "k2"], title="t", description="d",
                      masked=[[False, True], [False, False]], id_prefix="m")
    by_pos = {(g.get("data-row"), g.get("data-col")): g for g in cells(svg)}
    hatched = [pos for pos, g in by_pos.items() if any(r.get("fill") == "url(#m-hatch)" for r in g.iter(f"{SVG}rect"))]
    assert hatched == [("0", "1")]
    assert by_pos[("0", "1")].find(f"{SVG}title").text == "q1, k2: 0.000 (masked)"
    assert "hm-masked" in by_pos[("0", "1")].get("class")
    # A weight that is merely 0 without a mask is not drawn as masked.
    plain = heatmap_svg([[1.0, 0.0]], ["q1"], ["k1", "k2"], title="t", description="d")
    assert "hm-masked" not in " ".join(g.get("class") for g in cells(plain))


# --- which kinds are drawn, and how ----------------------------------------------------------


@pytest.fixture(scope="module")
def variants():
    from attention_engine import api

    return {kind: api.generate(kind, 7, "easy") for kind in ("causal_mask", "by_hand", "cross_attention", "kv_cache")}


def test_masked_positions_come_from_the_mask(variants):
    variant = variants["causal_mask"]
    (key_map,) = attention_maps(variant, {})  # no learner weights: only the correct ones
    weights = np.array(key_map["matrix"])
    masked = np.array(key_map["masked"])
    assert masked.tolist() == np.triu(np.ones_like(weights, dtype=bool), k=1).tolist()
    assert np.all(weights[masked] == 0)
    mine = (np.eye(len(weights)) * 0.5).tolist()
    maps = attention_maps(variant, {"weights": mine})
    assert [m["title"] for m in maps] == ["Your attention weights", "Correct attention weights"]
    assert maps[0]["matrix"] == mine and maps[0]["masked"] == key_map["masked"]
    assert maps[0]["table"][0]["cells"][1] == {"value": "0.000", "masked": True}


def test_axes_follow_each_kind(variants):
    by_hand = attention_maps(variants["by_hand"], {})[0]  # A normalises K^T Q by columns
    assert by_hand["row_labels"][0] == "key 1" and by_hand["col_labels"][0] == "query 1"
    assert by_hand["matrix"][0][0] == pytest.approx(float(Fraction(str(variants["by_hand"]["answer"]["weights"][0][0]))))
    cross = attention_maps(variants["cross_attention"], {})[0]
    n_keys = len(variants["cross_attention"]["answer"]["weights"][0])
    assert cross["row_labels"][0] == "decoder query 1" and cross["col_labels"][-1] == f"encoder key {n_keys}"
    assert cross["masked"] is None
    assert attention_maps(variants["kv_cache"], {}) == []



def test_the_table_caption_names_each_axis_in_the_plural():
    assert [axis_plural(a) for a in ("query", "key", "decoder query", "encoder key")] == [
        "queries", "keys", "decoder queries", "encoder keys"]

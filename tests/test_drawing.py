"""Tests of literate/drawing.py: accessible, deterministic figures drawn from tensors."""

from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET

import torch
from PIL import Image

from literate.drawing import (
    _diverging,
    _svg_figure,
    _svg_matrix,
    corr2d_figure,
    heatmaps,
    log_plot,
    photo_figure,
    receptive_field_figure,
    volatile,
)

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg_text: str) -> ET.Element:
    return ET.fromstring(svg_text)


def test_figure_is_named_and_described():
    root = parse(_svg_figure(100, 50, "A <title>", "Some & description", "<g/>"))
    assert root.get("id") == "a-title"  # the id is made from the title
    assert root.get("role") == "img" and root.get("aria-labelledby") == "a-title-title a-title-desc"
    assert root.find(f"{SVG}title").text == "A <title>" and root.find(f"{SVG}desc").text == "Some & description"


def test_matrix_cells_values_and_marks():
    root = parse(_svg_figure(200, 200, "t", "d", _svg_matrix(torch.tensor([[1.0, 2.5], [3.0, -4.0]]), 0, 0, marked={(1, 0)})))
    values = [t.text for t in root.iter(f"{SVG}text")]
    assert values == ["1", "2.5", "3", "-4"]
    marked = [r for r in root.iter(f"{SVG}rect") if "lit-marked" in r.get("class")]
    assert len(marked) == 1 and (marked[0].get("x"), marked[0].get("y")) == ("0", "36")


def test_diverging_colours_are_centred_on_zero():
    colour = _diverging(2.0)
    assert colour(0.0) == "#f0f0f0"
    assert colour(2.0) == "#b2182b" and colour(5.0) == "#b2182b"  # clipped at the limit
    assert colour(-2.0) == "#2166ac"
    assert colour(1.0) != colour(-1.0)


def test_heatmaps_share_one_scale():
    svg = heatmaps([torch.tensor([[1.0, -1.0]]), torch.tensor([[0.5]])], ["a", "b"], "Two maps")
    fills = re.findall(r"fill:(#[0-9a-f]{6})", re.sub(r"<style>.*?</style>", "", svg))  # the cells', not the style sheet's
    colour = _diverging(1.0)
    assert fills[:3] == [colour(1.0), colour(-1.0), colour(0.5)]
    # The description is worked out from the tensors.
    description = parse(svg).find(f"{SVG}desc").text
    assert "a: 1 × 2, values from -1 to 1; b: 1 × 1, values from 0.5 to 0.5" in description
    assert 'id="two-maps"' in svg


def test_corr2d_figure_works_out_the_first_entry():
    X = torch.arange(9.0).reshape(3, 3)
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    wrapper = parse(corr2d_figure(X, K, torch.tensor([[19.0, 25.0], [37.0, 43.0]])))
    root = wrapper.find(f"{SVG}svg")
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "0×0 + 1×1 + 3×2 + 4×3 = 19" in texts
    assert "3 × 3 input with a 2 × 2 kernel" in root.find(f"{SVG}title").text
    assert sum("lit-marked" in r.get("class") for r in root.iter(f"{SVG}rect")) == 4 + 4 + 1


def test_every_output_entry_of_corr2d_figure_carries_its_window_and_sum():
    X = torch.arange(12.0).reshape(3, 4)
    K = torch.tensor([[1.0, -1.0]])
    Y = torch.tensor([[-1.0, -1.0, -1.0]] * 3)
    root = parse(corr2d_figure(X, K, Y, heat=True, key="edges")).find(f"{SVG}svg")
    picks = {g.get("id"): g for g in root.iter(f"{SVG}g") if g.get("data-sum")}
    assert sorted(picks) == sorted(f"edges-y-{i}-{j}" for i in range(3) for j in range(3))
    assert picks["edges-y-2-1"].get("data-window") == "edges-x-2-1 edges-x-2-2"
    assert picks["edges-y-2-1"].get("data-sum") == "9×1 + 10×(-1) = -1"
    assert picks["edges-y-2-1"].get("data-entry") == "Y[2, 1]"
    ids = {g.get("id") for g in root.iter(f"{SVG}g")}
    assert all(set(g.get("data-window").split()) <= ids for g in picks.values())  # every window cell exists
    assert any("fill:" in (r.get("style") or "") for r in root.iter(f"{SVG}rect"))  # coloured as a heat map


def test_every_figure_carries_its_own_colours():
    figure = _svg_figure(10, 10, "t", "d", "<g/>")
    style = parse(figure).find(f"{SVG}style").text
    assert "var(--md-default-fg-color,var(--jp-content-font-color1," in style  # the site's, then JupyterLab's
    assert "--lit-own-fg:CanvasText" in style and "[data-md-color-scheme=slate] .lit-figure" in style
    assert all(rule.startswith((".lit-", "@media", "[data-", ".vscode")) or rule == ""
               for rule in re.split(r"(?<=})", style.replace("}}", "}")))  # scoped: restyles nothing else


def test_receptive_field_figure_lists_each_cells_field():
    layers = [torch.zeros(4, 4), torch.zeros(3, 3), torch.zeros(2, 2)]
    svg = receptive_field_figure(layers, ["X", "Y", "Z"], [(2, 2), 2], start=(2, 1, 0))
    root = parse(svg)
    assert root.get("role") == "group"
    cells = {g.get("id"): g for g in root.iter(f"{SVG}g") if g.get("id")}
    assert len(cells) == 16 + 9 + 4
    field = cells["receptive-field-2-1-0"].get("data-field").split()
    assert sorted(field) == sorted(
        [f"receptive-field-1-{r}-{c}" for r in (1, 2) for c in (0, 1)]
        + [f"receptive-field-0-{r}-{c}" for r in (1, 2, 3) for c in (0, 1, 2)]
    )
    assert cells["receptive-field-0-0-0"].get("data-field") == ""
    # Without JavaScript the starting entry and its field are highlighted already.
    lit = {i for i, g in cells.items() if "rf-on" in g.get("class")}
    assert lit == set(field) and "rf-source" in cells["receptive-field-2-1-0"].get("class")
    assert all(g.get("tabindex") == "0" and g.get("aria-label") for g in cells.values())


def test_log_plot_has_one_point_per_value():
    root = parse(log_plot([10.0, 1.0, 0.1], "A plot", xlabel="x", ylabel="y"))
    assert root.find(f"{SVG}desc").text == "y at x 1 to 3: from 10 to 0.1, lowest 0.1, highest 10."
    assert len(list(root.iter(f"{SVG}circle"))) == 3
    ys = [float(c.get("cy")) for c in root.iter(f"{SVG}circle")]
    assert ys[0] < ys[1] < ys[2] and abs((ys[1] - ys[0]) - (ys[2] - ys[1])) < 0.2  # equal steps on a log axis


def test_photo_figure_is_deterministic_and_shows_signed_images_around_mid_grey():
    ramp = torch.linspace(0, 1, 12 * 7).reshape(12, 7)
    edges = torch.linspace(-2, 2, 12 * 7).reshape(12, 7)
    first = photo_figure([ramp, edges], ["a ramp", "signed"], saturate=2)
    assert first == photo_figure([ramp, edges], ["a ramp", "signed"], saturate=2)
    images = []
    for data in re.findall(r"base64,([^\"]+)", first):
        images.append(Image.open(io.BytesIO(base64.b64decode(data))))
    assert [(im.mode, im.size) for im in images] == [("L", (7, 12))] * 2
    assert images[0].getpixel((0, 0)) == 0 and images[0].getpixel((6, 11)) == 255
    # Signed: zero is mid-grey; the scale ends at max |value| / saturate = 1, so 2 is clipped white.
    zero = images[1].getpixel((6, 5)), images[1].getpixel((0, 6))  # -0.024 and +0.024
    assert 120 <= min(zero) and max(zero) <= 135
    assert images[1].getpixel((6, 11)) == 255 and images[1].getpixel((0, 0)) == 0
    assert 'alt="a ramp"' in first and 'width="7" height="12"' in first
    assert "<figcaption>signed</figcaption>" in first


def test_volatile_marks_the_region_that_differs_between_builds():
    marked = volatile("| a |\n|---|\n| 1 |")
    assert marked.index("<!-- volatile -->") < marked.index("| 1 |") < marked.index("<!-- /volatile -->")
    assert "data-search-exclude" in marked and 'tabindex="0"' in marked

"""Tests of literate/drawing.py: accessible, deterministic figures drawn from tensors."""

from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET

import torch
from PIL import Image

from literate import receptive_field
from literate.drawing import (
    corr2d_figure,
    diverging,
    heatmaps,
    log_plot,
    png_image,
    receptive_field_figure,
    svg_figure,
    svg_matrix,
)

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg_text: str) -> ET.Element:
    return ET.fromstring(svg_text)


def test_figure_is_named_and_described():
    root = parse(svg_figure(100, 50, "k", "A <title>", "Some & description", "<g/>"))
    assert root.get("role") == "img" and root.get("aria-labelledby") == "k-title k-desc"
    assert root.find(f"{SVG}title").text == "A <title>" and root.find(f"{SVG}desc").text == "Some & description"


def test_matrix_cells_values_and_marks():
    root = parse(svg_figure(200, 200, "m", "t", "d", svg_matrix(torch.tensor([[1.0, 2.5], [3.0, -4.0]]), 0, 0, marked={(1, 0)})))
    values = [t.text for t in root.iter(f"{SVG}text")]
    assert values == ["1", "2.5", "3", "-4"]
    marked = [r for r in root.iter(f"{SVG}rect") if "lit-marked" in r.get("class")]
    assert len(marked) == 1 and (marked[0].get("x"), marked[0].get("y")) == ("0", "36")


def test_diverging_colours_are_centred_on_zero():
    colour = diverging(2.0)
    assert colour(0.0) == "#f0f0f0"
    assert colour(2.0) == "#b2182b" and colour(5.0) == "#b2182b"  # clipped at the limit
    assert colour(-2.0) == "#2166ac"
    assert colour(1.0) != colour(-1.0)


def test_heatmaps_share_one_scale():
    svg = heatmaps([torch.tensor([[1.0, -1.0]]), torch.tensor([[0.5]])], ["a", "b"], "h", "t", "d")
    fills = re.findall(r"fill:(#[0-9a-f]{6})", svg)
    colour = diverging(1.0)
    assert fills[:3] == [colour(1.0), colour(-1.0), colour(0.5)]


def test_corr2d_figure_works_out_the_first_entry():
    X = torch.arange(9.0).reshape(3, 3)
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    root = parse(corr2d_figure(X, K, torch.tensor([[19.0, 25.0], [37.0, 43.0]])))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "0×0 + 1×1 + 3×2 + 4×3 = 19" in texts
    assert "3 × 3 input with a 2 × 2 kernel" in root.find(f"{SVG}title").text
    assert sum("lit-marked" in r.get("class") for r in root.iter(f"{SVG}rect")) == 4 + 4 + 1


def test_receptive_field_figure_lists_each_cells_field():
    layers = [torch.zeros(4, 4), torch.zeros(3, 3), torch.zeros(2, 2)]
    sizes = [(2, 2), (2, 2)]
    svg = receptive_field_figure(layers, ["X", "Y", "Z"], lambda l, i, j: receptive_field(sizes[:l], (i, j)), start=(2, 1, 0))
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
    root = parse(log_plot([10.0, 1.0, 0.1], "p", "t", "d", "x", "y"))
    assert len(list(root.iter(f"{SVG}circle"))) == 3
    ys = [float(c.get("cy")) for c in root.iter(f"{SVG}circle")]
    assert ys[0] < ys[1] < ys[2] and abs((ys[1] - ys[0]) - (ys[2] - ys[1])) < 0.2  # equal steps on a log axis


def test_png_image_is_deterministic_and_the_right_size():
    image = torch.linspace(-1, 1, 12 * 7).reshape(12, 7)
    first, second = png_image(image, "a ramp", -1, 1), png_image(image, "a ramp", -1, 1)
    assert first == second
    data = base64.b64decode(re.search(r"base64,([^\"]+)", first)[1])
    decoded = Image.open(io.BytesIO(data))
    assert decoded.mode == "L" and decoded.size == (7, 12)
    assert decoded.getpixel((0, 0)) == 0 and decoded.getpixel((6, 11)) == 255
    assert 'alt="a ramp"' in first and 'width="7" height="12"' in first

"""The notebooks' figures shown as Jupyter, VS Code or Colab show them: the figure's markup alone,
without the site's style sheet, on a light or a dark page, with or without a host's theme variables.
No cell is filled black, every number stands out from its cell, every label from the page, and
plots are drawn as lines (literate.drawing: every figure carries its own styles)."""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.site

SCREENSHOTS = ROOT / "screenshots"

# How a host shows outputs: the page's colours, the scheme the system prefers, and what the host
# names on <body> (JupyterLab's theme variables; VS Code's class).
HOSTS = {
    "plain, light": ("#ffffff", "light", "", ""),
    "a light page on a dark system (classic Jupyter)": ("#ffffff", "dark", "", ""),
    "a dark page (Colab's dark mode)": ("#1e1e1e", "dark", "", "color-scheme:dark;"),
    "JupyterLab, dark theme": ("#111111", "light", 'data-jp-theme-light="false"',
                               "--jp-content-font-color1:rgba(255,255,255,1);"
                               "--jp-content-font-color2:rgba(255,255,255,0.7);--jp-layout-color0:#111111;"),
    "VS Code, light theme": ("#ffffff", "dark", 'class="vscode-light"',
                             "--vscode-editor-foreground:#3b3b3b;--vscode-editor-background:#ffffff;"),
}

MEASURE = """() => [...document.querySelectorAll('svg.lit-figure')].map(svg => {
    const fill = el => getComputedStyle(el).fill, stroke = el => getComputedStyle(el).stroke;
    return {
        id: svg.id,
        cells: [...svg.querySelectorAll('rect.lit-cell')].map(fill),
        values: [...svg.querySelectorAll('text.lit-value')].map(t => [fill(t), fill(t.parentElement.querySelector('rect'))]),
        labels: [...svg.querySelectorAll('text:not(.lit-value)')].map(fill),
        lines: [...svg.querySelectorAll('polyline')].map(p => [fill(p), stroke(p)]),
        axes: [...svg.querySelectorAll('line')].map(stroke),
    };
})"""


def rgba(css: str) -> tuple[float, float, float, float]:
    """A computed colour as (r, g, b, alpha), 0-255: rgb()/rgba(), or color(srgb r g b [/ a]) in 0-1."""
    numbers = [float(v) for v in re.findall(r"[\d.]+", css.replace("srgb", ""))]
    assert css.startswith(("rgb", "color(srgb")) and len(numbers) in (3, 4), css
    scale = 255 if css.startswith("color(") else 1
    return (*(n * scale for n in numbers[:3]), numbers[3] if len(numbers) == 4 else 1.0)


def over(colour: str, background: str) -> tuple[float, float, float]:
    r, g, b, a = rgba(colour)
    R, G, B, _ = rgba(background)
    return r * a + R * (1 - a), g * a + G * (1 - a), b * a + B * (1 - a)


def luminance(rgb) -> float:
    def channel(c):
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = map(channel, rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    hi, lo = sorted([luminance(a), luminance(b)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def hex_rgb(colour: str) -> str:
    return "rgb({}, {}, {})".format(*(int(colour[i:i + 2], 16) for i in (1, 3, 5)))


def figure_outputs(site) -> list[str]:
    found = []
    for path in sorted(site.glob("notebooks/*/*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            for output in cell.get("outputs", []):
                markup = "".join(output.get("data", {}).get("text/html", ""))
                if '<svg class="lit-figure"' in markup:
                    found.append(markup)
    return found


@pytest.mark.parametrize("host", list(HOSTS))
def test_the_notebooks_figures_read_well_without_the_sites_style_sheet(browser, site, host):
    background, scheme, attributes, variables = HOSTS[host]
    outputs = figure_outputs(site)
    assert len(outputs) >= 5  # the chapter's steppers, plots and diagrams, and the appendix's examples
    page_html = (f'<!doctype html><html><body {attributes} style="{variables}background:{background}">'
                 + "".join(f'<div class="output">{markup}</div>' for markup in outputs) + "</body></html>")
    context = browser.new_context(color_scheme=scheme, viewport={"width": 900, "height": 800})
    try:
        page = context.new_page()
        page.set_content(page_html, wait_until="load")
        figures = page.evaluate(MEASURE)
        bg = hex_rgb(background)
        problems = []
        for figure in figures:
            name = f"{host}: {figure['id']}"
            problems += [f"{name}: a cell filled {c}" for c in figure["cells"] if c in ("rgb(0, 0, 0)", "none")]
            for text, cell in figure["values"]:
                shade = over(cell, bg)
                if contrast(over(text, bg), shade) < 4.5:
                    problems.append(f"{name}: a number in {text} on a cell of {cell}")
            problems += [f"{name}: a label in {c} on {bg}" for c in figure["labels"] if contrast(over(c, bg), over(bg, bg)) < 4.5]
            problems += [f"{name}: a plot line filled {f} or unstroked" for f, s in figure["lines"] if f != "none" or s == "none"]
            problems += [f"{name}: an axis without a stroke" for s in figure["axes"] if s == "none"]
        assert problems == []
        SCREENSHOTS.mkdir(exist_ok=True)
        slug = re.sub(r"[^a-z]+", "-", host.lower()).strip("-")
        page.screenshot(path=str(SCREENSHOTS / f"notebook-figures-{slug}.png"), full_page=True)
    finally:
        context.close()

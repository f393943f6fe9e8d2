"""The interactive figures in a real browser (docs/assets/javascripts/figures.js): the sliding-window
steppers, the kernel playground and the output-shape explorer, driven as a reader drives them, by
keyboard first; and every number they show checked against the package or PyTorch."""

from __future__ import annotations

import contextlib
import html
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from literate import corr2d
from tests.helpers import ROOT, SiteServer, Visit

pytestmark = pytest.mark.site

CHAPTER = "chapters/convolutions/"
PADDING = "chapters/padding-and-strides/"  # the padding and stride steppers and the shape explorer
CHANNELS = "chapters/channels/"
SCREENSHOTS = ROOT / "screenshots"


@pytest.fixture(scope="module")
def server(site):
    server = SiteServer(site)
    yield server
    server.close()


@pytest.fixture
def visit(browser, server, request):
    opened = []

    def open_page(path, **options):
        opened.append(Visit(browser, server.base + path, server.origin, **options))
        return opened[-1]

    yield open_page
    for page in opened:
        page.close()


def shoot(page, selector, name):
    """A screenshot of one figure, for people to look at (screenshots/, git-ignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.locator(selector).screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def worked(X, K, i, j):
    """The worked sum of output entry (i, j), written from the tensors as the figure must show it."""
    kh, kw = K.shape
    def factor(v):
        return f"({v:g})" if v < 0 else f"{v:g}"

    terms = " + ".join(f"{factor(x)}×{factor(k)}"
                       for x, k in zip(X[i:i + kh, j:j + kw].flatten().tolist(), K.flatten().tolist()))
    return f"{terms} = {corr2d(X, K)[i, j].item():g}"


def marked(page, key):
    return set(page.locator(f"#{key} [id^='{key}-x-'] rect.lit-marked").evaluate_all(
        "rects => rects.map(r => r.parentElement.id)"))


# The sliding-window steppers -------------------------------------------------------------------


def test_the_stepper_moves_by_keyboard_and_announces_each_worked_sum(visit):
    page = visit(CHAPTER).page
    X = torch.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    figure = page.locator("#corr2d-figure")
    page.wait_for_function("document.querySelector('#corr2d-figure').getAttribute('tabindex') === '0'")
    figure.focus()
    status = page.locator("#corr2d-figure-status")
    assert status.get_attribute("aria-live") == "polite"
    visited = []
    for key, (i, j) in [(None, (0, 0)), ("ArrowRight", (0, 1)), ("ArrowDown", (1, 1)), ("ArrowLeft", (1, 0)),
                        ("ArrowLeft", (1, 0)), ("End", (1, 1)), ("Home", (0, 0))]:
        if key:
            page.keyboard.press(key)
        expected = worked(X, K, i, j)
        assert figure.get_attribute("data-selected") == f"Y[{i}, {j}]"
        assert page.locator("#corr2d-figure .lit-sum").text_content() == expected
        assert expected in status.text_content()
        assert marked(page, "corr2d-figure") == {f"corr2d-figure-x-{i + a}-{j + b}" for a in (0, 1) for b in (0, 1)}
        visited.append(expected.rsplit(" ", 1)[1])
        if (key, i, j) == ("ArrowDown", 1, 1):
            shoot(page, "#corr2d-figure", "stepper-inner-entry")
    assert visited[:4] == ["19", "25", "43", "37"]  # the book's four outputs, one per entry


def test_the_edge_stepper_answers_to_pointer_and_click(visit):
    page = visit(CHAPTER).page
    X = torch.ones(6, 8)
    X[:, 2:6] = 0
    K = torch.tensor([[1.0, -1.0]])
    page.locator("#edge-figure-y-2-5").hover()
    assert page.locator("#edge-figure .lit-sum").text_content() == worked(X, K, 2, 5) == "0×1 + 1×(-1) = -1"
    page.locator("#edge-figure-y-4-1").click()
    assert page.locator("#edge-figure").get_attribute("data-selected") == "Y[4, 1]"
    assert marked(page, "edge-figure") == {"edge-figure-x-4-1", "edge-figure-x-4-2"}
    assert page.locator("#edge-figure-status").text_content() == "Y[4, 1]: " + worked(X, K, 4, 1)


@pytest.mark.parametrize("motion", ["no-preference", "reduce"])
def test_play_steps_through_the_entries_and_pause_stops(browser, server, motion):
    context = browser.new_context(reduced_motion=motion)
    try:
        page = context.new_page()
        page.goto(server.base + CHAPTER)
        button = page.locator("#corr2d-figure").locator("xpath=..").locator(".lit-play")
        page.wait_for_function("!document.querySelector('.lit-stepper .lit-play').hidden")
        button.focus()
        page.keyboard.press("Enter")  # a button: Enter or Space presses it
        assert button.text_content() == "Pause"  # its name says what pressing it does next
        page.wait_for_function("document.querySelector('#corr2d-figure').dataset.selected === 'Y[0, 1]'", timeout=10_000)
        page.keyboard.press("Space")
        assert button.text_content() == "Play"
        page.locator("#corr2d-figure-y-1-1").click()  # a click on an entry selects it
        assert page.locator("#corr2d-figure").get_attribute("data-selected") == "Y[1, 1]"
    finally:
        context.close()


def test_without_javascript_the_stepper_shows_the_first_entry(browser, server):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(server.base + CHAPTER)
        assert page.locator("#corr2d-figure .lit-sum").text_content() == "0×0 + 1×1 + 3×2 + 4×3 = 19"
        assert page.locator(".lit-play").first.is_hidden()
        assert page.locator("#corr2d-figure").get_attribute("tabindex") is None  # no dead tab stop
    finally:
        context.close()


def marked_ids(page, key):
    """The ids of the cells of a figure that are shaded now."""
    return set(page.locator(f"#{key} g[id] > rect.lit-marked").evaluate_all("rects => rects.map(r => r.parentElement.id)"))


def test_padding_and_stride_steppers_shade_the_padded_windows(visit):
    """Every output entry of the two figures of the padding chapter, clicked: the shaded window is
    the padded input's, moved by the stride, and the sum announced is conv2d's."""
    page = visit(PADDING).page
    X = torch.arange(9.0).reshape(3, 3)
    K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    for key, (sh, sw) in [("padding-figure", (1, 1)), ("stride-figure", (3, 2))]:
        Y = F.conv2d(X[None, None], K[None, None], padding=1, stride=(sh, sw))[0, 0]
        padded = F.pad(X, (1, 1, 1, 1))
        for i, j in np.ndindex(*Y.shape):
            page.locator(f"#{key}-y-{i}-{j}").click()
            window = padded[i * sh:i * sh + 2, j * sw:j * sw + 2].flatten().tolist()
            expected = " + ".join(f"{x:g}×{k:g}" for x, k in zip(window, K.flatten().tolist()))
            assert page.locator(f"#{key}-status").text_content() == f"Y[{i}, {j}]: {expected} = {Y[i, j].item():g}"
            assert marked_ids(page, key) == {f"{key}-x-{i * sh + a}-{j * sw + b}" for a in (0, 1) for b in (0, 1)} | {
                f"{key}-y-{i}-{j}"}
    assert "0×0 + 0×1 + 1×2 + 2×3 = 8" in page.locator("#stride-figure-y-0-1").get_attribute("data-sum")  # the book's sums
    assert "0×0 + 6×1 + 0×2 + 0×3 = 6" in page.locator("#stride-figure-y-1-0").get_attribute("data-sum")
    shoot(page, "#stride-figure", "stepper-stride")


def test_the_channels_stepper_moves_across_output_channels_and_shades_each_entrys_inputs(visit):
    page = visit(CHANNELS).page
    X = torch.tensor([[[0.0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]])
    K = torch.tensor([[[0.0, 1], [2, 3]], [[1.0, 2], [3, 4]]])
    K3 = torch.stack([K, K + 1, K + 2])
    Y3 = F.conv2d(X[None], K3)[0]  # (3, 2, 2)
    key = "multi-out-figure"
    page.wait_for_function(f"document.querySelector('#{key}').getAttribute('tabindex') === '0'")
    page.locator(f"#{key}").focus()
    # Right from Y[0, 0, 1] goes on to the next output channel's first column: the channels stand side by side.
    for press, (o, i, j) in [(None, (0, 0, 0)), ("ArrowRight", (0, 0, 1)), ("ArrowRight", (1, 0, 0)),
                             ("ArrowDown", (1, 1, 0)), ("End", (2, 1, 1))]:
        if press:
            page.keyboard.press(press)
        assert page.locator(f"#{key}").get_attribute("data-selected") == f"Y[{o}, {i}, {j}]"
        worked = page.locator(f"#{key} .lit-sum").text_content()
        assert worked.endswith(f"= {Y3[o, i, j].item():g}") and worked.count("(") == 2  # a bracket per input channel
        assert worked in page.locator(f"#{key}-status").text_content()
        windows = {f"{key}-x-{c}-{i + a}-{j + b}" for c in (0, 1) for a in (0, 1) for b in (0, 1)}
        kernels = {f"{key}-k-{o}-{c}-{a}-{b}" for c in (0, 1) for a in (0, 1) for b in (0, 1)}
        assert marked_ids(page, key) == windows | kernels | {f"{key}-y-{i}-{o * 2 + j}"}
    shoot(page, f"#{key}", "stepper-channels")
    assert page.locator("#multi-in-figure-y-0-0").get_attribute("data-sum") == (
        "(0×0 + 1×1 + 3×2 + 4×3) + (1×1 + 2×2 + 4×3 + 5×4) = 56")  # the book's first entry


# The kernel playground -------------------------------------------------------------------------


def playground_image(site: Path, page) -> torch.Tensor:
    """The playground's image as the page serves it, decoded here (Pillow), as levels / 255."""
    src = page.locator("#kernel-playground img[data-input]").get_attribute("src")
    path = (site / CHAPTER / src).resolve()
    return grey_levels(path) / 255


def grey_levels(path: Path) -> torch.Tensor:
    """A grey PNG's levels (h, w), 0 to 255, as float64, decoded by Pillow."""
    return torch.from_numpy(np.array(Image.open(path).convert("L"))).to(torch.float64)


def test_the_playgrounds_javascript_computes_what_corr2d_computes(visit, site):
    page = visit(CHAPTER).page
    page.wait_for_function("document.querySelector('#kernel-playground').dataset.ready === '1'", timeout=10_000)
    image = playground_image(site, page)
    inputs = page.locator("#kernel-playground .lit-pg-kernel input")
    generator = torch.Generator().manual_seed(0)
    for _ in range(20):
        K = (torch.randn(3, 3, generator=generator, dtype=torch.float64) * 3).round(decimals=2)
        for index, value in enumerate(K.flatten().tolist()):
            inputs.nth(index).fill(repr(value))  # each edit redraws; the last one draws K
        got = page.evaluate("(() => { const o = document.querySelector('#kernel-playground').litOutput;"
                            " return {data: Array.from(o.data), h: o.h, w: o.w, kernel: o.kernel}; })()")
        assert got["kernel"] == K.flatten().tolist()
        expected = corr2d(image, K)
        assert (got["h"], got["w"]) == tuple(expected.shape)
        torch.testing.assert_close(torch.tensor(got["data"], dtype=torch.float64).reshape(expected.shape), expected,
                                   rtol=0, atol=1e-4)
    assert page.locator("#kernel-playground figure[data-preset='custom']").is_visible()
    assert page.locator("#kernel-playground input[value='custom']").is_checked()
    shoot(page, "#kernel-playground", "playground-custom-kernel")
    inputs.nth(4).fill("1e9")  # too large: named, and nothing drawn from it
    status = page.locator("#kernel-playground .lit-status")
    assert status.text_content() == "Row 2, column 2: give a number between -1,000,000 and 1,000,000"
    assert inputs.nth(4).get_attribute("aria-invalid") == "true"
    inputs.nth(4).fill("1")
    assert status.text_content() == "" and inputs.nth(4).get_attribute("aria-invalid") == "false"


def test_the_presets_are_corr2d_on_the_image_and_the_keyboard_reaches_them(visit, site):
    page = visit(CHAPTER).page
    page.wait_for_function("document.querySelector('#kernel-playground').dataset.ready === '1'", timeout=10_000)
    image = playground_image(site, page)
    radios = page.locator("#kernel-playground input[type='radio']")
    radios.first.focus()
    page.keyboard.press("ArrowRight")  # radio buttons: arrow keys move the choice
    assert radios.nth(1).is_checked()
    shown = page.locator("#kernel-playground figure[data-preset]:not([hidden])")
    assert shown.count() == 1 and "K transposed" in shown.text_content()  # beside the image
    for n in range(radios.count() - 1):
        radio = radios.nth(n)
        radio.check()
        caption = page.locator(f"#kernel-playground figure[data-preset='{n}'] figcaption").text_content()
        kernel = torch.tensor(json.loads(caption.split(": ", 1)[1]), dtype=torch.float64)
        src = page.locator(f"#kernel-playground figure[data-preset='{n}'] img").get_attribute("src")
        picture = grey_levels((site / CHAPTER / src).resolve()).flatten()
        Y = corr2d(image, kernel)
        limit = Y.abs().max()
        lo, hi = (-limit, limit) if Y.min() < 0 else (Y.min(), Y.max())
        levels = ((Y.clamp(lo, hi) - lo) / (hi - lo) * 255).round().flatten()
        assert (levels - picture).abs().max() <= 1, caption  # the build's corr2d, drawn by its rule
        if "Sobel x" in caption:
            shoot(page, "#kernel-playground", "playground-preset-sobel-x")
        # The preset fills the 3 x 3 inputs with its kernel, in the middle of zeros when it is smaller:
        # as a 3 x 3 kernel it computes the same outputs, less the rows and columns it cannot reach.
        values = page.locator("#kernel-playground .lit-pg-kernel input").evaluate_all("els => els.map(e => Number(e.value))")
        padded = torch.zeros(3, 3, dtype=torch.float64)
        top, left = (3 - kernel.shape[0]) // 2, (3 - kernel.shape[1]) // 2
        padded[top:top + kernel.shape[0], left:left + kernel.shape[1]] = kernel
        torch.testing.assert_close(torch.tensor(values, dtype=torch.float64).reshape(3, 3), padded, rtol=0, atol=1e-6)
        same = corr2d(image, padded)  # (h - 2, w - 2)
        torch.testing.assert_close(same, Y[top:top + same.shape[0], left:left + same.shape[1]], rtol=0, atol=1e-9)


# The output-shape explorer ---------------------------------------------------------------------


def test_every_shape_the_explorer_can_show_is_conv2ds(site):
    text = (site / PADDING / "index.html").read_text(encoding="utf-8")
    bounds = json.loads(html.unescape(re.search(r'class="lit-shapes"[^>]*data-bounds="([^"]+)"', text)[1]))
    sizes = [int(v) for v in re.search(r'class="lit-shapes"[^>]*data-sizes="([^"]+)"', text)[1].split(",")]
    settings = [()]
    for lo, hi in bounds:
        settings = [s + (v,) for s in settings for v in range(lo, hi + 1)]
    assert len(settings) == len(sizes) > 1000
    for (n, k, p, s, d), size in zip(settings, sizes):
        try:
            got = F.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), padding=p, stride=s, dilation=d).shape[-1]
        except RuntimeError:
            got = 0
        assert got == size, (n, k, p, s, d)


def test_the_explorer_names_its_answer_and_gives_a_call_that_runs(visit):
    opened = visit(PADDING)
    page = opened.page
    explorer = page.locator("#shape-explorer")
    page.wait_for_function("document.querySelector('#shape-explorer').dataset.ready === '1'")
    for setting in [{"n": 7, "k": 3, "p": 1, "s": 2, "d": 2}, {"n": 2, "k": 4, "p": 0, "s": 1, "d": 1},
                    {"n": 10, "k": 5, "p": 2, "s": 3, "d": 3}]:
        for name, value in setting.items():
            explorer.locator(f"input[name='{name}']").fill(str(value))
        shown = explorer.locator("output").text_content()
        code = explorer.locator("pre > code").text_content()
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            try:
                exec(code, {})  # the call, as the copy button copies it
            except RuntimeError:
                assert code.rstrip().endswith("does not fit in the padded input") and shown.startswith("Invalid")
                continue
        size = torch.Size(eval(printed.getvalue().strip().removeprefix("torch.Size(").removesuffix(")")))
        assert code.rstrip().endswith(f"# {size}") and shown == f"Output: {size[-1]} × {size[-1]}"
    opened.mount_code_blocks()  # Material sets up a block's copy button as it nears the screen
    explorer.locator("button[data-md-type='copy']").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.strip() == explorer.locator("pre > code").text_content().strip()
    shoot(page, "#shape-explorer", "shape-explorer")
    explorer.locator("input[name='s']").fill("9")
    assert explorer.locator("output").text_content() == "Invalid: stride s must be a whole number from 1 to 3"
    explorer.locator("input[name='n']").focus()  # every setting by keyboard: Tab from one to the next
    for name in ["k", "p", "s", "d"]:
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.name") == name

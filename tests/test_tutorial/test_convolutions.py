"""The chapter docs/chapters/convolutions.md, run block by block as the site build runs it."""

from __future__ import annotations

import contextlib
import io
import re

import pytest
import torch

import literate.convolutions
from tests.helpers import CHAPTER
from tools import chapter as chapter_model
from tools.fold import folded

MODEL = chapter_model.read(CHAPTER)  # the build's own rule for which blocks run (the chapter model)
EXERCISES = next(n for n, line in enumerate(MODEL.text.split("\n"), start=1) if line == "## Exercises")
LESSON = [block for block in MODEL.executed if block.line < EXERCISES]
SOLUTIONS = [block for block in MODEL.executed if block.line > EXERCISES]


def run(block, namespace) -> str:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(compile(block.code, f"{CHAPTER.name}:{block.line}", "exec"), namespace)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def chapter():
    """Every executed block of the chapter in one namespace, as the page runs them; what each
    printed; and the namespace as the lesson leaves it, before the exercises' solutions."""
    namespace: dict = {"__name__": "__chapter__"}
    printed = [(block, run(block, namespace)) for block in LESSON]
    lesson = dict(namespace)
    printed += [(block, run(block, namespace)) for block in SOLUTIONS]
    return lesson, printed


def output_containing(printed, text):
    found = [out for _, out in printed if text in out]
    assert found, f"no block printed {text!r}"
    return found[0]


def test_first_example_its_figure_and_its_shape(chapter):
    _, printed = chapter
    expected = str(torch.tensor([[19.0, 25.0], [37.0, 43.0]]))
    assert any(out.strip() == expected for _, out in printed)
    assert "0×0 + 1×1 + 3×2 + 4×3 = 19" in output_containing(printed, 'id="corr2d-figure"')
    assert "formula: (2, 2)  corr2d: (2, 2)" in output_containing(printed, "formula:")


def test_why_convolve_counts_weights_and_shows_equivariance(chapter):
    lesson, printed = chapter
    pixels = lesson["photo"].numel()
    assert lesson["photo"].shape == (200, 170)
    assert f"fully connected: {pixels * pixels + pixels:,} parameters" in output_containing(printed, "fully connected")
    assert "3 x 3 convolution: 10" in output_containing(printed, "3 x 3 convolution")
    assert output_containing(printed, "moved the same way").strip().endswith("True")


def test_edge_detection_values(chapter):
    lesson, printed = chapter
    X, K, Y = lesson["X"], lesson["K"], lesson["Y"]
    assert X.shape == (6, 8) and torch.equal(K, torch.tensor([[1.0, -1.0]]))
    assert Y[:, 1].eq(1).all() and Y[:, 5].eq(-1).all() and Y.abs().sum() == 12
    assert str(torch.zeros(8, 5)) in [out.strip() for _, out in printed]
    assert "F.conv2d equals corr2d on a 12 x 12 corner: True" in output_containing(printed, "12 x 12 corner")


def test_kernel_learning(chapter):
    lesson, printed = chapter
    assert "weight shape (out, in, kh, kw): (1, 1, 1, 2)" in output_containing(printed, "weight shape")
    losses = eval(output_containing(printed, "loss at each step:").split(":", 1)[1])  # a printed list of floats
    assert len(losses) == 10 and all(b < a for a, b in zip(losses, losses[1:]))
    assert losses == [round(loss, 3) for loss in lesson["losses"]]
    torch.testing.assert_close(lesson["learned"], lesson["K"], atol=0.1, rtol=0)


def test_a_strict_convolution_layer_learns_the_flipped_kernel(chapter):
    lesson, printed = chapter
    W, learned = lesson["W"].detach()[0, 0], lesson["learned"]
    torch.testing.assert_close(W, learned.flip(0, 1))  # the same descent, mirrored
    assert not torch.equal(W, learned)  # and not the same kernel: the flip is real
    X_batch = lesson["X_batch"]
    torch.testing.assert_close(torch.nn.functional.conv2d(X_batch, lesson["W"].flip(3)), lesson["conv"](X_batch))
    out = output_containing(printed, "learned by strict convolution")
    strict, flipped = [line.split(":", 1)[1].strip() for line in out.strip().split("\n")]
    assert strict == flipped


def test_convolution_the_backward_pass_and_the_names_of_the_paddings(chapter):
    lesson, printed = chapter
    everything = "".join(out for _, out in printed)
    assert "equals corr2d with K3 flipped: True" in everything
    assert "False" not in everything
    assert "X4.grad equals the full cross-correlation of G with K3 flipped: True" in everything
    X4, G = lesson["X4"], lesson["G"]
    assert X4.grad.shape == X4.shape and G.shape == (X4.shape[0] - 1, X4.shape[1] - 1)
    assert "{'valid': 4, 'same': 6, 'full': 8}" in everything


def test_receptive_fields_their_centre_and_stacks_that_collapse(chapter):
    lesson, printed = chapter
    everything = "".join(out for _, out in printed)
    assert "two 2x2 layers: input rows 0..2, cols 0..2: 9 inputs" in everything
    assert "one 2x2 layer: input rows 0..1, cols 0..1: 4 inputs" in everything
    assert "input rows: [-1, 0, 1]  cols: [-1, 0, 1]" in everything  # a field that reaches into padding
    paths = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]])  # paths from each input to z
    assert str(paths) in output_containing(printed, "d z[0, 0] / d X_in")
    assert "paths from the centre: 4  a corner: 1" in everything
    for L in range(1, 5):
        assert f"layers of 3 x 3: {L}, field {2 * L + 1} x {2 * L + 1}" in everything
    assert "two 3x3 layers = one 5x5 layer: True" in everything
    assert "weights: 18 in A and B, 25 in C" in everything
    A, B, C = lesson["A"], lesson["B"], lesson["C"]
    assert C.shape == (5, 5)
    torch.testing.assert_close(C[0, 0], A[0, 0] * B[0, 0])  # the corners: one product each
    torch.testing.assert_close(C[4, 4], A[2, 2] * B[2, 2])
    torch.testing.assert_close(C.sum(), A.sum() * B.sum())  # every product once


def test_blocks_that_print_show_their_output_and_others_show_none(chapter):
    """`result="text"` (or `html="1"` for figures) exactly where a block prints: no empty boxes."""
    _, printed = chapter
    for block, out in printed:
        shows = 'result="text"' in block.info or 'html="1"' in block.info
        assert shows == bool(out), f"{CHAPTER.name}:{block.line}: result option does not match output"


# The solutions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("block", SOLUTIONS, ids=lambda block: f"line {block.line}")
def test_each_solution_runs_on_its_own(block, chapter):
    """With nothing but torch and the chapter's saved functions, and prints what the page shows."""
    saved = {name: getattr(literate.convolutions, name) for name in literate.convolutions.__all__}
    out = run(block, {"__name__": "__solution__", "torch": torch, **saved})
    _, printed = chapter
    assert out == dict((b.line, o) for b, o in printed)[block.line]


def test_the_exercises_are_the_books_with_its_numbers():
    after = MODEL.text.split("## Exercises", 1)[1]
    headings = re.findall(r"^#{3,4} (\d(?:\.\d)?)[. ]", after, re.M)
    assert headings == ["1", "2", "3", "4", "4.1", "4.2", "4.3"]
    first = after.split("### 2.", 1)[0]
    assert re.findall(r"^(\d)\. ", first, re.M)[:3] == ["1", "2", "3"]  # 1.1 to 1.3: one list, in order


# The lesson reads in one sitting -------------------------------------------------------------------


def collapsed(block) -> bool:
    """Whether the block sits in a collapsed box (`??? ...`) of the chapter: the nearest line above
    it that is indented less than the fence opens one."""
    lines = MODEL.text.split("\n")[: block.line - 1]
    outer = [line for line in lines if line.strip() and len(line) - len(line.lstrip()) < block.indent]
    return bool(outer) and outer[-1].lstrip().startswith("??? ")


def test_the_reading_budget():
    """At most 130 non-blank lines of unfolded code before the exercises (code folded under a
    figure, or in a collapsed box, is not counted); the first code imports torch; every figure's
    code is folded under the figure."""
    shown = [block for block in MODEL.blocks if block.line < EXERCISES and not folded(block) and not collapsed(block)]
    assert sum(1 for block in shown for line in block.code.split("\n") if line.strip()) <= 130
    assert any(collapsed(block) for block in MODEL.blocks if block.line < EXERCISES)  # the rule is exercised
    assert MODEL.blocks[0].code.startswith("import torch")
    figures = [block for block in MODEL.executed if "show(" in block.code]
    assert figures and all(folded(block) and not block.options.get("source") for block in figures)
    assert all("literate.drawing" not in block.code for block in shown), "drawing code is folded"


@pytest.mark.parametrize("name", ["corr2d", "Conv2D", "convolve2d", "receptive_field"])
def test_the_saved_code_reads_like_the_textbooks(name):
    """corr2d and Conv2D in at most a dozen lines, docstring included; in every function at most
    one line (one statement) checks arguments, the appendix's helpers doing the work."""
    [block] = [b for b in MODEL.blocks if b.saved and re.search(rf"^(def|class) {name}\b", b.code, re.M)]
    lines = [line for line in block.code.split("\n") if line.strip()]
    if name in ("corr2d", "Conv2D"):
        assert len(lines) <= 12, f"{name}: {len(lines)} lines"
    for function in re.split(r"\n(?=\s*def )", block.code):
        assert sum("check_" in line for line in function.split("\n")) <= 1, function

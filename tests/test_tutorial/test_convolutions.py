"""The chapter docs/chapters/convolutions.md, run block by block as the site build runs it."""

from __future__ import annotations

import contextlib
import io

import pytest
import torch

from tests.helpers import CHAPTER
from tools import chapter as chapter_model


def executed_blocks(path):
    return chapter_model.read(path).executed  # the build's own rule (the chapter model)


@pytest.fixture(scope="module")
def chapter():
    """Run every executed block of the chapter in one namespace; keep what each one printed."""
    namespace: dict = {"__name__": "__chapter__"}
    printed = []
    for block in executed_blocks(CHAPTER):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(block.code, f"{CHAPTER.name}:{block.line}", "exec"), namespace)
        printed.append((block, buffer.getvalue()))
    return namespace, printed


def output_containing(printed, text):
    found = [out for _, out in printed if text in out]
    assert found, f"no block printed {text!r}"
    return found[0]


def test_first_example_and_worked_entry(chapter):
    _, printed = chapter
    assert "0·0 + 1·1 + 3·2 + 4·3 = 19" in output_containing(printed, "0·0")
    expected = str(torch.tensor([[19.0, 25.0], [37.0, 43.0]]))
    assert any(out.strip() == expected for _, out in printed)
    assert "formula: (2, 2)  corr2d: (2, 2)" in output_containing(printed, "formula:")


def test_shape_errors_are_shown(chapter):
    _, printed = chapter
    out = output_containing(printed, "does not fit")
    assert "(3, 1)" in out and "(2, 5)" in out and "(1, 3, 3)" in out


def test_edge_detection_values(chapter):
    namespace, printed = chapter
    X, K, Y = namespace["X"], namespace["K"], namespace["Y"]
    assert X.shape == (6, 8) and torch.equal(K, torch.tensor([[1.0, -1.0]]))
    assert Y[:, 1].eq(1).all() and Y[:, 5].eq(-1).all() and Y.abs().sum() == 12
    assert "+1 (white to black) in output columns [1]" in output_containing(printed, "white to black")
    assert str(torch.zeros(8, 5)) in [out.strip() for _, out in printed]


def test_kernel_learning(chapter):
    namespace, printed = chapter
    losses = [float(line.rsplit(" ", 1)[1]) for line in output_containing(printed, "step  2").splitlines()]
    assert len(losses) == 5 and all(b < a for a, b in zip(losses, losses[1:]))
    torch.testing.assert_close(namespace["learned"], namespace["K"], atol=0.1, rtol=0)


def test_flip_and_receptive_field_checks_hold(chapter):
    _, printed = chapter
    everything = "".join(out for _, out in printed)
    assert "convolve2d(X, K) == corr2d(X, K flipped): True" in everything
    assert "False" not in everything
    assert "two 2x2 layers: input rows 0..2, cols 0..2: 9 inputs" in everything
    assert "one 2x2 layer: input rows 0..1, cols 0..1: 4 inputs" in everything


def test_blocks_that_print_show_their_output_and_others_show_none(chapter):
    """`result="text"` (or `html="1"` for figures) exactly where a block prints: no empty boxes."""
    _, printed = chapter
    for block, out in printed:
        shows = 'result="text"' in block.info or 'html="1"' in block.info
        assert shows == bool(out), f"{CHAPTER.name}:{block.line}: result option does not match output"

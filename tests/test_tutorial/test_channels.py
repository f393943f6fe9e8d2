"""The chapter docs/chapters/channels.md, run block by block as the site build runs it."""

from __future__ import annotations

import re

import torch

from tests.test_tutorial.reading import assert_reads_as_a_lesson, everything, printed_fixture, read

MODEL = read("channels")


printed = printed_fixture(MODEL)


def test_the_books_examples_and_numbers(printed):
    text = everything(printed)
    assert str(torch.tensor([[56.0, 72.0], [104.0, 120.0]])) in text
    assert "(0×0 + 1×1 + 3×2 + 4×3) + (1×1 + 2×2 + 4×3 + 5×4) = 56" in text
    assert "K3 (3, 2, 2, 2)  Y3 (3, 2, 2)" in text and "first channel as before: True" in text
    assert "parameters: 8  output: (2, 3, 3)" in text
    assert "family of dimension 7 of 9" in text


def test_checked_against_conv2d_on_the_page_and_every_check_holds(printed):
    text = everything(printed)
    checks = [out for block, out in printed if "F.conv2d(X[None], K3)" in block.code]
    assert checks == ["True\n"]
    lesson = text.split("bit for bit equal")[0]  # exercise 5 shows where floating point differs
    assert "False" not in lesson


def test_it_reads_as_a_lesson(printed):
    assert_reads_as_a_lesson(MODEL, printed)
    assert re.findall(r"^### (\d)\.", MODEL.text, re.M) == ["1", "2", "3", "4", "5", "6"]  # the book's six

"""What every chapter's tutorial test shares: the chapter run block by block as the site build runs
it, and the rules a lesson keeps (outputs where blocks print, folded figures, the package reused)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from tools import chapter as chapter_model
from tools.fold import folded

ROOT = Path(__file__).resolve().parents[2]


def read(name: str) -> chapter_model.Chapter:
    return chapter_model.read(ROOT / "docs" / "chapters" / f"{name}.md")


def run_all(model: chapter_model.Chapter) -> list[tuple[chapter_model.Block, str]]:
    """Every executed block in one namespace, in page order, with what it printed."""
    namespace: dict = {"__name__": "__chapter__"}
    printed = []
    for block in model.executed:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(block.code, f"{model.path.name}:{block.line}", "exec"), namespace)
        printed.append((block, buffer.getvalue()))
    return printed


def printed_fixture(model: chapter_model.Chapter):
    """A module's fixture `printed`: the chapter run once, block by block (`run_all`)."""
    @pytest.fixture(scope="module")
    def printed():
        return run_all(model)

    return printed


def everything(printed) -> str:
    """All that the chapter printed, as one text."""
    return "".join(out for _, out in printed)


def assert_reads_as_a_lesson(model: chapter_model.Chapter, printed) -> None:
    """Each block shows an output box exactly when it prints; figure code is folded; corr2d comes
    from the package, never defined again; printed floats are rounded."""
    for block, out in printed:
        shows = 'result="text"' in block.info or 'html="1"' in block.info
        assert shows == bool(out.strip()), f"{model.path.name}:{block.line}: result option does not match output"
        if 'result="text"' in block.info:
            assert not re.search(r"\d\.\d{9,}", out), f"{model.path.name}:{block.line}: an unrounded float"
    figures = [block for block in model.executed if "show(" in block.code]
    assert figures and all(folded(block) and not block.options.get("source") for block in figures)
    assert not any(re.search(r"^def corr2d\(", block.code, re.M) for block in model.blocks)
    assert any("from literate import" in block.code and "corr2d" in block.code for block in model.blocks)
    exercises = model.text.split("\n## Exercises\n", 1)
    assert len(exercises) == 2 and "??? success \"Solution\"" in exercises[1]
    assert "[*Dive into Deep Learning*]" in model.text.rsplit("\n---\n", 1)[-1], "credit to the book at the foot"

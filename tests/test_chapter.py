"""The chapter model (tools/chapter.py): which blocks execute is markdown-exec's own decision."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import chapter
from tools.chapter import ExecRule

PYTHON_ONLY = ExecRule(frozenset({"python"}))


@pytest.mark.parametrize(
    ("fence", "runs"),
    [
        ('python exec="on"', True),
        ('python exec="True"', True),  # markdown-exec's truthy values are case-insensitive...
        ('python exec="yes please"', True),  # ...and anything but "", no, off, false, 0
        ("python exec=1", True),
        ('python exec="off"', False),
        ('python exec="False"', False),
        ('python exec=""', False),
        ("python", False),
        ('py exec="on"', False),  # not in the configured languages
        ('bash exec="on"', False),
    ],
)
def test_a_block_executes_as_markdown_exec_decides(fence, runs):
    model = chapter.parse(f"# T\n\n```{fence}\nprint(1)\n```\n", Path("t.md"), PYTHON_ONLY)
    assert [b.executes for b in model.blocks] == [runs]


def test_the_project_rule_reads_the_languages_of_mkdocs_yml():
    assert chapter.project_rule().languages == frozenset({"python"})


def test_blocks_carry_their_lines_options_and_offset():
    text = "# T\n\n    ```python exec=\"on\" source='above' result=text\n    x = 1\n    ```\n"
    [block] = chapter.parse(text, Path("t.md"), PYTHON_ONLY, offset=3).blocks
    assert (block.line, block.end, block.indent, block.code) == (6, 8, 4, "x = 1")
    assert block.options == {"exec": "on", "source": "above", "result": "text"}


def test_an_unclosed_fence_names_its_file_line():
    with pytest.raises(chapter.ChapterError, match=r"t\.md:3: code fence '```' opened here is never closed"):
        chapter.parse("# T\n\n```python\nx = 1\n", Path("t.md"), PYTHON_ONLY)

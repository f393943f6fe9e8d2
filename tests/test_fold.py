"""tools/fold.py: a figure shown, the code that drew it folded right under it, on the page and in
the notebook."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from tests.helpers import CHAPTER, failing_build, mkdocs_build, write_docs
from tools import chapter
from tools.chapter import ChapterError
from tools.fold import check, folded

FIGURE = '```python exec="on" html="1" fold="Code for this figure"\nprint("<b>figure</b>")\n```\n'


def model(tmp_path: Path, text: str) -> chapter.Chapter:
    path = tmp_path / "page.md"
    path.write_text(text, encoding="utf-8")
    return chapter.read(path)


@pytest.mark.parametrize(
    ("fence", "words"),
    [
        ('```python fold="Code for this figure"', 'does not execute (add exec="on")'),
        ('```python exec="on" source="above" fold="Code"', 'remove source="..."'),
        ('```python exec="on" fold=" "', "needs a title of one line"),
    ],
)
def test_a_fold_that_cannot_work_is_named_at_its_line(tmp_path, fence, words):
    with pytest.raises(ChapterError) as raised:
        check(model(tmp_path, f"# Page\n\nText.\n\n{fence}\nx = 1\n```\n"))
    assert "page.md:5: " in str(raised.value)
    assert words in str(raised.value)


def test_the_fold_of_a_block_that_prints_nothing_is_a_box_of_its_own(tmp_path):
    """With no output above it, the box is still a block of the page, not inside a paragraph."""
    docs = write_docs(tmp_path, {"index.md": '# Page\n\nText.\n\n```python exec="on" fold="Code"\nx = 1\n```\n'})
    built = mkdocs_build(tmp_path / "site", docs, nav=["index.md"])
    assert built.returncode == 0, built.stderr
    page = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert page.count('<details class="example">') == 1 and not re.search(r"<p>\s*<details", page)


def test_a_fold_is_checked_by_the_build(tmp_path):
    log = failing_build(tmp_path, {"index.md": '# Page\n\n```python exec="on" source="above" fold="Code"\nx = 1\n```\n'})
    assert "index.md:3" in log and 'remove source="..."' in log


def test_the_chapter_folds_the_code_of_its_figures_under_them(site):
    """Each folded block: its output, then a collapsed box titled by the option holding its code,
    which the page's copy button copies as it is."""
    page = (site / "chapters" / "convolutions" / "index.html").read_text(encoding="utf-8")
    blocks = [block for block in chapter.read(CHAPTER).executed if folded(block)]
    assert len(blocks) >= 5
    boxes = re.findall(r'<details class="example">\s*<summary>(.*?)</summary>\s*'
                       r'<div class="language-python highlight"><pre><span></span><code[^>]*>(.*?)</code></pre></div>\s*'
                       r"</details>", page, re.S)
    assert [title for title, _ in boxes] == [block.options["fold"] for block in blocks]
    assert [html.unescape(re.sub(r"<[^>]+>", "", code)).rstrip("\n") for _, code in boxes] == [b.code for b in blocks]
    boxes_at = [m.start() for m in re.finditer(r'<details class="example">', page)]
    for before, box in zip([0] + boxes_at, boxes_at):  # between one box and the next: an output, then the box
        output = r'<svg class="lit-figure"|<div class="lit-|<div class="language-text highlight">'  # a figure, or text
        assert re.search(output, page[before:box]), page[box:box + 200]
    assert page.count('<details class="example">') == len(blocks)


def test_the_notebook_hides_exactly_the_folded_code(site):
    notebook = json.loads((site / "notebooks" / "convolutions" / "convolutions.ipynb").read_text(encoding="utf-8"))
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"][1:]  # after the install cell
    blocks = chapter.read(CHAPTER).executed
    assert ["".join(cell["source"]) for cell in code] == [block.code for block in blocks]
    assert [cell["metadata"].get("jupyter", {}).get("source_hidden", False) for cell in code] == list(map(folded, blocks))
    assert any(map(folded, blocks))

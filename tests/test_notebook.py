"""The chapters as notebooks (tools/notebook.py and the built site). That the notebook runs in a fresh
kernel, and copied snippets in a fresh process, is tested as a reader outside a checkout does it
(tests/test_reader.py)."""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from tests.helpers import cell_output, chapters, outputs, without_image_sources
from tools import chapter, notebook

CHAPTER = """# Title

Intro with $x^2$ and ++tab++, [a page](other.md#part) and [the web](https://example.org).

!!! info "Read me"
    Inside the box.

    Second paragraph.

```python exec="on" source="above" result="text"
print("one")
```

Between.

```python exec="on" html="1"
print("<b>figure</b>")
```

```bash
echo not executed, stays in the prose
```

```python exec="on"
x = 1
```

The end.
"""


def small_notebook(tmp_path, outputs_by_line=None):
    path = tmp_path / "chapter.md"
    path.write_text(CHAPTER, encoding="utf-8")
    model = chapter.read(path)
    return notebook.chapter_notebook(model, outputs_by_line or {10: "one\n", 16: "<b>figure</b>\n", 24: ""}, "*Preface.*")


def test_cells_follow_the_chapter(tmp_path):
    nb = small_notebook(tmp_path)
    kinds = [cell["cell_type"] for cell in nb["cells"]]
    assert kinds == ["markdown", "markdown", "code", "markdown", "code", "markdown", "code", "markdown"]
    sources = ["".join(cell["source"]) for cell in nb["cells"]]
    assert sources[0] == "*Preface.*"
    assert sources[2] == 'print("one")' and sources[4] == 'print("<b>figure</b>")' and sources[6] == "x = 1"
    assert "echo not executed" in sources[5]
    assert "> **Read me**\n>\n> Inside the box.\n>\n> Second paragraph." in sources[1]
    assert "<kbd>Tab</kbd>" in sources[1] and "$x^2$" in sources[1]
    assert "a page and [the web](https://example.org)" in sources[1]
    assert sources[-1] == "The end."


def test_outputs_are_the_recorded_ones(tmp_path):
    cells = [c for c in small_notebook(tmp_path)["cells"] if c["cell_type"] == "code"]
    assert cells[0]["outputs"] == [{"name": "stdout", "output_type": "stream", "text": "one\n"}]
    assert cells[1]["outputs"][0]["output_type"] == "display_data"
    assert cells[1]["outputs"][0]["data"]["text/html"] == "<b>figure</b>\n"
    assert cells[2]["outputs"] == []
    assert [c["execution_count"] for c in cells] == [1, 2, 3]


def test_notebook_is_valid_and_reproducible(tmp_path):
    nb = small_notebook(tmp_path)
    nbformat.validate(nbformat.reads(json.dumps(nb), as_version=4))
    assert nbformat.writes(nb) == nbformat.writes(small_notebook(tmp_path))
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert [c["id"] for c in nb["cells"]][:3] == ["cell-000", "cell-001", "cell-002"]
    text = nbformat.writes(nb)
    assert '"execution":' not in text and "date" not in text.lower() and "timestamp" not in text.lower()


# The built site ---------------------------------------------------------------------------------

def built_notebook(site, name: str) -> dict:
    return json.loads((site / "notebooks" / name / f"{name}.ipynb").read_text(encoding="utf-8"))


@pytest.mark.site
@pytest.mark.parametrize("name", chapters())
def test_notebook_page_and_download(site, name):
    """Every chapter has its notebook page, with the notebook to download, as valid nbformat. The
    page holds the notebook's cells in the site's own markup: every code cell a code block of the
    theme's (reachable by keyboard), none of the template's style sheets, scripts or copy buttons."""
    page = (site / "notebooks" / name / "index.html").read_text(encoding="utf-8")
    assert f'href="{name}.ipynb" download' in page
    assert (site / "notebooks" / name / f"{name}.ipynb").is_file()
    notebook = built_notebook(site, name)
    nbformat.validate(nbformat.reads(json.dumps(notebook), as_version=4))
    cells = page[page.index('<div class="jupyter-wrapper">') : page.index("<!-- jupyter-wrapper -->")]
    code_cells = sum(cell["cell_type"] == "code" for cell in notebook["cells"])
    assert cells.count('<div class="language-python highlight"><pre><span></span><code tabindex="0">') == code_cells
    assert not re.search(r'highlight-ipynb|clipboard|jp-Cell-inputWrapper" tabindex', cells)
    assert not re.search(r'<style type="text/css"|Load mathjax|zeroclipboard', page)


@pytest.mark.site
@pytest.mark.parametrize("name", chapters())
def test_notebook_outputs_are_the_pages_outputs(site, name):
    """Every chapter's notebook prints what its page prints and shows the page's figures."""
    chapter_page = site / "chapters" / name / "index.html"
    cells = [c for c in built_notebook(site, name)["cells"] if c["cell_type"] == "code"]
    texts = [cell_output(c) for c in cells if c["outputs"] and c["outputs"][0]["output_type"] == "stream"]
    assert texts == outputs(chapter_page)
    page = without_image_sources(chapter_page.read_text(encoding="utf-8"))
    figures = [cell_output(c) for c in cells if c["outputs"] and c["outputs"][0]["output_type"] == "display_data"]
    assert all(without_image_sources(f).strip() in page for f in figures)


@pytest.mark.site
def test_the_lessons_notebook_links_and_embeds_its_photographs(site):
    chapter_page = (site / "chapters" / "convolutions" / "index.html").read_text(encoding="utf-8")
    assert 'href="../../notebooks/convolutions/"' in chapter_page
    cells = [c for c in built_notebook(site, "convolutions")["cells"] if c["cell_type"] == "code"]
    figures = [cell_output(c) for c in cells if c["outputs"] and c["outputs"][0]["output_type"] == "display_data"]
    assert len(figures) >= 6
    # the notebook embeds its photographs: the three of the photo figure, the playground's image and its 8 presets
    assert sum(f.count("data:image/png;base64,") for f in figures) == 3 + 1 + 8


def test_an_admonition_interrupted_by_a_code_cell_stays_quoted():
    text = '??? success "Solution"\n    Before the code.\n'
    assert notebook.notebook_markdown(text) == "> **Solution**\n>\n> Before the code."
    after = "\n    After the code.\n\n    More.\n\n## Next section\n"
    assert notebook.notebook_markdown(after) == ">\n> After the code.\n>\n> More.\n\n## Next section\n"

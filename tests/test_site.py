"""The built site: strict build, computed outputs on the page, failures named, nothing external."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from fontTools.ttLib import TTFont

from literate import Conv2D, corr2d
from tests.helpers import ROOT, chapters, failing_build, figures, mkdocs_build, nav_pages, outputs, page_text, write_docs
from tools import math_font

pytestmark = pytest.mark.site

CHAPTER_PAGE = Path("chapters") / "convolutions" / "index.html"


def test_home_page_runs_the_usage_example_against_the_package(site):
    edges = torch.ones(6, 8)
    edges[:, 2:6] = 0
    shown = outputs(site / "index.html")
    assert len(shown) == 1
    assert str(corr2d(edges, torch.tensor([[1.0, -1.0]]))) in shown[0]
    assert str(Conv2D(kernel_size=(1, 2))(edges).shape) in shown[0]


def test_math_is_mathml_made_at_build_time_and_its_font_is_served_cut_to_what_it_draws(site):
    page = (site / CHAPTER_PAGE).read_text(encoding="utf-8")
    notebook = (site / "notebooks" / "convolutions" / "index.html").read_text(encoding="utf-8")
    for html in (page, notebook):  # the chapter, and its notebook page (nbconvert leaves $...$)
        assert html.count('<span class="arithmatex"><math xmlns="http://www.w3.org/1998/Math/MathML">') >= 20
        assert html.count('<div class="arithmatex" tabindex="0"><math xmlns="http://www.w3.org/1998/Math/MathML" display="block">') >= 3
        text = re.sub(r"<(pre|script)\b.*?</\1>|<annotation.*?</annotation>", "", html, flags=re.S)
        assert "\\(" not in text and "$$" not in text and "$n_h" not in text  # no TeX left for a script
        assert "<annotation encoding=\"application/x-tex\">n_h - k_h + 1</annotation>" in html
        assert "katex" not in html.lower(), "no KaTeX markup, style sheet or script: the browser typesets MathML"
    drawn = set().union(*map(math_font.characters, re.findall(r"<math\b.*?</math>", page + notebook, re.S)))
    assert {"\U0001d44b", "\u2211", "\u00d7"} <= drawn  # the italic X, the sum, the times sign
    font = TTFont(site / math_font.URI)
    served = set(map(chr, font.getBestCmap()))
    assert drawn <= served and len(served) < len(math_font.coverage(math_font.SOURCE.read_bytes())) / 5
    assert "MATH" in font
    assert "SIL OPEN FONT LICENSE" in (site / math_font.LICENSE_URI).read_text(encoding="utf-8")


def test_math_that_katex_cannot_render_fails_the_build(tmp_path):
    log = failing_build(tmp_path, {"index.md": "# Math\n\nBroken: $\\frac{1}{$.\n"})
    assert "index.md: math that KaTeX cannot render" in log


def test_math_drawing_a_character_its_font_lacks_fails_the_strict_build(tmp_path):
    log = failing_build(tmp_path, {"index.md": "# Math\n\nFine: $x$. Not: $\\text{\U0001f600}$.\n"})
    assert "index.md: math draws characters its font lacks: '\U0001f600' (U+1F600 GRINNING FACE)" in log


EXTERNAL = re.compile(
    r"""(?:src|href)\s*=\s*["'](?:https?:)?//"""  # an attribute loading from another host
    r"""|@import\s+(?:url\()?\s*["']?(?:https?:)?//"""  # CSS imports from another host
    r"""|url\(\s*["']?(?:https?:)?//""",  # fonts and images in CSS
    re.I,
)
LINK = re.compile(r"<a\s[^>]*href", re.I)
CANONICAL = re.compile(r'<link\s+rel="canonical"', re.I)


def test_no_page_or_stylesheet_loads_anything_from_another_host(site):
    offenders = []
    for path in sorted(site.rglob("*")):
        if path.suffix not in {".html", ".css"}:
            continue
        text = path.read_text(encoding="utf-8")
        for match in EXTERNAL.finditer(text):
            start = text.rfind("<", 0, match.start())
            if path.suffix == ".html" and (LINK.match(text, start) or CANONICAL.match(text, start)):
                continue  # a link the reader may follow, or the page's own address: no request
            offenders.append(f"{path.relative_to(site)}: {text[max(0, match.start() - 60):match.end() + 40]!r}")
    assert offenders == []
    assert not list(site.rglob("*pyodide*")), "markdown-exec's pyodide assets import from a CDN"


def test_no_page_shows_an_empty_output_box_or_a_raw_float(site):
    """Every shown output says something, and every printed number is rounded for a reader: no float
    with nine or more decimals (a raw float32 or float64, as `.item()` or `.tolist()` print them)."""
    pages = sorted(site.rglob("index.html"))
    assert len(pages) > 2
    empty, raw = [], []
    for page in pages:
        shown = outputs(page)
        empty += [f"{page.relative_to(site)}: output {n}" for n, box in enumerate(shown) if not box.strip()]
        raw += [f"{page.relative_to(site)}: {m}" for box in shown for m in re.findall(r"\d\.\d{9,}", box)]
    assert empty == [] and raw == []


def test_every_chapter_has_its_nav_line():
    """A chapter is one file in docs/chapters/ and its line in mkdocs.yml's nav (its notebook page
    follows from it: the plugin lists it under Notebooks). The failure says which line to add, and where."""
    import re

    listed = nav_pages(as_built=False)
    missing = []
    for name in chapters():
        text = (ROOT / "docs" / "chapters" / f"{name}.md").read_text(encoding="utf-8")
        title = re.search(r"^# (.+)$", text, re.M)
        title = title[1].strip() if title else name
        if f"chapters/{name}.md" not in listed:
            missing.append(f'docs/chapters/{name}.md is not in the nav: add the line\n  - "{title}": '
                           f"chapters/{name}.md\nto mkdocs.yml's nav, where the chapter belongs in the book")
        if f"notebooks/{name}.ipynb" in listed:
            missing.append(f"notebooks/{name}.ipynb is listed in mkdocs.yml's nav by hand: remove the line, "
                           "the plugin lists every chapter's notebook under Notebooks")
    assert not missing, "\n".join(missing)
    stale = [page for page in listed if page.startswith(("chapters/", "notebooks/"))
             and Path(page).stem not in chapters()]
    assert not stale, f"the nav lists pages no chapter makes: {stale}"


def test_a_raising_block_fails_the_build_and_names_the_file_and_line(tmp_path):
    page = "# Broken\n\nSome text.\n\n```python exec=\"on\"\nx = 1\nraise RuntimeError('this block is broken')\n```\n"
    log = failing_build(tmp_path, {"index.md": page})
    assert "python code block 'docs/index.md:5' exited with errors" in log  # the block's fence line
    assert f'File "{tmp_path / "docs" / "index.md"}", line 7' in log  # the traceback, in the page's lines
    assert "RuntimeError: this block is broken" in log


def test_an_unclosed_fence_fails_the_build_with_file_and_line(tmp_path):
    log = failing_build(tmp_path, {"index.md": "# Broken\n\n```python exec=\"on\"\nprint(1)\n"})
    assert "index.md:3: code fence '```' opened here is never closed" in log


def test_a_page_cannot_use_another_pages_session(tmp_path):
    log = failing_build(tmp_path, {
        "a.md": "# A\n\n```python exec=\"on\"\nshared_name = 41\n```\n",
        "b.md": "# B\n\n```python exec=\"on\" result=\"text\"\nprint(shared_name + 1)\n```\n",
    })
    assert "NameError: name 'shared_name' is not defined" in log


def test_figures_are_on_the_page_with_accessible_names(site):
    found = figures(site / CHAPTER_PAGE)
    assert set(found) == {"corr2d-figure", "edge-figure", "training-loss-per-step",
                          "learned-kernel-beside-the-true-kernel", "receptive-field"}
    for key, svg in found.items():
        title = re.search(rf'<title id="{key}-title">([^<]+)</title>', svg)
        desc = re.search(rf'<desc id="{key}-desc">([^<]+)</desc>', svg)
        assert title and desc and f'aria-labelledby="{key}-title {key}-desc"' in svg, key
    assert "0×0 + 1×1 + 3×2 + 4×3 = 19" in found["corr2d-figure"]
    html = (site / CHAPTER_PAGE).read_text(encoding="utf-8")
    # The photographs are files of their own (tools/images.py), named by content, loaded lazily.
    photos = re.findall(r'<img class="lit-photo" width="\d+" height="\d+" alt="([^"]+)" '
                        r'src="\.\./\.\./(assets/images/figures/[0-9a-f]{20}\.png)" loading="lazy"', html)
    assert len(photos) == 3 + 1 + 8 and "data:image" not in html  # 3 photographs, the playground's image and presets
    assert any("vertical edges" in alt for alt, _ in photos) and any("horizontal edges" in alt for alt, _ in photos)
    for _, path in photos:
        assert (site / path).read_bytes().startswith(b"\x89PNG")


def test_receptive_field_diagram_highlights_the_chapter_example_without_javascript(site):
    svg = figures(site / CHAPTER_PAGE)["receptive-field"]
    lit = re.findall(r'class="lit-entry rf-cell rf-on" id="receptive-field-(\d)-(\d)-(\d)"', svg)
    assert sorted(lit) == sorted([("0", str(r), str(c)) for r in range(3) for c in range(3)] + [("1", str(r), str(c)) for r in range(2) for c in range(2)])
    assert 'class="lit-entry rf-cell rf-source" id="receptive-field-2-0-0"' in svg


def test_chapter_page_with_its_figures_stays_small(site):
    assert (site / CHAPTER_PAGE).stat().st_size < 600_000


def test_which_blocks_run_is_markdown_exec_s_own_rule(tmp_path):
    """exec="True" runs (markdown-exec's truthy values); a `py` fence does not (languages: [python])."""
    page = ('# Rule\n\n```python exec="True" result="text"\nprint(6 * 7)\n```\n\n'
            '```py exec="on" result="text"\nprint("never run")\n```\n')
    docs = write_docs(tmp_path, {"index.md": page})
    result = mkdocs_build(tmp_path / "site", docs, nav=["index.md"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert outputs(tmp_path / "site" / "index.html") == ["42\n"]
    assert 'print("never run")' in page_text(tmp_path / "site" / "index.html")


def test_an_indented_fence_with_an_unindented_body_fails_naming_its_line(tmp_path):
    page = '# Box\n\n!!! note\n    Text.\n\n    ```python exec="on"\nprint(1)\n    ```\n'
    log = failing_build(tmp_path, {"index.md": page})
    assert "docs/index.md:6: '```python exec=\"on\"' should execute, but markdown-exec never ran it" in log
    assert "indented by 4 columns" in log and "Traceback" not in log

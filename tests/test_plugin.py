"""tools/plugin.py: the build is an MkDocs plugin, found through its entry point and configured in
mkdocs.yml, whose options MkDocs checks; each chapter's notebook page follows from the chapter."""

from __future__ import annotations

import importlib.metadata

import pytest
import yaml

from tests.helpers import ROOT, mkdocs_build, write_docs
from tools.notebook_pages import with_notebooks
from tools.plugin import LiteratePlugin


def test_the_build_is_a_plugin_found_through_its_entry_point_and_mkdocs_yml_has_no_hooks():
    [entry] = [e for e in importlib.metadata.entry_points(group="mkdocs.plugins") if e.name == "literate"]
    assert entry.load() is LiteratePlugin
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "\nhooks:" not in text and "  - literate:" in text
    assert entry.dist.name == "literate-site-build"  # its own distribution, not the readers' `literate`


@pytest.mark.site
@pytest.mark.parametrize("options, named", [
    ({"jobz": 2}, "Plugin 'literate' option 'jobz': Unrecognised configuration name: jobz"),
    ({"block_timeout": "soon"}, "Plugin 'literate' option 'block_timeout': Expected type"),
])
def test_an_unknown_or_ill_typed_option_fails_the_build_naming_it(tmp_path, options, named):
    docs = write_docs(tmp_path, {"index.md": "# Home\n"})
    result = mkdocs_build(tmp_path / "site", docs, nav=["index.md"], plugin=options)
    assert result.returncode != 0
    assert named in result.stdout + result.stderr


def test_every_chapter_in_the_navigation_gets_its_notebook_page_under_notebooks():
    nav = [{"Home": "index.md"}, {"Lesson": "chapters/lesson.md"},
           {"Part": [{"More": "chapters/more.md"}, "chapters/bare.md"]}]
    assert with_notebooks(nav) == nav + [
        {"Notebooks": [{"Lesson (notebook)": "notebooks/lesson.ipynb"},
                       {"More (notebook)": "notebooks/more.ipynb"}, {"bare (notebook)": "notebooks/bare.ipynb"}]}]
    assert with_notebooks([{"Home": "index.md"}]) == [{"Home": "index.md"}]  # no chapter, no section
    assert with_notebooks(None) is None  # no nav: MkDocs lists the files itself


def test_the_sites_navigation_lists_a_notebook_for_each_chapter_and_none_by_hand():
    with open(ROOT / "mkdocs.yml", encoding="utf-8") as handle:
        nav = yaml.load(handle, Loader=yaml.BaseLoader)["nav"]  # noqa: S506 (BaseLoader: no tags resolved)
    assert not any(isinstance(item, dict) and "Notebooks" in item for item in nav)
    [section] = [item["Notebooks"] for item in with_notebooks(nav) if isinstance(item, dict) and "Notebooks" in item]
    chapters = sorted(p.stem for p in (ROOT / "docs" / "chapters").glob("*.md"))
    assert sorted(next(iter(item.values())).split("/")[1].split(".")[0] for item in section) == chapters

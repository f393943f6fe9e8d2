"""tools/upstream.py: every reach into another package holds, was checked against the pinned
version, fails with its message when upstream changes, and lives nowhere else."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest
from mkdocs.exceptions import PluginError

from tools import upstream

ROOT = Path(__file__).resolve().parents[1]


def pins() -> dict[str, str]:
    found = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        match = re.match(r"([A-Za-z0-9_.\-]+)==(\S+)", line.strip())
        if match:
            found[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return found


@pytest.mark.parametrize("reach", upstream.REACHES, ids=lambda reach: reach.name)
def test_the_reach_holds_with_the_installed_package(reach):
    assert reach.failure() is None


@pytest.mark.parametrize("reach", upstream.REACHES, ids=lambda reach: reach.name)
def test_the_reach_was_checked_against_the_pinned_version(reach):
    """Upgrading a package in constraints.txt fails here until its reaches are checked again."""
    pinned = pins().get(reach.package)
    assert pinned == reach.checked, (
        f"{reach.name}: checked against {reach.package} {reach.checked}, but constraints.txt pins {pinned}: "
        f"re-check it in tools/upstream.py (why it exists: {reach.why}), then update its `checked`")


def _reach(name: str) -> upstream.Reach:
    return next(r for r in upstream.REACHES if r.name == name)


def test_a_changed_upstream_fails_naming_the_reach_its_version_and_why(monkeypatch):
    from mkdocs.livereload import LiveReloadServer

    monkeypatch.setattr(LiveReloadServer, "_inject_js_into_html", lambda self, content, epoch: content)
    reach = _reach("the live-reload script serve injects")
    message = reach.failure()
    assert message is not None
    assert f"mkdocs {importlib.metadata.version('mkdocs')} (this reach was checked against {reach.checked})" in message
    assert "the live-reload script serve injects no longer holds: serve no longer adds a script to pages" in message
    assert "nothing public says what it adds" in message and "tools/upstream.py" in message


def test_a_formatter_table_that_is_no_longer_consulted_is_caught(monkeypatch):
    import markdown_exec

    # markdown-exec's formatter, as if it no longer looked in the table
    monkeypatch.setattr(markdown_exec, "formatter", lambda source, language, css_class, options, md, **kwargs: source)
    message = _reach("markdown_exec.formatters, entries replaced").failure()
    assert message is not None and "markdown_exec.formatters, entries replaced no longer holds" in message


def test_a_probe_that_raises_is_reported_not_propagated():
    def broken():
        raise AttributeError("'Page' object has no attribute 'render'")

    reach = upstream.Reach("a reach", "mkdocs", "1.6.1", "because", broken)
    assert "AttributeError: 'Page' object has no attribute 'render'" in reach.failure()


def test_the_build_stops_at_its_configuration_when_a_reach_breaks(monkeypatch):
    from tools.plugin import LiteratePlugin

    broken = upstream.Reach("a reach", "mkdocs", "1.6.1", "because", lambda: "it moved")
    monkeypatch.setattr(upstream, "REACHES", [broken])
    with pytest.raises(PluginError, match=r"a reach no longer holds: it moved\.\n    Why the build relies on it: because"):
        plugin = LiteratePlugin()
        plugin.load_config({})
        plugin.on_config(None)  # fails before it reads MkDocs' configuration


# What each reach touches, written the way the build's code writes it: found only in tools/upstream.py.
REACHED = [r"\.render\s*=", r"\bformatters\[", r"\.observer\s*=",
           r"_title_from_render", r"jupyter-wrapper", r"zeroclipboard", r"clipboard-copy-txt", r"highlight-ipynb",
           r"var livereload", r"_inject_js_into_html",
           r"nb2html", r"_get_nb_toc_tokens", r"cell-id=", r"""setattr\(\w+, ["'](render|observer)"""]


@pytest.mark.parametrize("pattern", REACHED)
def test_reaches_live_only_in_the_adapter(pattern):
    elsewhere = [f"{path.relative_to(ROOT)}:{n}" for folder in ("tools", "bench")
                 for path in sorted((ROOT / folder).glob("*.py")) if path.name != "upstream.py"
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if re.search(pattern, line)]
    assert not elsewhere, f"{pattern} is used outside tools/upstream.py: {elsewhere}"


def test_serve_parses_again_only_a_page_whose_search_entries_would_change(monkeypatch):
    from types import SimpleNamespace

    from material.plugins.search import plugin as search
    from mkdocs.structure.toc import get_toc

    monkeypatch.setattr(search.SearchIndex, "add_entry_from_context", search.SearchIndex.add_entry_from_context)
    monkeypatch.setattr(upstream, "_entries", {})
    upstream.remember_search_entries()  # undone with the test
    parsed = []

    class Counting(search.Parser):
        def feed(self, data) -> None:
            parsed.append(data)
            super().feed(data)

    monkeypatch.setattr(search, "Parser", Counting)

    def entries(page) -> list[dict]:
        index = search.SearchIndex()
        index.add_entry_from_context(page)
        return index.entries

    page = SimpleNamespace(url="a/", title="A", meta={}, toc=get_toc([]), content='<h1 id="a">A</h1><p>one</p>')
    first = entries(page)
    assert entries(page) == first and len(parsed) == 1  # unchanged: the entries it had, not parsed again
    for change in [{"content": '<h1 id="a">A</h1><p>two</p>'}, {"title": "B"}, {"meta": {"search": {"boost": 2}}}]:
        before = len(parsed)
        vars(page).update(change)
        first = entries(page)
        assert len(parsed) == before + 1, f"{change}: the page's entries were not made again"
    assert "two" in first[0]["text"] and first[0]["boost"] == 2


def test_a_notebooks_prose_may_name_what_the_fitting_removes_and_its_markup_may_not_stay():
    """notebook_body checks for markup left over, never for words: prose about the clipboard is prose."""
    wrap = '<div class="jupyter-wrapper">{}</div> <!-- jupyter-wrapper -->'
    prose = "<p>Copy it to the clipboard, or look for highlight-ipynb in the source.</p>"
    assert prose in upstream.notebook_body(wrap.format(prose))
    with pytest.raises(upstream.UpstreamChanged, match="still holds"):
        upstream.notebook_body(wrap.format('<clipboard-copy for="x"></clipboard-copy>'))

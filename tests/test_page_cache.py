"""tools/page_cache.py: a page's search entries, made ahead of time or taken from the cache, are
the entries Material's own index makes for the page as it is when MkDocs indexes it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from material.plugins.search.plugin import SearchPlugin

from tools.cache import Store
from tools.page_cache import SearchEntries
from tools.upstream import new_search_index

CONTENT = '<h1 id="a">A</h1><p>one</p><h2 id="b">B</h2><p>two</p>'


def page(name: str, content: str = CONTENT):
    return SimpleNamespace(file=SimpleNamespace(src_uri=name), meta={}, content=content, toc=[], url=name[:-3] + "/",
                           title=name)


def material(*pages) -> list[dict]:
    """The entries Material's index makes for these pages, left to itself."""
    index = new_search_index()
    for p in pages:
        index.add_entry_from_context(p)
    return index.entries


def wrapped(store: Store) -> tuple[SearchEntries, SimpleNamespace, list]:
    """A search plugin whose index is wrapped, and the pages its own method was called for."""
    plugin = SimpleNamespace(config=SimpleNamespace(enabled=True), search_index=new_search_index())
    calls = []
    add = plugin.search_index.add_entry_from_context
    plugin.search_index.add_entry_from_context = lambda p: (calls.append(p.file.src_uri), add(p))[1]
    entries = SearchEntries(store, "config")
    entries.wrap(plugin)
    return entries, plugin.search_index, calls


@pytest.mark.parametrize("cached", [False, True], ids=["no cache", "cache"])
def test_entries_made_ahead_are_materials_in_the_order_pages_are_indexed(tmp_path, cached):
    entries, index, calls = wrapped(Store(tmp_path if cached else None))
    a, b = page("a.md"), page("b.md", "<h1 id='c'>C</h1><p>three</p>")
    entries.prepare([a, b])
    assert index.entries == [] and calls == ["a.md", "b.md"]  # made, but not yet in the index
    index.add_entry_from_context(a)
    index.add_entry_from_context(b)
    assert index.entries == material(a, b)
    assert calls == ["a.md", "b.md"]  # each page split once


def test_a_page_changed_after_its_entries_were_made_is_indexed_as_it_is_now():
    entries, index, calls = wrapped(Store(None))
    a = page("a.md")
    entries.prepare([a])
    a.content = CONTENT.replace("two", "2")  # as math rendered after the entries were made would
    index.add_entry_from_context(a)
    assert index.entries == material(page("a.md", a.content)) and "<p>2</p>" in index.entries[1]["text"]
    assert calls == ["a.md", "a.md"]


def test_the_cache_serves_a_later_build_without_splitting_the_page(tmp_path):
    first, index, _ = wrapped(Store(tmp_path))
    first.prepare([page("a.md")])
    index.add_entry_from_context(page("a.md"))
    second, index, calls = wrapped(Store(tmp_path))
    second.prepare([page("a.md")])
    index.add_entry_from_context(page("a.md"))
    assert calls == [] and index.entries == material(page("a.md"))


def test_a_disabled_search_plugin_is_left_alone():
    """Switched off in `mkdocs serve`, the plugin keeps the index of an earlier build: it is neither
    wrapped again nor fed pages."""
    plugin = SearchPlugin()
    plugin.load_config({"enabled": False})
    plugin.search_index = old = new_search_index()
    method = old.add_entry_from_context
    entries = SearchEntries(Store(None), "config")
    entries.wrap(plugin)
    entries.prepare([page("a.md")])
    assert entries.ready == {} and old.entries == [] and old.add_entry_from_context == method

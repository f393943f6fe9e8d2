"""Rendered pages, search entries and compiled theme templates, cached so that an unchanged page costs nothing.

- A Markdown page whose blocks were replayed from the cache (`tools.execution`) is not converted
  again when its Markdown, its run, the site's files and the configuration are all unchanged: its
  HTML, table of contents, title and anchors come from the cache. Notebook pages use the same
  mechanism (`cache_render`), keyed by their notebook (`tools.notebook_pages`). A render that
  logged a warning is never stored, so a cached page cannot hide a warning a cold build would give.
- The theme's search index entries of a page are kept by the page's HTML, address and contents;
  in a parallel build, the Markdown pages' entries are made while the build waits for workers.
- The theme's Jinja templates keep their compiled bytecode (checked against the template source).
- In a long-lived process (`mkdocs serve`), a replayed block's HTML (its highlighted source and
  its output box) is kept by its code, options, output and the configuration, so a prose edit
  re-renders the page without highlighting every block of it again.

Every key also covers the environment key of `tools.cache`, the configuration files and the
build's own tools, so nothing cached outlives a change of anything that shapes a page.
"""

from __future__ import annotations

import copy
import hashlib
import logging
from pathlib import Path

import jinja2
from mkdocs.structure.toc import get_toc

from tools import upstream
from tools.cache import Store, build_code, digest

ROOT = Path(__file__).resolve().parents[1]
PAGES = "rendered"
SEARCH = "search"


def configuration_key(config, environment_key: str) -> str:
    """What shapes every page besides its own Markdown: config files, the build's code, the environment."""
    hasher = hashlib.sha256(environment_key.encode() + build_code().encode())
    config_file = Path(config.config_file_path)
    for path in [config_file, ROOT / "mkdocs.yml", *sorted((ROOT / "overrides").glob("*"))]:
        hasher.update(str(path).encode() + b"\0" + (path.read_bytes() if path.is_file() else b"") + b"\0")
    hasher.update(repr((config.docs_dir, config.site_url, config.use_directory_urls, config.edit_uri)).encode())
    return hasher.hexdigest()


def files_key(files) -> str:
    return digest(sorted((f.src_uri, f.dest_uri, f.url) for f in files))


class Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record) -> None:
        self.count += 1


def _toc_tokens(toc) -> list[dict]:
    return [{"level": a.level, "id": a.id, "name": a.title, "children": _toc_tokens(a.children)} for a in toc]


def rendered(content: str, toc, title: str | None, anchors: set[str] | None = None, links: dict | None = None) -> dict:
    """What a page's render sets, as JSON: as the cache stores it and `_restore` puts it back."""
    return {"content": content, "toc": _toc_tokens(toc), "title": title,
            "anchors": None if anchors is None else sorted(anchors),
            "links": None if links is None else {f.src_uri: dict(v) for f, v in links.items()}}


def _capture(page) -> dict:
    return rendered(page.content, page.toc, page.title, page.present_anchor_ids, getattr(page, "links_to_anchors", None))


def _restore(page, files, state: dict) -> None:
    page.content = state["content"]
    page.toc = get_toc(state["toc"])
    page.title = state["title"]  # as the render left it: from the front matter, the first heading, or set
    if state["anchors"] is not None:
        page.present_anchor_ids = set(state["anchors"])
    if state["links"] is not None:
        page.links_to_anchors = {files.get_file_from_path(uri): links for uri, links in state["links"].items()}


def cache_render(page, store: Store, kind: str, key: str | None, on_hit=lambda: None, made: dict | None = None) -> None:
    """Serve page.render from the cache under key when possible; store a render that logged no warning.

    key None: render as usual, store nothing (a page whose blocks really run renders them).
    on_hit is called when the cache is used. made: the page's render, made elsewhere in this build
    (`rendered`), used as the cache's would be, and stored.
    """
    if key is None or (made is None and not store.uses(kind)):
        return
    name = page.file.src_uri
    entry = made if made is not None else store.load(kind, name, key)
    if made is not None:
        store.save(kind, name, key, made)

    def cached(render):
        def cached_render(config, files) -> None:
            if entry is not None:
                _restore(page, files, entry)
                on_hit()
                return
            counter = Warnings()
            logging.getLogger("mkdocs").addHandler(counter)
            try:
                render(config, files)
            finally:
                logging.getLogger("mkdocs").removeHandler(counter)
            if counter.count == 0:
                store.save(kind, name, key, _capture(page))

        return cached_render

    upstream.replace_render(page, cached)


class Renders:
    """The render cache of one build's Markdown pages."""

    def __init__(self, store: Store, key: str) -> None:
        self.store = store
        self.key = key  # configuration_key(...)

    def wrap(self, page, markdown: str, run_key: str | None, files, on_hit) -> None:
        """Serve page.render from the cache when its Markdown, run, files and configuration are unchanged.

        run_key: a key of the page's replayed run and its outputs (None when its blocks really
        execute, which happens inside render and must not be skipped). The front matter (page.meta,
        which MkDocs removed from markdown) is part of the key: its title is the page's.
        """
        key = None if run_key is None else digest({"markdown": markdown, "meta": repr(page.meta), "page": page.file.src_uri,
                                                   "url": page.url, "run": run_key, "files": files_key(files),
                                                   "config": self.key})
        cache_render(page, self.store, PAGES, key, on_hit)


class SearchEntries:
    """Wraps the theme's search index so a page's entries are computed once per content, and, while
    the build waits for workers, ahead of time (`prepare`)."""

    def __init__(self, store: Store, key: str) -> None:
        self.store = store
        self.key = key
        self.ready: dict[str, tuple[str, list]] = {}  # src_uri -> (entry key, entries), made by prepare
        self._make = None  # make(page) -> (entry key, entries), outside the index's list

    def wrap(self, search_plugin) -> None:
        upstream.wrap_search_entries(search_plugin, self._cached_add)

    def prepare(self, pages) -> None:
        """Make the pages' entries now (the index takes them when MkDocs reaches each page, if the
        page is still as it was); the build calls it when it would otherwise wait."""
        if self._make is None:
            return
        for page in pages:
            self.ready[page.file.src_uri] = self._make(page)

    def _cached_add(self, add, entries: list, options: dict):
        store, key = self.store, self.key

        def entry_key(page) -> str:
            return digest({"content": page.content, "url": page.url, "title": page.title, "meta": repr(page.meta.get("search")),
                           "tags": repr(page.meta.get("tags")), "toc": _toc_tokens(page.toc), "config": key,
                           "options": repr(sorted(options.items()))})

        def make(page) -> tuple[str, list]:
            """The page's entries: from the cache, else made by the index (and taken off its list)."""
            name, found = page.file.src_uri, entry_key(page)
            cached = store.load(SEARCH, name, found)
            if cached is not None:
                return found, copy.deepcopy(cached)
            before = len(entries)
            add(page)
            made = entries[before:]
            del entries[before:]
            store.save(SEARCH, name, found, made)
            return found, made

        def cached_add(page):
            ready = self.ready.pop(page.file.src_uri, None)
            if ready is not None and ready[0] == entry_key(page):
                entries.extend(ready[1])
            else:
                entries.extend(make(page)[1])

        self._make = make
        return cached_add


class _TemplateBytecode(jinja2.FileSystemBytecodeCache):
    """Jinja's file cache of compiled templates, which must never fail a build it cannot write."""

    def dump_bytecode(self, bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass

    def load_bytecode(self, bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except OSError:
            pass


_bytecode: dict[str, jinja2.BytecodeCache] = {}


def compiled_templates(env, store: Store) -> None:
    """Let the theme's Jinja environment keep compiled templates (in memory and in the cache folder)."""
    if not store.uses("templates"):
        return
    folder = store.folder / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        cache = _bytecode.setdefault(str(folder), _TemplateBytecode(str(folder)))
    except OSError:
        cache = _bytecode.setdefault("memory", _Memory())
    env.bytecode_cache = cache


class _Memory(jinja2.BytecodeCache):
    """Compiled templates kept in this process only (when the cache folder cannot be written)."""

    store: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.store:
            bucket.bytecode_from_string(self.store[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.store[bucket.key] = bucket.bytecode_to_string()


_formatted: dict[str, str] = {}  # key -> a replayed block's HTML, for this process
FORMATTED_LIMIT = 4096


def formatted_block(format_block, key: str | None, md, **options) -> str:
    """format_block(md=md, **options), or its remembered HTML for key (None: never remembered).

    A block whose output adds headings to the page's table of contents is never remembered: its
    HTML alone would not carry them.
    """
    if key is not None and key in _formatted:
        return _formatted[key]
    html = format_block(md=md, **options)
    if key is not None:
        from markdown_exec import InsertHeadings

        processor = md.treeprocessors[InsertHeadings.name] if InsertHeadings.name in md.treeprocessors else None
        if processor is None or not processor.headings.get(html):
            if len(_formatted) >= FORMATTED_LIMIT:
                del _formatted[next(iter(_formatted))]
            _formatted[key] = str(html)
    return html

"""Rendered pages, cached so that an unchanged page costs nothing.

A Markdown page whose blocks were replayed from the cache (`tools.execution`) is not converted
again when its Markdown, its run, the site's files and the configuration are all unchanged
(`tools.keys.rendered`): its HTML, table of contents, title and anchors come from the cache.
Notebook pages use the same mechanism (`cache_render`), keyed by their notebook
(`tools.notebook_pages`). A render that logged a warning is never stored, so a cached page cannot
hide a warning a cold build would give.

In a long-lived process (`mkdocs serve`), a replayed block's HTML (its highlighted source and its
output box) is remembered by its code, options, output and the site (`formatted_block`), so a
prose edit re-renders the page without highlighting every block of it again.
"""

from __future__ import annotations

import logging

import jinja2
from mkdocs.structure.toc import get_toc

from tools import upstream
from tools.cache import Store

PAGES = "rendered"


class Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record) -> None:
        self.count += 1


def _toc_tokens(toc) -> list[dict]:
    return [{"level": a.level, "id": a.id, "name": a.title, "children": _toc_tokens(a.children)} for a in toc]


def _capture(page) -> dict:
    """What a page's render set, as JSON: as the cache stores it and `_restore` puts it back."""
    links = getattr(page, "links_to_anchors", None)
    return {"content": page.content, "toc": _toc_tokens(page.toc), "title": page.title,
            "anchors": None if page.present_anchor_ids is None else sorted(page.present_anchor_ids),
            "links": None if links is None else {f.src_uri: dict(v) for f, v in links.items()}}


def _restore(page, files, state: dict) -> None:
    page.content = state["content"]
    page.toc = get_toc(state["toc"])
    page.title = state["title"]  # as the render left it: from the front matter, the first heading, or set
    if state["anchors"] is not None:
        page.present_anchor_ids = set(state["anchors"])
    if state["links"] is not None:
        page.links_to_anchors = {files.get_file_from_path(uri): links for uri, links in state["links"].items()}


def cache_render(page, store: Store, kind: str, key: str | None, on_hit=lambda: None) -> None:
    """Serve page.render from the cache under key when possible; store a render that logged no warning.

    key None: render as usual, store nothing (a page whose blocks really run renders them).
    on_hit is called when the cache is used.
    """
    if key is None or store.folder is None:
        return
    name = page.file.src_uri
    entry = store.load(kind, name, key)

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


class CompiledTemplates(jinja2.BytecodeCache):
    """Jinja's compiled templates, in memory: each of serve's rebuilds makes a new template
    environment, and nbconvert one per notebook, which would compile every template again. Jinja
    checks each entry against its template's source, so an edited template is compiled anew."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()

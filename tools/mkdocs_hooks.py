"""MkDocs hooks of the site (listed under `hooks:` in mkdocs.yml): MkDocs events, connected to the
modules that do the work. Each of those has one job:

- `tools.chapter`: the chapter model, a page's blocks parsed once, and which of them execute;
- `tools.execution`: running a page's blocks (or replaying them from the cache);
- `tools.cache`: the build's cache in .cache/site (SITE_CACHE=off for a cold build);
- `tools.package_sync`: the `literate` package as the chapters define it, re-tangled by serve;
- `tools.notebook_pages` and `tools.notebook`: each chapter as a notebook page;
- `tools.page_cache`: rendered pages, search entries and compiled templates, cached;
- `tools.wheel`: the package as a wheel on the site, and its install line;
- `tools.katex`: math turned into MathML at build time; `tools.math_font`: the font it is drawn in;
- `tools.images`: embedded PNGs moved to files;
- `tools.fold`: a figure's code folded under the figure (the `fold` option of a block);
- `tools.report`: the execution report (pages ran or replayed, seconds, slowest blocks);
- `tools.parallel`: the pages that must run, run in worker processes while MkDocs renders the others;
- `tools.shards`: `SHARD=i/n`, a build that runs only its share of the pages, to fill the cache;
- `tools.edit_links`, `tools.accessibility`.
"""

from __future__ import annotations

import logging
import re
import sys
from functools import partial
from pathlib import Path

from markdown_exec import base_format
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # hooks are loaded by file path; make `tools` importable
    sys.path.insert(0, str(ROOT))

from tools import (  # noqa: E402
    accessibility, cache, chapter, edit_links, fold, images, katex, math_font, notebook_pages, package_sync, page_cache,
    parallel, report, shards, upstream, wheel,
)
from tools.execution import DEFAULT_TIMEOUT, KIND as RUNS, Runner, block_id  # noqa: E402

log = logging.getLogger("mkdocs.hooks")


class _Build:
    """What one build keeps; made afresh by every build (and every serve rebuild)."""

    def __init__(self, config) -> None:
        try:
            self.store = cache.Store(cache.directory(), cache.without())
        except ValueError as error:
            raise PluginError(str(error)) from None
        environment_key = cache.digest(cache.environment(self.store))
        self.runner = Runner(self.store, environment_key, float(config.extra.get("block_timeout", DEFAULT_TIMEOUT)),
                             shards.from_environment())
        self.notebooks = notebook_pages.Notebooks(self.store, environment_key)
        self.math = katex.Math(self.store)
        self.math_font: File | None = None  # its content is known once every page's math is
        configuration_key = page_cache.configuration_key(config, environment_key)
        self.renders = page_cache.Renders(self.store, configuration_key)
        self.search = page_cache.SearchEntries(self.store, configuration_key)
        self.search.wrap(config.plugins.get("material/search"))
        self.models: dict[str, tuple[chapter.Chapter, str]] = {}  # src_uri -> the page's model and name
        self.markdown_pages: list = []  # the Markdown pages MkDocs has converted, in order
        self.markdown_done = False
        self.early: parallel.Workers | None = None  # workers started before the pages were planned

    def markdown_pages_done(self) -> None:
        """MkDocs has converted every Markdown page and turns to the notebook pages. Where workers
        are converting those, what the Markdown pages need once every page is converted (their
        math, the font it is drawn in, their search entries) is made while the build waits for them,
        rather than after the last notebook page; on_env and the search index then do only what is
        left. Math that fails here is left as it is, to fail in on_env as in a serial build."""
        if self.markdown_done or not self.notebooks.from_workers:
            return
        self.markdown_done = True
        try:
            self.math.render_all()
        except PluginError:
            return
        math_font.build(self.store, self.math.drawn, save=False)
        self.search.prepare(self.markdown_pages)

    def close(self, failed: bool = False) -> None:
        self.runner.close(failed)
        self.notebooks.close()


_build: _Build | None = None
_rule = chapter.ExecRule(frozenset())


def _run(code: str, **options) -> str:
    return _build.runner.run(code, **options)


def _format(md, **options) -> str:
    """markdown-exec's formatter for Python blocks: base_format with our runner; a replayed block's
    HTML is remembered by everything it depends on (tools/page_cache.py)."""
    output = _build.runner.replay(options.get("id"))
    key = None
    if output is not None and _build.store.uses("formatted"):
        key = cache.digest({"options": {k: repr(v) for k, v in options.items()}, "output": output,
                            "config": _build.renders.key})
    format_block = partial(fold.format_block, partial(base_format, language="python", run=_run))
    return page_cache.formatted_block(format_block, key, md, **options)


def on_startup(command, dirty):
    package_sync.startup(command)


def on_config(config):
    global _rule
    try:
        upstream.check()  # a package upgrade that breaks a reach stops here, saying which and why
    except upstream.UpstreamChanged as error:
        raise PluginError(str(error)) from None
    upstream.use_formatter(("python", "py"), _format)
    _rule = chapter.ExecRule(frozenset(config.plugins["markdown-exec"].config.languages))
    edit_links.configure(config)
    return config


def on_serve(server, config, builder):
    return package_sync.fast_watcher(server, config)


def on_pre_build(config) -> None:
    global _build
    _close()
    # First, as workers take a while to start: at most one per page that may run.
    early = parallel.start_early(min(parallel.jobs(), _pages(config)), _no_run_cached())
    try:
        package_sync.sync(config)  # before the environment's key: it covers the package's source
        _build = _Build(config)
    except BaseException:
        if early is not None:
            early.pool.shutdown(wait=False, cancel_futures=True)
        raise
    if early is not None:
        _build.early = early
        _build.runner.pool = early.pool  # the runner shuts it down, whatever happens


def _pages(config) -> int:
    """How many Markdown pages the site may have (before MkDocs has collected its files)."""
    return sum(1 for _ in Path(config.docs_dir).rglob("*.md"))


def _no_run_cached() -> bool:
    """Whether the cache holds no run of any page (a cold build: every page with blocks runs, or
    this shard's share of them)."""
    try:
        return not cache.Store(cache.directory(), cache.without()).holds(RUNS)
    except ValueError:
        return False  # reported by _Build


def on_post_build(config) -> None:
    log.info(_build.runner.summary())
    if _build.notebooks.converted_in_workers:
        log.info(f"Notebook pages converted in worker processes: {_build.notebooks.converted_in_workers}")
    found = report.rows(_build.runner)
    where = report.path_for(config.site_dir)
    report.write(found, where)
    if package_sync.serving():
        log.info(report.one_line(found))
    else:
        log.info(f"Execution report ({report.relative_name(where)}):\n\n{report.table(found)}\n")
    _build.math.save()
    _build.store.prune()
    _close()


def on_build_error(error) -> None:
    _close(failed=True)  # no temporary notebook folder left behind by a failed build


def _close(failed: bool = False) -> None:
    global _build
    if _build is not None:
        _build.close(failed)
        _build = None


@event_priority(100)  # before mkdocs-jupyter looks at the files, so it renders our notebooks
def on_files(files, config):
    _build.math_font = File.generated(config, math_font.URI, content=b"")
    files.append(_build.math_font)
    files.append(File.generated(config, math_font.LICENSE_URI, abs_src_path=str(math_font.LICENSE)))
    _build.notebooks.add_files(files, config)
    # The package as a wheel on the site, and the one line that installs it from there.
    name, data = wheel.build(ROOT / "literate", ROOT / "pyproject.toml")
    files.append(File.generated(config, f"dist/{name}", content=data))
    _build.notebooks.requirement = wheel.requirement(config.site_url or "/", name)
    return files


def on_nav(nav, config, files):
    """Before any page is converted: hand the pages whose blocks must run to workers, on every core
    (JOBS); those workers then convert the notebook pages too (`on_page_content`)."""
    pages = []
    for file in files.documentation_pages():
        if not file.src_uri.endswith(".md"):
            continue
        name = chapter.relative(Path(file.abs_src_path), Path(config.config_file_path).parent)
        try:
            pages.append((chapter.read_page(Path(file.abs_src_path), _rule), name))
        except chapter.ChapterError:
            continue  # reported, with its line, when the page itself is converted
    try:
        handed, started = parallel.prerun(_build.runner, pages, parallel.jobs(), _build.early)
    except chapter.ChapterError:
        handed = []  # a bad option: the page reports it when it is converted
    if handed:
        log.info(f"Running {len(handed)} page(s) in worker processes {started}: {', '.join(handed)}")
    return nav


@event_priority(-100)  # after mkdocs-jupyter has set up the notebook page's rendering
def on_pre_page(page, config, files):
    if page.file.src_uri.startswith(notebook_pages.NOTEBOOKS):
        _build.markdown_pages_done()
        _build.notebooks.cache_rendering(page, _jupyter_options(config))
    return page


def on_page_markdown(markdown: str, page, config, files) -> str:
    """Parse the page once; give each executed block the page's session and an id naming its line."""
    source = Path(page.file.abs_src_path)
    name = chapter.relative(source, Path(config.config_file_path).parent)  # "docs/chapters/x.md"
    try:
        model = chapter.page(source, markdown, _rule)
        fold.check(model)
        plan = _build.runner.plan(model, name)
    except chapter.ChapterError as error:
        raise PluginError(str(error)) from None
    _build.models[page.file.src_uri] = (model, name)
    lines = markdown.split("\n")
    for block in model.executed:
        n = block.line - 1 - model.offset
        line = lines[n]
        options = " ".join(f'{k}="{v}"' for k, v in (("session", name), ("id", block_id(name, block.line))))
        for key in ("session", "id"):
            line = _drop_option(line, key)
        lines[n] = f"{line.rstrip()} {options}"
    markdown = wheel.with_install_line("\n".join(lines), _build.notebooks.requirement)
    replayed = plan.replay is not None or not plan.blocks
    run = cache.digest({"run": plan.key, "outputs": plan.replay}) if replayed else None  # what the page shows
    _build.renders.wrap(page, markdown, run, files, lambda: _build.runner.replayed(name))
    return markdown


def on_page_content(html: str, page, config, files) -> str:
    """Check every executed block ran; write a chapter's notebook; note math; fix notebook pages."""
    if page.file.src_uri in _build.models:
        model, name = _build.models[page.file.src_uri]
        outputs = _build.runner.finish(name)
        if notebook_pages.is_chapter(page.file.src_uri):
            _build.notebooks.write(model, name, page.file.src_uri, outputs, _jupyter_options(config),
                                   _build.runner.pool)
    if page.file.src_uri.startswith(notebook_pages.NOTEBOOKS):
        notebook_pages.fix_page(page)
    else:
        _build.markdown_pages.append(page)
    _build.math.collect(page, html)
    return html


def on_env(env, config, files):
    _build.math.render_all()  # every page's math, one KaTeX run for what the cache lacks
    font, lacking = math_font.build(_build.store, _build.math.drawn)
    for src_uri, chars in sorted(lacking.items()):
        log.warning(f"{src_uri}: math draws characters its font lacks: {math_font.describe(chars)}")
    _build.math_font.content_bytes = font
    page_cache.compiled_templates(env, _build.store)
    return env


def on_post_page(output: str, page, config) -> str:
    output = images.to_files(output, page.url, config.site_dir)
    return accessibility.focusable_code_blocks(accessibility.name_search_dialog(output))


def on_post_template(output: str, template_name: str, config) -> str:
    return accessibility.name_search_dialog(output)  # 404.html


def _jupyter_options(config) -> dict:
    return dict(config.plugins["mkdocs-jupyter"].config)


def _drop_option(fence: str, key: str) -> str:
    return re.sub(rf"""\s*\b{key}=(?:"[^"]*"|'[^']*'|\S+)""", "", fence)


"""The site's build as an MkDocs plugin, `literate` (configured under ``plugins:`` in mkdocs.yml).

Each event method does one job and hands it to the module that does it:

- `tools.chapter`: the chapter model, a page's blocks parsed once, and which of them execute;
- `tools.execution`: which pages run, their runs in worker processes (`tools.workers`, running
  blocks with `tools.blocks`), and the outputs markdown-exec shows; `tools.report` reports them;
- `tools.cache` stores what the build may reuse, under the keys `tools.keys` makes;
- `tools.package_sync`: the `literate` package as the chapters define it, re-tangled by serve;
- `tools.notebook_pages` and `tools.notebook`: each chapter as a notebook page;
- `tools.page_cache`: rendered pages, cached; `tools.wheel`: the package as a wheel on the site;
- `tools.katex`: math as MathML made at build time; `tools.math_font`: the font it is drawn in;
- `tools.images`, `tools.fold`, `tools.accessibility`: what the pages carry.
"""

from __future__ import annotations

import logging
import os
import re
from functools import partial
from pathlib import Path

from markdown_exec import base_format
from mkdocs.config import base, config_options as c
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File

from tools import (
    accessibility, cache, chapter, fold, images, katex, keys, math_font, notebook_pages, package_sync,
    page_cache, report, upstream, wheel, workers,
)
from tools.execution import Runner

log = logging.getLogger("mkdocs.plugins.literate")
_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class LiterateConfig(base.Config):
    cache = c.Type(bool, default=True)
    """Reuse what earlier builds made (runs, rendered pages, notebook pages, the math font); false:
    a cold build, which reads and writes no cache. mkdocs.yml sets it from SITE_CACHE (`CACHE=off make build`)."""
    cache_dir = c.Type(str, default=".cache/site")
    """Where the cache lives, relative to mkdocs.yml unless absolute (SITE_CACHE_DIR)."""
    jobs = c.Optional(c.Type(int))
    """Worker processes that run pages (JOBS); unset: one per core this process may use."""
    block_timeout = c.Type((int, float), default=300)
    """Seconds one executed block may run; a fence's timeout="S" sets its own."""
    shard = c.Optional(c.Type(str))
    """"i/n": run only share i of n of the pages, to fill a cache that n shards merge (SHARD)."""
    report = c.Optional(c.Type(str))
    """Where the execution report's JSON goes (its Markdown beside it); unset: build/ beside the site (EXECUTION_REPORT)."""
    repo_url = c.Optional(c.Type(str))
    """A repository (https://github.com/OWNER/REPO) for "Edit this page" links; unset: none (REPO_URL)."""
    branch = c.Type(str, default="main")
    """The branch the edit links open (REPO_BRANCH)."""


class _Build:
    """What one build keeps; made afresh by every build (and every serve rebuild)."""

    def __init__(self, plugin: LiteratePlugin, config) -> None:
        options = plugin.config
        folder = Path(config.config_file_path).parent / options.cache_dir if options.cache else None
        self.store = cache.Store(folder)
        environment_key = keys.environment()
        self.site_key = keys.site(config, environment_key)
        self.runner = Runner(self.store, environment_key, float(options.block_timeout), options.jobs or workers.cores(),
                             parse_shard(options.shard))
        self.notebooks = notebook_pages.Notebooks(self.store, self.site_key)
        self.math = katex.Math()
        self.models: dict[str, tuple[chapter.Chapter, str]] = {}  # src_uri -> the page's model and name

    def close(self) -> None:
        self.runner.close()
        self.notebooks.close()


class LiteratePlugin(BasePlugin[LiterateConfig]):
    build: _Build | None = None  # the rest is set by MkDocs' events: serving at startup, rule at config
    serving = False

    def on_startup(self, *, command, dirty) -> None:
        self.serving = command == "serve"  # MkDocs keeps a plugin with on_startup across serve's rebuilds
        keys.loaded_code()  # the code this process runs, read now: what it stores is keyed on it
        # Templates compiled once per process: nbconvert's, not once per notebook; the theme's, not once per serve rebuild.
        upstream.compile_notebook_templates_once(page_cache.CompiledTemplates)
        self.templates = page_cache.CompiledTemplates()
        if self.serving:  # an unchanged page's search entries: the same in the next rebuild
            upstream.remember_search_entries()

    def on_config(self, config):
        """Check the plugin's options, register the block formatter, set the edit links and the notebooks' nav."""
        upstream.check()  # a package upgrade that breaks a reach stops here, saying which and why
        jobs = self.config.jobs
        if jobs is not None and jobs < 1:
            raise PluginError(f"plugins.literate.jobs (JOBS) is {jobs}: give a positive number of workers (1: one)")
        timeout = self.config.block_timeout
        if isinstance(timeout, bool) or not 0 < timeout < float("inf"):
            raise PluginError(f"plugins.literate.block_timeout is {timeout!r}: give a positive number of seconds")
        upstream.use_formatter(self._format)
        self.rule = chapter.ExecRule(frozenset(config.plugins["markdown-exec"].config.languages))
        repo = (self.config.repo_url or "").strip().rstrip("/")
        config.repo_url = None  # a repo_url would make the theme ask GitHub's API for statistics
        docs = os.path.relpath(config.docs_dir, os.path.dirname(config.config_file_path)).replace(os.sep, "/")
        config.edit_uri = f"{repo}/edit/{self.config.branch}/{docs}/" if repo else None
        config.nav = notebook_pages.with_notebooks(config.nav)
        return config

    def on_serve(self, server, *, config, builder):
        """Native file events instead of serve's polling (tools/package_sync.py)."""
        return package_sync.fast_watcher(server, config)

    def on_pre_build(self, *, config) -> None:
        self._close()
        package_sync.sync(config, self.serving)
        self.build = _Build(self, config)

    @event_priority(100)  # before mkdocs-jupyter looks at the files, so it renders our notebooks
    def on_files(self, files, *, config):
        """Add the math font, the chapters' notebooks and the package's wheel to the site."""
        build = self.build
        build.math_font = File.generated(config, math_font.URI, content=b"")  # its content: once every page's math is known
        files.append(build.math_font)
        files.append(File.generated(config, math_font.LICENSE_URI, abs_src_path=str(math_font.LICENSE)))
        build.notebooks.add_files(files, config)
        name, data = wheel.build()
        files.append(File.generated(config, f"dist/{name}", content=data))
        build.notebooks.requirement = wheel.requirement(config.site_url or "/", name)
        return files

    def on_nav(self, nav, *, config, files):
        """Before any page is converted: hand the runs the cache lacks to worker processes."""
        pages = [(chapter.read(Path(file.abs_src_path), self.rule), self._name(file.abs_src_path, config))
                 for file in files.documentation_pages() if file.src_uri.endswith(".md")]
        handed = self.build.runner.start(pages)  # a ChapterError (bad input at file:line) fails the build
        if handed:
            log.info(f"Running {len(handed)} page(s) in {len(self.build.runner.pool.workers)} worker process(es): {', '.join(handed)}")
        return nav

    @event_priority(-100)  # after mkdocs-jupyter has set up the notebook page's rendering
    def on_pre_page(self, page, *, config, files):
        """A notebook page: its render, fitted to the site and cached."""
        if page.file.src_uri.startswith(notebook_pages.NOTEBOOKS):
            self.build.notebooks.cache_rendering(page, dict(config.plugins["mkdocs-jupyter"].config))
        return page

    def on_page_markdown(self, markdown: str, *, page, config, files) -> str:
        """Give each executed block its page's session and an id naming its line; serve the render
        from the cache when nothing it depends on changed. (A notebook page has no blocks, and its
        render is cached by its notebook: on_pre_page.)"""
        if page.file.src_uri.startswith(notebook_pages.NOTEBOOKS):
            return markdown
        build = self.build
        name = self._name(page.file.abs_src_path, config)
        model = chapter.page(Path(page.file.abs_src_path), markdown, self.rule)
        fold.check(model)
        plan = build.runner.plan(model, name)
        build.models[page.file.src_uri] = (model, name)
        lines = markdown.split("\n")
        for block in model.executed:
            n = block.line - 1 - model.offset
            line = re.sub(r"""\s*\b(?:session|id)=(?:"[^"]*"|'[^']*'|\S+)""", "", lines[n])
            lines[n] = f'{line.rstrip()} session="{name}" id="{name}:{block.line}"'
        markdown = wheel.with_install_line("\n".join(lines), build.notebooks.requirement)
        replayed = plan.replay is not None or not plan.blocks  # else its blocks run inside render: never skipped
        key = keys.rendered(build.site_key, markdown, page.meta, page.file.src_uri, page.url, plan.key, plan.replay,
                            files) if replayed else None
        page_cache.cache_render(page, build.store, page_cache.PAGES, key, lambda: build.runner.replayed(name))
        return markdown

    def on_page_content(self, html: str, *, page, config, files) -> str:
        """Check every executed block was shown; write a chapter's notebook; place a notebook page; note the page for its math."""
        build = self.build
        if page.file.src_uri.startswith(notebook_pages.NOTEBOOKS):
            notebook_pages.fix_page(page)
        else:
            model, name = build.models[page.file.src_uri]
            outputs = build.runner.finish(name)
            if notebook_pages.is_chapter(page.file.src_uri):
                build.notebooks.write(model, name, page.file.src_uri, outputs)
        build.math.pages.append(page)  # its math is put in place at on_env
        return html

    def on_env(self, env, *, config, files):
        """Every page's math as MathML, and the font cut to what it draws; the theme's templates
        compiled once per process (page_cache.CompiledTemplates)."""
        build = self.build
        env.bytecode_cache = self.templates
        build.math.render_all()
        font, lacking = math_font.build(build.store, build.site_key, build.math.drawn)
        for src_uri, chars in sorted(lacking.items()):
            log.warning(f"{src_uri}: math draws characters its font lacks: {math_font.describe(chars)}")
        build.math_font.content_bytes = font
        return env

    def on_post_page(self, output: str, *, page, config) -> str:
        output = images.to_files(output, page.url, config.site_dir)
        return accessibility.focusable_code_blocks(accessibility.name_search_dialog(output))

    def on_post_template(self, output_content: str, *, template_name: str, config) -> str:
        return accessibility.name_search_dialog(output_content)  # 404.html

    def on_post_build(self, *, config) -> None:
        """Report the runs, prune the cache, stop the workers."""
        build = self.build
        log.info(build.runner.summary())
        found = report.rows(build.runner)
        where = Path(self.config.report) if self.config.report else Path(config.site_dir).resolve().parent / "build" / "execution-report.json"
        report.write(found, where)
        if not self.serving:  # serve: the summary line above
            log.info(f"Execution report ({where}):\n\n{report.table(found)}\n")
        build.store.prune()
        self._close()

    def on_build_error(self, *, error) -> None:
        self._close()  # no worker or temporary notebook folder left behind by a failed build

    def _close(self) -> None:
        if self.build is not None:
            self.build.close()
            self.build = None

    def _format(self, md, **options) -> str:
        """markdown-exec's formatter for Python blocks: base_format, run by the build's runner; a
        replayed block's HTML is remembered by everything it depends on (tools/page_cache.py)."""
        runner = self.build.runner
        output = runner.replay(options.get("id"))
        key = None if output is None else keys.formatted(self.build.site_key, options, output)
        format_block = partial(fold.format_block, partial(base_format, language="python", run=runner.run))
        return page_cache.formatted_block(format_block, key, md, **options)

    @staticmethod
    def _name(path: str, config) -> str:
        return chapter.relative(Path(path), Path(config.config_file_path).parent)  # "docs/chapters/x.md"


def parse_shard(value: str | None) -> tuple[int, int] | None:
    """The shard option ("i/n") as (i, n); a PluginError naming it when it is not 1 <= i <= n."""
    if not value:
        return None
    match = _SHARD.match(value)
    if match is None or not 1 <= int(match[1]) <= int(match[2]):
        raise PluginError(f"plugins.literate.shard (SHARD) is {value!r}: give i/n with 1 <= i <= n (e.g. 1/4)")
    return int(match[1]), int(match[2])

"""tools/parallel.py: pages run in worker processes give the serial build's site, byte for byte;
a failing page is still reported at its file:line; a cached page costs no worker; a notebook page
a worker could not convert is converted by MkDocs."""

from __future__ import annotations

import logging
import sys
from concurrent.futures import Future
from types import SimpleNamespace
from concurrent.futures.process import BrokenProcessPool

import pytest

from tests.helpers import mkdocs_build, write_docs
from tools import parallel
from tools.cache import Store
from tools.notebook_pages import Notebooks
from tools.workspace import ROOT, differing_files

pytestmark = pytest.mark.site

PAGES = {
    "index.md": '# Home\n\n```python exec="on" result="text"\nimport torch\ntorch.manual_seed(0)\n'
                'print(torch.randn(3, 3).sum())\n```\n',
    "a.md": '# A\n\n```python exec="on" result="text"\nx = sum(range(100))\nprint(x)\n```\n\n'
            '```python exec="on" html="1"\nprint(f"<b>{x * 2}</b>")\n```\n',
    "b.md": '# B\n\n```python exec="on" result="text"\nimport torch\n'
            'print(torch.nn.functional.conv2d(torch.ones(1, 1, 4, 4), torch.ones(1, 1, 2, 2)))\n```\n',
}


def build(tmp_path, name, jobs, pages=PAGES, **env):
    docs = write_docs(tmp_path / name, pages) if not (tmp_path / name / "docs").exists() else tmp_path / name / "docs"
    return mkdocs_build(tmp_path / name / "site", docs, nav=list(pages), env={"JOBS": str(jobs), **env})


@pytest.mark.heavy
@pytest.mark.parametrize("start", ["", "forkserver", "spawn"], ids=["default", "forkserver", "spawn"])
def test_pages_run_in_workers_give_the_serial_builds_site(tmp_path, start):
    """However workers start: forked from the build (the default of `mkdocs build` on Linux), from a
    fork server (`mkdocs serve`'s rebuilds), or spawned (platforms without fork)."""
    (tmp_path / "serial").mkdir()
    (tmp_path / "parallel").mkdir()
    serial = build(tmp_path, "serial", 1)
    assert serial.returncode == 0, serial.stderr
    assert "worker processes" not in serial.stderr
    together = build(tmp_path, "parallel", 2, WORKER_START=start)
    assert together.returncode == 0, together.stderr
    started = f"{parallel.STARTED[start or 'fork']}, started before the pages were planned"  # a cold build
    assert f"Running 3 page(s) in worker processes {started}" in together.stderr
    assert "Code blocks: ran 3 page(s)" in together.stderr and "replayed 0 page(s)" in together.stderr  # runs
    assert "3 of the runs in worker processes" in together.stderr
    site = {name: tmp_path / name / "site" for name in ("serial", "parallel")}
    # The two builds differ in where their docs live; the pages themselves must not.
    assert differing_files(site["serial"], site["parallel"]) == []


def test_a_failing_page_is_reported_at_its_line_as_in_a_serial_build(tmp_path):
    (tmp_path / "run").mkdir()
    pages = {**PAGES, "bad.md": '# Bad\n\nText.\n\n```python exec="on"\nx = 1\ny = x / 0\n```\n'}
    result = build(tmp_path, "run", 2, pages)
    assert result.returncode != 0
    log = result.stdout + result.stderr
    assert "ZeroDivisionError" in log and 'bad.md", line 7' in log  # the traceback in the chapter's lines
    assert "Running 4 page(s) in worker processes" in log  # bad.md failed there, and ran again, serially


def test_a_cached_page_costs_no_worker(tmp_path):
    (tmp_path / "run").mkdir()
    cache = tmp_path / "cache"
    first = build(tmp_path, "run", 2, SITE_CACHE="on", SITE_CACHE_DIR=str(cache))
    assert first.returncode == 0 and "Running 3 page(s) in worker processes" in first.stderr
    docs = tmp_path / "run" / "docs"
    (docs / "a.md").write_text(PAGES["a.md"].replace("range(100)", "range(10)"), encoding="utf-8")
    second = build(tmp_path, "run", 2, SITE_CACHE="on", SITE_CACHE_DIR=str(cache))
    assert second.returncode == 0, second.stderr
    assert "worker processes" not in second.stderr  # one page to run: no pool for it
    assert "Code blocks: ran 1 page(s)" in second.stderr and "replayed 2 page(s)" in second.stderr


@pytest.mark.parametrize("value", ["0", "many", "-1"])
def test_jobs_must_be_a_positive_number(monkeypatch, value):
    monkeypatch.setenv("JOBS", value)
    with pytest.raises(Exception, match=f"JOBS={value!r}: give a positive number"):
        parallel.jobs()


def test_jobs_defaults_to_every_core_this_process_may_use(monkeypatch):
    import os

    monkeypatch.delenv("JOBS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 2, 5}, raising=False)  # 3 cores of a larger machine
    assert parallel.jobs() == 3


@pytest.mark.heavy
def test_the_whole_site_built_on_every_core_is_the_serial_builds(site, tmp_path):
    """The chapters' outputs do not depend on PyTorch's thread count, which the workers share out."""
    result = mkdocs_build(tmp_path / "site", env={"JOBS": "2"})
    assert result.returncode == 0, result.stderr
    assert "page(s) in worker processes" in result.stderr
    chapters = len(list((ROOT / "docs" / "chapters").glob("*.md")))
    assert f"Notebook pages converted in worker processes: {chapters}" in result.stderr  # every one, not MkDocs
    assert differing_files(site, tmp_path / "site") == []


def test_workers_fork_from_the_build_only_where_that_is_safe(monkeypatch):
    monkeypatch.setattr(parallel.threading, "active_count", lambda: 1)  # as in `mkdocs build`
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert parallel._context().get_start_method() == "fork"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert parallel._context().get_start_method() == "forkserver"
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setitem(sys.modules, "torch", sys)  # PyTorch imported: its thread pools do not survive a fork
    assert parallel._context().get_start_method() == "forkserver"
    monkeypatch.delitem(sys.modules, "torch")
    monkeypatch.setattr(parallel.threading, "active_count", lambda: 3)  # `mkdocs serve`: its server's threads
    assert parallel._context().get_start_method() == "forkserver"


@pytest.mark.parametrize("value", ["threads", "FORK"])
def test_worker_start_must_be_a_way_to_start_them(monkeypatch, value):
    monkeypatch.setenv("WORKER_START", value)
    with pytest.raises(Exception, match=f"WORKER_START={value!r}: choose how workers start from fork, forkserver"):
        parallel._context()


def test_a_worker_prints_nothing_through_mkdocs_console(monkeypatch):
    """A forked worker inherits the build's handlers; what it logs is the build's to report."""
    mkdocs = logging.getLogger("mkdocs")
    monkeypatch.setattr(mkdocs, "handlers", [logging.StreamHandler(sys.stderr)])
    monkeypatch.setattr(sys, "path", list(sys.path))
    parallel._start_worker(str(ROOT))
    assert mkdocs.handlers == [] and str(ROOT) in sys.path


def test_a_notebook_page_a_worker_could_not_convert_is_converted_by_mkdocs(tmp_path, caplog):
    from mkdocs_jupyter.plugin import Plugin

    caplog.set_level(logging.INFO, logger="mkdocs")
    plugin = Plugin()
    plugin.load_config({"cache": False})
    failed = parallel.convert_notebook(str(tmp_path / "missing.ipynb"), dict(plugin.config))
    assert "missing.ipynb" in failed["error"]  # the worker reports it rather than raising
    notebooks = Notebooks(Store(None), "environment")
    try:
        outcomes = {"failed": failed, "died": BrokenProcessPool("a worker was killed"), "left": {"render": None},
                    "made": {"render": {"content": '<div class="highlight"><pre>made</pre></div>'}}}
        for name, outcome in outcomes.items():
            future = Future()
            future.set_exception(outcome) if isinstance(outcome, Exception) else future.set_result(outcome)
            notebooks.from_workers[f"notebooks/{name}.ipynb"] = future
        renders = {name: notebooks._converted(f"notebooks/{name}.ipynb") for name in outcomes}
    finally:
        notebooks.close()
    fitted = '<div class="highlight"><pre tabindex="0">made</pre></div>'  # fitted to the site as it is taken
    assert renders == {"failed": None, "died": None, "left": None, "made": {"content": fitted}}
    assert notebooks.converted_in_workers == 1
    assert "notebooks/failed.ipynb: a worker could not convert it; MkDocs converts it" in caplog.text
    assert "notebooks/died.ipynb: its worker process failed (a worker was killed)" in caplog.text


def test_a_chapter_whose_workers_died_has_its_notebook_page_converted_by_mkdocs(tmp_path, caplog):
    from tools.chapter import ExecRule, read_page

    class Broken:
        def submit(self, *args):
            raise BrokenProcessPool("a worker was killed")

    caplog.set_level(logging.INFO, logger="mkdocs")
    source = tmp_path / "x.md"
    source.write_text('# X\n\n```python exec="on"\nprint(1)\n```\n', encoding="utf-8")
    model = read_page(source, ExecRule(frozenset({"python"})))
    notebooks = Notebooks(Store(None), "environment")
    try:
        notebooks.write(model, "docs/chapters/x.md", "chapters/x.md", {3: "1\n"}, {}, Broken())
        assert (notebooks.folder / "notebooks" / "x.ipynb").is_file()  # written for MkDocs to convert
    finally:
        notebooks.close()
    assert notebooks.from_workers == {}
    assert "notebooks/x.ipynb: no worker can convert it (a worker was killed)" in caplog.text


def test_workers_start_before_planning_only_in_a_cold_build(tmp_path, monkeypatch):
    from tools import mkdocs_hooks

    monkeypatch.setenv("SITE_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("SITE_CACHE_WITHOUT", raising=False)
    monkeypatch.setenv("SITE_CACHE", "off")
    assert mkdocs_hooks._no_run_cached()
    monkeypatch.setenv("SITE_CACHE", "on")
    assert mkdocs_hooks._no_run_cached()  # an empty cache
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "docs-index-md.0123.json").write_text("{}", encoding="utf-8")
    assert not mkdocs_hooks._no_run_cached()  # a run to replay: the plan decides
    monkeypatch.setenv("SITE_CACHE_WITHOUT", "pages")
    assert mkdocs_hooks._no_run_cached()
    monkeypatch.setenv("SITE_CACHE_WITHOUT", "no-such-layer")
    assert not mkdocs_hooks._no_run_cached()  # the build reports the mistake; no workers for it


def test_workers_started_early_for_nothing_are_stopped_at_once():
    class Pool:
        stopped = None

        def shutdown(self, wait, cancel_futures):
            self.stopped = (wait, cancel_futures)

    early = parallel.Workers(Pool(), 2, parallel.STARTED["fork"])
    runner = SimpleNamespace(pool=early.pool)  # as on_pre_build hands it over
    assert parallel.prerun(runner, [], 2, early) == ([], "")
    assert early.pool.stopped == (False, True) and runner.pool is None  # no notebook is handed to it
    assert parallel.start_early(1, cold=True) is None and parallel.start_early(2, cold=False) is None

"""tools/workers.py: pages run on several workers give the one-worker build's site, byte for byte;
a failing page is reported at its file:line, once; a cached page costs no worker; the pool never
waits for a worker without a limit."""

from __future__ import annotations

import os

import pytest

from tests.helpers import mkdocs_build, write_docs
from mkdocs.exceptions import PluginError

from tools import workers
from tools.plugin import LiteratePlugin
from tools.cache import Store
from tools.workspace import differing_files

pytestmark = pytest.mark.site

PAGES = {
    "index.md": '# Home\n\n```python exec="on" result="text"\nimport torch\ntorch.manual_seed(0)\n'
                'print(f"{torch.randn(3, 3).sum():.4f}")\n```\n',
    "a.md": '# A\n\n```python exec="on" result="text"\nx = sum(range(100))\nprint(x)\n```\n\n'
            '```python exec="on" html="1"\nprint(f"<b>{x * 2}</b>")\n```\n',
    "b.md": '# B\n\n```python exec="on" result="text"\nimport torch\n'
            'print(torch.nn.functional.conv2d(torch.ones(1, 1, 4, 4), torch.ones(1, 1, 2, 2)))\n```\n',
}


def build(tmp_path, name, jobs, pages=PAGES, **env):
    docs = tmp_path / name / "docs"
    if not docs.exists():
        (tmp_path / name).mkdir(parents=True)
        docs = write_docs(tmp_path / name, pages)
    return mkdocs_build(tmp_path / name / "site", docs, nav=list(pages), env={"JOBS": str(jobs), **env})


@pytest.mark.heavy
def test_pages_on_two_workers_give_the_one_workers_site(tmp_path):
    one = build(tmp_path, "one", 1)
    assert one.returncode == 0, one.stderr
    assert "Running 3 page(s) in 1 worker process(es)" in one.stderr
    two = build(tmp_path, "two", 2)
    assert two.returncode == 0, two.stderr
    assert "Running 3 page(s) in 2 worker process(es)" in two.stderr
    assert "Code blocks: ran 3 page(s)" in two.stderr and "replayed 0 page(s)" in two.stderr
    assert differing_files(tmp_path / "one" / "site", tmp_path / "two" / "site") == []


def test_a_failing_page_is_reported_at_its_line_once(tmp_path):
    runs, threads = tmp_path / "runs", tmp_path / "threads"
    pages = {**PAGES, "bad.md": f'# Bad\n\nText.\n\n```python exec="on"\nopen({str(runs)!r}, "a").write("ran\\n")\n'
                                'y = 1 / 0\n```\n',
             "threads.md": f'# T\n\n```python exec="on"\nimport os, torch\n'
                           f'open({str(threads)!r}, "w").write(f"{{torch.get_num_threads()}} {{os.environ[\'OMP_NUM_THREADS\']}}")\n```\n'}
    result = build(tmp_path, "run", 2, pages)
    assert result.returncode != 0
    log = result.stdout + result.stderr
    assert "ZeroDivisionError" in log and 'bad.md", line 7' in log  # the traceback in the chapter's lines
    assert "tools/blocks.py" not in log  # from the page's first frame on: the worker's own frames left out
    assert runs.read_text() == "ran\n"  # it ran once, in its worker
    # PyTorch, imported by a page, runs on the worker's share of the cores (one thread per core in all)
    share = max(1, workers.cores() // 2)
    assert threads.read_text() == f"{share} {share}"


def test_a_cached_page_costs_no_worker(tmp_path):
    cache = tmp_path / "cache"
    first = build(tmp_path, "run", 2, SITE_CACHE="on", SITE_CACHE_DIR=str(cache))
    assert first.returncode == 0 and "Running 3 page(s) in 2 worker process(es)" in first.stderr
    docs = tmp_path / "run" / "docs"
    (docs / "a.md").write_text(PAGES["a.md"].replace("range(100)", "range(10)"), encoding="utf-8")
    second = build(tmp_path, "run", 2, SITE_CACHE="on", SITE_CACHE_DIR=str(cache))
    assert second.returncode == 0, second.stderr
    assert "Running 1 page(s) in 1 worker process(es): docs/a.md" in second.stderr
    assert "Code blocks: ran 1 page(s)" in second.stderr and "replayed 2 page(s)" in second.stderr
    third = build(tmp_path, "run", 2, SITE_CACHE="on", SITE_CACHE_DIR=str(cache))
    assert "worker process" not in third.stderr and "replayed 3 page(s)" in third.stderr


@pytest.mark.parametrize("value", [0, -2])
def test_jobs_must_be_a_positive_number(value):
    plugin = LiteratePlugin()
    assert plugin.load_config({"jobs": value}) == ([], [])
    with pytest.raises(PluginError, match=f"plugins.literate.jobs \\(JOBS\\) is {value}: give a positive number"):
        plugin.on_config(None)  # fails before it reads MkDocs' configuration


def test_jobs_must_be_a_number():
    [(name, error)], _ = LiteratePlugin().load_config({"jobs": "many"})
    assert name == "jobs" and "Expected type" in str(error)


def test_cores_are_those_this_process_may_use(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 2, 5}, raising=False)  # 3 cores of a larger machine
    assert workers.cores() == 3


def test_a_task_whose_worker_never_answers_fails_after_its_limit_and_the_pool_goes_on(monkeypatch):
    """A worker stuck where its watchdog cannot act (C code holding the interpreter's lock) is
    killed once its task's limit and GRACE have passed, and a new worker takes the next task."""
    monkeypatch.setattr(workers, "GRACE", 0.5)
    pool = workers.Pool(1)
    try:
        stuck = pool.submit(("x.md", "docs/x.md", [(1, "import time\ntime.sleep(30)", 60.0)]),
                            0.5, "docs/x.md")
        with pytest.raises(workers.WorkerFailed, match="did not answer within its limit"):
            stuck.result(timeout=120)
        done = pool.submit(("y.md", "docs/y.md", [(1, "print(6 * 7)", 60.0)]), 60.0, "docs/y.md")
        assert done.result(timeout=120)["outputs"] == ["42\n"]
    finally:
        pool.close()
    assert all(not worker.process.is_alive() for worker in pool.workers)


def test_a_run_is_stored_only_when_its_worker_ran_the_code_the_build_keys_on(tmp_path):
    from tools.blocks import CODE
    from tools.chapter import ExecRule, read
    from tools.execution import Runner

    source = tmp_path / "p.md"
    source.write_text('# P\n\n```python exec="on"\nprint(1)\n```\n', encoding="utf-8")
    model = read(source, ExecRule(frozenset({"python"})))
    for code, stored in [("another version of tools/blocks.py", False), (CODE, True)]:
        store = Store(tmp_path / code[:7])
        runner = Runner(store, "environment", 300.0, 1)
        plan = runner.plan(model, "docs/p.md")
        plan.result = {"outputs": ["1\n"], "seconds": {3: 0.1}, "error": None, "modules": {}, "code": code}
        assert runner.run("print(1)", id="docs/p.md:3") == "1\n"
        runner.finish("docs/p.md")
        assert (store.load("pages", "docs/p.md", plan.key) is not None) is stored, code

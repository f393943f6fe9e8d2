"""tools/parallel.py: pages run in worker processes give the serial build's site, byte for byte;
a failing page is still reported at its file:line; a cached page costs no worker."""

from __future__ import annotations

import pytest

from tests.helpers import mkdocs_build, write_docs
from tools import parallel
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
def test_pages_run_in_workers_give_the_serial_builds_site(tmp_path):
    (tmp_path / "serial").mkdir()
    (tmp_path / "parallel").mkdir()
    serial = build(tmp_path, "serial", 1)
    assert serial.returncode == 0, serial.stderr
    assert "worker processes" not in serial.stderr
    together = build(tmp_path, "parallel", 2)
    assert together.returncode == 0, together.stderr
    assert "Running 3 page(s) in worker processes" in together.stderr
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

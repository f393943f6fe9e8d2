"""Faults: a build killed at any moment leaves a cache from which the next build is right, and a
`mkdocs serve` and a `mkdocs build` running at once on one cache corrupt nothing (tools/cache.py
writes entries atomically and checks each one's digest when it reads it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.helpers import ROOT, config_for, mkdocs_build, write_docs
from tools.workspace import Workspace, differing_files

pytestmark = pytest.mark.site

# Six pages, each a few tenths of a second of work, so that a kill lands in the middle of things.
PAGES = {f"p{n}.md": f'# Page {n}\n\n```python exec="on" result="text"\nwork = sum(i * i for i in range(2_000_000))\n'
                     f'print({n} ** 3)\n```\n\n```python exec="on" html="1"\nprint("<b>{n}</b>")\n```\n'
         for n in range(6)}


def wait_until(condition, what: str, process: subprocess.Popen | None, seconds: float = 120) -> None:
    """Poll for a condition (a file appearing, a count reached); fail naming it if it never comes."""
    deadline = time.monotonic() + seconds
    while not condition():
        if process is not None and process.poll() is not None:
            return  # the build finished first: killing it now is the "after the end" case
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.02)


def entries(cache: Path, kind: str) -> int:
    folder = cache / kind
    return len(list(folder.glob("*.json"))) if folder.is_dir() else 0


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, Path, Path]:
    """The six pages, their cold build (what every build after a kill must give) and its config file."""
    folder = tmp_path_factory.mktemp("reference")
    docs = write_docs(folder, PAGES)
    built = mkdocs_build(folder / "cold", docs, nav=list(PAGES))
    assert built.returncode == 0, built.stderr
    return docs, folder / "cold", folder / "cold-mkdocs.yml"


@pytest.mark.heavy
@pytest.mark.parametrize("point", ["the first page's run stored", "half the pages stored", "pages being written"])
def test_a_build_killed_at_any_point_leaves_a_cache_the_next_build_trusts(tmp_path, point, reference):
    docs, cold, config = reference
    cache = tmp_path / "cache"
    conditions = {
        "the first page's run stored": lambda: entries(cache, "pages") >= 1,
        "half the pages stored": lambda: entries(cache, "pages") >= 3,
        "pages being written": lambda: (tmp_path / "killed" / "p2").is_dir(),
    }
    env = {**os.environ, "SITE_CACHE": "on", "SITE_CACHE_DIR": str(cache), "JOBS": "1", "NO_MKDOCS_2_WARNING": "1",
           "PYTHONHASHSEED": "0"}
    process = subprocess.Popen([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d",
                                str(tmp_path / "killed")], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until(conditions[point], point, process)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    if point != "pages being written":  # early points: the build was surely still running
        assert process.returncode == -signal.SIGKILL, "the build ended before it could be killed"
    (cache / "pages").mkdir(parents=True, exist_ok=True)
    (cache / "pages" / ".p9.md.0123.json.tmp").write_text('{"half a')  # as a write killed midway leaves
    after = mkdocs_build(tmp_path / "after", docs, nav=list(PAGES), env={"SITE_CACHE": "on", "SITE_CACHE_DIR": str(cache)})
    assert after.returncode == 0, after.stderr
    assert differing_files(cold, tmp_path / "after") == []
    again = mkdocs_build(tmp_path / "again", docs, nav=list(PAGES), env={"SITE_CACHE": "on", "SITE_CACHE_DIR": str(cache)})
    assert "Code blocks: ran 0 page(s)" in again.stderr  # the cache the killed build left is whole now


def test_a_failed_parallel_build_leaves_no_process_behind(tmp_path):
    """A page fails while a worker is still running another: the build fails at the bad page's line,
    and once it has exited, no worker of it is left."""
    if not Path("/proc/self/stat").is_file():
        pytest.skip("reads the process table from /proc")
    go = tmp_path / "go"
    os.mkfifo(go)  # b.md's block reads it: it runs until the test has seen the build fail
    pages = {"a.md": '# A\n\n```python exec="on"\nx = 1 / 0\n```\n',
             "b.md": f'# B\n\n```python exec="on" result="text"\nprint(open({str(go)!r}).read())\n```\n',
             "c.md": '# C\n\n```python exec="on" result="text"\nprint(3)\n```\n'}
    docs = write_docs(tmp_path, pages)
    config = config_for(tmp_path / "site", docs, nav=list(pages))
    env = {**os.environ, "SITE_CACHE": "off", "JOBS": "2", "NO_MKDOCS_2_WARNING": "1"}
    process = subprocess.Popen([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d",
                                str(tmp_path / "site")], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    watchdog = threading.Timer(300, lambda: os.killpg(process.pid, signal.SIGKILL))  # nothing waits for ever
    watchdog.start()
    try:
        log = ""
        for line in process.stdout:
            log += line
            if "ZeroDivisionError" in line:  # the build has failed, and b.md's block still runs
                go.write_text("done", encoding="utf-8")
                break
        log += process.communicate()[0]
    finally:
        watchdog.cancel()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode != 0 and "Running 3 page(s) in 2 worker process(es)" in log
    assert 'a.md", line 4' in log
    wait_until(lambda: not _group_alive(process.pid), "the build's processes all gone", process=None)


def _group_alive(group: int) -> bool:
    """Whether a process of this group still runs (an exited one that nobody reaped does not)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (name)": state, ppid, pgrp
        except (OSError, IndexError):
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            return True
    return False


@pytest.mark.heavy
def test_serve_and_build_at_once_on_one_cache_corrupt_nothing(tmp_path, site):
    workspace = Workspace(tmp_path / "project")
    with ThreadPoolExecutor(1) as pool:  # both start cold, on one empty cache, at the same time
        building = pool.submit(workspace.build, tmp_path / "built", JOBS="1")
        workspace.serve()
        built = building.result()
    try:
        assert built.returncode == 0, built.stderr
        assert "ignored" not in built.stderr and "cannot" not in built.stderr  # no damaged entry met
    finally:
        workspace.stop()
    assert "Traceback" not in workspace.serve_log()
    assert differing_files(site, tmp_path / "built") == []
    replay = workspace.build(tmp_path / "replayed")  # everything the two stored is whole and right
    assert replay.returncode == 0 and "Code blocks: ran 0 page(s)" in replay.stderr
    assert "ignored" not in replay.stderr
    assert differing_files(site, tmp_path / "replayed") == []

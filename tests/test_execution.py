"""tools/execution.py, tools/workers.py and tools/blocks.py: time limits that need no signal, what
a page must print, and tools/report.py's report, on small sites built as `make build` builds
(strictly, in a subprocess).

The limits are tested with SIGALRM hidden, in the build and in its workers (a sitecustomize that
deletes it, as on Windows), for each way a block can hang: a Python loop, a sleep, a read that
never returns. Each fails the build within its limit plus a few seconds, naming the limit and the
line, and leaves no process behind.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time

import pytest

from tests.helpers import config_for, failing_build, mkdocs_build, outputs, write_docs
from mkdocs.exceptions import PluginError

from tools import chapter, report
from tools.execution import block_timeout
from tools.plugin import LiteratePlugin

pytestmark = pytest.mark.site

NO_SIGALRM = "import signal\nfor name in ('SIGALRM', 'setitimer', 'alarm', 'ITIMER_REAL'):\n    vars(signal).pop(name, None)\n"
HANGS = {
    "a Python loop": ("while True:\n    try:\n        sum(range(1000))\n    except Exception:\n        pass\n", 'sum(range(1000))'),
    "a sleep": ("import time\n\ntime.sleep(10 ** 6)\n", "time.sleep(10 ** 6)"),
    "a read that never returns": ("import os\n\nr, w = os.pipe()\nos.read(r, 1)\n", "os.read(r, 1)"),
    # In a library's frames (subprocess, threading): the line named is still the chapter's, and the
    # child process ends with the worker.
    "a child process that never exits": ('import subprocess, sys\n\nsubprocess.run([sys.executable, "-c", '
                                         '"import time; time.sleep(10 ** 6)"])\n', "subprocess.run("),
    "a wait in a library": ("import threading\n\nthreading.Event().wait()\n", "threading.Event().wait()"),
}


def without_sigalrm(tmp_path) -> dict:
    """An environment whose Pythons (the build and its workers) have no SIGALRM."""
    folder = tmp_path / "no-sigalrm"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(NO_SIGALRM, encoding="utf-8")
    return {"PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}


def marked(tmp_path) -> dict:
    """An environment variable that marks the build's processes, its workers included (they inherit it)."""
    return {"LITERATE_TEST_MARK": str(tmp_path)}


def processes_marked(tmp_path) -> list[int]:
    """This machine's processes whose environment carries `marked(tmp_path)`."""
    mark = f"LITERATE_TEST_MARK={tmp_path}".encode()
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                if mark in handle.read().split(b"\0"):
                    found.append(int(entry))
        except OSError:
            continue
    return found


def wait_until_gone(tmp_path, seconds: float = 30) -> list[int]:
    """Wait, up to seconds, until every marked process has exited (each watched through a pidfd,
    which becomes readable when its process ends); those still there then."""
    deadline = time.monotonic() + seconds
    for pid in processes_marked(tmp_path):
        try:
            handle = os.pidfd_open(pid)
        except ProcessLookupError:
            continue  # ended already
        try:
            select.select([handle], [], [], max(0.0, deadline - time.monotonic()))
        finally:
            os.close(handle)
    return processes_marked(tmp_path)


@pytest.mark.heavy
@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads processes from /proc")
def test_hanging_blocks_fail_within_their_limit_naming_it_and_their_line_without_sigalrm(tmp_path):
    """One page per way to hang, in one build on two workers: each fails at its own block."""
    env = {**without_sigalrm(tmp_path), **marked(tmp_path)}
    check = subprocess.run([sys.executable, "-c", "import signal; print(hasattr(signal, 'SIGALRM'))"],
                           env={**os.environ, **env}, capture_output=True, text=True)
    assert check.stdout.strip() == "False"  # the build's Pythons cannot use it
    # The sleep has the limit of 3 s; the others 1 s, so that the test holds a worker of the suite less long.
    limits = {hang: 3 if hang == "a sleep" else 1 for hang in HANGS}
    pages = {f"hang{n}.md": f'# Hangs\n\nText.\n\n```python exec="on" timeout="{limits[hang]}"\n{code}```\n'
             for n, (hang, (code, _)) in enumerate(HANGS.items())}
    docs = write_docs(tmp_path, pages)
    started = time.monotonic()
    result = mkdocs_build(tmp_path / "site", docs, nav=list(pages), env={**env, "JOBS": "2"}, timeout=120)
    took = time.monotonic() - started
    log = result.stdout + result.stderr
    assert result.returncode != 0 and took < 90, log
    for n, (hang, (code, line)) in enumerate(HANGS.items()):
        number = 6 + next(n for n, text in enumerate(code.split("\n")) if line in text)  # the code starts at line 6
        assert f"hang{n}.md:5: this block ran longer than its limit of {limits[hang]} s (timeout" in log, hang
        assert f"it was on line {number}: {line}" in log, hang
    assert "tools/blocks.py" not in log, "the frames shown start at the page's: the worker's own are left out"
    assert not wait_until_gone(tmp_path, 5), "a worker, or a process a block started, outlived the build"


def test_a_timeout_that_is_not_a_positive_number_is_named_at_its_fence(tmp_path):
    for value in ["soon", "0", "-3", "inf"]:
        source = tmp_path / f"{value}.md"
        source.write_text(f'# T\n\n```python exec="on" timeout="{value}"\nx = 1\n```\n', encoding="utf-8")
        [block] = chapter.read(source, chapter.ExecRule(frozenset({"python"}))).executed
        with pytest.raises(chapter.ChapterError, match=f'{value}.md:3: timeout="{value}" must be a positive number'):
            block_timeout(block, 300.0)
    (tmp_path / "build").mkdir()
    log = failing_build(tmp_path / "build", {"index.md": '# T\n\n```python exec="on" timeout="soon"\nx = 1\n```\n'})
    assert 'index.md:3: timeout="soon" must be a positive number of seconds' in log  # the build says so, and stops


@pytest.mark.parametrize("value", [0, -1, True])
def test_a_block_timeout_that_is_not_a_positive_number_is_named(value):
    plugin = LiteratePlugin()
    plugin.load_config({"block_timeout": value})
    with pytest.raises(PluginError, match=f"plugins.literate.block_timeout is {value!r}: give a positive number of seconds"):
        plugin.on_config(None)  # fails before it reads MkDocs' configuration


def test_the_site_default_limit_is_the_plugins_and_a_fence_may_raise_it(tmp_path):
    """With block_timeout at 1 s, a block of 2 s fails, unless its fence allows it more; it runs once."""
    slow = 'import time\ntime.sleep(2)\nprint("done")\n'
    docs = write_docs(tmp_path, {"index.md": f'# A\n\n```python exec="on" result="text"\n{slow}```\n',
                                 "b.md": f'# B\n\n```python exec="on" timeout="10" result="text"\n{slow}```\n'})
    result = mkdocs_build(tmp_path / "site", docs, nav=["index.md", "b.md"], plugin={"block_timeout": 1})
    log = result.stdout + result.stderr
    assert result.returncode != 0 and log.count("ran longer than its limit of 1 s") == 1, log
    # The default's block failed; the one whose fence raised its limit ran, and shows its output.
    assert "| docs/index.md | 1 | failed |" in log and "| docs/b.md | 1 | ran |" in log, log
    assert outputs(tmp_path / "site" / "b" / "index.html") == ["done\n"]


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads processes from /proc")
def test_a_build_killed_with_sigkill_leaves_no_worker_running(tmp_path):
    docs = write_docs(tmp_path, {"index.md": '# K\n\n```python exec="on"\nopen(__import__("os").environ["STARTED"], "w").write("x")\n'
                                             'import time\ntime.sleep(10 ** 6)\n```\n'})
    started = tmp_path / "started"
    os.mkfifo(started)  # the block writes to it once it runs: the test waits for that, not a time
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config_for(tmp_path / "site", docs, ["index.md"])),
               "-d", str(tmp_path / "site")]
    env = {**os.environ, "SITE_CACHE": "off", "STARTED": str(started), "NO_MKDOCS_2_WARNING": "1", **marked(tmp_path)}
    build = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    reader = os.open(started, os.O_RDONLY | os.O_NONBLOCK)
    try:
        deadline = time.monotonic() + 120
        while not os.read(reader, 1):  # the block is running in a worker once it has written
            assert build.poll() is None and time.monotonic() < deadline, "the block never started"
            select.select([reader], [], [], 1.0)  # wakes as soon as the block writes
        assert len(processes_marked(tmp_path)) >= 2, "no worker process was found beside the build"
    finally:
        os.close(reader)
        build.send_signal(signal.SIGKILL)
        build.wait()
    assert not wait_until_gone(tmp_path), "workers outlived the killed build"


def test_a_shown_output_that_is_empty_and_an_unrounded_float_fail_at_their_lines(tmp_path):
    pages = {"index.md": '# E\n\n```python exec="on" source="above" result="text"\nx = 1\n```\n',
             "b.md": '# F\n\n```python exec="on" result="text"\nprint(1 / 3)\n```\n'}
    log = failing_build(tmp_path, pages)
    assert 'index.md:3: this block shows its output in a box (result="text") but printed nothing' in log
    assert "b.md:3: it printed 0.3333333333333333, a number with 16 decimals: round it for a reader" in log


def test_a_block_that_raises_runs_once_and_is_reported_at_its_line(tmp_path):
    runs = tmp_path / "runs"
    pages = {"index.md": f'# R\n\n```python exec="on"\nopen({str(runs)!r}, "a").write("ran\\n")\nraise ValueError("no")\n```\n'}
    log = failing_build(tmp_path, pages)
    assert "ValueError: no" in log and 'index.md", line 5' in log
    assert runs.read_text() == "ran\n"  # once: the page is not run again to report it


def test_every_build_writes_the_execution_report_and_prints_it(tmp_path):
    pages = {"index.md": '# A\n\n```python exec="on"\nx = sum(range(10))\n```\n\n```python exec="on"\ny = 2\n```\n',
             "b.md": "# B\n\nNo code here.\n"}
    docs = write_docs(tmp_path, pages)
    where = tmp_path / "reports" / "run.json"
    result = mkdocs_build(tmp_path / "site", docs, nav=list(pages), env={"EXECUTION_REPORT": str(where)})
    assert result.returncode == 0, result.stdout + result.stderr
    found = json.loads(where.read_text(encoding="utf-8"))["pages"]
    [row] = found  # the page without code has no row
    assert row["page"].endswith("index.md") and row["blocks"] == 2 and row["ran"] and not row["failed"]
    assert [b["where"].rsplit(":", 1)[1] for b in row["slowest"]] in (["3", "7"], ["7", "3"])
    assert where.with_suffix(".md").read_text(encoding="utf-8") == "# Execution report\n\n" + report.table(found) + "\n"
    assert "Execution report (" in result.stderr and "| ran |" in result.stderr


def test_the_report_says_replayed_and_ran_and_names_the_slowest_blocks():
    class Plan:
        def __init__(self, blocks, replay=None, failed=False, seconds=None):
            self.blocks, self.replay, self.failed, self.skipped = blocks, replay, failed, False
            self.result = None if seconds is None else {"seconds": seconds}

    class Runner:
        pages = {"docs/a.md": Plan([1, 2, 3, 4], seconds={10: 0.5, 20: 2.0, 30: 0.25, 40: 1.0}),
                 "docs/b.md": Plan([1], replay=["x"]), "docs/c.md": Plan([])}

        def ran(self, name):
            return self.pages[name].result is not None

    found = report.rows(Runner())
    assert [row["page"] for row in found] == ["docs/a.md", "docs/b.md"]  # a page without code is no row
    assert [b["where"] for b in found[0]["slowest"]] == ["docs/a.md:20", "docs/a.md:40", "docs/a.md:10"]
    assert found[0]["seconds"] == 3.75 and found[1] == {"page": "docs/b.md", "blocks": 1, "ran": False,
                                                        "failed": False, "skipped": False, "seconds": 0,
                                                        "slowest": []}
    text = report.table(found)
    assert "| docs/b.md | 1 | replayed | 0.00 | — |" in text and "1 of 2 pages ran their blocks, in 3.75 s" in text

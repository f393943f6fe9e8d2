"""tools/execution.py's limits and tools/report.py's report, on small sites built as `make build`
builds (strictly, in a subprocess)."""

from __future__ import annotations

import json

import pytest

from tests.helpers import failing_build, mkdocs_build, write_docs
from tools import report

pytestmark = pytest.mark.site


def test_a_block_past_its_timeout_fails_the_build_naming_its_line_the_limit_and_what_it_was_doing(tmp_path):
    page = ('# Slow\n\nText.\n\n```python exec="on" timeout="1"\nimport time\n\n'
            'for step in range(600):\n    time.sleep(0.1)\n```\n')
    log = failing_build(tmp_path, {"index.md": page})
    assert "index.md:5: this block ran longer than its limit of 1 s" in log
    assert "it was on line 9: time.sleep(0.1)" in log


def test_the_block_cannot_swallow_its_timeout(tmp_path):
    page = ('# Stubborn\n\n```python exec="on" timeout="0.5"\nwhile True:\n    try:\n        sum(range(1000))\n'
            '    except Exception:\n        pass\n```\n')
    log = failing_build(tmp_path, {"index.md": page})
    assert "ran longer than its limit of 0.5 s" in log and "it was on line" in log


@pytest.mark.parametrize("value", ["soon", "0", "-3", "inf"])
def test_a_timeout_that_is_not_a_positive_number_is_named_at_its_fence(tmp_path, value):
    log = failing_build(tmp_path, {"index.md": f'# T\n\n```python exec="on" timeout="{value}"\nx = 1\n```\n'})
    assert f'index.md:3: timeout="{value}" must be a positive number of seconds' in log


def test_the_site_default_limit_is_mkdocs_ymls_and_a_fence_may_raise_it(tmp_path):
    """With extra.block_timeout at 1 s, a block of 2 s fails, unless its fence allows it more."""
    slow = 'import time\ntime.sleep(2)\nprint("done")\n'
    (tmp_path / "default").mkdir()
    (tmp_path / "fence").mkdir()
    strict = write_docs(tmp_path / "default", {"index.md": f'# A\n\n```python exec="on" result="text"\n{slow}```\n'})
    failed = mkdocs_build(tmp_path / "default" / "site", strict, nav=["index.md"], extra={"block_timeout": 1})
    assert failed.returncode != 0 and "ran longer than its limit of 1 s" in failed.stdout + failed.stderr
    allowed = write_docs(tmp_path / "fence", {"index.md": f'# B\n\n```python exec="on" timeout="10" result="text"\n{slow}```\n'})
    passed = mkdocs_build(tmp_path / "fence" / "site", allowed, nav=["index.md"], extra={"block_timeout": 1})
    assert passed.returncode == 0, passed.stdout + passed.stderr


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
        def __init__(self, blocks, replay=None, failed=False):
            self.blocks, self.replay, self.failed, self.skipped = blocks, replay, failed, False

    class Runner:
        pages = {"docs/a.md": Plan([1, 2, 3, 4]), "docs/b.md": Plan([1], replay=["x"]), "docs/c.md": Plan([])}
        seconds = {"docs/a.md": {10: 0.5, 20: 2.0, 30: 0.25, 40: 1.0}}

        def ran(self, name):
            return self.pages[name].replay is None

    found = report.rows(Runner())
    assert [row["page"] for row in found] == ["docs/a.md", "docs/b.md"]  # a page without code is no row
    assert [b["where"] for b in found[0]["slowest"]] == ["docs/a.md:20", "docs/a.md:40", "docs/a.md:10"]
    assert found[0]["seconds"] == 3.75 and found[1] == {"page": "docs/b.md", "blocks": 1, "ran": False,
                                                        "failed": False, "skipped": False, "seconds": 0,
                                                        "slowest": []}
    text = report.table(found)
    assert "| docs/b.md | 1 | replayed | 0.00 | — |" in text and "1 of 2 pages ran their blocks, in 3.75 s" in text
    assert report.one_line(found) == "Blocks ran on 1 page(s) (docs/a.md 3.75 s); 1 replayed"

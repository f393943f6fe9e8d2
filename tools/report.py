"""The execution report: which pages ran their blocks and which were replayed from the cache, how
long each took, and its slowest blocks, as `file:line`.

Every build writes it as JSON and as a Markdown table to ``build/execution-report.json`` and
``build/execution-report.md`` beside the site folder (the plugin's ``report`` option, or
EXECUTION_REPORT=path.json, puts both elsewhere; the Pages workflow keeps them as an artifact);
`mkdocs build` prints the table, and `mkdocs serve` prints one line per rebuild.
"""

from __future__ import annotations

import json
from pathlib import Path

from tools.atomic import write_atomic

SLOWEST = 3  # blocks named per page


def rows(runner) -> list[dict]:
    """One row per page with executed blocks, in the order the build met them."""
    found = []
    for name, plan in runner.pages.items():
        if not plan.blocks:
            continue
        seconds = (plan.result or {}).get("seconds", {})
        slowest = sorted(seconds.items(), key=lambda item: -item[1])[:SLOWEST]
        found.append({
            "page": name,
            "blocks": len(plan.blocks),
            "ran": plan.result is not None,
            "failed": plan.failed,
            "skipped": plan.skipped,
            "seconds": round(sum(seconds.values()), 3),
            "slowest": [{"where": f"{name}:{line}", "seconds": round(s, 3)} for line, s in slowest],
        })
    return found


def table(found: list[dict]) -> str:
    lines = ["| page | blocks | ran or replayed | seconds | slowest blocks |", "| --- | ---: | --- | ---: | --- |"]
    for row in found:
        state = ("failed" if row["failed"] else "ran" if row["ran"] else
                 "another shard's" if row.get("skipped") else "replayed")
        slowest = ", ".join(f"{b['where']} {b['seconds']:.2f} s" for b in row["slowest"]) or "—"
        lines.append(f"| {row['page']} | {row['blocks']} | {state} | {row['seconds']:.2f} | {slowest} |")
    ran = [row for row in found if row["ran"]]
    others = [row for row in found if row.get("skipped")]
    lines.append(f"\n{len(ran)} of {len(found)} pages ran their blocks, in {sum(r['seconds'] for r in ran):.2f} s; "
                 f"{len(found) - len(ran) - len(others)} replayed from the cache"
                 + (f"; {len(others)} left to other shards." if others else "."))
    return "\n".join(lines)


def write(found: list[dict], where: Path) -> None:
    """The report as JSON and as Markdown beside it, each written atomically."""
    write_atomic(where, json.dumps({"pages": found}, indent=1) + "\n")
    write_atomic(where.with_suffix(".md"), "# Execution report\n\n" + table(found) + "\n")

"""Builds shared across machines: `SHARD=i/n make build` runs only its share of the pages.

The split is stable, the same on every machine: a page belongs to shard
``sha256(its name) mod n + 1``. A shard build runs its own pages (in parallel, as any build) and
stores their runs in its execution cache; the other pages' blocks are not run, unless the cache
already holds their runs, so that shard's site is not one to publish (the log says so). The caches
of all n shards, copied into one folder (their entries are files named by their keys, so they
merge by copying), let a final `make build` replay every page without running any, and its site
equals a cold build's.
"""

from __future__ import annotations

import hashlib
import os
import re

from mkdocs.exceptions import PluginError

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def from_environment() -> tuple[int, int] | None:
    """SHARD=i/n as (i, n), 1 <= i <= n; None when SHARD is unset or empty."""
    value = os.environ.get("SHARD", "")
    if not value.strip():
        return None
    match = _SHARD.match(value)
    if match is None or not 1 <= int(match[1]) <= int(match[2]):
        raise PluginError(f"SHARD={value!r}: give i/n, this build's share of n, with 1 <= i <= n (e.g. SHARD=1/4)")
    return int(match[1]), int(match[2])


def owner(name: str, count: int) -> int:
    """The shard (1 to count) that runs the page `name` ("docs/chapters/x.md")."""
    return int(hashlib.sha256(name.encode("utf-8")).hexdigest(), 16) % count + 1

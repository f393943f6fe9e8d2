"""The plugin's shard option (SHARD=i/n): builds shared across machines. Two shards on one machine fill two caches; merged,
they let a final build replay every page, and its site equals a cold build's."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.helpers import mkdocs_build, write_docs
from tools.execution import owner
from tools.plugin import parse_shard
from tools.workspace import differing_files

pytestmark = pytest.mark.site

PAGES = {f"p{n}.md": f'# Page {n}\n\n```python exec="on" result="text"\nprint({n} * 7)\n```\n' for n in range(6)}
RAN = re.compile(r"Code blocks: ran (\d+) page\(s\) \(([^)]*)\); replayed (\d+) page\(s\)")


def ran(result) -> tuple[set[str], int]:
    match = RAN.search(result.stderr)
    assert match, result.stderr
    return {p.rsplit("/", 1)[1] for p in match[2].split(", ") if p and p != "none"}, int(match[3])


@pytest.mark.heavy
def test_two_shards_fill_caches_that_merged_replay_every_page_of_a_cold_build(tmp_path):
    docs = write_docs(tmp_path, PAGES)
    shares = []
    for i in (1, 2):
        result = mkdocs_build(tmp_path / f"shard{i}", docs, nav=list(PAGES),
                              env={"SHARD": f"{i}/2", "SITE_CACHE": "on", "SITE_CACHE_DIR": str(tmp_path / f"cache{i}")})
        assert result.returncode == 0, result.stderr
        assert f"shard {i}/2: left" in result.stderr and "not for publishing" in result.stderr
        pages, _ = ran(result)
        assert pages == {name for name in PAGES if owner(f"docs/{name}", 2) == i}  # its share, only
        shares.append(pages)
    assert shares[0] and shares[1] and not shares[0] & shares[1] and shares[0] | shares[1] == set(PAGES)
    merged = tmp_path / "merged"
    for i in (1, 2):  # as a workflow's final job would, from the shards' artifacts
        shutil.copytree(tmp_path / f"cache{i}", merged, dirs_exist_ok=True)
    final = mkdocs_build(tmp_path / "final", docs, nav=list(PAGES), env={"SITE_CACHE": "on", "SITE_CACHE_DIR": str(merged)})
    assert final.returncode == 0, final.stderr
    assert ran(final) == (set(), len(PAGES))  # every page replayed, none ran
    cold = mkdocs_build(tmp_path / "cold", docs, nav=list(PAGES))
    assert cold.returncode == 0 and differing_files(tmp_path / "cold", tmp_path / "final") == []


def test_the_split_is_stable_and_covers_every_page():
    names = [f"docs/chapters/c{n}.md" for n in range(40)]
    owners = [owner(name, 3) for name in names]
    assert owners == [owner(name, 3) for name in names] and set(owners) == {1, 2, 3}
    assert owner("docs/chapters/convolutions.md", 4) == int(
        __import__("hashlib").sha256(b"docs/chapters/convolutions.md").hexdigest(), 16) % 4 + 1


@pytest.mark.parametrize("value", ["3/2", "0/2", "1", "a/b", "1/0"])
def test_a_bad_shard_is_named(value):
    with pytest.raises(Exception, match=re.escape(f"plugins.literate.shard (SHARD) is {value!r}: give i/n")):
        parse_shard(value)

"""Adding a chapter is one file (README, "Adding a chapter"): a chapter added to a copy of the
project by the README's path builds with its page and notebook and passes the site's checks with no
other edit; one that saves a public function without an argument test fails, saying what to add."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.helpers import ROOT
from tools.workspace import Workspace

pytestmark = pytest.mark.site

CHAPTER = '''# An Added Chapter

It reuses the package's cross-correlation:

```python exec="on" source="above" result="text"
import torch

from literate import corr2d

print(corr2d(torch.ones(3, 3), torch.ones(2, 2)))
```
'''
SAVED = '''
```python exec="on" source="above"
import torch  #@save


def doubled(X: torch.Tensor) -> torch.Tensor:
    """Twice X."""
    return 2 * X
```
'''
# The checks that cover every chapter, run on the copy (its own site build included).
CHECKS = ["tests/test_site.py::test_every_chapter_has_its_nav_line",
          "tests/test_site.py::test_no_page_shows_an_empty_output_box_or_a_raw_float",
          "tests/test_notebook.py::test_notebook_page_and_download",
          "tests/test_notebook.py::test_notebook_outputs_are_the_pages_outputs",
          "tests/test_arguments.py::test_every_public_callable_is_tested_here"]


def pytest_in(workspace: Workspace, *tests: str) -> subprocess.CompletedProcess:
    """The copy's own tests, in a run of their own: its site built from the copy, not shared with this run."""
    env = {k: v for k, v in workspace.env().items() if not k.startswith(("LITERATE_TESTS_", "PYTEST_XDIST"))}
    env["LITERATE_TESTS_SEED_CACHE"] = str(workspace.cache)  # its site replays what the copy's build ran
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *tests],
                          cwd=workspace.root, env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.heavy
def test_a_chapter_added_by_the_readmes_path_builds_and_passes_the_sites_checks(tmp_path, site_cache):
    workspace = Workspace(tmp_path / "project")
    workspace.seed_cache(site_cache)  # the other pages replay
    shutil.copytree(ROOT / "tests", workspace.root / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    # The README's path: the file and its nav line; its notebook page follows.
    workspace.path("docs/chapters/an-added-chapter.md").write_text(CHAPTER, encoding="utf-8")
    workspace.edit("mkdocs.yml", "  - Convolutions for Images: chapters/convolutions.md\n",
                   "  - Convolutions for Images: chapters/convolutions.md\n"
                   "  - An Added Chapter: chapters/an-added-chapter.md\n")
    built = workspace.build(tmp_path / "site")
    assert built.returncode == 0, built.stdout + built.stderr
    assert "tensor([[4., 4.]," in (tmp_path / "site" / "chapters" / "an-added-chapter" / "index.html").read_text("utf-8")
    assert (tmp_path / "site" / "notebooks" / "an-added-chapter" / "an-added-chapter.ipynb").is_file()
    checked = pytest_in(workspace, "-v", "-v", *CHECKS)  # -q, then -v twice: a line per test
    assert checked.returncode == 0, checked.stdout[-4000:]
    assert "test_notebook_page_and_download[an-added-chapter] PASSED" in checked.stdout  # the new chapter is checked

    # A saved public function with no argument test: the rule fails, naming it, where it is saved,
    # and what to add where.
    chapter = workspace.path("docs/chapters/an-added-chapter.md")
    chapter.write_text(CHAPTER + SAVED, encoding="utf-8")
    subprocess.run([sys.executable, "-m", "tools.tangle"], cwd=workspace.root, env=workspace.env(), check=True,
                   capture_output=True)
    failed = pytest_in(workspace, CHECKS[-1])
    assert failed.returncode != 0
    fence = (CHAPTER + SAVED).split("\n").index(SAVED.split("\n")[1]) + 1  # the saved block's first line
    assert (f"literate.an_added_chapter.doubled, saved at docs/chapters/an-added-chapter.md:{fence}, is public but "
            "no test feeds it malformed arguments. Add to tests/test_arguments.py") in failed.stdout
    assert '@feeds("doubled")' in failed.stdout

"""`mkdocs serve` is coherent: after any sequence of saves it shows what a cold `make build` shows.

The case that used to go stale: a saved function (check_corr2d_args's message, in the appendix on
checking arguments) changes, and the pages whose code reaches it through `literate` (the
appendix's own demonstrations call `literate.corr2d`, which calls the package's check) must show
the new behaviour within one rebuild, without a manual `make tangle`; the reverse edit restores
the old output. Runs on a private copy of the project (tools/workspace.py).
"""

from __future__ import annotations

import html
import re

import pytest

from tests.helpers import outputs
from tools.workspace import Workspace, comparable

pytestmark = pytest.mark.site

CHAPTER = "docs/chapters/arguments.md"
LESSON = "docs/chapters/convolutions.md"
OLD = "does not fit in "  # corr2d's message when a kernel is too large, printed through literate.corr2d
NEW = "is too large for "
PAGE = "chapters/arguments/"
PAGES = ["", "chapters/convolutions/", "chapters/arguments/", "notebooks/arguments/"]


@pytest.mark.heavy
def test_serve_retangles_reimports_and_matches_a_cold_build(tmp_path, site, site_cache):
    workspace = Workspace(tmp_path / "project")
    workspace.seed_cache(site_cache)  # serve starts warm, as it does after any earlier build
    original = workspace.path("literate/arguments.py").read_bytes()
    workspace.serve()
    try:
        assert OLD.encode() in workspace.get(PAGE)

        workspace.edit(CHAPTER, OLD, NEW)  # a #@save block...
        shown = workspace.wait_for(PAGE, lambda page: NEW.encode() in page)
        assert OLD.encode() not in shown  # ...shows through literate.corr2d, which imports it
        assert NEW in workspace.path("literate/arguments.py").read_text(encoding="utf-8"), "serve re-tangled"
        assert NEW.encode() in workspace.wait_for("notebooks/arguments/arguments.ipynb", lambda nb: NEW.encode() in nb)

        workspace.edit(CHAPTER, NEW, OLD)  # the reverse edit restores the old output
        workspace.wait_for(PAGE, lambda page: OLD.encode() in page and NEW.encode() not in page)
        assert workspace.path("literate/arguments.py").read_bytes() == original

        # Same tree as the suite's cold build: every page served equals the cold build's page.
        local = b"http://127.0.0.1:8000/"
        for page in PAGES:
            served = comparable(workspace.get(page).replace(workspace.url.encode(), local))
            assert served == comparable((site / page / "index.html").read_bytes()), f"/{page} differs"
        # ...and so is its search index, made of the entries serve remembered for unchanged pages
        index = workspace.get("search/search_index.json").replace(workspace.url.encode(), local)
        assert index == (site / "search" / "search_index.json").read_bytes()

        # A prose save is one rebuild: a build reading the chapters wakes no watcher (native file
        # watchers also report reads), and nothing is tangled. Counted in serve's log, by waiting
        # for conditions (Workspace.wait_until_idle: every rebuild a file event started has ended).
        # A rebuild that a save's build would cause comes from file events the build itself makes
        # (reading the chapters, tangling literate/); they reach the watcher while it runs, which
        # takes far longer, so the loop wakes again as soon as it ends, and wait_until_idle waits
        # for that rebuild too and counts it. A second save is the barrier for any event delivered
        # later: the watcher delivers events in order, so such an event wakes the loop before the
        # second save's rebuild, or else with it, and then that build, which does just what the
        # first did, wakes it once more after. If every build woke the watcher, serve would never
        # be idle, and wait_until_idle fails after its timeout.
        before = workspace.wait_until_idle()  # the edits above, and what their builds started
        workspace.edit(LESSON, "Despite their name,", "Whatever their name,")
        edited = workspace.wait_for("chapters/convolutions/", lambda page: b"Whatever their name," in page)
        assert b"Whatever their name," in workspace.get("search/search_index.json")  # the edited page's entries anew
        assert workspace.wait_until_idle() == before + 1, "the first prose save: one rebuild"
        workspace.edit(LESSON, "The checks are defined in the", "The checks are written in the")
        workspace.wait_for("chapters/convolutions/", lambda page: b"The checks are written in the" in page)
        assert workspace.wait_until_idle() == before + 2, "two prose saves: two rebuilds"
        # ...and the page re-rendered from remembered blocks is the cold build's, but for the edit.
        served = comparable(edited.replace(workspace.url.encode(), local)).replace(b"Whatever their name,", b"Despite their name,")
        assert served == comparable((site / "chapters/convolutions/index.html").read_bytes())

        # The build's own code changes under serve, which goes on running the code it loaded. First a
        # block that prints 42 is appended, and serve runs and stores it; then the runner is edited
        # to show outputs differently, and a prose edit makes serve render the page again with its
        # old code, and store that. It is keyed on the code serve runs, so the next `make build`
        # (the new code, a new key) renders the page afresh, as a cold build would.
        code = workspace.path(LESSON)
        code.write_text(code.read_text(encoding="utf-8") + '\n```python exec="on" result="text"\nprint(6 * 7)\n```\n', encoding="utf-8")
        workspace.wait_for("chapters/convolutions/", lambda page: last_output(page) == "42")
        workspace.edit("tools/execution.py", "        return printed\n", "        return printed.replace('42', '4 2')\n")
        workspace.edit(LESSON, "Whatever their name,", "Despite their name,")
        workspace.wait_for("chapters/convolutions/", lambda page: b"Despite their name," in page)
    finally:
        workspace.stop()
    log = workspace.serve_log()
    assert "Tangled literate/arguments.py from the chapters" in log
    assert "Traceback" not in log
    # A build keyed on files on disk would take what serve stored (the old runner's outputs, under
    # the new runner's key) and show 42 where the new runner shows "4 2", as a cold build does.
    warm = workspace.build(tmp_path / "warm")
    assert warm.returncode == 0, warm.stderr
    shown = outputs(tmp_path / "warm" / "chapters" / "convolutions" / "index.html")
    assert shown[-1].strip() == "4 2" and not [box for box in shown if "42" in box]


def last_output(page: bytes) -> str:
    """The last output box of a served page, as text."""
    boxes = re.findall(r'<div class="language-text highlight"><pre>(.*?)</pre></div>', page.decode("utf-8"), re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", boxes[-1])).strip() if boxes else ""


def test_a_build_never_writes_the_package_and_fails_when_it_is_stale(tmp_path):
    workspace = Workspace(tmp_path / "project")
    workspace.edit(CHAPTER, OLD, NEW)
    result = workspace.build(tmp_path / "site", tangle=False)  # `mkdocs build` alone, without `make build`'s tangle
    assert result.returncode != 0
    log = result.stdout + result.stderr
    assert "literate/ does not match the chapters' #@save blocks" in log
    assert "literate/arguments.py: differs from the chapters" in log
    # The diff shows the package's line and the chapter's, as a removed and an added line.
    assert any(line.lstrip().startswith("-") and OLD in line for line in log.splitlines())
    assert any(line.lstrip().startswith("+") and NEW in line for line in log.splitlines())
    assert NEW not in workspace.path("literate/arguments.py").read_text(encoding="utf-8")


@pytest.mark.heavy
def test_watch_theme_still_sees_the_themes_files(tmp_path, site_cache):
    """`mkdocs serve --watch-theme`: an edit to the theme's overrides rebuilds the site, after the
    build moved every watched folder to its own file watcher (tools/package_sync.py)."""
    workspace = Workspace(tmp_path / "project")
    workspace.seed_cache(site_cache)  # no page runs: what is tested is the watcher
    workspace.serve(options=("--watch-theme",))
    try:
        assert b"Page not found" in workspace.get("404.html")
        workspace.edit("overrides/404.html", "Page not found", "Nothing lives here")
        workspace.wait_for("404.html", lambda page: b"Nothing lives here" in page)
    finally:
        workspace.stop()
    assert "Traceback" not in workspace.serve_log()

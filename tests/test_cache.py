"""The build's cache (tools/cache.py), its keys (tools/keys.py) and its use (tools/execution.py,
tools/page_cache.py).

Unit tests of the store, then builds of a private copy of the project (tools/workspace.py): a warm
build equals a cold build byte for byte after a prose edit and after a code edit, and corrupt
entries or an unwritable cache cost a re-execution, never a wrong page or a failed build.
"""

from __future__ import annotations

import contextlib
import json
import platform
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tools import cache, keys
from tools.cache import Store
from tests.helpers import ROOT, figures, nav_pages, outputs
from tools import chapter
from tools.workspace import VOLATILE, Workspace, differing_files

# The store ------------------------------------------------------------------------------------


def test_an_entry_round_trips_and_is_named_for_its_page(tmp_path):
    store = Store(tmp_path)
    store.save("pages", "docs/chapters/x.md", "k" * 64, {"outputs": ["1\n"]})
    assert Store(tmp_path).load("pages", "docs/chapters/x.md", "k" * 64) == {"outputs": ["1\n"]}
    assert Store(tmp_path).load("pages", "docs/chapters/x.md", "j" * 64) is None
    [entry] = (tmp_path / "pages").iterdir()
    assert entry.name.startswith("docs_chapters_x.md.") and not list(tmp_path.rglob("*.tmp"))


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda text: text[: len(text) // 2], "not valid JSON"),  # truncated
        (lambda text: "\x00\xff garbage", "not valid JSON"),
        (lambda text: text.replace('"1\\n"', '"2\\n"'), "does not match its digest"),  # a wrong value
        (lambda text: text.replace('"key": "kkk', '"key": "jjj'), "another key"),
        (lambda text: json.dumps([0]), "not a cache entry"),
    ],
)
def test_a_damaged_entry_is_ignored_with_a_warning_and_removed(tmp_path, caplog, damage, why):
    Store(tmp_path).save("pages", "p.md", "k" * 64, {"outputs": ["1\n"]})
    [entry] = (tmp_path / "pages").iterdir()
    entry.write_text(damage(entry.read_text(encoding="utf-8")), encoding="utf-8")
    with caplog.at_level("WARNING", logger="site.cache"):
        assert Store(tmp_path).load("pages", "p.md", "k" * 64) is None
    assert why in caplog.text and "p.md is built afresh" in caplog.text
    assert not entry.exists()


def test_an_unreadable_or_unwritable_cache_warns_once_and_never_raises(tmp_path, caplog):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    store = Store(blocked)
    with caplog.at_level("WARNING", logger="site.cache"):
        store.save("pages", "a.md", "k" * 64, {"x": 1})
        store.save("pages", "b.md", "k" * 64, {"x": 1})
        assert store.load("pages", "a.md", "k" * 64) is None
    assert caplog.text.count("cannot write") == 1
    unreadable = Store(tmp_path / "c")
    (tmp_path / "c" / "pages" / f"p.md.{'k' * 32}.json").mkdir(parents=True)  # a folder where a file should be
    with caplog.at_level("WARNING", logger="site.cache"):
        assert unreadable.load("pages", "p.md", "k" * 64) is None
    assert "cannot read" in caplog.text


def test_no_cache_reads_and_writes_nothing(tmp_path):
    store = Store(None)
    store.save("pages", "p.md", "k" * 64, ["x"])
    assert store.load("pages", "p.md", "k" * 64) is None and not list(tmp_path.iterdir())


def test_the_code_key_is_the_code_this_process_loaded_not_the_files_now(tmp_path, monkeypatch):
    """What `mkdocs serve` stores after an edit of tools/ is keyed on the code it runs, so a fresh
    process, running the edited code, never takes it for its own."""
    module = tmp_path / "tools_demo_module.py"
    module.write_text("X = 1\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    loaded = importlib.import_module("tools_demo_module")
    monkeypatch.setitem(sys.modules, "tools.demo_module", loaded)
    keys.loaded_code.cache_clear()
    before = keys.loaded_code()
    module.write_text("X = 2\n", encoding="utf-8")  # edited on disk, after this process loaded it
    assert keys.loaded_code() == before  # this process keys on what it runs
    keys.loaded_code.cache_clear()  # a new process reads the code it loads
    assert keys.loaded_code() != before
    keys.loaded_code.cache_clear()


@pytest.mark.site
def test_a_warm_build_shows_a_changed_front_matter_title(tmp_path):
    """MkDocs removes the front matter before the page's Markdown reaches the build: the render
    cache must still see a change of its title."""
    from tests.helpers import mkdocs_build, write_docs

    env = {"SITE_CACHE": "on", "SITE_CACHE_DIR": str(tmp_path / "cache")}
    page = '---\ntitle: {}\n---\n\n# Heading\n\n```python exec="on" result="text"\nprint(6 * 7)\n```\n'
    docs = write_docs(tmp_path, {"index.md": "# Home\n", "p.md": page.format("Old title")})
    site = tmp_path / "site"  # one site folder, so one configuration: only the page changes
    for _ in ("runs", "replays"):  # the second build stores the page's render
        assert mkdocs_build(site, docs, nav=["index.md", "p.md"], env=env).returncode == 0
    (docs / "p.md").write_text(page.format("New title"), encoding="utf-8")
    edited = mkdocs_build(site, docs, nav=["index.md", "p.md"], env=env)
    assert edited.returncode == 0, edited.stderr
    assert "replayed 1 page(s)" in edited.stderr  # the run was replayed; the title is the new one
    for built_page in (site / "index.html", site / "p" / "index.html"):  # the navigation names it by its title
        text = built_page.read_text(encoding="utf-8")
        assert "New title" in text and "Old title" not in text, built_page


def test_prune_keeps_the_used_entry_and_the_most_recent_others(tmp_path):
    store = Store(tmp_path)
    for n in range(7):
        store.save("pages", "p.md", str(n) * 64, {"n": n})
    fresh = Store(tmp_path)
    assert fresh.load("pages", "p.md", "0" * 64) == {"n": 0}
    fresh.prune()
    kept = sorted(int(p.name.split(".")[-2][0]) for p in (tmp_path / "pages").iterdir())
    assert len(kept) == cache.KEEP and 0 in kept and 6 in kept


def test_prune_removes_the_temporary_files_of_killed_writes_but_not_of_running_ones(tmp_path):
    import os

    store = Store(tmp_path)
    store.save("pages", "p.md", "k" * 64, {"n": 1})
    killed, running = tmp_path / "pages" / ".p.md.kkkk.json.abc.tmp", tmp_path / "pages" / ".p.md.jjjj.json.def.tmp"
    for path in (killed, running):
        path.write_text('{"half a', encoding="utf-8")
    old = killed.stat().st_mtime - cache.STALE_WRITE - 1
    os.utime(killed, (old, old))
    store.prune()
    assert not killed.exists() and running.exists()
    assert Store(tmp_path).load("pages", "p.md", "k" * 64) == {"n": 1}


@pytest.mark.parametrize("module", ["pkg_digest_demo", "pkg_digest_demo.part"])
def test_a_modules_digest_ignores_comments_but_not_code_nor_other_modules(tmp_path, monkeypatch, module):
    package = tmp_path / "pkg_digest_demo"
    package.mkdir()
    files = {"pkg_digest_demo": package / "__init__.py", "pkg_digest_demo.part": package / "part.py"}
    for path in files.values():
        path.write_text("# docs/chapters/a.md:10\ndef f():\n    return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    before = keys.module(module, "pkg_digest_demo")
    files[module].write_text("# docs/chapters/a.md:14\n\ndef f():\n    return 1\n")
    assert keys.module(module, "pkg_digest_demo") == before
    other = next(path for name, path in files.items() if name != module)
    other.write_text("def g():\n    return 3\n")
    assert keys.module(module, "pkg_digest_demo") == before  # another module's code is not its own
    files[module].write_text("# docs/chapters/a.md:14\n\ndef f():\n    return 2\n")
    assert keys.module(module, "pkg_digest_demo") != before
    assert keys.module("pkg_digest_demo.absent", "pkg_digest_demo") == "missing"


# Each thing the environment key covers, as a change to what keys.environment() reads.


def _constraints(monkeypatch, tmp_path):
    pins = tmp_path / "constraints.txt"
    pins.write_text("torch==2.5.1\n")
    monkeypatch.setattr(keys, "ROOT", tmp_path)
    return lambda: pins.write_text("torch==2.6.0\n")


def _installed(monkeypatch, tmp_path):
    """A distribution installed into a new site-packages folder."""
    def install():
        info = tmp_path / "site-packages" / "demo_dist-1.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: demo-dist\nVersion: 1.0\n")
        monkeypatch.syspath_prepend(str(tmp_path / "site-packages"))
    return install


COVERED = {
    "python": lambda mp, tmp: lambda: mp.setattr(sys, "version", sys.version + " [another build]"),
    "platform": lambda mp, tmp: lambda: mp.setattr(platform, "platform", lambda *args, **kwargs: "Another-OS-1.0"),
    "constraints": _constraints,
    "installed": _installed,
}


@pytest.mark.parametrize("covered", COVERED.values(), ids=COVERED.keys())
def test_the_environment_key_changes_with_what_it_covers_and_stays_otherwise(covered, monkeypatch, tmp_path):
    change = covered(monkeypatch, tmp_path)
    before = keys.environment()
    assert keys.environment() == before, "nothing changed, read twice: the same key"
    change()
    assert keys.environment() != before


def test_the_site_key_covers_every_override_nested_or_not_and_skips_what_is_no_file(tmp_path, monkeypatch):
    """Material's overrides hold partials/ too; an editor's lock file there is a dangling link."""
    (tmp_path / "overrides" / "partials").mkdir(parents=True)
    (tmp_path / "mkdocs.yml").write_text("site_name: x\n")
    (tmp_path / "overrides" / "main.html").write_text("main")
    partial = tmp_path / "overrides" / "partials" / "footer.html"
    partial.write_text("footer")
    (tmp_path / "overrides" / ".#main.html").symlink_to(tmp_path / "gone")
    monkeypatch.setattr(keys, "ROOT", tmp_path)
    monkeypatch.setattr(keys, "loaded_code", lambda: "the build's code")
    config = SimpleNamespace(config_file_path=str(tmp_path / "mkdocs.yml"), docs_dir="docs", site_url=None,
                             use_directory_urls=True, edit_uri=None)
    before = keys.site(config, "env")
    assert keys.site(config, "env") == before
    partial.write_text("another footer")
    assert keys.site(config, "env") != before


def test_a_runs_key_covers_the_code_that_runs_blocks_its_blocks_and_its_page():
    blocks = [["python", {"result": "text"}, "print(1)"]]
    base = keys.page_run("docs/a.md", "env", "runner", blocks)
    assert base == keys.page_run("docs/a.md", "env", "runner", [list(b) for b in blocks])
    changed = [keys.page_run("docs/b.md", "env", "runner", blocks), keys.page_run("docs/a.md", "env2", "runner", blocks),
               keys.page_run("docs/a.md", "env", "runner2", blocks),
               keys.page_run("docs/a.md", "env", "runner", [["python", {}, "print(1)"]])]
    assert base not in changed and len(set(changed)) == len(changed)


# Builds of a copy of the project -------------------------------------------------------------------

RAN = re.compile(r"Code blocks: ran (\d+) page\(s\) \(([^)]*)\); replayed (\d+) page\(s\)")
CHAPTER = "docs/chapters/convolutions.md"
DRAWING = "docs/chapters/drawing.md"


def ran(result) -> tuple[list[str], int]:
    """The pages whose blocks ran in a build, and how many were replayed, from its log."""
    match = RAN.search(result.stdout + result.stderr)
    assert match, result.stdout + result.stderr
    return [p for p in match[2].split(", ") if p and p != "none"], int(match[3])


def built(workspace: Workspace, site: Path, **options):
    result = workspace.build(site, **options)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return Workspace(tmp_path_factory.mktemp("cached") / "project")


@contextlib.contextmanager
def step(name: str):
    """One step of a test whose steps build on each other: a failure says which step it was."""
    try:
        yield
    except AssertionError as error:
        raise AssertionError(f"step '{name}' failed: {error}") from error


@pytest.mark.heavy
@pytest.mark.site
def test_warm_builds_equal_cold_builds_after_prose_and_code_edits(workspace, site, site_cache, tmp_path):
    """Steps on one copy of the project, each building on the last (its edits, its cache): one
    test, since xdist may hand separate tests to separate processes; each step names itself when it
    fails."""
    # The pages whose blocks run: every Markdown page of the nav with an executed block.
    pages = sorted(f"docs/{page}" for page in nav_pages()
                   if page.endswith(".md") and chapter.read(ROOT / "docs" / page).executed)
    # The suite's cold build of the tree ran every block and filled site_cache; the copy starts from it.
    # Builds are compared file by file: HTML, SVG figures, notebooks, every file, but for the
    # sitemap's date and the build-time benchmark's timings between volatile markers.
    workspace.seed_cache(site_cache)
    with step("1. the cold build marks only the benchmark's timings as volatile"):
        built_files = [p for p in site.rglob("*") if p.is_file()]
        assert any(p.suffix == ".ipynb" for p in built_files) and any(p.suffix == ".html" for p in built_files)
        marked = [p.relative_to(site) for p in built_files if VOLATILE.search(p.read_bytes())]
        # The benchmark table on its page, in its notebook and in that notebook's page; and the source
        # of literate.drawing.volatile itself, in the drawing notebook (its page shows it escaped).
        assert sorted(p.as_posix() for p in marked) == ["chapters/faster/index.html", "notebooks/drawing/drawing.ipynb",
                                                       "notebooks/faster/faster.ipynb", "notebooks/faster/index.html"]

    with step("2. unchanged: a warm build runs nothing and equals the cold build"):
        unchanged = built(workspace, tmp_path / "unchanged")
        assert ran(unchanged) == ([], len(pages))
        assert differing_files(site, tmp_path / "unchanged") == []

    # A prose edit, in the drawing appendix: no code runs, and the page shows the new words. The
    # cold build after the code edit below checks that page as replayed with its lines moved.
    with step("3. a prose edit runs no code and shows the new words"):
        workspace.edit(DRAWING, "The figures of the chapter are", "Whatever else they are, the figures of the chapter are\n\n"
                       "<!-- a new line -->\n")
        prose = built(workspace, tmp_path / "prose")
        assert ran(prose) == ([], len(pages)), "a prose edit runs no code"
        assert "Whatever else they are" in (tmp_path / "prose" / "chapters" / "drawing" / "index.html").read_text(encoding="utf-8")

    # A code edit: the first kernel changes and a block is appended; the page shows the new numbers.
    with step("4. a code edit runs only its page, which shows the new numbers"):
        workspace.edit(CHAPTER, "K = torch.tensor([[0.0, 1.0], [2.0, 3.0]])  # (2, 2)", "K = torch.tensor([[1.0, 1.0], [1.0, -2.0]])  # (2, 2)")
        chapter_file = workspace.path(CHAPTER)
        chapter_file.write_text(chapter_file.read_text(encoding="utf-8") + '\n```python exec="on" source="above" result="text"\n'
                                'print("appended:", corr2d(torch.ones(4, 4), torch.ones(3, 3)).sum().item() * 7)\n```\n', encoding="utf-8")
        code = built(workspace, tmp_path / "code")
        assert ran(code) == ([CHAPTER], len(pages) - 1), "only the edited page runs"
        page = tmp_path / "code" / "chapters" / "convolutions" / "index.html"
        assert outputs(page)[-1].strip() == "appended: 252.0"
        figure = figures(page)["corr2d-figure"]
        assert "0×1 + 1×1 + 3×1 + 4×(-2) = -4" in figure and "0×0 + 1×1" not in figure
    # The cold reference, built with a cache that cannot be written: it runs everything and succeeds,
    # and the warm build equals it. So two runs of the same blocks give the same bytes: the pages
    # this build replays were run by the suite's cold build, the prose-edited page included.
    with step("5. a cold build with an unwritable cache runs everything, warns once and equals the warm build"):
        blocked = workspace.root / "blocked"
        blocked.write_text("a file where the cache folder should be")
        cold = built(workspace, tmp_path / "code-cold", SITE_CACHE_DIR=str(blocked))
        assert sorted(ran(cold)[0]) == pages
        assert "cannot write to" in cold.stderr and cold.stderr.count("cannot write to") == 1
        assert differing_files(tmp_path / "code-cold", tmp_path / "code") == []

    # A damaged entry (a wrong value, which only its digest reveals; the store's tests above cover
    # every kind of damage) is ignored with a warning and its page runs again: the pages are right.
    with step("6. a damaged entry is rebuilt with a warning and the pages are right"):
        [entry] = (workspace.cache / "pages").glob("docs_index.md.*.json")
        text = entry.read_text(encoding="utf-8")
        assert text.count('"outputs": ["') == 1
        entry.write_text(text.replace('"outputs": ["', '"outputs": ["a wrong value ', 1), encoding="utf-8")
        repaired = built(workspace, tmp_path / "repaired")
        assert repaired.stderr.count("is built afresh") == 1
        assert ran(repaired) == (["docs/index.md"], len(pages) - 1)
        assert differing_files(tmp_path / "code-cold", tmp_path / "repaired") == []

    # A failing run is never cached: the build fails, and the page leaves no entry for its code.
    with step("7. a failing run fails the build and stores nothing"):
        workspace.edit("docs/index.md", "layer = Conv2D(kernel_size=(1, 2))", "layer = Conv2D(kernel_size=(1, 2)); 1 / 0")
        before = set((workspace.cache / "pages").glob("docs_index.md.*"))
        failed = workspace.build(tmp_path / "failed")
        assert failed.returncode != 0 and "ZeroDivisionError" in failed.stdout + failed.stderr
        assert set((workspace.cache / "pages").glob("docs_index.md.*")) == before


@pytest.mark.heavy
@pytest.mark.site
def test_a_page_reruns_only_for_the_package_modules_it_imports(site_cache, tmp_path):
    """Each page is keyed on the `literate` modules its run imported (tools/execution.py): an edit
    to a saved function reruns the pages that use its module and no others; a page that starts
    importing a module is keyed on it from then on."""
    project = Workspace(tmp_path / "project")
    project.seed_cache(site_cache)  # every page replays (test_warm_builds_equal_cold_builds_...)
    timing, drawing = "docs/chapters/timing.md", "docs/chapters/drawing.md"
    sentence = "took {span} conv2d's time: {where}."
    project.edit(timing, sentence, "took {span} of conv2d's time: {where}.")  # a saved function of literate.timing
    assert sorted(ran(built(project, tmp_path / "timing-edit"))[0]) == ["docs/chapters/faster.md", timing]
    # The pages show the new outputs, in that build and in the next, which replays them: a page's
    # rendered HTML is keyed on its outputs, not only on its code.
    assert "of conv2d's time:" in (tmp_path / "timing-edit" / "chapters" / "faster" / "index.html").read_text("utf-8")
    assert ran(built(project, tmp_path / "timing-warm"))[0] == []
    assert "of conv2d's time:" in (tmp_path / "timing-warm" / "chapters" / "faster" / "index.html").read_text("utf-8")
    # A block of the drawing appendix (not a saved one) starts to import literate.timing: its
    # own code changed, so it runs...
    project.edit(drawing, "show(log_plot([2.0 ** -k", "import literate.timing\n\nshow(log_plot([2.0 ** -k")
    assert ran(built(project, tmp_path / "drawing-edit"))[0] == [drawing]
    # ...and from then on a change to literate.timing runs it too.
    project.edit(timing, "took {span} of conv2d's time: {where}.", "took {span} the time of conv2d: {where}.")
    assert sorted(ran(built(project, tmp_path / "again"))[0]) == [drawing, "docs/chapters/faster.md", timing]


def test_serve_compiles_a_template_once_and_again_when_it_changes(tmp_path):
    import jinja2

    from tools import page_cache

    (tmp_path / "page.html").write_text("{{ 1 + 1 }}", encoding="utf-8")
    compiled = page_cache.CompiledTemplates()  # what the plugin keeps across serve's rebuilds
    compiles = []

    class Counting(jinja2.Environment):
        def compile(self, source, name=None, filename=None, *args, **kwargs):
            compiles.append(name)
            return super().compile(source, name, filename, *args, **kwargs)

    def render() -> str:  # each rebuild makes a new environment
        return Counting(loader=jinja2.FileSystemLoader(tmp_path), bytecode_cache=compiled).get_template("page.html").render()

    assert render() == "2" and render() == "2" and compiles == ["page.html"]
    (tmp_path / "page.html").write_text("{{ 2 + 2 }}", encoding="utf-8")
    assert render() == "4" and compiles == ["page.html", "page.html"]

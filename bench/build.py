"""Benchmark the site build and the serve loop against a cold build measured in the same run.

    make bench-build                      # 3 runs of each, the site's chapters and 12
    python -m bench.build --repeats 7

On a private copy of the project (tools/workspace.py), it times:

- a cold build (SITE_CACHE=off: every block runs, every notebook and formula is rendered);
- a warm build with nothing changed;
- a rebuild after a prose-only edit of a chapter, and after a code edit (one page runs again);
- `mkdocs serve`: from saving a prose edit to the served page showing it.

Each figure is the median of the runs and its ratio to the cold build; nothing here asserts a
time. Then, with the chapters copied until there are 12, it times the cold build with a worker
per core (JOBS=cores, tools/workers.py) against one worker (JOBS=1), interleaved, and repeats the
serve measurement, to show how the prose-edit refresh grows with the number of chapters.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from timeit import timeit

from tools import workers
from tools.workspace import Workspace

CHAPTER = "docs/chapters/convolutions.md"
PROSE = "Despite their name,"
CODE = 'print(corr2d(X.t(), K))\n'  # a printing block of the chapter, outside any #@save block
TIMING = "docs/chapters/timing.md"
TIMING_SENTENCE = "took {span} conv2d's time: {where}."  # in bench_summary, saved to literate.timing


def check(result: subprocess.CompletedProcess) -> None:
    if result.returncode != 0:
        raise SystemExit(f"build failed:\n{result.stdout}\n{result.stderr}")


class Edits:
    """Fresh edits of the chapter, so that no edit is ever one the cache has already seen."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.prose_now = PROSE
        self.code_now = CODE
        self.count = 0

    def prose(self) -> str:
        self.count += 1
        word = f"Despite their name (edit {self.count}),"
        self.workspace.edit(CHAPTER, self.prose_now, word)
        self.prose_now = word
        return word

    def code(self) -> None:
        self.count += 1
        new = f'print(corr2d(X.t(), K) + {self.count})\n'
        self.workspace.edit(CHAPTER, self.code_now, new)
        self.code_now = new


def builds(workspace: Workspace, edits: Edits, repeats: int, site: Path) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"cold build": [], "warm build, no change": [],
                                     "rebuild after a prose edit": [], "rebuild after a code edit": []}
    for _ in range(repeats):
        times["cold build"].append(timeit(lambda: check(workspace.build(site, cache=False)), number=1))
    check(workspace.build(site))  # fill the cache
    for _ in range(repeats):
        times["warm build, no change"].append(timeit(lambda: check(workspace.build(site)), number=1))
        edits.prose()
        times["rebuild after a prose edit"].append(timeit(lambda: check(workspace.build(site)), number=1))
        edits.code()
        times["rebuild after a code edit"].append(timeit(lambda: check(workspace.build(site)), number=1))
    return times


def serve_refresh(workspace: Workspace, edits: Edits, repeats: int, **env: str) -> list[float]:
    """Seconds from saving a prose edit to the served chapter page showing it."""
    workspace.serve(**env)
    try:
        samples = []
        for _ in range(repeats + 1):
            workspace.wait_until_idle()  # no rebuild in flight when the edit lands
            start = time.perf_counter()
            word = edits.prose().encode()
            workspace.wait_for("chapters/convolutions/", lambda page: word in page)
            samples.append(time.perf_counter() - start)
        return samples[1:]  # the first edit after start-up warms the serve process
    finally:
        workspace.stop()


def add_copies(workspace: Workspace, chapters: int) -> None:
    """Copy the chapters until there are `chapters` of them, each in the navigation."""
    folder = workspace.path("docs/chapters")
    originals = sorted(folder.glob("*.md"))
    for n in range(chapters - len(originals)):
        source = originals[n % len(originals)]
        # A copy saves nothing to the package: every save mark goes (`#@save internal` included).
        text = re.sub(r"[ \t]+#@save(?:[ \t]+\S+)?[ \t]*$", "", source.read_text(encoding="utf-8"), flags=re.M)
        (folder / f"{source.stem}_copy{n // len(originals) + 1}.md").write_text(text, encoding="utf-8")
    copies = "".join(f"      - chapters/{p.name}\n" for p in sorted(folder.glob("*_copy*.md")))
    workspace.edit("mkdocs.yml", "\nnav:\n", f"\nnav:\n  - Copies:\n{copies}")  # their notebooks follow (the plugin)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--copies", type=int, default=12, help="chapters for the growth measurement (0: skip it)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        workspace = Workspace(Path(tmp) / "project")
        edits = Edits(workspace)
        times = builds(workspace, edits, args.repeats, Path(tmp) / "site")
        times["serve: prose edit to refreshed page"] = serve_refresh(workspace, edits, args.repeats)
        cold = statistics.median(times["cold build"])
        chapters = len(list(workspace.path("docs/chapters").glob("*.md")))
        print(f"Site build on a copy of the project ({chapters} chapters); median of {args.repeats} runs, "
              "ratio to the cold build measured in this run.\n")
        print(f"{'':40} {'median':>9} {'ratio':>7}")
        for name, samples in times.items():
            median = statistics.median(samples)
            print(f"{name:40} {median:>8.2f}s {median / cold:>7.2f}")

        if args.copies:
            grown = Workspace(Path(tmp) / "grown")
            add_copies(grown, args.copies)
            cores = workers.cores()  # what the build uses for its default JOBS
            cold = {"JOBS=1 (one worker)": [], f"JOBS={cores} (every core)": []}
            for _ in range(args.repeats):  # interleaved, so that both see the same machine
                for label, jobs in [("JOBS=1 (one worker)", 1), (f"JOBS={cores} (every core)", cores)]:
                    cold[label].append(timeit(lambda: check(grown.build(Path(tmp) / "grown-site", cache=False,
                                                                        JOBS=str(jobs))), number=1))
            serial = statistics.median(cold["JOBS=1 (one worker)"])
            print(f"\nCold build of {args.copies} chapters, median of {args.repeats} runs, ratio to one worker:\n")
            for label, samples in cold.items():
                print(f"{label:40} {statistics.median(samples):>8.2f}s {statistics.median(samples) / serial:>7.2f}")
            check(grown.build(Path(tmp) / "grown-site"))  # fill its cache
            # A saved function used by one chapter's pages (literate.timing: the fast page and its
            # copy) changes: only the pages that import its module run again.
            grown.edit(TIMING, TIMING_SENTENCE, TIMING_SENTENCE.replace("took", "needed"))
            edited = grown.build(Path(tmp) / "grown-site")
            check(edited)
            ran_line = next(line for line in edited.stderr.splitlines() if "Code blocks: ran" in line)
            ran = ran_line.split("Code blocks: ", 1)[1]
            print(f"\nEdit a saved function of literate.timing, {args.copies} chapters: {ran}")
            few = statistics.median(times["serve: prose edit to refreshed page"])
            many = statistics.median(serve_refresh(grown, Edits(grown), args.repeats))
            print(f"\nServe, prose edit to refreshed page: {chapters} chapters {few:.2f}s, "
                  f"{args.copies} chapters {many:.2f}s ({many / few:.2f}x)")


if __name__ == "__main__":
    main()

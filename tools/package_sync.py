"""The `literate` package as the chapters define it, in every build and in the `mkdocs serve` loop.

- `mkdocs serve` re-tangles the package from the chapters before every rebuild, so saving a
  chapter whose ``#@save`` blocks changed updates ``literate/`` without a manual `make tangle`.
- `mkdocs build` writes nothing into the source tree: it fails, naming what differs, when
  ``literate/`` and the chapters disagree (`make build` runs `make tangle` first).
- Pages run in worker processes (`tools.workers`), each importing the package afresh for every
  page (`tools.blocks.forget_package`): no stale module survives in the serve process.
- `mkdocs serve` watches ``literate/`` (``watch:`` in mkdocs.yml) with the platform's native file
  events instead of MkDocs' half-second polling.

Only a build of the project's own ``docs/`` touches the package: a test's copy of the chapters is
built against the package as it is.
"""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

from mkdocs.exceptions import PluginError

from tools import tangle, upstream
from tools.chapter import relative

ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger("mkdocs.plugins.literate")


def _owns_the_package(config) -> bool:
    return Path(config.docs_dir).resolve() == (ROOT / "docs").resolve()


def sync(config, serving: bool) -> None:
    """Before a build: the package must be what the chapters make (serve: make it so)."""
    if not _owns_the_package(config):
        return
    if serving:  # a ChapterError (bad input at file:line) fails the build
        for path in tangle.write():
            log.info("Tangled %s from the chapters", relative(path))
        return
    problems = tangle.check()
    if problems:
        raise PluginError("literate/ does not match the chapters' #@save blocks (run `make tangle`, "
                          "which `make build` does for you):\n" + textwrap.indent("\n".join(problems), "  "))


def fast_watcher(server, config):
    """Swap serve's polling watcher (a change is seen up to 0.5 s late) for native file events.

    Only events that change a file wake it: native watchers also report files being opened and
    read, and every build reads the chapters, which would start one needless rebuild after another.
    Runs at MkDocs' serve event, when the docs folder and the configuration file are watched (and
    the theme's folders, with `--watch-theme`) and the `watch:` paths are not yet: those are added
    afterwards, to the new watcher. Every path watched so far moves to the new watcher, through the
    server's public `unwatch` and `watch`; a theme folder that `unwatch` does not know was not
    watched (serve ran without `--watch-theme`).
    """
    from watchdog import events  # MkDocs' own serve imports watchdog: it is always there
    from watchdog.observers import Observer

    changes = [events.FileCreatedEvent, events.FileDeletedEvent, events.FileModifiedEvent,
               events.FileMovedEvent, events.FileClosedEvent]

    class ChangeObserver(Observer):
        def schedule(self, event_handler, path, *, recursive=False, event_filter=None):
            return super().schedule(event_handler, path, recursive=recursive, event_filter=event_filter or changes)

    paths = [p for p in (config.docs_dir, config.config_file_path) if p]
    for path in paths:  # serve watches them before its serve event
        server.unwatch(path)
    for folder in config.theme.dirs:
        try:
            server.unwatch(folder)
        except KeyError:
            continue  # not watched: no --watch-theme
        paths.append(folder)
    upstream.swap_observer(server, ChangeObserver())
    for path in paths:
        server.watch(path)
    return server

"""The build's cache (by default ``.cache/site/``), one folder per kind of entry: ``pages`` (what each
page's blocks printed), ``rendered`` (pages' HTML), ``notebooks`` (rendered notebook pages) and
``fonts`` (the math font, cut down to the characters the math draws). Keys are made by `tools.keys`.

An entry is one JSON file named for its key. It records the key and a digest of its payload, is
written atomically, and is used only when both check out: a corrupt, truncated, foreign or
unreadable entry is ignored (and removed) with a warning, and the work is done again. A cache
that cannot be written costs speed, never correctness: the build goes on and says so once.
Problems are reported on the ``site.cache`` logger, outside MkDocs' own loggers, so they are
shown as warnings but never fail a ``--strict`` build.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from pathlib import Path

from tools.atomic import write_atomic
from tools.keys import digest

KEEP = 4  # entries kept per page and kind: the one in use and the most recently used others
STALE_WRITE = 3600  # seconds after which a temporary file of a write is one that was killed

log = logging.getLogger("site.cache")
if not log.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(levelname)-8s-  cache: %(message)s"))
    log.addHandler(_handler)
    log.setLevel(logging.INFO)
    log.propagate = False


class Store:
    """The entries under one folder, by kind and page; folder None: no cache at all (a cold build)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.used: set[Path] = set()
        self._write_failed = False

    def _path(self, kind: str, name: str, key: str) -> Path:
        slug = re.sub(r"[^\w.-]+", "_", name).strip("_") or "entry"
        return self.folder / kind / f"{slug}.{key[:32]}.json"

    def load(self, kind: str, name: str, key: str):
        """The payload stored for key, or None (absent, no cache, or unusable: then it warns)."""
        if self.folder is None:
            return None
        path = self._path(kind, name, key)
        try:
            raw = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as error:
            log.warning("cannot read %s (%s); %s is built afresh", path, error.strerror or error, name)
            return None
        try:
            entry = json.loads(raw.decode("utf-8"))
            problem = None
            if not isinstance(entry, dict):
                problem = "it is not a cache entry"
            elif entry.get("key") != key:  # every key covers FORMAT (keys.environment)
                problem = "it was stored for another key"
            elif entry.get("digest") != digest(entry.get("payload")):
                problem = "its content does not match its digest"
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            problem = f"it is not valid JSON ({error})"
        if problem:
            log.warning("ignored %s: %s; %s is built afresh", path, problem, name)
            path.unlink(missing_ok=True)
            return None
        self.used.add(path)
        try:
            os.utime(path)  # most recently used: kept longest by prune()
        except OSError:
            pass
        return entry["payload"]

    def save(self, kind: str, name: str, key: str, payload) -> None:
        if self.folder is None:
            return
        path = self._path(kind, name, key)
        entry = {"key": key, "name": name, "digest": digest(payload), "payload": payload}
        try:
            write_atomic(path, json.dumps(entry, ensure_ascii=False))
        except OSError as error:
            if not self._write_failed:
                log.warning("cannot write to %s (%s); the build goes on without saving to the cache",
                            self.folder, error.strerror or error)
            self._write_failed = True
            return
        self.used.add(path)

    def prune(self) -> None:
        """Per page and kind, keep the entry this build used and the most recently used others;
        remove the temporary files of writes that were killed midway (an hour old: a write still
        running in another build is never that old)."""
        if self.folder is None or not self.folder.is_dir():
            return
        now = time.time()
        for path in self.folder.glob("*/.*.tmp"):
            try:
                if now - path.stat().st_mtime > STALE_WRITE:
                    path.unlink()
            except OSError:
                pass
        groups: dict[tuple[Path, str], list[Path]] = {}
        for path in self.folder.glob("*/*.json"):
            groups.setdefault((path.parent, path.name.rsplit(".", 2)[0]), []).append(path)
        for paths in groups.values():
            try:
                paths.sort(key=lambda p: (p not in self.used, -p.stat().st_mtime_ns))
                for stale in paths[KEEP:]:
                    stale.unlink()
            except OSError:
                pass

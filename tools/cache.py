"""The build's cache in ``.cache/site/``, one folder per kind of entry: ``pages`` (what each page's
blocks printed), ``rendered`` (pages' HTML), ``search`` (their search entries), ``notebooks``
(rendered notebook pages), ``math`` (KaTeX's MathML), ``fonts`` (the math font, cut down to the
characters the math draws), ``environment`` (the installed-packages digest) and ``templates``
(Jinja's compiled templates, in Jinja's own format).

An entry is one JSON file named for its key. It records the key and a digest of its payload, is
written atomically, and is used only when both check out: a corrupt, truncated, foreign or
unreadable entry is ignored (and removed) with a warning, and the work is done again. A cache
that cannot be written costs speed, never correctness: the build goes on and says so once.

Problems are reported on the ``site.cache`` logger, outside MkDocs' own ``mkdocs`` loggers, so
they are shown as warnings but never fail a ``--strict`` build.

    SITE_CACHE=off       no cache at all: read nothing, write nothing (a cold build)
    SITE_CACHE_DIR=path  keep the cache there instead of .cache/site
    SITE_CACHE_WITHOUT=rendered,search   those layers only are off (`make bench-build` measures
                         what each layer buys this way); `formatted` names serve's in-process
                         memory of replayed blocks' HTML
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import io
import json
import logging
import os
import platform
import re
import sys
import time
import tokenize
from pathlib import Path

from tools.atomic import write_atomic

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = ROOT / ".cache" / "site"
CONSTRAINTS = ROOT / "constraints.txt"
FORMAT = 3  # bump when the layout of entries changes
OFF = {"off", "0", "no", "false"}
KEEP = 4  # entries kept per page and kind: the one in use and the most recently used others
STALE_WRITE = 3600  # seconds after which a temporary file of a write is one that was killed

log = logging.getLogger("site.cache")
if not log.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(levelname)-8s-  cache: %(message)s"))
    log.addHandler(_handler)
    log.setLevel(logging.INFO)
    log.propagate = False


LAYERS = ("pages", "rendered", "search", "notebooks", "math", "fonts", "environment", "templates", "formatted")


def without() -> frozenset[str]:
    """The layers SITE_CACHE_WITHOUT switches off; a name that is not a layer is an error."""
    names = frozenset(n.strip() for n in os.environ.get("SITE_CACHE_WITHOUT", "").split(",") if n.strip())
    unknown = sorted(names - set(LAYERS))
    if unknown:
        raise ValueError(f"SITE_CACHE_WITHOUT names {', '.join(unknown)}, which are not cache layers: "
                         f"choose from {', '.join(LAYERS)}")
    return names


def directory() -> Path | None:
    """Where the cache lives, or None when SITE_CACHE switches it off."""
    if os.environ.get("SITE_CACHE", "on").strip().lower() in OFF:
        return None
    return Path(os.environ.get("SITE_CACHE_DIR") or DEFAULT_DIR)


def digest(value) -> str:
    """A stable SHA-256 of a JSON-able value (dict keys in sorted order; types and lengths delimit parts)."""
    hasher = hashlib.sha256()
    _feed(hasher, value)
    return hasher.hexdigest()


def _feed(hasher, value) -> None:
    if isinstance(value, str):  # pages are long strings: hashed as bytes, not escaped as JSON first
        data = value.encode("utf-8", "surrogatepass")
        hasher.update(b"s%d:" % len(data) + data)
    elif isinstance(value, dict):
        hasher.update(b"d%d:" % len(value))
        for key in sorted(value):
            _feed(hasher, str(key))
            _feed(hasher, value[key])
    elif isinstance(value, (list, tuple)):
        hasher.update(b"l%d:" % len(value))
        for item in value:
            _feed(hasher, item)
    else:  # None, booleans, numbers
        hasher.update(b"v" + json.dumps(value).encode() + b";")


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "missing"


def _source_tokens(path: Path) -> bytes:
    """A Python file's tokens less comments and blank lines: what it does, not how it is annotated.

    Generated modules carry comments naming their chapter lines; a prose edit that moves a saved
    block changes those comments but nothing the code does, and must not invalidate every page.
    """
    data = path.read_bytes()
    try:
        tokens = tokenize.tokenize(io.BytesIO(data).readline)
        kept = [f"{t.type}:{t.string}" for t in tokens if t.type not in (tokenize.COMMENT, tokenize.NL)]
    except (tokenize.TokenError, SyntaxError):
        return data
    return "\n".join(kept).encode("utf-8")


def module_digest(name: str, package: str = "literate") -> str:
    """A digest of one module of the package (`package` itself: its __init__), less comments, from
    where `import` finds it now; "missing" when it is not there."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return "missing"
    folder = Path(list(spec.submodule_search_locations)[0])
    parts = name.split(".")[1:] if name != package else ["__init__"]
    path = folder.joinpath(*parts).with_suffix(".py")
    if not path.is_file():
        path = folder.joinpath(*parts, "__init__.py")
    return hashlib.sha256(_source_tokens(path)).hexdigest() if path.is_file() else "missing"


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


_installed: dict[tuple, str] = {}


def _installed_digest(store: "Store | None" = None) -> str:
    """A digest of every installed distribution's name and version, as sys.path finds them.

    Reading ~100 metadata files takes a tenth of a second, so the result is kept, in this process
    and in the store, for as long as no package folder on sys.path changes (installing or removing
    a package changes its folder).
    """
    folders = [p for p in sys.path if p.rstrip("/").endswith(("site-packages", "dist-packages")) and os.path.isdir(p)]
    stamp = tuple((p, os.stat(p).st_mtime_ns) for p in folders)
    if stamp not in _installed:
        key = digest([list(item) for item in stamp])
        stored = store.load("environment", "installed", key) if store is not None else None
        if stored is None:
            installed: dict[str, str] = {}
            for dist in importlib.metadata.distributions():  # the first of a name on sys.path is the one imported
                installed.setdefault(re.sub(r"[-_.]+", "-", dist.metadata["Name"] or "").lower(), dist.version)
            stored = digest(sorted(installed.items()))
            if store is not None:
                store.save("environment", "installed", key, stored)
        _installed.clear()
        _installed[stamp] = stored
    return _installed[stamp]


def environment(store: "Store | None" = None) -> dict:
    """Everything outside a page that its outputs can depend on, as the cache keys on it."""
    return {
        "format": FORMAT,
        "python": sys.version,
        "platform": platform.platform(),
        "torch": _version("torch"),
        "numpy": _version("numpy"),
        "constraints": _file_digest(CONSTRAINTS),
        "installed": _installed_digest(store),
        "runner": _file_digest(ROOT / "tools" / "execution.py"),  # how blocks are run
    }


BUILD_CODE = ("*.py", "*.cjs")  # the build's own code: these files of tools/
_code: dict[tuple, str] = {}


def build_code() -> str:
    """One digest of the build's own code (tools/*.py and its Node scripts).

    Part of the key of every layer whose content that code shapes (rendered pages, search
    entries, notebook pages, math, the math font), so that changing the build makes them again.
    Page runs are keyed on tools/execution.py alone (`environment`): how a block runs is all that
    shapes what it prints, and running every page again for a change of, say, the CSS pruner
    would cost a cold build. Kept while no file of it changes (serve's rebuilds).
    """
    folder = ROOT / "tools"
    paths = sorted(p for pattern in BUILD_CODE for p in folder.glob(pattern))
    stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    if stamp not in _code:
        _code.clear()
        _code[stamp] = digest({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths})
    return _code[stamp]


def _slug(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name).strip("_") or "entry"


# Entries this process has read (and checked) or written, by path, with the file's mtime and size:
# serve's rebuilds reuse them without reading and checking the file again while it is unchanged.
_memory: dict[Path, tuple[tuple[int, int], object]] = {}


class Store:
    """The entries under one folder, by kind and page; folder None: no cache at all."""

    def __init__(self, folder: Path | None, without: frozenset[str] = frozenset()) -> None:
        self.folder = folder
        self.without = without  # layers switched off (SITE_CACHE_WITHOUT)
        self.used: set[Path] = set()
        self._write_failed = False

    def uses(self, layer: str) -> bool:
        """Whether this layer of the cache is on."""
        return self.folder is not None and layer not in self.without

    def holds(self, kind: str) -> bool:
        """Whether this layer of the cache has any entry at all (of any page, any key)."""
        return self.uses(kind) and any((self.folder / kind).glob("*.json"))

    def _path(self, kind: str, name: str, key: str) -> Path:
        return self.folder / kind / f"{_slug(name)}.{key[:32]}.json"

    def load(self, kind: str, name: str, key: str):
        """The payload stored for key, or None (absent, disabled, or unusable: then it warns)."""
        if not self.uses(kind):
            return None
        path = self._path(kind, name, key)
        try:
            stat = path.stat()
            remembered = _memory.get(path)
            if remembered is not None and remembered[0] == (stat.st_mtime_ns, stat.st_size):
                return self._used(path, remembered[1])  # checked when this process read or wrote it
            raw = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as error:
            log.warning("cannot read %s (%s); %s is built afresh", path, error.strerror or error, name)
            return None
        try:
            entry = json.loads(raw.decode("utf-8"))
            problem = None
            if not isinstance(entry, dict) or entry.get("format") != FORMAT:
                problem = "not an entry of this cache format"
            elif entry.get("key") != key:
                problem = "it was stored for another key"
            elif entry.get("digest") != digest(entry.get("payload")):
                problem = "its content does not match its digest"
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            problem = f"it is not valid JSON ({error})"
        if problem:
            log.warning("ignored %s: %s; %s is built afresh", path, problem, name)
            try:
                path.unlink()
            except OSError:
                pass
            return None
        return self._used(path, entry["payload"])

    def _used(self, path: Path, payload):
        self.used.add(path)
        try:
            os.utime(path)  # most recently used: kept longest by prune()
            stat = path.stat()
            _memory[path] = ((stat.st_mtime_ns, stat.st_size), payload)
        except OSError:
            _memory.pop(path, None)
        return payload

    def save(self, kind: str, name: str, key: str, payload) -> None:
        if not self.uses(kind):
            return
        path = self._path(kind, name, key)
        entry = {"format": FORMAT, "key": key, "name": name, "digest": digest(payload), "payload": payload}
        try:
            write_atomic(path, json.dumps(entry, ensure_ascii=False))  # payload key order is kept
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

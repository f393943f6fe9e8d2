"""Every key of the build's cache, made here and nowhere else.

A key covers everything its entry depends on, and the build's code among it as the process that
makes the entry loaded it, not as the files on disk are now: `mkdocs serve` keeps running the code
it started with, so an entry it stores after an edit of tools/ is keyed on the code that made it,
and a fresh `make build` (new code, new key) never takes it for its own.

- `page_run`: a page's executed blocks (language, options, code), its name, the environment
  (`environment`: Python, platform, every installed distribution, the pinned constraints) and the
  code that runs blocks (`tools.blocks`, as the workers that ran them loaded it: they report it).
  The `literate` modules a run imported are recorded in the entry, each with `module`'s digest,
  and checked when it is replayed.
- `rendered`: a page's Markdown, front matter, address, run and the site's files, under `site`.
- `notebook`: a notebook's text and mkdocs-jupyter's options, under `site`.
- `font`: the characters the math draws, the source font and fontTools' version, under `site`.
- `formatted`: a replayed block's options and output, under `site` (serve's memory of its HTML).
- `site`: what shapes every page besides its own source: the configuration files, the
  environment, and the build's code as loaded (`loaded_code`).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import platform
import re
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORMAT = 4  # bump when the layout of entries changes


def digest(value) -> str:
    """A stable SHA-256 of a JSON-able value (canonical JSON: dict keys sorted, non-ASCII escaped)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def file(path: Path) -> str:
    """A digest of one file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@functools.cache
def loaded_code() -> str:
    """The build's own code (every `tools` module this process has imported, and the KaTeX
    script it runs), read once per process: the plugin's first call comes when it is loaded, so it
    is the code this process runs for as long as it lives (serve's rebuilds included)."""
    files = {name: module.__file__ for name, module in sorted(sys.modules.items())
             if name.startswith("tools.") and getattr(module, "__file__", None)}
    files["katex_render.cjs"] = str(ROOT / "tools" / "katex_render.cjs")
    return digest({name: file(Path(path)) for name, path in files.items()})


def _tokens(path: Path) -> bytes:
    """A Python file's tokens less comments and blank lines: what it does, not how it is annotated
    (a prose edit moves a saved block, which changes only the chapter-line comments)."""
    data = path.read_bytes()
    try:
        tokens = tokenize.tokenize(io.BytesIO(data).readline)
        return "\n".join(f"{t.type}:{t.string}" for t in tokens
                         if t.type not in (tokenize.COMMENT, tokenize.NL)).encode()
    except (tokenize.TokenError, SyntaxError):
        return data


def package_folder(package: str) -> Path | None:
    """Where `import` finds the package now (None: nowhere)."""
    spec = importlib.util.find_spec(package)
    return Path(list(spec.submodule_search_locations)[0]) if spec and spec.submodule_search_locations else None


def module(name: str, package: str) -> str:
    """A digest of one module of the package (`package` itself: its __init__), less comments,
    from where `import` finds it now; "missing" when it is not there."""
    folder = package_folder(package)
    if folder is None:
        return "missing"
    parts = name.split(".")[1:] if name != package else ["__init__"]
    path = folder.joinpath(*parts).with_suffix(".py")  # the package is flat: literate/<module>.py
    return hashlib.sha256(_tokens(path)).hexdigest() if path.is_file() else "missing"


def environment() -> str:
    """Everything outside the project that a page's outputs can depend on."""
    installed: dict[str, str] = {}
    for dist in importlib.metadata.distributions():  # the first of a name on sys.path is the one imported
        installed.setdefault(re.sub(r"[-_.]+", "-", dist.metadata["Name"] or "").lower(), dist.version)
    return digest({"format": FORMAT, "python": sys.version, "platform": platform.platform(),
                   "installed": sorted(installed.items()), "constraints": file(ROOT / "constraints.txt")})


def page_run(name: str, environment_key: str, runner_code: str, blocks: list) -> str:
    """blocks: (language, options less the ones the build adds, code) of each executed block."""
    return digest({"page": name, "environment": environment_key, "runner": runner_code, "blocks": blocks})


def site(config, environment_key: str) -> str:
    # The theme's overrides, partials/ included; an editor's lock file (a dangling link) is no file.
    files = [Path(config.config_file_path), *sorted(p for p in (ROOT / "overrides").rglob("*") if p.is_file())]
    return digest({"environment": environment_key, "code": loaded_code(),
                   "files": {str(p): file(p) for p in files},
                   "config": repr((config.docs_dir, config.site_url, config.use_directory_urls, config.edit_uri))})


def rendered(site_key: str, markdown: str, meta, page: str, url: str, run_key: str, outputs: list[str] | None,
             files) -> str:
    """A replayed page's render: its Markdown and front matter, its run (key and what it printed), the site's files."""
    return digest({"site": site_key, "markdown": markdown, "meta": repr(meta), "page": page, "url": url,
                   "run": run_key, "outputs": outputs, "files": sorted((f.src_uri, f.dest_uri, f.url) for f in files)})


def notebook(site_key: str, text: str, options: dict) -> str:
    return digest({"site": site_key, "notebook": text, "options": repr(sorted(options.items()))})


def font(site_key: str, source: bytes, chars: list[str]) -> str:
    return digest({"site": site_key, "source": hashlib.sha256(source).hexdigest(), "chars": chars,
                   "fonttools": importlib.metadata.version("fonttools")})


def formatted(site_key: str, options: dict, output: str) -> str:
    return digest({"site": site_key, "options": {k: repr(v) for k, v in options.items()}, "output": output})

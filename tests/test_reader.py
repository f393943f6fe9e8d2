"""A reader outside a checkout: the notebook downloaded from the site, and the install line of a page.

The site is built for, and served at, an address under a sub-path on this machine (conftest's
`published`). The reader's Python is a fresh virtual environment that sees the project's installed
packages (torch, numpy, matplotlib, Pillow, ipykernel and pip itself: through a .pth file, so
nothing is copied) but neither `literate` nor the checkout, and everything runs from an empty
folder. What the reader's pip installs goes into the reader's own environment.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sysconfig
import urllib.request
import venv
from pathlib import Path

import nbformat
import pytest

from tests.helpers import COPY_RUNNER, PUBLISHED, ROOT, assert_shows_what_the_page_shows, cell_output, copied_code, page_text

pytestmark = pytest.mark.site

HIDDEN = ("literate", "__editable__", "_literate")  # what the reader must not see of the project's environment


@pytest.fixture(scope="module")
def served(published, published_server):
    return published


@pytest.fixture(scope="module")
def reader(tmp_path_factory) -> Path:
    """The reader's Python: torch and friends, no literate, no checkout."""
    root = tmp_path_factory.mktemp("reader")
    view = root / "packages"  # the project's site-packages less literate, as links
    view.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.startswith(HIDDEN) and entry.suffix != ".pth":
            (view / entry.name).symlink_to(entry)
    venv.EnvBuilder().create(root / "env")  # its pip is the project's, through the view
    python = root / "env" / "bin" / "python"
    own = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    (Path(own) / "project-packages.pth").write_text(f"{view}\n", encoding="utf-8")
    assert subprocess.run([python, "-c", "import torch"], cwd=root).returncode == 0
    return python


@pytest.fixture
def empty(reader, tmp_path) -> Path:
    """An empty folder to run in, with literate not installed in the reader's Python."""
    subprocess.run([reader, "-m", "pip", "uninstall", "--yes", "--quiet", "literate"], capture_output=True, check=True)
    missing = subprocess.run([reader, "-c", "import literate"], cwd=tmp_path, capture_output=True, text=True)
    assert missing.returncode != 0 and "No module named 'literate'" in missing.stderr
    return tmp_path


def installed_from_the_site(reader, folder) -> None:
    where = subprocess.run([reader, "-c", "import literate; print(literate.__file__)"], cwd=folder,
                           capture_output=True, text=True, check=True).stdout
    assert "site-packages" in where and "/docs/" not in where and "/literate/__init__" in where


@pytest.mark.heavy
def test_the_downloaded_notebook_runs_top_to_bottom_and_prints_the_books_values(served, reader, empty, monkeypatch):
    from nbclient import NotebookClient

    url = PUBLISHED["SITE_URL"] + "notebooks/convolutions/convolutions.ipynb"
    with urllib.request.urlopen(url, timeout=30) as response:
        stored = json.loads(response.read())
    (empty / "convolutions.ipynb").write_text(json.dumps(stored), encoding="utf-8")
    kernels = empty.parent / "jupyter" / "kernels" / "reader"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(reader), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "reader", "language": "python"}), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(empty.parent / "jupyter"))

    fresh = nbformat.reads(json.dumps(stored), as_version=4)
    for cell in fresh.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    NotebookClient(fresh, kernel_name="reader", timeout=300, allow_errors=False,
                   resources={"metadata": {"path": str(empty)}}).execute()
    installed_from_the_site(reader, empty)
    compared = 0
    for before, after in zip(stored["cells"], fresh.cells):
        if before["cell_type"] == "code":
            assert cell_output(after).strip() == cell_output(before).strip(), "".join(before["source"])[:80]
            compared += bool(before["outputs"])
    assert compared > 20
    assert "[[19., 25.],\n        [37., 43.]]" in "".join(cell_output(c) for c in fresh.cells if c.cell_type == "code")


@pytest.mark.heavy
def test_the_pages_install_line_then_the_copied_code_reproduce_the_page(served, reader, empty):
    page = served / "chapters" / "convolutions" / "index.html"
    lines = re.findall(r'pip install "literate\[chapters\] @ [^"]+"', page_text(page))
    assert lines and set(lines) == set(re.findall(r'pip install "literate\[chapters\] @ [^"]+"', page_text(served / "index.html")))
    requirement = shlex.split(lines[0])[2]
    assert requirement.endswith(f"@ {PUBLISHED['SITE_URL']}dist/literate-0.1.0-py3-none-any.whl")
    subprocess.run([reader, "-m", "pip", "install", "--quiet", requirement], cwd=empty, check=True, capture_output=True)
    installed_from_the_site(reader, empty)

    (empty / "blocks.json").write_text(json.dumps(copied_code(page)), encoding="utf-8")
    (empty / "run.py").write_text(COPY_RUNNER, encoding="utf-8")
    result = subprocess.run([reader, "run.py", "blocks.json", "printed.json"], cwd=empty,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    printed = json.loads((empty / "printed.json").read_text(encoding="utf-8"))
    assert_shows_what_the_page_shows(printed, page)


def test_the_wheel_is_the_package_with_lower_bounds_only(served):
    import zipfile

    [wheel] = (served / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read("literate-0.1.0.dist-info/METADATA").decode()
    modules = {f"literate/{path.name}" for path in (ROOT / "literate").glob("*.py")}  # one per chapter that saves code
    assert len(modules) > 1 and modules <= set(names)
    requirements = [line.split(": ", 1)[1].split(";")[0] for line in metadata.splitlines() if line.startswith("Requires-Dist")]
    assert len(requirements) == 4 and all(">=" in r and "==" not in r for r in requirements), requirements
    assert 'Provides-Extra: chapters' in metadata and 'pillow>=10; extra == "chapters"' in metadata
    assert "Requires-Python: >=3.10" in metadata

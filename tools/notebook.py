"""Turn a chapter (Markdown with executed blocks) into a Jupyter notebook.

Prose becomes Markdown cells, executed Python blocks become code cells with the code exactly as the
page shows it, and each code cell gets the output the site build recorded for that block, so the
chapter is executed once per build. The JSON is reproducible: fixed kernel spec, sequential
execution counts, cell ids derived from the position, no timestamps.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tools.tangle import Block, parse_blocks

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python", "pygments_lexer": "ipython3"}
HTML_PLAIN = "<IPython.core.display.HTML object>"

_ADMONITION = re.compile(r'^(?P<indent>\s*)(?:!!!|\?\?\?\+?)\s+(?P<kind>\w+)(?:\s+"(?P<title>[^"]*)")?\s*$')
_KEYS = re.compile(r"\+\+([\w+-]+)\+\+")
_SITE_LINK = re.compile(r"\[([^\]]+)\]\((?!https?:|mailto:|#)[^)\s]+\)")  # a link to another page of the site


def is_executed(block: Block) -> bool:
    return block.language in ("python", "py") and re.search(r"""\bexec=(["']?)(1|on|true|yes)\1""", block.info) is not None


def is_html(block: Block) -> bool:
    return re.search(r"""\bhtml=(["']?)(1|on|true|yes)\1""", block.info) is not None


def _lines(text: str) -> list[str]:
    """Notebook JSON stores multi-line strings as lists of lines."""
    return text.splitlines(keepends=True)


def notebook_markdown(text: str) -> str:
    """Site-only Markdown made readable in Jupyter: admonitions (and their indented bodies, also
    when a code cell interrupts them) as quotes, ++key++ as <kbd>, and links to other pages of the
    site (which mean nothing inside a notebook) as plain text."""
    lines = _SITE_LINK.sub(r"\1", text).split("\n")
    first = next((line for line in lines if line.strip()), "")
    in_box = first.startswith("    ")  # the rest of an admonition that a code cell interrupted
    out: list[str] = []
    for line in lines:
        line = _KEYS.sub(lambda m: f"<kbd>{m[1].replace('-', ' ').title()}</kbd>", line)
        match = _ADMONITION.match(line)
        if match:
            out += [f"> **{match['title'] or match['kind'].title()}**", ">"]
            in_box = True
        elif in_box and (line.startswith("    ") or not line.strip()):
            quoted = "> " + line[4:] if line.strip() else ">"
            if not (quoted == ">" and out and out[-1] == ">"):
                out.append(quoted)
        else:
            if in_box:  # the quote ends: a blank line keeps the next paragraph out of it
                while out and out[-1] == ">":
                    out.pop()
                out.append("")
            in_box = False
            out.append(line)
    while out and out[-1] == ">":
        out.pop()
    return "\n".join(out)


def chapter_notebook(path: Path, outputs: dict[int, str], preface: str = "") -> dict:
    """The notebook of a chapter; outputs maps a block's fence line to what it printed."""
    text = Path(path).read_text(encoding="utf-8")
    lines = text.split("\n")
    cells: list[dict] = []

    def add_markdown(chunk: list[str]) -> None:
        body = notebook_markdown("\n".join(chunk)).strip("\n")
        if body.strip():
            cells.append({"cell_type": "markdown", "metadata": {}, "source": _lines(body)})

    if preface:
        add_markdown([preface])
    start = 0
    count = 0
    for block in parse_blocks(text, Path(path)):
        if not is_executed(block):
            continue
        add_markdown(lines[start : block.line - 1])
        start = block.end  # 0-based index of the line after the closing fence
        if block.line not in outputs:
            raise KeyError(f"{path}:{block.line}: no recorded output for this block (did the build run it?)")
        printed = outputs[block.line]
        count += 1
        cell_outputs = []
        if printed and is_html(block):
            cell_outputs.append({"data": {"text/html": _lines(printed), "text/plain": [HTML_PLAIN]},
                                 "metadata": {}, "output_type": "display_data"})
        elif printed:
            cell_outputs.append({"name": "stdout", "output_type": "stream", "text": _lines(printed)})
        cells.append({"cell_type": "code", "execution_count": count, "metadata": {},
                      "outputs": cell_outputs, "source": _lines(block.code)})
    add_markdown(lines[start:])
    for number, cell in enumerate(cells):
        cell["id"] = f"cell-{number:03d}"
    return {
        "cells": cells,
        "metadata": {"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def dumps(notebook: dict) -> str:
    """Stable JSON text for a notebook: sorted keys, one-space indent, trailing newline."""
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"

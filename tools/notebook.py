"""Turn a chapter (Markdown with executed blocks) into a Jupyter notebook.

Prose becomes Markdown cells, executed blocks become code cells with the code exactly as the page
shows it, and each code cell gets the output the site build recorded for that block, so the
chapter is executed once per build. The notebook is built as nbformat 4.5's JSON and checked with
`nbformat.validate`; its text is reproducible: fixed kernel spec, sequential execution counts,
cell ids derived from the position, no timestamps.
"""

from __future__ import annotations

import re

import nbformat

from tools.chapter import Chapter
from tools.fold import folded

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python", "pygments_lexer": "ipython3"}
HTML_PLAIN = "<IPython.core.display.HTML object>"

_ADMONITION = re.compile(r'^(?P<indent>\s*)(?:!!!|\?\?\?\+?)\s+(?P<kind>\w+)(?:\s+"(?P<title>[^"]*)")?\s*$')
_KEYS = re.compile(r"\+\+([\w+-]+)\+\+")
_SITE_LINK = re.compile(r"\[([^\]]+)\]\((?!https?:|mailto:|#)[^)\s]+\)")  # a link to another page of the site


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


def chapter_notebook(model: Chapter, outputs: dict[int, str], preface: str = "", setup: str = "",
                     prose=lambda text: text) -> nbformat.NotebookNode:
    """The notebook of a chapter; outputs maps an executed block's fence line to what it printed.

    preface: a first Markdown cell; setup: a first code cell, which the build does not run (it
    installs what the notebook needs); prose: a function applied to the chapter's Markdown.
    """
    lines = model.text.split("\n")
    cells = []

    def add_markdown(chunk: list[str]) -> None:
        body = notebook_markdown(prose("\n".join(chunk))).strip("\n")
        if body.strip():
            cells.append({"cell_type": "markdown", "metadata": {}, "source": body})

    add_markdown([preface])
    if setup:
        cells.append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": setup})
    start = 0
    for count, block in enumerate(model.executed, start=1):
        add_markdown(lines[start : block.line - 1 - model.offset])
        start = block.end - model.offset  # 0-based index of the line after the closing fence
        printed = outputs[block.line]
        cell_outputs = []
        if printed and block.html:
            cell_outputs.append({"output_type": "display_data", "data": {"text/html": printed, "text/plain": HTML_PLAIN},
                                 "metadata": {}})
        elif printed and "result" not in block.options:  # Markdown (a table, say): shown as the page shows it
            cell_outputs.append({"output_type": "display_data", "data": {"text/markdown": printed, "text/plain": printed},
                                 "metadata": {}})
        elif printed:
            cell_outputs.append({"output_type": "stream", "name": "stdout", "text": printed})
        metadata = {"jupyter": {"source_hidden": True}} if folded(block) else {}  # as the page folds it
        cells.append({"cell_type": "code", "execution_count": count, "metadata": metadata, "outputs": cell_outputs,
                      "source": block.code})
    add_markdown(lines[start:])
    for number, cell in enumerate(cells):
        cell["id"] = f"cell-{number:03d}"
    notebook = nbformat.from_dict({"cells": cells, "metadata": {"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO},
                                   "nbformat": 4, "nbformat_minor": 5})
    nbformat.validate(notebook)  # raises, where nbformat.writes would only log
    return notebook

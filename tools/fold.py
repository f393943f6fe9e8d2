"""A figure first, the code that draws it folded below: the `fold` option of an executed block.

    ```python exec="on" html="1" fold="Code for this figure"
    show(corr2d_figure(X, K, Y))
    ```

The block runs like any other. The page shows what it printed, and right under it a collapsed box
(`??? example`, titled by the option) holding the block's code, highlighted and copyable like every
code block of the page. In the chapter's notebook the code stays in its cell, marked as hidden
(`jupyter.source_hidden`, which JupyterLab and VS Code honour).

markdown-exec passes fence options it does not know to the formatter (`extra`); the formatter the
build registers for Python (tools/plugin.py) calls `format_block`, which asks markdown-exec's
public `base_format` for the output alone and renders the fold with its public `MarkdownConverter`
and `code_block`.
"""

from __future__ import annotations

import textwrap

from markdown_exec import MarkdownConverter, code_block
from markupsafe import Markup

from tools.chapter import Block, Chapter, ChapterError

OPTION = "fold"


def folded(block: Block) -> bool:
    """Whether the block's code is folded under its output."""
    return OPTION in block.options


def check(model: Chapter) -> None:
    """A fold needs a block that executes and shows no source of its own: say so at file:line."""
    for block in model.blocks:
        if not folded(block):
            continue
        if not block.executes:
            raise ChapterError(block.path, block.line, f'{OPTION}="..." folds the code of an executed block under '
                               'its output; this block does not execute (add exec="on")')
        if block.options.get("source"):
            raise ChapterError(block.path, block.line, f'{OPTION}="..." already shows the code (folded, under the '
                               'output): remove source="..."')
        title = block.options[OPTION]
        if not title.strip() or '"' in title or not title.isprintable():
            raise ChapterError(block.path, block.line, f'{OPTION}="..." needs a title of one line without double '
                               'quotes, e.g. fold="Code for this figure"')


def format_block(base, md, **options) -> Markup:
    """base(md=md, **options), with the code folded under the output when the block has a fold."""
    extra = dict(options.get("extra") or {})
    title = extra.pop(OPTION, None)
    if title is None:
        return base(md=md, **options)
    output = base(md=md, **{**options, "source": "", "extra": extra})
    box = f'??? example "{title}"\n\n' + textwrap.indent(code_block("python", options["code"]), "    ") + "\n"
    # Starting with the box when the block printed nothing: Markdown keeps HTML that starts with a
    # block element out of a paragraph, and a line break first would put the box inside one.
    return Markup(f"{output}\n{MarkdownConverter(md, update_toc=False).convert(box)}".lstrip())

"""Accessibility fixes for markup that the theme generates."""

from __future__ import annotations

import re

# A highlighted block's code element, as pymdownx.highlight writes it (and tools.upstream.notebook_body).
_CODE_BLOCK = re.compile(r'(<div class="(?:language-[\w-]+ )?highlight"><pre>(?:<span></span>)?)<code>')


def name_search_dialog(output: str) -> str:
    """The theme's search dialog has no accessible name; give it one."""
    return output.replace('data-md-component="search" role="dialog">',
                          'data-md-component="search" role="dialog" aria-label="Search">', 1)


def focusable_code_blocks(output: str) -> str:
    """Every code block starts out reachable by keyboard, so one that scrolls sideways can be scrolled.

    Material makes a block focusable when it scrolls, but with `content.lazy` it looks only as the
    block nears the screen; until then a keyboard could not reach it. Material still has the last
    word: once it has looked, a block that fits loses its tab stop.
    """
    return _CODE_BLOCK.sub(r'\1<code tabindex="0">', output)

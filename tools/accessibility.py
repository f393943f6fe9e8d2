"""Accessibility fixes for markup that the theme generates."""

from __future__ import annotations


def name_search_dialog(output: str) -> str:
    """The theme's search dialog has no accessible name; give it one."""
    return output.replace('data-md-component="search" role="dialog">',
                          'data-md-component="search" role="dialog" aria-label="Search">', 1)

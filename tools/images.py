"""Raster images of a page, moved out of its HTML into files of their own.

`literate.drawing.photo_figure` embeds its PNGs as data URIs, so that a figure is one string that
a notebook or any other page can show by itself. On the site that would make the chapter page
carry about 100 KB of base64 that the browser must parse before it can show the text. Here each
embedded PNG is written once to ``assets/images/figures/<digest>.png`` (named by its content, so
builds stay byte-identical) and the ``<img>`` points to it, loaded lazily when it nears the
screen. The notebook files keep their images inline.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from mkdocs.utils import get_relative_url

from tools.atomic import write_atomic

FOLDER = "assets/images/figures/"
_IMG = re.compile(r'<img (?P<before>[^>]*?)src="data:image/png;base64,(?P<data>[A-Za-z0-9+/=]+)"(?P<after>[^>]*)>')


def to_files(html: str, page_url: str, site_dir: str) -> str:
    """html with every embedded PNG written to a file and linked, loaded lazily."""

    def replace(match: re.Match) -> str:
        data = base64.b64decode(match["data"])
        uri = f"{FOLDER}{hashlib.sha256(data).hexdigest()[:20]}.png"
        write_atomic(Path(site_dir) / uri, data)
        src = get_relative_url(uri, page_url)
        return f'<img {match["before"]}src="{src}" loading="lazy" decoding="async"{match["after"]}>'

    return _IMG.sub(replace, html)

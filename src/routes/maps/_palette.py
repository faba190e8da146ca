"""The one palette of every page: ``routes/static/palette.json``, read here and inlined.

Python (the route map's layers and legend, the report's brief map) reads the colours from
:data:`PALETTE`; each page's script reads the same file, inlined as
``window.ROUTES_PALETTE`` (:func:`palette_js`). A colour is changed in that file only.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

__all__ = ["PALETTE", "palette", "palette_js"]


@functools.cache
def _text() -> str:
    return (resources.files("routes") / "static" / "palette.json").read_text(encoding="utf-8")


def palette() -> dict[str, Any]:
    """Return the palette (a fresh copy): roles, status, priority, share, modes, corridors."""
    data: dict[str, Any] = json.loads(_text())
    return data


#: The palette as loaded once (do not mutate; :func:`palette` returns a copy).
PALETTE: dict[str, Any] = palette()


def palette_js() -> str:
    """Return the script line that gives a page the palette: ``window.ROUTES_PALETTE = ...``."""
    text = json.dumps(PALETTE, separators=(",", ":"), ensure_ascii=True)
    # nothing in it may end the script block it is inlined into
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f"window.ROUTES_PALETTE = {text};"

"""The methods section, generated from the cost model file itself.

Every parameter of the TOML file is listed with its value and the comment written above it
(its rationale and source). The comments are read from the raw text, since TOML parsers drop
them; values come from the parsed file, so the table can never disagree with the model used.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["TomlNotes", "read_toml_notes", "parameter_table", "PARAMETER_COLUMNS"]

#: Columns of :func:`parameter_table`.
PARAMETER_COLUMNS = ("section", "table", "key", "parameter", "value", "rationale",
                     "rationale_from")

_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+|\"[^\"]*\")\s*=")
_BANNER = re.compile(r"^#\s*[-=~*#]{5,}\s*$")


@dataclass(frozen=True)
class TomlNotes:
    """Comments of a TOML file, attached to what they precede.

    Attributes
    ----------
    preamble : str
        The comment blocks at the top of the file (before the first key or table), line by
        line as written (it may hold formulas laid out in columns).
    sections : dict
        Table name -> title of the banner section it sits in (the text between two
        ``# ----`` lines); tables before any banner have ``""``.
    section_notes : dict
        Banner title -> the banner's further lines (the text under its title).
    tables : dict
        Table name -> the comment directly above its ``[header]``.
    keys : dict
        ``(table, key)`` -> the comment directly above the key (top-level keys: table ``""``).
    """

    preamble: str = ""
    sections: dict[str, str] = field(default_factory=dict)
    section_notes: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    keys: dict[tuple[str, str], str] = field(default_factory=dict)


def _text(lines: list[str]) -> str:
    """Join comment lines into paragraphs (a ``#`` line with no text breaks a paragraph)."""
    paras: list[list[str]] = [[]]
    for ln in lines:
        if ln.strip():
            paras[-1].append(ln.strip())
        elif paras[-1]:
            paras.append([])
    return "\n\n".join(" ".join(p) for p in paras if p)


def _title(text: str) -> tuple[str, str]:
    """Split a banner's text into its title (first sentence) and the rest."""
    head, sep, rest = text.partition(". ")
    if not sep:
        return text.rstrip("."), ""
    return head, rest.strip()


def _strip(line: str) -> str:
    """Drop the ``#`` and one space after it (keeping any further indentation)."""
    text = line.strip()[1:]
    return (text[1:] if text.startswith(" ") else text).rstrip()


def read_toml_notes(text: str) -> TomlNotes:
    """Read the comments of a TOML document and attach each to the key or table below it.

    A comment block belongs to the key or ``[table]`` header on the line right after it; a
    blank line in between detaches it. A block framed by two ``# -----`` lines is a section
    banner: its first line is the section's title, the rest its notes. Comments inside a
    multi-line value are ignored.

    Examples
    --------
    >>> notes = read_toml_notes('''# The model.
    ...
    ... [modes.road]
    ... # Roads wind: 1.2-1.4 (Ballou 2002).
    ... detour_factor = 1.35
    ... speed_kmh = 45.0
    ... ''')
    >>> notes.preamble
    'The model.'
    >>> notes.keys[("modes.road", "detour_factor")]
    'Roads wind: 1.2-1.4 (Ballou 2002).'
    >>> ("modes.road", "speed_kmh") in notes.keys
    False
    """
    preamble: list[str] = []
    sections: dict[str, str] = {}
    section_notes: dict[str, str] = {}
    tables: dict[str, str] = {}
    keys: dict[tuple[str, str], str] = {}
    pending: list[str] = []
    banner: list[str] | None = None  # lines of the banner being read
    table, section = "", ""
    seen_content = False
    depth = 0
    for raw in text.splitlines():
        line = raw.strip()
        if depth > 0:  # inside a multi-line array or inline table
            depth += _depth(line)
            continue
        if _BANNER.match(line):
            if banner is None:
                banner = []
            else:
                section, notes = _title(_text(banner))
                section_notes[section] = notes
                banner = None
            pending = []
            continue
        if banner is not None:
            if line.startswith("#"):
                banner.append(_strip(line))
            continue
        if line.startswith("#"):
            pending.append(_strip(line))
            continue
        if not line:
            if not seen_content and pending:
                preamble.extend([*pending, ""])
            pending = []
            continue
        seen_content = True
        m = _HEADER.match(line)
        k = None if m else _KEY.match(line)
        if m:
            table = m.group(1).replace(" ", "").replace('"', "")
            tables[table] = _text(pending)
            sections[table] = section
        elif k:
            keys[(table, k.group(1).strip('"'))] = _text(pending)
            depth = _depth(line.split("=", 1)[1])
        pending = []
    while preamble and not preamble[-1]:
        preamble.pop()
    return TomlNotes(preamble="\n".join(preamble), sections=sections, section_notes=section_notes,
                     tables=tables, keys={k: v for k, v in keys.items() if v})


def _depth(value: str) -> int:
    """Net count of open brackets in ``value`` (outside strings and comments)."""
    d, quote = 0, ""
    for ch in value:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            break
        elif ch in "[{":
            d += 1
        elif ch in "]}":
            d -= 1
    return d


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.10g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_format(v) for v in value) + "]"
    return str(value)


def _walk(data: dict[str, Any], prefix: str = "") -> list[tuple[str, str, Any]]:
    out: list[tuple[str, str, Any]] = []
    scalars = [(k, v) for k, v in data.items() if not isinstance(v, dict)]
    for k, v in scalars:
        out.append((prefix, k, v))
    for k, v in data.items():
        if isinstance(v, dict):
            out.extend(_walk(v, f"{prefix}.{k}" if prefix else k))
    return out


def parameter_table(path: str | Path) -> pd.DataFrame:
    r"""List every parameter of a TOML file with its value and the rationale written above it.

    Columns :data:`PARAMETER_COLUMNS`: ``section`` (the banner title), ``table`` (e.g.
    ``modes.road``), ``key``, ``parameter`` (``table.key``), ``value`` (as text),
    ``rationale``: the comment above the key, else the comment above its table, else the
    notes of its section, and ``rationale_from`` (``"key"``, ``"table"``, ``"section"`` or
    ``""``). Rows in the parsed file's order (a table's own keys before its sub-tables).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d) / "m.toml"
    ...     _ = p.write_text("name = 'x'\n[flow]\n# Assumption.\nk_routes = 5\n")
    ...     parameter_table(p)[["parameter", "value", "rationale"]].values.tolist()
    [['name', 'x', ''], ['flow.k_routes', '5', 'Assumption.']]
    """
    text = Path(path).read_text(encoding="utf-8")
    data = tomllib.loads(text)
    notes = read_toml_notes(text)
    rows = []
    for table, key, value in _walk(data):
        section = notes.sections.get(table, "")
        if not section and "." in table:
            section = notes.sections.get(table.split(".")[0], "")
        found = [(w, t) for w, t in (("key", notes.keys.get((table, key), "")),
                                     ("table", notes.tables.get(table, "")),
                                     ("section", notes.section_notes.get(section, ""))) if t]
        rows.append({"section": section, "table": table, "key": key,
                     "parameter": f"{table}.{key}" if table else key,
                     "value": _format(value), "rationale": found[0][1] if found else "",
                     "rationale_from": found[0][0] if found else ""})
    return pd.DataFrame(rows, columns=list(PARAMETER_COLUMNS))

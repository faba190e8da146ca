"""Render the report's sections to HTML and Markdown with Jinja2 templates.

HTML autoescaping is on; Markdown output passes every value through :func:`md_escape`, so
text from the data (a place named ``<img src=x onerror=alert(1)>``) shows as text in both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import jinja2

__all__ = ["render_html", "render_markdown", "render_brief", "md_escape", "provenance_tables"]

_NUMBER = re.compile(r"^[-+]?[\d,]*\.?\d+(e[-+]?\d+)?%?$")
_FILE = re.compile(r"^[A-Za-z0-9_.\-/]+$")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


class _Raw(str):
    """Markdown text that is already safe (code spans and blocks)."""


def md_escape(value: Any) -> str:
    r"""Escape a value for Markdown: HTML entities for ``&<>``, backslash before ``\`*_[]|#``.

    Newlines become spaces (a cell or a line stays one line).

    Examples
    --------
    >>> md_escape("<img src=x onerror=alert(1)>")
    '&lt;img src=x onerror=alert(1)&gt;'
    >>> md_escape("a|b_c")
    'a\\|b\\_c'
    """
    if isinstance(value, _Raw):
        return str(value)
    s = "" if value is None else str(value)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = " ".join(s.splitlines())
    return _MD_SPECIAL.sub(r"\\\1", s)


def _raw_code(value: Any) -> _Raw:
    """Text for a Markdown code span or fence: backticks cannot end it early."""
    return _Raw(str(value).replace("`", "'"))


def _md_name(value: Any) -> str:
    """Return a file name for a Markdown link target (names the report writes need no escapes)."""
    s = str(value)
    return _Raw(s) if _FILE.match(s) else md_escape(s)


def _md_link(value: Any) -> str:
    """Return a Markdown link to a file of the report: ``[name](name)``."""
    return _Raw(f"[{md_escape(value)}]({_md_name(value)})")


def _md_figure(fig: dict[str, Any]) -> str:
    """Return a key finding's figure as a Markdown link to the CSV file it is read from."""
    return _Raw(f"[{md_escape(fig['text'])}]({_md_name(fig['csv'])})")


def _md_table(labels: Sequence[Any], rows: Sequence[Sequence[Any]]) -> str:
    """Return a Markdown table with every cell escaped."""
    lines = ["| " + " | ".join(md_escape(x) for x in labels) + " |",
             "|" + " --- |" * len(labels)]
    lines += ["| " + " | ".join(md_escape(x) for x in row) + " |" for row in rows]
    return _Raw("\n".join(lines))


def _number_like(value: Any) -> bool:
    return isinstance(value, str) and bool(_NUMBER.match(value))


def _env(markdown: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("routes", "templates"),
        autoescape=not markdown,
        finalize=md_escape if markdown else None,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=markdown,
        lstrip_blocks=markdown,
    )
    env.tests["number_like"] = _number_like
    env.filters["raw_code"] = _raw_code
    env.filters["md_table"] = _md_table
    env.filters["md_name"] = _md_name
    env.filters["md_link"] = _md_link
    env.filters["md_figure"] = _md_figure
    return env


def provenance_tables(prov: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Return the provenance dict as titled key-value tables (what the pages show)."""
    net = prov["network"]
    inputs = [(f"{r['input']}: {r['file']}", r["sha256"]) for r in prov["inputs"]]
    return [
        ("Scenario and model", [
            ("scenario", prov["scenario"]["name"]),
            ("scenario file", prov["scenario"]["file"] or "(none: the shipped data)"),
            ("scenario sha256", prov["scenario"]["sha256"] or ""),
            ("cost model", prov["cost_model"]["name"]),
            ("cost model file", prov["cost_model"]["file"]),
            ("cost model sha256", prov["cost_model"]["sha256"]),
            ("network", net["name"]),
            ("data hash (over the input files)", net["data_hash"]),
            ("crs", net["crs"]),
        ]),
        ("Parameters", [(k, str(v)) for k, v in prov["options"].items()]),
        ("Input files (sha256)", inputs),
        ("Package versions", [(k, v) for k, v in prov["versions"].items()]),
    ]


def _unrepeated(sections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the sections without a block heading that repeats one already shown.

    A table titled like its section (or like an earlier block) keeps its content under the
    heading already on the page.
    """
    out = []
    for sec in sections:
        seen = {sec.get("title")}
        blocks = []
        for b in sec.get("blocks", []):
            if "title" in b and b["title"] in seen:
                b = {**b, "title": ""}
            seen.add(b.get("title"))
            blocks.append(b)
        out.append({**sec, "blocks": blocks})
    return out


def _context(title: str, subtitle: Sequence[str], sections: list[dict[str, Any]],
             prov: dict[str, Any], files: Sequence[str]) -> dict[str, Any]:
    sections = _unrepeated(sections)
    return {"title": title, "subtitle": list(subtitle), "sections": sections, "prov": prov,
            "prov_tables": provenance_tables(prov), "files": list(files)}


def render_html(title: str, subtitle: Sequence[str], sections: list[dict[str, Any]],
                prov: dict[str, Any], files: Sequence[str]) -> str:
    """Render the report page (``index.html``)."""
    return _env(False).get_template("report.html.j2").render(
        _context(title, subtitle, sections, prov, files))


def render_brief(context: dict[str, Any]) -> str:
    """Render the brief (``brief.html``) from :func:`routes.report._brief.brief_context`."""
    return _env(False).get_template("brief.html.j2").render(context)


def render_markdown(title: str, subtitle: Sequence[str], sections: list[dict[str, Any]],
                    prov: dict[str, Any], files: Sequence[str]) -> str:
    """Render the same report in Markdown (``report.md``)."""
    text = _env(True).get_template("report.md.j2").render(
        _context(title, subtitle, sections, prov, files))
    return _blank_lines(text)


def _blank_lines(text: str) -> str:
    """One blank line before each heading, image, table and list; never two."""
    out: list[str] = []
    for line in text.splitlines():
        prev = out[-1] if out else ""
        starts = line.startswith(("#", "![", "|", "- ", "```"))
        same = (line[:1] == prev[:1] and line[:1] in "|-") or prev.startswith("```")
        if starts and prev and not same:
            out.append("")
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip("\n") + "\n"

"""The README's headline figures, written from the tables of a `make demo` run.

    python scripts/readme_figures.py reports            # print the block
    python scripts/readme_figures.py reports --write README.md

The block sits between the markers ``<!-- readme-figures:start -->`` and
``<!-- readme-figures:end -->`` of the README; ``--write`` replaces it (the rest of the file is
kept byte for byte). The figures come from the report's CSV files (``summary.csv``,
``corridors.csv``, ``crossings.csv``, ``budget_curve.csv``, ``observation_fit.csv``) and the
rolling-origin table from the ``[calibration]`` record of the shipped calibrated cost model,
so that nothing in the block is typed by hand. ``tests/test_report.py`` checks that the README
holds what this script writes for the report of the shipped data.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path

import pandas as pd

START = "<!-- readme-figures:start -->"
END = "<!-- readme-figures:end -->"
CALIBRATED = Path(__file__).resolve().parents[1] / "data" / "geo" / "cost_model_calibrated.toml"


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _folder(path: Path) -> Path:
    """The report folder: ``path`` itself, or its ``baseline`` subfolder."""
    return path if (path / "summary.csv").exists() else path / "baseline"


def figures(report: Path, calibrated: Path = CALIBRATED) -> str:
    """Return the README block (without markers) for the report folder ``report``."""
    d = _folder(Path(report))
    summary = pd.read_csv(d / "summary.csv").set_index("measure")["value"]
    prov = json.loads((d / "provenance.json").read_text(encoding="utf-8"))
    cm = prov.get("cost_model", {})
    corridors = pd.read_csv(d / "corridors.csv")
    corridors = corridors[corridors["share"] > 0].sort_values("share", ascending=False)
    crossings = pd.read_csv(d / "crossings.csv").sort_values("rank").head(5)
    curve = pd.read_csv(d / "budget_curve.csv").sort_values("budget")
    fit = pd.read_csv(d / "observation_fit.csv")
    s = {k: int(float(v)) for k, v in summary.items() if k in (
        "crossings", "crossings_closed", "origins", "markets", "od_pairs")}
    lines = [
        f"`make demo` builds the network on the last date the data covers "
        f"({prov.get('as_of') or prov.get('network', {}).get('as_of', 'the latest date')}: "
        f"{s['crossings']} crossings, {s['crossings_closed']} of them closed; {s['origins']} "
        f"origins with {float(summary['total_supply']):g} t; {s['markets']} markets; "
        f"{s['od_pairs']} origin-market pairs) with the default cost model "
        f"(`{Path(str(cm.get('file', 'cost_model.toml'))).name}`, sha256 "
        f"{str(cm.get('sha256', ''))[:12]}), the one every command, the report and the what-if "
        f"page use unless `--cost-model` names another, and gives, by generalised cost:",
        "",
        "- corridor shares of the modelled flow: " + ", ".join(
            f"{r.corridor} {_pct(r.share)}" for r in corridors.itertuples())
        + " (logit over the k best routes);",
        "- the busiest crossings (flow betweenness): " + "; ".join(
            f"{r.name} ({r.country_a}-{r.country_b}) {_pct(r.share)}"
            for r in crossings.itertuples()) + ";",
    ]
    if len(curve) > 1:
        names = pd.read_csv(d / "crossings.csv").set_index("id")["name"]
        first = [names.get(x, x) for x in str(curve.iloc[1]["posts"]).split(";") if x]
        lines.append(
            f"- border-post priorities (expected detected share, exact): with one budget unit "
            f"{', '.join(first)}; the detected share rises from "
            f"{_pct(curve.iloc[0]['value'])} to {_pct(curve.iloc[-1]['value'])} with a budget "
            f"of {curve.iloc[-1]['budget']:g} units.")
    lines.append("")
    row = {r.split: r for r in fit.itertuples()}
    if "fit" in row and "holdout" in row:
        lines.append(
            f"**Against observations.** The default cost model's own observation model "
            f"(detection where the flow is checked) gives a Spearman rank correlation with the "
            f"seizures countries report of {row['fit'].spearman:.3f} on 2018-2021 and "
            f"{row['holdout'].spearman:.3f} on 2022 (mean absolute log error "
            f"{row['fit'].male:.3f} and {row['holdout'].male:.3f}).")
    if calibrated.exists():
        rec = tomllib.loads(calibrated.read_text(encoding="utf-8")).get("calibration", {})
        oos = pd.DataFrame(rec.get("out_of_sample", []))
        if len(oos):
            lines += [
                f"The calibrated cost model (`{calibrated.name}`, fitted on {rec.get('years')}, "
                f"`routes calibrate`) keeps what countries seize (a rate per country) apart from "
                f"what traffickers perceive; its rolling-origin test, each year predicted by a "
                f"fit of the years before it only:", "",
                "| held out | fitted on | predictor | countries | Spearman | MALE "
                "| partial given last year |", "|---|---|---|---|---|---|---|"]
            for r in oos.to_dict("records"):
                part = r.get("partial")
                part_s = f"{part:.3f}" if isinstance(part, float) and part == part else "-"
                lines.append(f"| {r['holdout']} | {r['fitted']} | {r['predictor']} | {r['n']} "
                             f"| {r['spearman']:.3f} | {r['male']:.3f} | {part_s} |")
            lines.append("")
            for h, g in oos.groupby("holdout"):
                by = g.set_index("predictor")
                c, last = by.loc["calibrated"], by.loc["last_year"]
                verdict = [("beats" if c["spearman"] > last["spearman"] else "does not beat")
                           + f" last year's seizures on rank ({c['spearman']:.3f} against "
                           f"{last['spearman']:.3f})",
                           ("beats" if c["male"] < last["male"] else "loses to")
                           + f" them on the log error ({c['male']:.3f} against "
                           f"{last['male']:.3f})"]
                lines.append(f"- {h}: the calibrated model " + " and ".join(verdict) + ".")
    return "\n".join(lines) + "\n"


def replace_block(text: str, block: str) -> str:
    """Return ``text`` with the block between the markers replaced by ``block``."""
    a, b = text.index(START), text.index(END)
    return text[:a + len(START)] + "\n" + block + text[b:]


def readme_block(text: str) -> str:
    """Return the block between the markers of ``text``."""
    a, b = text.index(START), text.index(END)
    return text[a + len(START) + 1:b]


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("reports", type=Path, help="the report folder of a `make demo` run")
    p.add_argument("--write", type=Path, default=None, metavar="README",
                   help="replace the block in this file instead of printing it")
    args = p.parse_args(argv)
    block = figures(args.reports)
    if args.write is None:
        sys.stdout.write(block)
        return 0
    text = args.write.read_text(encoding="utf-8")
    new = replace_block(text, block)
    if new != text:
        args.write.write_text(new, encoding="utf-8")
        print(f"readme_figures: updated {args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

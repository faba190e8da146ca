"""Derive data/geo/seizures.csv from UNODC's Drug seizures table (dataUNODC), 2018-2022.

Source: ``data/observed/unodc_opioid_seizures_2018_2022.csv``, the opioid rows of UNODC's
"Drug seizures" table (dataUNODC, data.unodc.org), every reporting country, kilograms by drug
and year, values unchanged (see data/geo/SOURCES.md for the retrieval). Run through
``make data``::

    python scripts/make_seizures.py data/observed/unodc_opioid_seizures_2018_2022.csv \
        data/geo/countries.geojson data/geo/seizures.csv

Steps:

- keep the countries of the network (the ISO3 codes of ``countries.geojson``) and the opiates
  (heroin, opium, illicit morphine, poppy straw, other illicit opiates); pharmaceutical opioids
  (methadone, tramadol, fentanyl...) are left out: they are not Afghan opiates;
- one row per country and year of the source (2018-2022), every pair present: a drug a country
  did not report is empty (NaN), never 0 (nothing reported is not nothing seized);
- ``heroin_eq_kg = heroin_kg + morphine_kg + opium_kg / 10``, UNODC's conversion of opiate
  seizures to heroin equivalents (10 kg of opium for 1 kg of heroin, morphine 1:1; World Drug
  Report 2020: 2018 seizures of 704 t opium, 97 t heroin and 43 t morphine are 210 t in heroin
  equivalents, and 704 / 10 + 97 + 43 = 210.4). The drugs a country did not report count as
  nothing in the sum; a country-year that reported none of the three is empty. Poppy straw,
  poppy plants and "other illicit opiates" (including acetylated opium) are kept as raw
  columns but not converted: UNODC gives no heroin-equivalent factor for them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

#: Raw drug names of the source -> column of seizures.csv (kilograms).
DRUGS = {
    "Heroin": "heroin_kg",
    "Opium": "opium_kg",
    "Illicit morphine": "morphine_kg",
    "Poppy straw (seed heads, pods or capsules)": "poppy_straw_kg",
    "Poppy plants": "poppy_plants_kg",
    "Other illicit opiates": "other_opiates_kg",
    "Acetylated opium": "other_opiates_kg",
}
#: Heroin-equivalent factors (kg of heroin per kg seized), UNODC World Drug Report convention.
HEROIN_EQ = {"heroin_kg": 1.0, "morphine_kg": 1.0, "opium_kg": 0.1}
SOURCE = "UNODC, Drug seizures, dataUNODC (data.unodc.org), 2018-2022"
COLUMNS = ["iso3", "country", "year", "heroin_eq_kg", "heroin_kg", "opium_kg", "morphine_kg",
           "poppy_straw_kg", "poppy_plants_kg", "other_opiates_kg", "source"]


def derive(raw: pd.DataFrame, iso3: set[str]) -> pd.DataFrame:
    """Return the seizures table (module notes) from the raw UNODC rows."""
    names = raw[["iso3", "country"]].drop_duplicates("iso3").set_index("iso3")["country"]
    keep = raw[raw["iso3"].isin(iso3) & raw["drug"].isin(list(DRUGS))].copy()
    keep["column"] = keep["drug"].map(DRUGS)
    wide = keep.pivot_table(index=["iso3", "year"], columns="column", values="kilograms",
                            aggfunc="sum")
    years = range(int(raw["year"].min()), int(raw["year"].max()) + 1)
    grid = pd.MultiIndex.from_product([sorted(iso3), years], names=["iso3", "year"])
    out = wide.reindex(grid)
    for col in dict.fromkeys(DRUGS.values()):
        if col not in out:
            out[col] = np.nan
    conv = out[list(HEROIN_EQ)]
    heq = sum(conv[c].fillna(0.0) * f for c, f in HEROIN_EQ.items())
    out["heroin_eq_kg"] = heq.where(conv.notna().any(axis=1))
    out = out.reset_index()
    out["country"] = out["iso3"].map(names)
    out["source"] = SOURCE
    return out[COLUMNS].sort_values(["iso3", "year"]).reset_index(drop=True)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: make_seizures.py RAW.csv countries.geojson OUT.csv", file=sys.stderr)
        return 2
    raw_path, countries_path, out_path = (Path(a) for a in argv)
    raw = pd.read_csv(raw_path)
    features = json.loads(countries_path.read_text(encoding="utf-8"))["features"]
    iso3 = {f["properties"]["iso3"] for f in features}
    df = derive(raw, iso3)
    # A country of the network that UNODC does not list at all (Kosovo) has no row.
    df = df[df["country"].notna()]
    tmp = out_path.with_suffix(".tmp")
    df.to_csv(tmp, index=False, float_format="%.6g", lineterminator="\n")
    tmp.replace(out_path)
    reported = df["heroin_eq_kg"].notna().sum()
    print(f"wrote {out_path}: {df['iso3'].nunique()} countries, years "
          f"{df['year'].min()}-{df['year'].max()}, {reported} of {len(df)} country-years "
          f"with a heroin-equivalent figure")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

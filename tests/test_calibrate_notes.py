"""The calibrate command's note on seizure rates above 1 (a gap of the model, not a rate)."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import pandas as pd

from routes.cli.calibrate import rates_above_one


def _rates(rows: list[tuple[str, float, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"iso3": c, "rate": r, "p05": r / 1.9, "p95": r * 1.9, "n_obs": n, "flow_kg": 1234.5}
         for c, r, n in rows]).set_index("iso3")


def test_only_fitted_rates_above_one_are_noted_highest_first() -> None:
    """Rates of exactly 1 or below, and countries without reports, get no note; the notes
    run from the highest rate down and name rate, interval and modelled flow."""
    notes = rates_above_one(_rates([("AAA", 1.0, 3), ("BBB", 1.21, 4), ("CCC", 3.7, 0),
                                    ("DDD", 0.3, 4), ("EEE", 2.5, 1)]))
    assert [n.split()[1] for n in notes] == ["EEE", "BBB"]
    assert notes[1].startswith("note: BBB seizes more than the model routes through it "
                               "(rate 1.21, 90% 0.637-2.3, modelled flow 1,234 kg)")
    assert "under-routes BBB" in notes[1]


def test_no_rates_no_notes() -> None:
    assert rates_above_one(None) == []
    assert rates_above_one(pd.DataFrame()) == []
    assert rates_above_one(_rates([("AAA", 0.5, 2), ("BBB", math.nan, 2)])) == []


def test_readme_claim_turkey_alone_above_one_in_the_shipped_fit() -> None:
    """The README says Turkey is the one country of the shipped calibrated model whose rate
    is above 1; this keeps the sentence true when the model is refitted."""
    path = Path(__file__).resolve().parents[1] / "data" / "geo" / "cost_model_calibrated.toml"
    rates = tomllib.loads(path.read_text(encoding="utf-8"))["observation"]["seizure_rates"]
    assert sorted(c for c, r in rates.items() if r > 1.0) == ["TUR"]
    assert "Turkey alone in the shipped fit" in (path.parents[2] / "README.md").read_text()

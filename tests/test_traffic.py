"""``border_traffic.csv``: the reader's checks, bad rows reported by file, row and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from routes.cli import main
from routes.costs import load_cost_model
from routes.geodata import load_dataset
from routes.settings import DATA_DIR
from routes.traffic import TRAFFIC_FIELDS

HAND = Path(__file__).parent / "data" / "handworked"
HEADER = ",".join(TRAFFIC_FIELDS) + "\n"
GOOD = 'x_mid,both,2024-01-01,2024-01-31,120,300,900,2.5,flow,,"Test agency, Bulletin, 2024"\n'


def _copy(tmp_path: Path, traffic: str | None) -> Path:
    d = tmp_path / "data"
    shutil.copytree(HAND, d)
    if traffic is not None:
        (d / "border_traffic.csv").write_text(traffic)
    return d


def test_good_file_is_read(tmp_path):
    d = _copy(tmp_path, HEADER + GOOD)
    cm = load_cost_model(d / "cost_model.toml")
    ds = load_dataset(d, classes=set(cm.classes))
    t = ds.border_traffic
    assert t is not None and len(t) == 1
    assert t.at[0, "trucks_per_day"] == 120.0 and t.at[0, "clearance_h"] == 2.5
    assert str(t.at[0, "period_end"].date()) == "2024-01-31"
    assert "border_traffic" not in ds.hashes     # the network's data hash is unchanged


def test_absent_file_is_none(tmp_path):
    d = _copy(tmp_path, None)
    assert load_dataset(d).border_traffic is None


@pytest.mark.parametrize(("row_text", "field", "message"), [
    ("x_nowhere,both,2024-01-01,2024-01-31,1,,,,flow,,s\n", "crossing_id",
     "unknown crossing id 'x_nowhere'"),
    ("x_mid,upstream,2024-01-01,2024-01-31,1,,,,flow,,s\n", "direction",
     "'upstream' is not one of"),
    ("x_mid,both,2024-02-30,2024-03-31,1,,,,flow,,s\n", "period_start", "not an ISO date"),
    ("x_mid,both,2024-03-01,2024-01-31,1,,,,flow,,s\n", "period_end",
     "2024-01-31 is before period_start 2024-03-01"),
    ("x_mid,both,2024-01-01,2024-01-31,-5,,,,flow,,s\n", "trucks_per_day", "out of range"),
    ("x_mid,both,2024-01-01,2024-01-31,,inf,,,flow,,s\n", "vehicles_per_day",
     "not a finite number: 'inf'"),
    ("x_mid,both,2024-01-01,2024-01-31,,,many,,flow,,s\n", "people_per_day",
     "not a number: 'many'"),
    ("x_mid,both,2024-01-01,2024-01-31,,,,nan,flow,,s\n", "clearance_h", "not a finite number"),
    ("x_mid,both,2024-01-01,2024-01-31,,,,,flow,,s\n", "trucks_per_day", "no figure"),
    ("x_mid,both,2024-01-01,2024-01-31,5,,,,guess,,s\n", "kind", "'guess' is not one of"),
    ("x_mid,both,2024-01-01,2024-01-31,500,,,,capacity,,s\n", "note",
     "a capacity row needs a note"),
    ("x_mid,both,2024-01-05,2024-01-05,50,,,,flow,,s\n", "note",
     "a one-day count needs a note"),
    ("x_mid,both,2024-01-01,2024-01-31,5,,,,flow,,\n", "source", "empty; a value is required"),
])
def test_bad_rows_exit_2_nothing_written(tmp_path, row_text, field, message, capsys):
    d = _copy(tmp_path, HEADER + GOOD + row_text)
    before = {p: p.read_bytes() for p in d.iterdir() if p.is_file()}
    assert main(["validate", str(d)]) == 2
    err = capsys.readouterr().err
    assert "border_traffic.csv" in err and f"row 3, field '{field}'" in err and message in err, err
    out = tmp_path / "out"
    assert main(["build", "--data", str(d), "--out", str(out)]) == 2
    assert not out.exists()
    assert {p: p.read_bytes() for p in d.iterdir() if p.is_file()} == before


def test_every_problem_is_reported_at_once(tmp_path, capsys):
    d = _copy(tmp_path, HEADER + "x_nowhere,both,2024-01-01,2023-01-01,-1,,,,flow,,s\n")
    assert main(["validate", str(d)]) == 2
    err = capsys.readouterr().err
    for field in ("crossing_id", "period_end", "trucks_per_day"):
        assert f"row 2, field '{field}'" in err


def test_missing_column(tmp_path, capsys):
    d = _copy(tmp_path, HEADER.replace(",clearance_h", "") + "x_mid,both,2024-01-01,"
              "2024-01-31,1,,,flow,,s\n")
    assert main(["validate", str(d)]) == 2
    assert "row 1, field 'clearance_h': required column missing" in capsys.readouterr().err


def test_shipped_traffic(dataset):
    """The shipped file: >= 25 crossings with a sourced flow, capacity or clearance figure."""
    t = dataset.border_traffic
    assert t is not None
    figures = t[t["kind"] != "queue"]
    assert figures["crossing_id"].nunique() >= 25
    assert (t["source"].str.len() > 10).all()
    assert set(t["crossing_id"]) <= set(dataset.crossings["id"])
    assert (DATA_DIR / "border_traffic.csv").exists()

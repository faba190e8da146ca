"""Non-finite or overflowing numbers in any input file: exit 2, one message naming where.

``1e400`` is larger than any float (Python and pandas read it as infinity), ``inf`` and
``nan`` are spelt out by spreadsheets and by TOML; each is refused where it is read, with file,
row and field, and never reaches a computation (before: ``1e400`` as a crossing's latitude
ended ``routes validate`` with ``ValueError: math domain error`` in the border check).
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from routes.cli import main
from routes.settings import DATA_DIR

HAND = Path(__file__).parent / "data" / "handworked"
BAD = ["1e400", "-1e400", "inf", "nan"]


@pytest.fixture
def hand(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    shutil.copytree(HAND, d)
    return d


def set_cell(path: Path, row: int, field: str, value: str) -> None:
    """Set ``field`` of data row ``row`` (1 = the first after the header) of a CSV file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = next(csv.reader([lines[row]]))
    cells[header.index(field)] = value
    lines[row] = ",".join(f'"{c}"' if "," in c else c for c in cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, err


@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize("file, row, field", [
    ("crossings.csv", 1, "lat"), ("crossings.csv", 1, "lon"),
    ("crossings.csv", 1, "p_detect"), ("crossings.csv", 1, "upgrade_cost"),
    ("places.csv", 1, "lat"), ("places.csv", 2, "lon"),
    ("places.csv", 1, "supply"), ("places.csv", 2, "demand"),
])
def test_csv_number(capsys, hand, file, row, field, value):
    set_cell(hand / file, row, field, value)
    code, err = run(capsys, "validate", hand)
    assert code == 2
    assert f"{hand / file}, row {row + 1}, field '{field}': not a finite number: " \
           f"'{value}'" in err


@pytest.mark.parametrize("value", ["1e400", "inf", "nan"])
@pytest.mark.parametrize("file, field", [("supply.csv", "opium_t"), ("supply.csv", "year"),
                                         ("demand.csv", "demand"), ("demand.csv", "year")])
def test_dated_csv_number(tmp_path, file, field, value):
    """The dated files' readers (the CLI case is the next test: the shipped data is slower)."""
    from routes import history

    f = tmp_path / file
    shutil.copy(DATA_DIR / file, f)
    set_cell(f, 3, field, value)
    problems: list = []
    reader = history.read_supply if file == "supply.csv" else history.read_demand
    reader(f, problems)
    assert [str(p) for p in problems] == [
        f"{f}, row 4, field '{field}': not a finite number: '{value}'"]


def test_dated_csv_number_cli(capsys, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data, ignore=shutil.ignore_patterns("scenarios"))
    set_cell(data / "supply.csv", 3, "opium_t", "1e400")
    code, err = run(capsys, "validate", data)
    assert code == 2
    assert f"{data / 'supply.csv'}, row 4, field 'opium_t': not a finite number: '1e400'" in err


@pytest.mark.parametrize("value", ["1e400", "inf", "nan"])
def test_seizures_number(capsys, tmp_path, value):
    text = (DATA_DIR / "seizures.csv").read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "seizures.csv"
    cells = text[1].split(",")
    cells[4] = value   # heroin_kg of the first row
    bad.write_text("\n".join([text[0], ",".join(cells), *text[2:]]) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    code, err = run(capsys, "calibrate", "--seizures", bad, "--out", out,
                    "--write-cost-model", tmp_path / "cm.toml")
    assert code == 2
    assert f"{bad}, row 2, field 'heroin_kg': must be a finite number of kilograms, " \
           f"got '{value}'" in err
    assert not out.exists() and not (tmp_path / "cm.toml").exists()


@pytest.mark.parametrize("value, message", [
    # GDAL refuses a number too large for a float as it parses, naming line and character
    ("1e400", "cannot read: Failed to read GeoJSON data; At line 3, character 47: "
              "Unrecognized number: 1e400"),
    # Infinity and NaN (as JSON writers spell them) are parsed: the feature is named
    ("Infinity", "field 'geometry': feature 2 (iso3 'BBB', East): a coordinate is not a "
                 "finite number"),
    ("NaN", "field 'geometry': feature 2 (iso3 'BBB', East): a coordinate is not a "
            "finite number"),
])
def test_countries_coordinate(capsys, hand, value, message):
    f = hand / "countries.geojson"
    text = f.read_text(encoding="utf-8")
    old = "[[[1, -1], [3, -1], [3, 1]"   # the second corner of the second feature (BBB)
    assert old in text
    f.write_text(text.replace(old, f"[[[1, -1], [{value}, -1], [3, 1]"), encoding="utf-8")
    code, err = run(capsys, "validate", hand)
    assert code == 2
    assert f"{f}, {message}" in err or f"{f}: {message}" in err, err


@pytest.mark.parametrize("value, shown", [("1e400", "inf"), ("inf", "inf"), ("nan", "nan"),
                                          ("-inf", "-inf")])
def test_cost_model_number(capsys, hand, value, shown):
    f = hand / "cost_model.toml"
    text = f.read_text(encoding="utf-8")
    assert "speed_kmh = 50.0" in text
    f.write_text(text.replace("speed_kmh = 50.0", f"speed_kmh = {value}", 1), encoding="utf-8")
    code, err = run(capsys, "validate", hand)
    assert code == 2
    assert f"{f}, field 'modes.road.speed_kmh': must be in [0.1, 1000.0], got {shown}" in err


@pytest.mark.parametrize("value", ["1e400", "nan"])
def test_scenario_number(capsys, hand, tmp_path, value):
    sc = tmp_path / "sc.toml"
    sc.write_text(f'[scenario]\nname = "x"\n[crossings.x_mid]\np_detect = {value}\n',
                  encoding="utf-8")
    code, err = run(capsys, "build", "--data", hand, "--scenario", sc, "--out", tmp_path / "o")
    assert code == 2
    assert str(sc) in err and "p_detect" in err, err
    assert not (tmp_path / "o").exists()

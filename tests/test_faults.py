"""The fault corpus: bad inputs, bad options and unwritable outputs give exit 2 and one message.

Tracebacks are failures: every case runs the CLI in-process and checks the exit code and the
message (file, row and field where there is one). Most cases use a copy of the hand-worked
three-node data (tests/data/handworked), so they run in seconds.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest

from routes._errors import MAX_LISTED, DataError, Problem
from routes.cli import main
from routes.cli._common import Stages
from routes.costs import load_cost_model
from routes.geodata import load_dataset
from routes.network import network_from_data
from routes.priorities.interdiction import budget_curve, total_upgrade_cost, whole_budgets

HAND = Path(__file__).parent / "data" / "handworked"
CLOSED = '[scenario]\nname = "closed"\n[crossings.x_mid]\nstatus = "closed"\n'


@pytest.fixture
def hand(tmp_path: Path) -> Path:
    """A copy of the hand-worked data (cost model included)."""
    d = tmp_path / "data"
    shutil.copytree(HAND, d)
    return d


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI; return (exit code, stdout, stderr); argparse errors give their code."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


# --------------------------------------------------------------------------- 1. ranges
@pytest.mark.parametrize("argv, message", [
    (["report", "--runs", "-1"], "argument --runs: -1 is out of range"),
    (["report", "--budget", "nan"], "argument --budget: not a finite number"),
    (["report", "--budget", "-2"], "argument --budget: -2 is out of range"),
    (["report", "--seed", "-1"], "argument --seed: -1 is out of range"),
    (["priorities", "--budget", "1", "--time-limit", "0"], "argument --time-limit: 0 is out"),
    (["priorities", "--budget", "inf"], "argument --budget: not a finite number"),
    (["uncertainty", "--runs", "0"], "argument --runs: 0 is out of range"),
    (["uncertainty", "--runs", "10000000"], "argument --runs: 10000000 is out of range"),
    (["uncertainty", "--workers", "-3"], "argument --workers: -3 is out of range"),
    (["paths", "--k", "0"], "argument --k: 0 is out of range"),
    (["paths", "--theta", "0"], "argument --theta: 0 is out of range"),
    (["centrality", "--top", "-5"], "argument --top: -5 is out of range"),
    (["compare", "baseline", "baseline", "--budget", "1e400"], "not a finite number"),
])
def test_numeric_options_have_ranges(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err


def test_budget_above_total_cost_is_clamped(capsys, hand, tmp_path):
    # Before: `--budget 1e18` built the list 0..1e18 and was OOM-killed.
    code, out, err = run(capsys, "priorities", "--data", hand, "--budget", "1e18",
                         "--out", tmp_path / "out", "--no-progress")
    assert code == 0
    assert ("budget 1e+18 is more than the cost of upgrading every post (1); using 1"
            in err)
    curve = pd.read_csv(tmp_path / "out" / "baseline" / "priorities_curve.csv")
    assert curve["budget"].tolist() == [0, 1]


def test_whole_budgets_bounded_by_the_data(hand):
    cm = load_cost_model(hand / "cost_model.toml")
    G = network_from_data(load_dataset(hand, classes=set(cm.classes)), cm)
    assert total_upgrade_cost(G, cm=cm) == 1.0
    assert whole_budgets(G, 1e18, cm=cm) == [0.0, 1.0]
    assert budget_curve(G, 1e300, cm=cm)["budget"].tolist() == [0.0, 1.0]
    with pytest.raises(DataError.__mro__[1], match="budget must be a number"):
        whole_budgets(G, math.nan, cm=cm)


# --------------------------------------------------------------------------- 3. no tracebacks
def test_out_is_a_file(capsys, hand, tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    for cmd in (["report", "--no-progress"], ["build"], ["centrality"],
                ["priorities", "--budget", "1", "--no-progress"]):
        code, _, err = run(capsys, *cmd, "--data", hand, "--out", f)
        assert code == 2, cmd
        assert f"{f}" in err and "is a file" in err, cmd


def test_report_checks_its_output_before_the_analyses(capsys, hand, tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    t0 = time.perf_counter()
    code, _, err = run(capsys, "report", "--data", hand, "--out", f / "sub", "--no-progress")
    assert code == 2
    assert f"cannot create output folder {f / 'sub'}: {f} is a file, not a folder" in err
    assert time.perf_counter() - t0 < 20  # no analysis ran (a full run takes longer)


@pytest.mark.parametrize("target", ["folder", "under_a_file"])
def test_map_output_unwritable(capsys, hand, tmp_path, target):
    out = tmp_path if target == "folder" else tmp_path / "f.txt" / "map.html"
    (tmp_path / "f.txt").write_text("x")
    code, _, err = run(capsys, "map", "--data", hand, "-o", out, "--no-analyses")
    assert code == 2
    assert str(out) in err
    assert ("is a folder; give a file name" if target == "folder" else "is a file") in err


def test_input_is_a_folder(capsys, hand):
    (hand / "crossings.csv").unlink()
    (hand / "crossings.csv").mkdir()
    code, _, err = run(capsys, "validate", hand)
    assert code == 2
    assert f"{hand / 'crossings.csv'}: is a folder, not a file" in err


def test_cost_model_is_a_folder(capsys, hand):
    code, _, err = run(capsys, "build", "--data", hand, "--cost-model", hand,
                       "--out", hand / "out")
    assert code == 2
    assert str(hand) in err and "Traceback" not in err


def test_country_without_geometry(capsys, hand):
    gj = json.loads((hand / "countries.geojson").read_text())
    gj["features"][0]["geometry"] = None
    (hand / "countries.geojson").write_text(json.dumps(gj))
    code, _, err = run(capsys, "validate", hand)
    assert code == 2
    iso = gj["features"][0]["properties"]["iso3"]
    assert f"countries.geojson, field 'geometry': feature 1 (iso3 '{iso}'" in err
    assert "no geometry" in err


def test_scenario_sources_not_a_list(capsys, hand, tmp_path):
    sc = tmp_path / "s.toml"
    sc.write_text('[scenario]\nname = "s"\nsources = 5\n')
    code, _, err = run(capsys, "build", "--data", hand, "--scenario", sc, "--out", tmp_path)
    assert code == 2
    assert f"{sc}, field 'scenario.sources': must be a list of strings, got 5" in err


def test_scheduler_address_refused_at_once(capsys, hand, tmp_path):
    t0 = time.perf_counter()
    code, _, err = run(capsys, "uncertainty", "--data", hand, "--scheduler", "not-a-url::",
                       "--runs", "2", "--out", tmp_path)
    assert code == 2
    assert "argument --scheduler: not a Dask scheduler address" in err
    assert time.perf_counter() - t0 < 20  # before: a traceback after 30 s


# --------------------------------------------------------------------------- 4. bad values
@pytest.mark.parametrize("line, field", [
    ("p_detect = nan", "crossings.x_mid.p_detect"),
    ("delay_h = inf", "crossings.x_mid.delay_h"),
])
def test_scenario_non_finite_values(capsys, hand, tmp_path, line, field):
    sc = tmp_path / "s.toml"
    sc.write_text(f'[scenario]\nname = "s"\n[crossings.x_mid]\n{line}\n')
    code, _, err = run(capsys, "build", "--data", hand, "--scenario", sc, "--out", tmp_path)
    assert code == 2
    assert f"{sc}, field '{field}': must be a finite number >= 0" in err


def test_uncertainty_without_a_route(capsys, hand, tmp_path):
    sc = tmp_path / "closed.toml"
    sc.write_text(CLOSED)
    code, _, err = run(capsys, "uncertainty", "--data", hand, "--scenario", sc, "--runs", "3",
                       "--workers", "0", "--no-progress", "--out", tmp_path)
    assert code == 2
    assert "no route from any origin to any market" in err


# --------------------------------------------------------------------------- 5. control chars
def test_control_character_in_a_name(capsys, hand, tmp_path):
    edit(hand / "places.csv", "West town", "West\x01town")
    code, _, err = run(capsys, "build", "--data", hand, "--out", tmp_path / "out")
    assert code == 2
    assert (f"{hand / 'places.csv'}, row 2, field 'name': control character U+0001 in the "
            "text") in err
    assert not (tmp_path / "out").exists()


def test_control_character_in_a_scenario_name(capsys, hand, tmp_path):
    sc = tmp_path / "s.toml"
    sc.write_text('[scenario]\nname = "bad\\u0001name"\n')
    code, _, err = run(capsys, "build", "--data", hand, "--scenario", sc, "--out", tmp_path)
    assert code == 2
    assert "field 'scenario.name': control character" in err


# --------------------------------------------------------------------------- 6. folder names
@pytest.mark.parametrize("name", ["...toml", "..toml", "a b;c.toml"])
def test_output_folder_stays_inside_out(capsys, hand, tmp_path, name):
    sc = tmp_path / name
    sc.write_text('[scenario]\nname = "s"\n')
    out = tmp_path / "out"
    code, _, _ = run(capsys, "build", "--data", hand, "--scenario", sc, "--out", out)
    assert code == 0
    written = [p for p in tmp_path.rglob("network.graphml")]
    assert len(written) == 1
    assert written[0].parent.parent == out and not written[0].parent.name.startswith(".")


# --------------------------------------------------------------------------- 7. messages
def test_row_numbers_after_blank_lines_and_multiline_values(capsys, hand):
    (hand / "places.csv").write_text(
        "id,name,country,lat,lon,role,supply,demand,figure_source,source\n"
        "\n"
        'p_west,"West\ntown",AAA,0.0,0.0,origin,10,,test,hand-worked test case\n'
        "\n"
        "p_east,East town,BBB,north,2.0,market,,4,test,hand-worked test case\n")
    code, _, err = run(capsys, "validate", hand)
    assert code == 2
    # p_east starts on line 6 of the file (header 1, blank 2, p_west 3-4, blank 5).
    assert f"{hand / 'places.csv'}, row 6, field 'lat': not a number: 'north'" in err


def test_non_utf8_bytes_name_the_row(capsys, hand):
    raw = (hand / "crossings.csv").read_bytes().replace(b"Middle post", b"Middle p\xf6st")
    (hand / "crossings.csv").write_bytes(raw)
    code, _, err = run(capsys, "validate", hand)
    assert code == 2
    assert f"{hand / 'crossings.csv'}, row 2: not UTF-8: byte 0xf6" in err


def test_semicolon_delimited_file(capsys, hand):
    text = (hand / "corridors.csv").read_text()
    (hand / "corridors.csv").write_text(text.replace(",", ";"))
    code, _, err = run(capsys, "validate", hand)
    assert code == 2
    assert (f"{hand / 'corridors.csv'}, row 1, field 'id': expected comma-separated columns "
            "id,from_id,to_id,mode,source (optional: oneway); the header is separated by "
            "';'") in err
    assert "Error tokenizing" not in err


def test_row_of_the_wrong_width(capsys, hand):
    with (hand / "corridors.csv").open("a") as f:
        f.write("c_extra,p_west,x_mid,road,a source, with a comma\n")
    code, _, err = run(capsys, "validate", hand)
    assert code == 2
    assert ("corridors.csv, row 4, field 'source': 6 values but the header has 5 columns: "
            "values beyond the last column (a comma inside a value needs double quotes)") in err


@pytest.mark.parametrize("row, message", [
    ("c_extra;p_west;x_mid;road;src", "field 'from_id': 1 values but the header has 5 "
                                      "columns: the row is separated by ';', not by commas"),
    ("c_extra,p_west,x_mid", "field 'mode': 3 values but the header has 5 columns: no value "
                             "from column 'mode' on"),
])
def test_row_of_the_wrong_delimiter_or_too_short_names_the_field(capsys, hand, row, message):
    with (hand / "corridors.csv").open("a") as f:
        f.write(row + "\n")
    code, _, err = run(capsys, "validate", hand)
    assert code == 2
    assert f"corridors.csv, row 4, {message}" in err


def test_self_intersecting_country_names_the_feature(capsys, hand):
    gj = json.loads((hand / "countries.geojson").read_text())
    iso = gj["features"][1]["properties"]["iso3"]
    gj["features"][1]["geometry"] = {"type": "Polygon", "coordinates": [
        [[1.0, -1.0], [3.0, 1.0], [3.0, -1.0], [1.0, 1.0], [1.0, -1.0]]]}  # a bow tie
    (hand / "countries.geojson").write_text(json.dumps(gj))
    code, _, err = run(capsys, "validate", hand)
    assert code == 2
    assert f"countries.geojson, field 'geometry': feature 2 (iso3 '{iso}'" in err
    assert "invalid polygon (Self-intersection" in err
    assert "crossings.csv" not in err  # the crossing is not blamed
    assert f"not checked: border and inside-country checks of the crossings and places of {iso}" \
        in err


def test_problem_list_is_capped(capsys, hand):
    n = 3000
    rows = "".join(f"p{i},P{i},AAA,91,0.0,staging,,,,src\n" for i in range(n))
    edit(hand / "places.csv", "hand-worked test case\n", "hand-worked test case\n", )
    with (hand / "places.csv").open("a") as f:
        f.write(rows)
    code, _, err = run(capsys, "validate", hand)
    assert code == 2
    assert f"{n} problems in the input data" in err
    assert f"... and {n - MAX_LISTED} more" in err
    assert err.count("  - ") == MAX_LISTED


def test_data_error_lists_at_most_fifty_of_a_million():
    exc = DataError([Problem("f.csv", i + 2, "lat", "bad") for i in range(1_000_000)])
    text = str(exc)
    assert len(exc.problems) == 1_000_000
    assert text.count("\n") == MAX_LISTED + 1 and text.endswith(f"... and {999_950} more")


# --------------------------------------------------------------------------- 12. one pass
def test_validate_reports_format_and_reference_problems_together(capsys, hand):
    edit(hand / "crossings.csv", "0.0,1.0,road", "0.0,east,road")  # format (lon)
    edit(hand / "places.csv", "p_east,East town,BBB", "p_east,East town,ZZZ")  # reference
    code, _, err = run(capsys, "validate", hand)
    assert code == 2
    assert "crossings.csv, row 2, field 'lon': not a number: 'east'" in err
    assert "places.csv, row 3, field 'country': unknown ISO3 code 'ZZZ'" in err


def test_validate_says_which_checks_were_skipped(capsys, hand):
    (hand / "countries.geojson").write_text("{ not json")
    edit(hand / "places.csv", "p_east,East town,BBB,0.0", "p_east,East town,BBB,north")
    code, _, err = run(capsys, "validate", hand)
    assert code == 2
    assert "countries.geojson: cannot read" in err
    assert "places.csv, row 3, field 'lat': not a number: 'north'" in err
    assert ("not checked: the checks of the other files against countries.geojson "
            "(countries.geojson could not be read)") in err
    assert "unknown ISO3 code" not in err


def test_validate_scenarios_in_one_pass(capsys, hand):
    (hand / "scenarios").mkdir()
    sc = hand / "scenarios" / "bad.toml"
    sc.write_text('[scenario]\nname = "bad"\n[crossings.x_mid]\np_detect = 2.0\n'
                  '[crossings.x_nowhere]\nstatus = "closed"\n')
    code, _, err = run(capsys, "validate", hand)
    assert code == 2
    assert f"{sc}, field 'crossings.x_mid.p_detect': must be <= 0.99" in err
    assert f"{sc}, field 'crossings.x_nowhere': unknown crossing id" in err


# --------------------------------------------------------------------------- 13. progress
class _Log:
    """A stream that is not a terminal and records what was written."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, s: str) -> int:
        self.text += s
        return len(s)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def test_progress_names_the_running_stage_in_plain_lines():
    log = _Log()
    with Stages("report", ["load data", "network", "pages"], stream=log) as st:
        assert log.text == "report [1/3]: load data ...\n"  # said before it runs
        st.done("load data")
        assert log.text.endswith("report [2/3]: network ...\n")
        st.note("budget 2 of 5")
        st.done("network")
        st.done("pages")
    assert "\r" not in log.text
    assert log.text.splitlines() == ["report [1/3]: load data ...", "report [2/3]: network ...",
                                     "report: budget 2 of 5", "report [3/3]: pages ..."]


def test_priorities_reports_its_stages(capsys, hand, tmp_path):
    code, _, err = run(capsys, "priorities", "--data", hand, "--budget", "1", "--objective",
                       "flow", "--out", tmp_path)
    assert code == 0
    lines = [line for line in err.splitlines() if line.startswith("priorities")]
    assert lines[0] == "priorities [1/5]: load data ..."
    assert "priorities [3/5]: budget curve ..." in lines
    assert any(line.startswith("priorities: budget 1 (2 of 2): value ") for line in lines)
    assert "\r" not in err


def test_uncertainty_progress_outside_a_terminal(capsys, hand, tmp_path):
    code, _, err = run(capsys, "uncertainty", "--data", hand, "--runs", "3", "--workers", "0",
                       "--out", tmp_path)
    assert code == 0
    assert "uncertainty: 3 runs ..." in err
    assert "\r" not in err

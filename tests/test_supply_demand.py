"""supply.csv and demand.csv: survey totals, ids and roles, years, sources, units."""

from __future__ import annotations

import functools
import importlib.util
import re
import tomllib
from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routes.settings import DATA_DIR

ROOT = Path(__file__).resolve().parents[1]
YEARS = list(range(2018, 2026))

# National potential opium production (tonnes) of the UNODC Afghanistan Opium Surveys, written
# by hand from the surveys and press releases (see data/geo/SOURCES.md), independently of the
# generator script that wrote supply.csv.
SURVEY_TOTAL_T = {2018: 6400, 2019: 6400, 2020: 6300, 2021: 6800, 2022: 6200, 2023: 333,
                  2024: 433, 2025: 296}

CONVERSIONS = {"count", "pwid_count", "ocu_count", "users_x_opiate_share",
               "prevalence_x_population", "city_population_split"}


@pytest.fixture(scope="module")
def supply() -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / "supply.csv", dtype={"origin_id": str, "source": str})


@pytest.fixture(scope="module")
def demand() -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / "demand.csv", dtype={"market_id": str, "figure": str,
                                                       "conversion": str, "source": str})


@pytest.fixture(scope="module")
def places() -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / "places.csv", dtype=str, keep_default_na=False).set_index("id")


@functools.cache
def _script():
    spec = importlib.util.spec_from_file_location("make_supply_demand",
                                                  ROOT / "scripts" / "make_supply_demand.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ------------------------------------------------------------------------------------ supply
def test_supply_columns_and_units(supply):
    assert supply.columns.tolist() == ["origin_id", "year", "opium_t", "source"]
    assert (supply["opium_t"] > 0).all()
    assert not supply.duplicated(["origin_id", "year"]).any()


def test_supply_totals_equal_the_hand_written_survey_totals(supply):
    assert supply.groupby("year")["opium_t"].sum().to_dict() == SURVEY_TOTAL_T


def test_supply_totals_equal_the_totals_their_sources_state(supply):
    # each row's source names the survey total it is a share of ("national total 6,400 t: ...")
    stated = supply["source"].str.extract(r"^national total ([\d,]+) t: ")[0]
    assert stated.notna().all()
    stated = stated.str.replace(",", "").astype(int)
    for year, grp in supply.assign(stated=stated).groupby("year"):
        assert grp["stated"].nunique() == 1, year
        assert grp["opium_t"].sum() == grp["stated"].iloc[0], year


def test_supply_covers_every_year_with_six_regional_origins(supply):
    assert sorted(supply["year"].unique()) == YEARS
    assert supply["origin_id"].nunique() >= 6
    for year, grp in supply.groupby("year"):
        assert len(grp) >= 5, f"{year}: fewer than five regions"


def test_supply_origins_are_origin_places_in_afghanistan(supply, places):
    for oid in supply["origin_id"].unique():
        assert oid in places.index, oid
        assert places.at[oid, "role"] == "origin", oid
        assert places.at[oid, "country"] == "AFG", oid


def test_supply_rows_cite_the_survey_and_say_when_imputed(supply):
    assert (supply["source"].str.len() > 40).all()
    assert supply["source"].str.contains("UNODC").all()
    # years without a published regional split say so
    for year in (2019, 2020, 2022, 2025):
        rows = supply[supply["year"] == year]
        assert rows["source"].str.contains("imputed").all(), year


def test_places_supply_is_the_latest_year(supply, places):
    latest = supply[supply["year"] == supply["year"].max()].set_index("origin_id")["opium_t"]
    origins = places[places["role"] == "origin"]
    assert set(origins.index) == set(latest.index)
    for oid, t in latest.items():
        assert float(places.at[oid, "supply"]) == t, oid


# ------------------------------------------------------------------------------------ demand
def test_demand_columns_and_units(demand):
    assert demand.columns.tolist() == ["market_id", "year", "demand", "figure", "conversion",
                                       "source"]
    assert (demand["demand"] > 0).all()
    assert not demand.duplicated(["market_id", "year"]).any()
    assert demand["year"].between(2000, 2025).all()
    for col in ("figure", "conversion", "source"):
        assert (demand[col].fillna("").str.len() > 0).all(), col


def test_demand_conversions_are_the_documented_rules(demand):
    used = {c.strip() for cell in demand["conversion"] for c in cell.split(";")}
    assert used <= CONVERSIONS
    sources_md = (DATA_DIR / "SOURCES.md").read_text(encoding="utf-8")
    for rule in used:
        assert f"`{rule}`" in sources_md, f"conversion {rule} not documented in SOURCES.md"


def test_demand_markets_are_market_places(demand, places):
    for mid in demand["market_id"].unique():
        assert mid in places.index, mid
        assert places.at[mid, "role"] == "market", mid
    markets = set(places.index[places["role"] == "market"])
    assert markets == set(demand["market_id"]), "a market without a demand row"


def test_demand_covers_the_route_countries(demand, places):
    countries = set(places.loc[demand["market_id"].unique(), "country"])
    for c in ("IRN", "PAK", "KAZ", "KGZ", "TJK", "TKM", "UZB", "RUS", "TUR", "GEO", "AZE", "DEU",
              "ITA", "FRA", "GBR"):
        assert c in countries, c


def test_places_demand_is_the_newest_estimate(demand, places):
    newest = demand.sort_values("year").groupby("market_id").last()["demand"]
    for mid, d in newest.items():
        assert float(places.at[mid, "demand"]) == pytest.approx(d), mid


def test_city_split_preserves_the_national_figure(demand):
    russia = demand[demand["conversion"].str.contains("city_population_split")
                    & demand["figure"].str.contains("Russian Federation")]
    assert len(russia) == 5
    national = float(re.search(r"([\d,.]+) thousand nationally", russia["figure"].iloc[0])
                     .group(1).replace(",", ""))
    assert russia["demand"].sum() == pytest.approx(national, abs=0.01)
    assert national == pytest.approx(0.014 * 94921.361, abs=0.05)


# ------------------------------------------------------------------- conversion and generator
def test_cost_model_documents_the_opium_to_heroin_conversion():
    raw = tomllib.loads((DATA_DIR / "cost_model.toml").read_text(encoding="utf-8"))
    assert raw["conversion"]["opium_per_heroin"] == 10.0


def test_generator_reproduces_the_shipped_files(tmp_path):
    mod = _script()
    assert mod.main(["make_supply_demand.py", str(tmp_path)]) == 0
    for f in ("supply.csv", "demand.csv"):
        assert (tmp_path / f).read_bytes() == (DATA_DIR / f).read_bytes(), f


def test_largest_remainder_hand_worked():
    lr = _script().largest_remainder
    # 433 t over shares 2/3, 0.2, 2/15: exact 288.67, 86.6, 57.73 -> floors 288, 86, 57 (431);
    # the two largest remainders (0.73, 0.67) get one tonne each.
    assert lr(433, {"a": Fraction(2, 3), "b": Fraction(1, 5), "c": Fraction(2, 15)}) == \
        {"a": 289, "b": 86, "c": 58}


# The inputs are tiny (< 1 ms to draw); what once tripped `too_slow` on a loaded machine is
# Hypothesis's own scan of the project's modules for constants to try (it parses the source of
# every newly imported local module, uncached on a clean clone: ~1 s for the whole package on
# a busy 2-core machine), which runs inside a draw and is timed as input generation.
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000),
       st.lists(st.integers(1, 1000), min_size=1, max_size=8))
def test_largest_remainder_sums_exactly(total, weights):
    lr = _script().largest_remainder
    shares = {str(i): Fraction(w, sum(weights)) for i, w in enumerate(weights)}
    out = lr(total, shares)
    assert sum(out.values()) == total
    for k, v in out.items():
        assert abs(v - total * shares[k]) < 1

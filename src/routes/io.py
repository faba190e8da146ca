"""Exports at the edge of the pipeline, every one written atomically.

Each writer writes to a temporary file in the destination folder and moves it into place with
``os.replace``, so a failed run never leaves a half-written file behind. A folder written as a
whole (a report) is written into a temporary folder beside it and swapped in one step
(:func:`replace_dir`), under a lock that keeps two runs from writing it at once
(:func:`dir_lock`).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import pandas as pd
import pyogrio

from ._errors import RoutesError
from .network import network_to_gdfs

__all__ = [
    "safe_name",
    "check_output_dir",
    "check_output_file",
    "dir_lock",
    "replace_dir",
    "atomic_path",
    "atomic_write_text",
    "write_graphml",
    "read_graphml",
    "write_geopackage",
    "write_geojson",
    "write_csv",
    "write_network",
    "data_date",
    "CSV_FLOAT_FORMAT",
]


#: Seconds :func:`replace_dir` waits before its swap when this environment variable holds a
#: number: a test hook that lets a test kill a run inside the write at a known point.
PAUSE_ENV = "ROUTES_TEST_PAUSE_BEFORE_SWAP"

_UNSAFE = re.compile(r"[^\w.-]+")
_HELD: dict[str, int] = {}  # folders whose lock this process holds -> depth


def safe_name(text: str, *, default: str = "output") -> str:
    """Return ``text`` as a folder or file name that stays inside its parent folder.

    Runs of characters other than letters, digits, ``.``, ``_`` and ``-`` become ``_``;
    leading dots and underscores are dropped (no ``..``, no hidden names); at most 100
    characters; ``default`` when nothing is left.

    Examples
    --------
    >>> safe_name("eu_east_reopened_2022"), safe_name("a b/c")
    ('eu_east_reopened_2022', 'a_b_c')
    >>> safe_name(".."), safe_name("../../etc"), safe_name("...")
    ('output', 'etc', 'output')
    """
    name = _UNSAFE.sub("_", str(text)).lstrip("._")[:100].rstrip(".")
    return name or default


def check_output_dir(path: str | Path, *, what: str = "output folder") -> Path:
    """Check that folder ``path`` can be written (it is created only when written to).

    Raises
    ------
    RoutesError
        When ``path`` or one of its parents is a file, or the nearest existing folder is not
        writable (one line naming it).
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise RoutesError(f"{what} {p} is a file, not a folder")
    near = p
    while not near.exists() and near != near.parent:
        near = near.parent
    if not near.is_dir():
        raise RoutesError(f"cannot create {what} {p}: {near} is a file, not a folder")
    if not os.access(near, os.W_OK | os.X_OK):
        raise RoutesError(f"{what} {p} is not writable ({near} is read-only)")
    return p


def check_output_file(path: str | Path, *, what: str = "output file") -> Path:
    """Check that file ``path`` can be written.

    Raises
    ------
    RoutesError
        When ``path`` is a folder or not writable, or its folder cannot be created.
    """
    p = Path(path)
    if p.is_dir():
        raise RoutesError(f"{what} {p} is a folder; give a file name")
    if p.exists() and not os.access(p, os.W_OK):
        raise RoutesError(f"{what} {p} is not writable")
    try:
        check_output_dir(p.parent, what="folder")
    except RoutesError as exc:
        raise RoutesError(f"cannot write {what} {p}: {exc}") from None
    return p


@contextlib.contextmanager
def dir_lock(path: str | Path) -> Iterator[Path]:
    """Hold the exclusive lock of folder ``path``: the file ``.<name>.lock`` beside it.

    The lock file exists only while a run holds it: it is removed on release, so a finished
    run leaves nothing beside ``path`` (a killed run leaves it, unlocked, and the next run
    takes it and removes it). Re-entrant within a process. Leftovers of a run that was killed
    while writing ``path`` (see :func:`replace_dir`) are cleaned up once the lock is held.

    Raises
    ------
    RoutesError
        At once, when another process holds the lock.
    """
    p = Path(path).absolute()
    key = str(p)
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield p.parent / f".{p.name}.lock"
        finally:
            _HELD[key] -= 1
        return
    check_output_dir(p.parent)
    p.parent.mkdir(parents=True, exist_ok=True)
    lock = p.parent / f".{p.name}.lock"
    fd = _take_lock(lock, p)
    _HELD[key] = 1
    try:
        _recover(p)
        yield lock
    finally:
        del _HELD[key]
        # Remove the file while still holding it, then unlock (see _take_lock).
        with contextlib.suppress(FileNotFoundError):
            if _same_file(fd, lock):
                os.unlink(lock)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _take_lock(lock: Path, p: Path) -> int:
    """Open, create if need be, and ``flock`` file ``lock``; return its descriptor.

    The file is removed by its holder on release, so it can be unlinked between our
    ``open`` and our ``flock``: a run that opened it just before the holder released it
    would then lock a file nobody else can reach any more, while a third run creates and
    locks a new one under the same name, and both would write. Hence the rule: the holder
    unlinks the file *before* it unlocks, and a run that got the lock checks that ``lock``
    still names the very file it locked (same device and inode); if not, it lost that race
    to a release and starts over on the current file. Whoever holds a lock that passed the
    check holds the only file the name reaches, until it unlinks it itself. A file found
    locked means a run holds it now: fail at once.
    """
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RoutesError(f"{p} is being written by another routes run (lock {lock}); "
                              "wait for it to finish or choose another output folder") from None
        if _same_file(fd, lock):
            return fd
        os.close(fd)  # released and removed since our open (perhaps re-created): retry


def _same_file(fd: int, path: Path) -> bool:
    """Whether ``path`` names the file open as ``fd`` (False when ``path`` is gone)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)


def _recover(p: Path) -> None:
    """Under the lock: restore a folder moved aside by a killed swap; drop temporary folders."""
    olds = sorted(p.parent.glob(f".{_glob_escape(p.name)}.*.old"))
    if olds and not p.exists():
        os.rename(olds.pop(), p)
    for leftover in [*olds, *p.parent.glob(f".{_glob_escape(p.name)}.*.tmp")]:
        shutil.rmtree(leftover, ignore_errors=True)


def _glob_escape(name: str) -> str:
    """Escape the glob characters of ``name``."""
    return re.sub(r"([*?\[])", r"[\1]", name)


@contextlib.contextmanager
def replace_dir(path: str | Path, *, keep: Callable[[Path], bool] | None = None
                ) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``path``; on success it replaces ``path`` whole.

    The swap is one step (Linux ``renameat2(RENAME_EXCHANGE)``; elsewhere the old folder is
    moved aside, the new one moved in, and a killed run's folder is restored by the next
    run). Holds :func:`dir_lock` throughout, so a second run into ``path`` fails clearly.
    Entries of the old folder for which ``keep(entry)`` is true (outputs of other commands
    that share the folder) are carried over (hard links, else copies) unless the new folder
    has the same name. On an exception or a kill ``path`` is left as it was.
    """
    p = Path(path)
    with dir_lock(p):
        if p.exists() and not p.is_dir():
            raise RoutesError(f"output folder {p} is a file, not a folder")
        tmp = Path(tempfile.mkdtemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent))
        try:
            yield tmp
            if p.is_dir() and keep is not None:
                _carry_over(p, tmp, keep)
            os.chmod(tmp, 0o777 & ~_umask())
            if os.environ.get(PAUSE_ENV):
                _pause(float(os.environ[PAUSE_ENV]))
            _swap(tmp, p)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _pause(seconds: float) -> None:
    """Sleep ``seconds`` in short steps (the test hook of :data:`PAUSE_ENV`).

    A signal handled by another thread of the process does not wake a long sleep in the
    main thread; short steps let a Ctrl-C (SIGINT) stop the run within a tenth of a second.
    """
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        time.sleep(min(0.1, left))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _link_or_copy(src: str | Path, dst: str | Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _carry_over(old: Path, new: Path, keep: Callable[[Path], bool]) -> None:
    for entry in sorted(old.iterdir()):
        dst = new / entry.name
        if dst.exists() or dst.is_symlink() or not keep(entry):
            continue
        if entry.is_symlink():
            os.symlink(os.readlink(entry), dst)
        elif entry.is_dir():
            shutil.copytree(entry, dst, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(entry, dst)


def _exchange(a: Path, b: Path) -> bool:
    """Swap folders ``a`` and ``b`` atomically (Linux); False where the system cannot."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap(new: Path, target: Path) -> None:
    """Put folder ``new`` at ``target``; what was at ``target`` ends up at ``new``."""
    if not target.exists():
        os.rename(new, target)
    elif not _exchange(new, target):
        aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old",
                                      dir=target.parent))
        os.rmdir(aside)
        os.rename(target, aside)
        os.rename(new, target)
        os.rename(aside, new)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it to ``path``.

    On an exception the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix or ".tmp",
                               dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # writers such as GDAL want to create the file themselves
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def _graphml_safe(G: nx.DiGraph) -> nx.DiGraph:
    """Return a copy whose attribute values GraphML can hold (str, int, float, bool)."""
    H = G.copy()
    for _, d in list(H.nodes(data=True)) + [(None, d) for *_, d in H.edges(data=True)]:
        for k, v in list(d.items()):
            if v is None:
                del d[k]
            elif not isinstance(v, str | int | float | bool):
                d[k] = json.dumps(v) if isinstance(v, list | dict | tuple) else str(v)
    for k, v in list(H.graph.items()):
        if not isinstance(v, str | int | float | bool):
            H.graph[k] = str(v)
    return H


def write_graphml(G: nx.DiGraph, path: str | Path) -> Path:
    """Write GraphML (opens in Gephi, yEd, Cytoscape); read back with :func:`read_graphml`."""
    with atomic_path(path) as tmp:
        nx.write_graphml(_graphml_safe(G), tmp)
    return Path(path)


def read_graphml(path: str | Path) -> nx.DiGraph:
    """Read a GraphML file written by :func:`write_graphml`."""
    G = nx.read_graphml(path)
    return nx.DiGraph(G)


@contextlib.contextmanager
def _gpkg_date(as_of: str | None) -> Iterator[None]:
    """Stamp GeoPackage layers with ``as_of`` instead of now, so the file is byte-identical.

    GDAL writes the time of writing into ``gpkg_contents.last_change`` unless the
    ``OGR_CURRENT_DATE`` option is set; the previous value is restored afterwards.
    """
    day = as_of if re.fullmatch(r"\d{4}-\d\d-\d\d", as_of or "") else "1970-01-01"
    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": f"{day}T00:00:00.000Z"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})


def data_date(G: nx.DiGraph) -> str:
    """Return the date a network's data describe: its ``as_of``, else its latest node's."""
    dates = [str(d.get("as_of") or "") for _, d in G.nodes(data=True)]
    return str(G.graph.get("as_of") or "") or max(dates, default="")


def write_geopackage(layers: dict[str, gpd.GeoDataFrame | pd.DataFrame],
                     path: str | Path, *, as_of: str | None = None) -> Path:
    """Write several layers into one GeoPackage (opens in QGIS), atomically.

    The layers are dated ``as_of`` (``YYYY-MM-DD``; default 1970-01-01), not with the time of
    writing, so the same layers give the same bytes.
    """
    with atomic_path(path) as tmp, _gpkg_date(as_of):
        for name, gdf in layers.items():
            frame = gdf.reset_index() if gdf.index.name else gdf
            if isinstance(frame, gpd.GeoDataFrame):
                frame.to_file(tmp, layer=name, driver="GPKG")
            else:
                gpd.GeoDataFrame(frame).to_file(tmp, layer=name, driver="GPKG")
    return Path(path)


def write_geojson(gdf: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write one GeoJSON FeatureCollection (EPSG:4326), atomically."""
    frame = gdf.reset_index() if gdf.index.name else gdf
    with atomic_path(path) as tmp:
        # The layer name is the target's, not the temporary file's (GeoJSON stores it).
        frame.to_crs("EPSG:4326").to_file(tmp, driver="GeoJSON", layer=Path(path).stem)
    return Path(path)


#: How :func:`write_csv` writes floats: 10 significant digits, so values that differ only
#: in floating-point rounding (e.g. from the two engines) are written the same.
CSV_FLOAT_FORMAT = "%.10g"


def write_csv(df: pd.DataFrame, path: str | Path, **kwargs: Any) -> Path:
    """Write a CSV (UTF-8, unix line ends, no index unless named), atomically.

    Floats are written with :data:`CSV_FLOAT_FORMAT` unless ``float_format`` is given.
    """
    kwargs.setdefault("float_format", CSV_FLOAT_FORMAT)
    frame = df.drop(columns=[df.geometry.name]) if isinstance(df, gpd.GeoDataFrame) else df
    index = frame.index.name is not None
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=index, lineterminator="\n", **kwargs)
    return Path(path)


def write_network(G: nx.DiGraph, out_dir: str | Path, *, stem: str = "network") -> list[Path]:
    """Write the network as GraphML, GeoPackage (``nodes``, ``edges``) and GeoJSON.

    Returns the paths written: ``stem.graphml``, ``stem.gpkg``, ``stem_nodes.geojson``,
    ``stem_edges.geojson``.
    """
    out = Path(out_dir)
    nodes, edges = network_to_gdfs(G)
    return [
        write_graphml(G, out / f"{stem}.graphml"),
        write_geopackage({"nodes": nodes, "edges": edges}, out / f"{stem}.gpkg",
                         as_of=data_date(G)),
        write_geojson(nodes, out / f"{stem}_nodes.geojson"),
        write_geojson(edges, out / f"{stem}_edges.geojson"),
    ]

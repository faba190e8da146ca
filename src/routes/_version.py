"""The installed package version (kept apart so that any module may import it)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("routes")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

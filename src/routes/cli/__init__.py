"""The ``routes`` command line: thin wrappers that parse, call the library, print.

Each subcommand lives in its own module of this package with ``add_parser(subparsers)`` and
``run(args) -> int``. Library errors become one message on stderr and exit code 2.

Only the subcommand being run is imported (``routes map ...`` never loads the report, and
``routes --version`` loads neither pandas nor geopandas); ``routes --help`` and an unknown
command register them all.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from .._errors import RoutesError
from .._version import __version__

__all__ = ["main", "build_parser", "COMMANDS"]

#: Subcommand modules, in the order ``routes --help`` lists them.
COMMANDS = (
    "validate",
    "build",
    "map",
    "whatif",
    "centrality",
    "paths",
    "chokepoints",
    "priorities",
    "tradeoff",
    "compare",
    "report",
    "uncertainty",
    "timeline",
    "calibrate",
    "observe",
)

_DESCRIPTION = """\
routes: Afghan opiate transit routes to Europe as a weighted network.

The shipped data (data/geo) holds sourced countries, border crossings, places and corridors;
a cost model turns them into a weighted directed network that the subcommands analyse.
Run `routes COMMAND --help` for each command's options.
"""


def build_parser(commands: Sequence[str] = COMMANDS) -> argparse.ArgumentParser:
    """Return the argument parser with the subcommands ``commands`` (default: all) registered."""
    parser = argparse.ArgumentParser(
        prog="routes", description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"routes {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log one line per pipeline stage")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in commands:
        mod = importlib.import_module(f"{__name__}.{name}")
        p = mod.add_parser(sub)
        p.set_defaults(_run=mod.run)
    return parser


def _commands_needed(argv: Sequence[str]) -> Sequence[str]:
    """Return the subcommands to register for ``argv``: the one named, none for --version."""
    for i, a in enumerate(argv):
        if not a.startswith("-"):
            return (a,) if a in COMMANDS else COMMANDS
        if a == "--version" and "-h" not in argv[:i] and "--help" not in argv[:i]:
            return ()
    return COMMANDS


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 1 failure, 2 bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_commands_needed(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 1
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args._run(args) or 0)
    except RoutesError as exc:
        print(f"routes {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        # A file the command could not read or write: one line naming it, never a traceback.
        if isinstance(exc, BrokenPipeError):  # pragma: no cover - output piped into `head`
            return 0
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"routes {args.command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        print("interrupted", file=sys.stderr)
        return 130

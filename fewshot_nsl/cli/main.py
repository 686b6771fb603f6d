"""The ``fewshot-nsl`` command: one sub-command module per concern, wired here.

Bad arguments and bad input exit with status 2 and one line naming the culprit, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import List, Optional

from ..core.errors import FewShotError

#: modules that each offer ``add_parser(subparsers)``
SUBCOMMANDS = ("train", "evaluate", "episodes", "data_check", "models", "leaderboard", "plot")


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="fewshot-nsl", description="Few-shot learning with Neural Similarity Learning.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    sub.required = True
    for name in SUBCOMMANDS:
        importlib.import_module(f"{__package__}.{name}").add_parser(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.func(args) or 0)
    except FewShotError as exc:
        sys.stderr.write(f"fewshot-nsl: error: {exc}\n")
        return int(getattr(exc, "exit_code", 2))
    except KeyboardInterrupt:
        sys.stderr.write("fewshot-nsl: interrupted\n")
        return 130


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()

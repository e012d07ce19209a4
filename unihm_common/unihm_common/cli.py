"""The `unihm` command. Subcommands are discovered from the `unihm.commands` entry-point group.

A package adds `unihm <name> ...` by declaring, in its setup.py,
`entry_points={"unihm.commands": ["<name> = <module>:register"]}` where
`register(subparsers)` adds a parser called `<name>` and sets `func(args) -> int` as default.
Register functions must import nothing heavy: handlers import torch/pinocchio when they run.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import entry_points

from unihm_common.errors import UnihmError

COMMAND_GROUP = "unihm.commands"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="unihm", description="UniHM: language goal + RGB-D view -> dexterous hand manipulation."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for ep in sorted(entry_points(group=COMMAND_GROUP), key=lambda e: e.name):
        try:
            register = ep.load()
        except Exception as exc:  # a broken plugin must not take the whole CLI down
            broken = subparsers.add_parser(ep.name, help=f"(unavailable: {exc})")
            broken.set_defaults(func=_report_broken(ep.name, exc))
            continue
        register(subparsers)
    return parser


def _report_broken(name: str, exc: Exception):
    def func(_args: argparse.Namespace) -> int:
        print(f"unihm {name}: this command failed to load: {exc!r}", file=sys.stderr)
        return 2

    return func


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if extra and not getattr(args, "accepts_extra", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    try:
        return int(args.func(args) or 0)
    except UnihmError as exc:
        print(f"unihm {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""Command-line front end: ``monkeysim COMMAND ...``.

Parses arguments, calls the library, formats tables. No science here. Bad input raised as
:class:`~monkeysim.errors.InvalidInput` is printed as one line ``monkeysim: error: ...`` on
stderr with exit status 2 (argparse usage errors too); a run that fails once started
(:class:`~monkeysim.errors.RunFailed`, an OS error such as a full disk, out of memory) is one
line with exit status 1; never a traceback.

Each command is a module of this package with an ``add_parser(sub)`` function that registers
its parser (with ``func=_cmd_NAME``) and a ``_cmd_NAME(args) -> int`` that runs it; the shared
argument helpers are in :mod:`monkeysim.cli.common`.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..errors import InvalidInput
from . import bench, compare, noise, overopt, shakespeare, texts, train, type_race, walkthrough
from .common import PROG, Parser


def build_parser() -> argparse.ArgumentParser:
    from ..version import __version__

    parser = Parser(prog=PROG, description="Infinite monkeys, bananas and RLHF: exact "
                     "theory, fast simulation and policy-gradient learning.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for add in _COMMANDS:
        add(sub)
    parser.set_defaults(func=lambda args: _usage(parser))
    return parser


def _usage(parser: argparse.ArgumentParser) -> int:
    """``monkeysim`` with no command: the usage and the command list on stderr, status 2."""
    parser.print_help(sys.stderr)
    return 2


_COMMANDS = [m.add_parser for m in (compare, train, type_race, texts, bench, walkthrough,
                                         overopt, shakespeare, noise)]


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status: 0 ok, 2 refused before the run (bad input, an
    unusable path), 1 failed during the run (:class:`RunFailed`, an OS error, out of memory),
    130 interrupted. Every error is one line on stderr."""
    from ..errors import RunFailed, os_error_message

    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except InvalidInput as exc:
        return _fail(str(exc), 2)
    except RunFailed as exc:
        return _fail(str(exc), 1)
    except BrokenPipeError:  # stdout closed early (e.g. piped into head): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as exc:
        return _fail(os_error_message(exc), 1)
    except MemoryError:
        return _fail("out of memory; try smaller sizes (see --help)", 1)
    except UnicodeError as exc:  # a text file that is not UTF-8
        return _fail(f"cannot read text: {exc}", 1)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def _fail(message: str, status: int) -> int:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)
    return status


if __name__ == "__main__":
    raise SystemExit(main())

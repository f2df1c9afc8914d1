"""Argument helpers shared by the command modules: the parser class, argument types, the
target and output options, JSON output, and the bench file options."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import InvalidInput

PROG = "monkeysim"


class HelpFormatter(argparse.HelpFormatter):
    """Help that shows every default: ``(default: X)`` is appended to an option's help unless
    the help already names its default (or the option has none)."""

    def _get_help_string(self, action):
        text = action.help or ""
        if ("default" in text or action.default in (None, False, argparse.SUPPRESS)
                or not action.option_strings):
            return text
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line and exit status 2, whose help shows every
    default."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # noqa: D102
        raise InvalidInput(message)


def int_arg(text: str) -> int:
    """Parse an integer argument; accepts 1e6-style and 1_000_000 spellings of whole numbers."""
    try:
        return int(text.replace("_", ""))
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if not value.is_integer():
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        return int(value)


def floats(text: str) -> tuple[float, ...]:
    """A comma-separated list of numbers (argparse type)."""
    try:
        return tuple(float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, got {text!r}") from None


def words(text: str) -> tuple[str, ...]:
    """A comma-separated list of names (argparse type)."""
    return tuple(x.strip() for x in text.split(",") if x.strip())


def emit_json(obj) -> None:
    print(json.dumps(obj, default=json_default))


def json_default(o):
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def target_text(args) -> str:
    """The target from a positional TEXT or ``--builtin NAME`` (exactly one of them)."""
    from .. import texts

    text = getattr(args, "text", None)
    builtin = getattr(args, "builtin", None)
    if text is not None and builtin is not None:
        raise InvalidInput("give either TEXT or --builtin NAME, not both")
    if builtin is not None:
        return texts.get(builtin)
    if text is None:
        raise InvalidInput("give a target: TEXT or --builtin NAME")
    if text == "":
        raise InvalidInput("target is empty; give at least one character")
    return text.replace("\\n", "\n")


def add_target_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("text", nargs="?", metavar="TEXT", help="target text to type")
    p.add_argument("--builtin", metavar="NAME",
                   help="a built-in target instead of TEXT (see `monkeysim texts`)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--alphabet", metavar="NAME",
                   help="named alphabet: upper27, lower27, typewriter (default: the smallest "
                        "that contains the target)")
    g.add_argument("--alphabet-chars", metavar="CHARS",
                   help="custom alphabet: these characters, in this order")


def check_resume_overwrite(args) -> None:
    """``--resume`` continues the run in ``--out``; ``--overwrite`` replaces it: not both."""
    if getattr(args, "resume", False) and getattr(args, "overwrite", False):
        raise InvalidInput("--resume continues the run in --out and --overwrite replaces it; "
                           "give one of them")


def add_common_out(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--seed", type=int_arg, default=0, help="root seed (default 0)")
    p.add_argument("--json", action="store_true",
                   help="print the summary as one JSON object on stdout")
    p.add_argument("--out", metavar="DIR", type=Path, help=f"write {what} into DIR")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing results in --out")


def add_bench_output(p: argparse.ArgumentParser) -> None:
    """A bench's ``--json`` and ``--save FILE`` (read by :func:`bench_output`)."""
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--save", metavar="FILE", type=Path,
                   help="also write the JSON result to FILE (atomically)")


def check_bench_files(args) -> None:
    """``--save FILE`` (and ``--figure FILE``): writable file names, checked before the run."""
    from ..results import check_out_file

    for flag in ("save", "figure"):
        if getattr(args, flag, None) is not None:
            check_out_file(getattr(args, flag), f"--{flag}")


def bench_output(args, res: dict, report: str) -> int:
    from ..results import write_json

    if args.save is not None:
        write_json(args.save, res)
    if args.json:
        emit_json(res)
    else:
        print(report)
    return 0

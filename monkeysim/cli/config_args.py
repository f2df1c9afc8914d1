"""Command-line options built from a configuration dataclass (as CleanRL's and TRL's are).

Every field of the dataclass becomes one option ``--field-name``: its type from the field's
annotation, its default from the field's default, its help from the docstring written under
the field (the convention of every configuration in monkeysim), and its choices from the
configuration's ``CHOICES``. A field that is not an option would be a bug:
:func:`add_config_options` has no way to leave one out except ``skip`` (for options another
helper adds under the same name, such as ``--seed``), and ``tests/test_cli_train.py`` checks
that ``monkeysim train --help`` names every field of :class:`~monkeysim.learn.config.
TrainConfig`.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import re
import textwrap
from functools import cache


def number(text: str) -> float:
    """An argument type: a float, or a one-line error naming ``text``."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def auto_or(parse):
    """An argument type that accepts ``auto`` or what ``parse`` accepts."""
    def convert(text: str):
        return "auto" if text == "auto" else parse(text)
    convert.__name__ = parse.__name__
    return convert


@cache
def field_docs(cls) -> dict[str, str]:
    """The docstring under each field of the dataclass ``cls``, by field name, as plain text
    (reST roles and literals unwrapped, whitespace collapsed)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body
    docs = {}
    for node, nxt in zip(body, body[1:], strict=False):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)):
            docs[node.target.id] = plain(nxt.value.value)
    return docs


def plain(doc: str) -> str:
    """A docstring as one line of plain text: ``:role:`~a.b.c``` → ``c``, ````x```` → ``x``."""
    doc = re.sub(r":\w+:`~?(?:[\w.]+\.)?([^`]+)`", r"\1", doc)
    doc = doc.replace("``", "")
    return " ".join(doc.split())


def option(name: str) -> str:
    """``--field-name`` of the field ``field_name``."""
    return "--" + name.replace("_", "-")


def _kind(annotation: str) -> tuple[str, bool]:
    """(base type, whether None is allowed) of a field's annotation string."""
    parts = [p.strip() for p in annotation.split("|")]
    optional = "None" in parts
    base = [p for p in parts if p != "None"]
    return (base[0] if base else "None"), optional


def add_config_options(p: argparse.ArgumentParser, cls, choices: dict[str, tuple],
                       skip: tuple[str, ...] = (), extra: dict[str, dict] | None = None,
                       int_type=int) -> None:
    """One option per field of the dataclass ``cls`` (except ``skip``) on the parser ``p``.

    ``choices`` maps field names to their allowed values; ``extra`` maps field names to more
    ``add_argument`` keywords (a metavar, ``nargs``/``const``, more help text under
    ``"help_extra"``); ``int_type`` parses integers. Booleans become ``--x/--no-x``; a pair of
    numbers takes two values. The help is the field's docstring and its default.
    """
    docs = field_docs(cls)
    defaults = cls()
    extra = extra or {}
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        base, optional = _kind(str(f.type))
        default = getattr(defaults, f.name) if not optional else f.default
        kw: dict = {"default": default, "dest": f.name}
        if base == "bool":
            kw["action"] = argparse.BooleanOptionalAction
        elif base.startswith("tuple"):
            kw.update(nargs=2, type=number, metavar=("B1", "B2"))
        elif base == "int":
            kw["type"] = int_type
        elif base == "float":
            kw["type"] = number
        if f.name in choices:
            kw["choices"] = choices[f.name]
        more = dict(extra.get(f.name, {}))
        help_extra = more.pop("help_extra", "")
        kw.update(more)
        shown = ("none" if default is None else
                 " ".join(map(str, default)) if isinstance(default, tuple) else
                 f"{default:,}" if isinstance(default, int) and not isinstance(default, bool)
                 else str(default))
        text = docs.get(f.name, "")
        if help_extra:
            text = f"{text} {help_extra}"
        kw["help"] = f"{text} (default {shown})".replace("%", "%%")
        p.add_argument(option(f.name), **kw)


def config_from_args(cls, args, **given):
    """The dataclass ``cls`` built from the parsed ``args`` (one attribute per field), with
    ``given`` overriding."""
    kw = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls)}
    kw.update(given)
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in kw.items()})

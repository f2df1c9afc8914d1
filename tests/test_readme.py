"""The README: its first code block is exactly the two set-up commands, and every link
into the repository (docs pages, figures) points at a file that exists."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")

TWO_COMMANDS = ["pip install -e . && monkeysim compare",
                "pip install -e '.[test]' && pytest"]


def test_first_code_block_is_exactly_the_two_commands():
    m = re.search(r"^```(\w*)\n(.*?)^```", README, flags=re.S | re.M)
    assert m is not None, "README.md has no code block"
    assert m.group(1) == "bash"
    assert m.group(2).splitlines() == TWO_COMMANDS
    assert README.index(m.group(0)) < README.index("\n## "), "not the first thing shown"


def test_relative_links_point_at_files():
    targets = re.findall(r"\]\(([^)\s]+)\)", README)
    local = [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:|#", t)]
    assert local, "no links into the repository"
    missing = [t for t in local if not (ROOT / t).exists()]
    assert not missing, missing


def test_auto_troop_table_matches_the_results():
    """Every row of the README's auto-troop table carries the S/S_min and E/E_min of
    results/auto_troop.json (against the x2 ladder when it was measured), to 2 decimals."""
    import json

    rows = json.loads((ROOT / "results" / "auto_troop.json").read_text())["targets"]
    assert rows
    for r in rows:
        x = r.get("x2", r)
        cells = [f"| {r['text'].strip()} | {r['reward']} |",
                 f"{x['s_ratio']:.2f} [{x['s_ratio_ci'][0]:.2f}, {x['s_ratio_ci'][1]:.2f}]",
                 f"{x['e_ratio']:.2f} [{x['e_ratio_ci'][0]:.2f}, {x['e_ratio_ci'][1]:.2f}]"]
        line = next((ln for ln in README.splitlines() if ln.startswith(cells[0])), None)
        assert line is not None, f"no README row for {r['text']!r}"
        assert cells[1] in line and cells[2] in line, (line, cells)

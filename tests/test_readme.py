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

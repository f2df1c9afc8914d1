"""The README's answer: the table and the answer's lines, generated from
results/summary.json (every number with its 95 % interval). A test checks that the README
matches the committed summary.

Run after the compare results are regenerated: python experiments/make_readme_answer.py
"""

import json

from common import RESULTS, ROOT

from monkeysim.experiments import compare_answer

if __name__ == "__main__":
    summary = json.loads((RESULTS / "summary.json").read_text())
    path = ROOT / "README.md"
    path.write_text(compare_answer.readme_replace(path.read_text(), summary))
    print(f"wrote the answer block of {path}")

"""The README's answers: the table and the answer's lines, generated from
results/summary.json (the default run) and results/full/summary.json (`compare --full`),
every number with its 95 % interval. A test checks that the README matches the committed
summaries.

Run after the compare results are regenerated: python experiments/make_readme_answer.py
"""

import json

from common import ROOT

from monkeysim.experiments import compare_answer

if __name__ == "__main__":
    path = ROOT / "README.md"
    text = path.read_text()
    for source in ("results/summary.json", compare_answer.FULL_SUMMARY):
        summary = json.loads((ROOT / source).read_text())
        text = compare_answer.readme_replace(text, summary, source)
        print(f"wrote the answer block of {path} from {source}")
    path.write_text(text)

"""Correct characters of the greedy document vs reviewer calls, per algorithm, bands over seeds.

Regenerates results/convergence.png (and the compare tables) from the default compare run.
Run: python experiments/make_convergence.py
"""

from common import default_run, save_figure

if __name__ == "__main__":
    default_run()
    save_figure("convergence.png")

"""The step-size bowls: median wall time until typed against the step size for every tuned
setting of the default compare run, the chosen step size marked (successive halving on
tuning seeds disjoint from the reported ones).

Regenerates results/tuning.csv and results/tuning.png from the default compare run.
Run: python experiments/make_tuning.py
"""

from common import default_run, save_figure

if __name__ == "__main__":
    default_run()
    save_figure("tuning.png")

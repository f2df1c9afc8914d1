"""Time to target vs target length: random typing (exact theory lines, measured points)
vs learning monkeys.

Regenerates results/time_to_target.png (and the compare tables) from the default compare run.
Run: python experiments/make_time_to_target.py
"""

from common import default_run, save_figure

if __name__ == "__main__":
    default_run()
    save_figure("time_to_target.png")

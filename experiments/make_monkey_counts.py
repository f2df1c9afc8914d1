"""Wall time vs total work across monkey counts: the fewer-monkeys-or-less-time frontier.

Regenerates results/monkey_counts.png (and the compare tables) from the default compare run.
Run: python experiments/make_monkey_counts.py
"""

from common import default_run, save_figure

if __name__ == "__main__":
    default_run()
    save_figure("monkey_counts.png")

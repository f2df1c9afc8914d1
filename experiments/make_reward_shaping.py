"""Reviewer calls until the greedy document is the target, for exact, prefix and hamming bananas.

Regenerates results/reward_shaping.png (and the compare tables) from the default compare run.
Run: python experiments/make_reward_shaping.py
"""

from common import default_run, save_figure

if __name__ == "__main__":
    default_run()
    save_figure("reward_shaping.png")

"""Steps vs documents of the troop ladder (the critical troop size) and B_simple along
training.

Regenerates results/frontier.png, results/b_simple.png and results/frontier.csv (+ sidecar)
from the default compare run.
Run: python experiments/make_frontier.py
"""

from common import default_run, save_figure

if __name__ == "__main__":
    default_run()
    save_figure("frontier.png")
    save_figure("b_simple.png")

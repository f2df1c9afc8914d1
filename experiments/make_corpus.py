"""The complete works: all 38 plays typed by learning monkeys (needs the 'corpus' extra).

Runs `monkeysim bench corpus` (1 %, 10 %, 100 % of the lines, the 1-thread repeat and every
credit level on the whole corpus from the uniform and from the pretrained order-3 start;
about an hour on 2 shared cores) and writes
results/bench_corpus.json, results/shakespeare_all.json (the summary of the 100 % run) and
results/corpus.png.
Run: python experiments/make_corpus.py
"""

from common import RESULTS

from monkeysim.experiments import bench_corpus
from monkeysim.plots.corpus import corpus_figure
from monkeysim.plots.figure import save
from monkeysim.results import write_json

if __name__ == "__main__":
    res = bench_corpus.run()
    print(bench_corpus.report(res))
    RESULTS.mkdir(exist_ok=True)
    write_json(RESULTS / "bench_corpus.json", res)
    write_json(RESULTS / "shakespeare_all.json", res["scaling"][-1])
    save(corpus_figure(res), RESULTS / "corpus.png")
    for name in ("bench_corpus.json", "shakespeare_all.json", "corpus.png"):
        print(f"wrote {RESULTS / name}")

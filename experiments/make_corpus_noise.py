"""The complete works under noise: all 38 plays with a reviewer whose scores err (needs the
'corpus' extra; the Dask check needs 'distributed').

Runs the noiseless and the noisy (σ = 0.5 characters, δ = 10⁻³) whole-corpus runs back to back,
the noisy one again on 1 thread and on a local Dask cluster of 2 workers, and a σ sweep on 10 %
of the lines (several minutes on 2 cores), and writes results/shakespeare_noise.json.
Run: python experiments/make_corpus_noise.py
"""

from common import RESULTS

from monkeysim.experiments import bench_corpus_noise
from monkeysim.experiments.dask_backend import available
from monkeysim.results import write_json

if __name__ == "__main__":
    res = bench_corpus_noise.run(dask_check=available())
    print(bench_corpus_noise.report(res))
    RESULTS.mkdir(exist_ok=True)
    write_json(RESULTS / "shakespeare_noise.json", res)
    print(f"wrote {RESULTS / 'shakespeare_noise.json'}")

"""numba kernels, one module per family (private): ``options`` (the numba options), ``random``
(xoshiro256** and uniform key drawing), ``typing`` (races), ``policy`` (the learner core's
kernels), ``reward`` (built-in reviewers), ``baselines`` (Dawkins' weasel, coordinate search),
``corpus`` and ``corpus_noise`` (the corpus learner). Kernels take arrays and explicit RNG
states and never touch Python objects."""

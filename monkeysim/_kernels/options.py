"""The numba options of every kernel, and literal specialisation.

All kernel options live in :data:`KERNEL_OPTIONS` / :data:`PARALLEL_OPTIONS`, and
:data:`STEP_OPTIONS` for the learning step's phase functions, which take whole records
(:mod:`~monkeysim._kernels.policy_records`): inlined into their callers at numba's IR level,
because a call that passes records of some thirty arrays costs their reference counting on
every call (about 8 % of a one-monkey step, measured). Speed: the
alphabet size is a compile-time literal (see :func:`call_specialized`), so every typing kernel
is compiled (and cached) for its A, which turns ``u % A`` and ``u // A`` into multiplications.
"""

from __future__ import annotations

import numba as nb

KERNEL_OPTIONS = dict(cache=True, nogil=True)
PARALLEL_OPTIONS = dict(cache=True, nogil=True, parallel=True)
STEP_OPTIONS = dict(cache=True, nogil=True)

_SPECIALIZED: dict = {}


def call_specialized(dispatcher, literal_args: tuple[int, ...], *args):
    """Call ``dispatcher(*args)`` compiled with ``args[i]`` as a literal for i in literal_args.

    Same result as calling a function that applies ``numba.literally`` to those arguments,
    without numba's per-call retry of the non-literal signature (about 4 ms a call). The
    specialisation is compiled (or loaded from the cache) once and its entry point kept.
    """
    if not hasattr(dispatcher, "compile"):  # NUMBA_DISABLE_JIT=1: a plain Python function
        return dispatcher(*args)
    types = tuple(nb.types.literal(a) if i in literal_args else nb.typeof(a)
                  for i, a in enumerate(args))
    entry = _SPECIALIZED.get((dispatcher, types))
    if entry is None:
        entry = dispatcher.compile(types)
        _SPECIALIZED[(dispatcher, types)] = entry
    return entry(*args)

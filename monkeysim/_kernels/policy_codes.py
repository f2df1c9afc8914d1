"""The learner kernels' codes and slots: policy kinds, advantage kinds, KL modes,
optimisers, preference modes and the slots of the metric arrays ``mm`` / ``pm``.

Private module; :mod:`monkeysim._kernels.policy` re-exports every name."""

# policy kinds
POSITIONAL = 0
CONTEXT = 1
# advantage kinds
ADV_BASELINE = 0  # r − running-mean baseline of earlier batches (REINFORCE)
ADV_LOO = 1  # leave-one-out (RLOO)
ADV_GROUP = 2  # group-normalised (GRPO)
ADV_MEAN = 3  # r − group mean, no std (Dr. GRPO)
ADV_BATCH = 4  # batch-normalised with the population std (REINFORCE++)
# KL gradient modes
KL_EXACT = 0  # exact gradient of the factorised KL (positional policies)
KL_K1 = 1  # k1 = log π/π_ref folded into the reward (score function; unbiased)
KL_K3 = 2  # k3 per token in the loss (GRPO style)
# optimisers
OPT_SGD = 0
OPT_ADAM = 1

# learning signal (Params.preferences): scores, or pairwise preferences with a naive
# advantage, the advantage de-biased by a known flip rate, or by a flip rate estimated from
# repeats
PREF_NONE, PREF_NAIVE, PREF_DEBIASED, PREF_ESTIMATED = range(4)
# running state per policy (baseline[P, N_BASE]): REINFORCE's EMA and its weight, and the
# repeated comparisons and their disagreements of PREF_ESTIMATED
B_EMA, B_WEIGHT, B_REPEATS, B_DISAGREE = range(4)
N_BASE = 4
MAX_FLIP_ESTIMATE = 0.45  # the estimated flip rate is capped here (de-biasing scale ≤ 10)
# per monkey and step metrics (mm[step, monkey, :])
MM_REWARD, MM_REWARD_SQ, MM_HITS, MM_K1, MM_K3, MM_CLIPPED = range(6)
N_MM = 6
# per policy and step metrics (pm[step, policy, :])
PM_GREEDY, PM_KL, PM_ENTROPY, PM_ZERO_STD, PM_GRAD_NORM, PM_GRAD_SQ, PM_TRACE_SIGMA = range(7)
N_PM = 7

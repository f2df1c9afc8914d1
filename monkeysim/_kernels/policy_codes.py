"""The learner kernels' codes and slots: policy kinds, advantage kinds, KL modes,
optimisers, the indices of the parameter arrays ``ip`` / ``hp`` (named by
:mod:`monkeysim.learn.params`) and of the metric arrays ``mm`` / ``pm``.

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

# integer parameters (ip)
I_KIND, I_ROWS, I_BASE, I_REWARD, I_NGRAM, I_ADV, I_EPOCHS, I_KL, I_OPT, I_DRY, I_STEP0, \
    I_CHUNK, I_PREF, I_PHASE, I_TRACK_KL = range(15)
N_INT = 15
# what one call of a driver does (ip[I_PHASE]): whole steps with a built-in reviewer, or, for
# a reviewer outside numba (a Python object), one step split in two calls: type the documents
# (rewards left 0 for the caller to fill), then learn from the rewards the caller filled in
PHASE_ALL, PHASE_TYPE, PHASE_LEARN = range(3)
# float parameters (hp)
F_LR, F_CLIP, F_GROUP_EPS, F_BETA, F_ENTROPY, F_B1, F_B2, F_ADAM_EPS, F_DECAY, F_NOISE, \
    F_FLIP = range(11)
N_FLOAT = 11
# learning signal (ip[I_PREF]): scores, or pairwise preferences with a naive advantage, the
# advantage de-biased by a known flip rate, or by a flip rate estimated from repeats
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

"""One stream registry: every derived random stream named once, no two sharing a key."""

from monkeysim import rng


def test_no_two_streams_share_a_key():
    values = list(rng.STREAMS.values())
    assert len(values) == len(set(values)), rng.STREAMS
    assert all(isinstance(v, int) and v >= 0 for v in values)


def test_modules_take_their_streams_from_the_registry():
    from monkeysim import baselines, policy, reward, reward_model
    from monkeysim._kernels import corpus_noise as _kernels_corpus_noise
    from monkeysim.experiments import compare, compare_learn, noise, overopt, shakespeare, tuning
    from monkeysim.learn import rlhf, train

    used = {
        "train": train.TRAIN_STREAM, "reviewer_noise": reward.NOISE_STREAM,
        "policy_sample": policy.SAMPLE_STREAM, "weasel": baselines.WEASEL_STREAM,
        "coordinate": baselines.COORDINATE_STREAM,
        "preference_pairs": reward_model.PAIR_STREAM, "rlhf": rlhf.RLHF_STREAM,
        "rlhf_eval": rlhf.EVAL_STREAM, "compare_tuning": tuning.TUNE_STREAM,
        "compare_noise_scale": compare.NOISE_STREAM, "noise_leash": noise.LEASH_KEY,
        "tuning_check": compare_learn.CHECK_STREAM,
        "shakespeare_lines": shakespeare.KEY_STREAM,
        "shakespeare_noise": _kernels_corpus_noise.NOISE_STREAM,
        "overopt_tuning": overopt.TUNE_STREAM,
    }
    assert used == rng.STREAMS

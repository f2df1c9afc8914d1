"""Learning: the learner core (``config``, ``params``, ``reviewers``, ``metrics``, ``train``,
``noise_scale``) and the learners built on it (``rlhf``: RLOO against a learned reward;
``rollout``: the walkthrough's table policy; ``corpus``: the corpus learner)."""

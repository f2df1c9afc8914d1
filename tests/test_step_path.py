"""The count of one RLOO step's code (tests/step_path.py) follows the code it names."""

import step_path


def test_every_function_on_the_step_path_exists_and_has_code():
    rows = step_path.count()
    assert len(rows) == sum(len(names) for names in step_path.PATH.values())
    assert all(n > 0 for *_, n in rows)
    kernels = {name for module, name, _ in rows if module.startswith("_kernels/policy.py")}
    assert {"type_step", "learn_step", "learn_group", "train_steps"} <= kernels


def test_every_function_on_the_path_has_one_job():
    names = [name for names in step_path.PATH.values() for name in names]
    jobs = [name for names in step_path.JOBS.values() for name in names]
    assert sorted(jobs) == sorted(names)
    rows = step_path.count()
    assert sum(step_path.by_job(rows).values()) == sum(n for *_, n in rows)

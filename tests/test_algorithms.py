"""The algorithm table (monkeysim.learn.algorithms): every entry complete, every reader using it,
and no second list of the algorithms anywhere in the package."""

import ast
from pathlib import Path

import pytest

from monkeysim import theory
from monkeysim.errors import InvalidInput
from monkeysim.experiments import compare_config, noise, noise_config
from monkeysim.learn import config as TC
from monkeysim.learn import params
from monkeysim.learn.algorithms import ADVANTAGE_KINDS, ALGORITHMS, ALGOS, BASE_ALGOS, Algorithm

PACKAGE = Path(__file__).resolve().parent.parent / "monkeysim"


@pytest.mark.parametrize("name", ALGOS)
def test_every_entry_is_complete(name):
    a = ALGORITHMS[name]
    assert isinstance(a, Algorithm) and a.name == name
    assert a.advantage in ADVANTAGE_KINDS and a.lone_advantage in ADVANTAGE_KINDS
    assert a.advantage in params.ADVANTAGES and a.lone_advantage in params.ADVANTAGES
    assert a.noise_baseline in theory.NOISE_BASELINES
    assert a.epochs >= 1 and a.min_group >= 1 and a.lr_sgd > 0 and a.lr_adam > 0
    assert a.clipped or a.epochs == 1
    assert a.variant_of is None or a.variant_of in BASE_ALGOS
    assert TC.DEFAULT_LR[(name, "sgd")] == a.lr_sgd
    assert TC.DEFAULT_LR[(name, "adam")] == a.lr_adam


@pytest.mark.parametrize("name", ALGOS)
def test_the_config_reads_the_table(name):
    a = ALGORITHMS[name]
    cfg = TC.TrainConfig(algo=name)
    assert cfg.n_epochs == a.epochs and cfg.lr == a.lr_sgd and cfg.advantage == a.advantage
    group = a.min_group
    TC.TrainConfig(algo=name, batch=group)
    if group > 1:
        with pytest.raises(InvalidInput, match=f"needs at least {group} documents"):
            TC.TrainConfig(algo=name, batch=group - 1)
    if a.clipped:
        assert TC.TrainConfig(algo=name, epochs=3).n_epochs == 3
    else:
        with pytest.raises(InvalidInput, match="epochs > 1 needs a clipped algorithm"):
            TC.TrainConfig(algo=name, epochs=2)


def test_readers_share_the_one_list():
    assert TC.ALGOS is ALGOS and compare_config.ALGOS is ALGOS and noise_config.ALGOS is ALGOS
    # the defaults of compare and the noise study (whose committed results predate the
    # variants) are the algorithms that are not variants
    assert BASE_ALGOS == ("reinforce", "rloo", "grpo", "ppo")
    assert compare_config.CompareConfig().convergence_algos == BASE_ALGOS
    assert noise.NoiseConfig().algos == BASE_ALGOS
    assert set(ALGOS) - set(BASE_ALGOS) == {"dr-grpo", "reinforce-pp"}


def _literal_lists(path: Path):
    """Every tuple, list or set literal of ≥ 2 strings in the module at ``path``."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            strings = [e.value for e in node.elts
                       if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            if len(strings) >= 2:
                yield node.lineno, strings


def test_no_second_list_of_algorithms():
    """No module but the table enumerates the algorithms: no literal with three or more of
    their names (a preset that picks two, like compare --quick's, is a choice, not a list)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "algorithms.py":
            continue
        for line, strings in _literal_lists(path):
            if len(set(strings) & set(ALGOS)) >= 3:
                found.append(f"{path.relative_to(PACKAGE)}:{line}")
    assert not found, found

"""The notebooks: each .ipynb is the executed twin of its jupytext source (notebooks/*.py),
and runs top to bottom in a fresh kernel (a failing cell fails the test).

Needs the optional extra ``docs`` (nbclient, nbformat, jupytext, ipykernel); skips without it.
"""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NAMES = ["course_note", "own_reviewer"]
EXTRA = "the optional extra `docs` is not installed (pip install -e '.[docs]')"

nbformat = pytest.importorskip("nbformat", reason=EXTRA)
jupytext = pytest.importorskip("jupytext", reason=EXTRA)
nbclient = pytest.importorskip("nbclient", reason=EXTRA)
pytest.importorskip("ipykernel", reason=EXTRA)

pytestmark = pytest.mark.docs

# What the executed course note must show: the note's own numbers.
NOTE_NUMBERS = {
    "course_note": [
        "'Antarctica is governed by an international treaty') = 1",
        "'Antarctica is') = 0.0021",
        "'Penguin overlords') = 0.09",
        "'Antarctica is a country') = 0.02",
        "'no country owns Antarctica') = 0.09",
        "'he looks like Brad Pitt') = -10000",
        "first-section score of 'no country owns Antarctica': 0.9",
        "exact     E_x Σ_y p(y|x) r(x, y) = ",
        "greedy document: 'Antarctica is governed by an international treaty'",
        "Answer:",
    ],
    "own_reviewer": ["solved: True", "identical metrics: True", "error: "],
}


def _code(nb) -> list[str]:
    return [c.source.strip() for c in nb.cells if c.cell_type == "code"]


def _text(nb) -> str:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.output_type == "stream":
                out.append(o.text)
            elif "text/plain" in o.get("data", {}):
                out.append(o.data["text/plain"])
    return "\n".join(out)


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_is_the_executed_source(name):
    """The .ipynb has the cells of its jupytext .py (edit the .py, then
    `jupytext --sync` and re-execute) and every code cell ran, without an error."""
    source = jupytext.read(NOTEBOOKS / f"{name}.py")
    committed = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    assert _code(committed) == _code(source), (
        f"notebooks/{name}.ipynb is out of date with notebooks/{name}.py: run "
        f"`jupytext --to ipynb --execute notebooks/{name}.py`")
    assert [c.cell_type for c in committed.cells] == [c.cell_type for c in source.cells]
    for cell in committed.cells:
        if cell.cell_type == "code":
            assert cell.execution_count is not None, "a cell of the committed notebook never ran"
            assert all(o.output_type != "error" for o in cell.outputs)
    for snippet in NOTE_NUMBERS[name]:
        assert snippet in _text(committed), snippet


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_top_to_bottom(name, tmp_path, monkeypatch):
    """Execute the jupytext source in a fresh kernel that imports this checkout."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    monkeypatch.setenv("PYTHONPATH", path)
    monkeypatch.setenv("MONKEYSIM_QUIET", "1")
    nb = jupytext.read(NOTEBOOKS / f"{name}.py")
    client = nbclient.NotebookClient(nb, timeout=None, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError naming the failing cell
    text = _text(nb)
    for snippet in NOTE_NUMBERS[name]:
        assert snippet in text, snippet
    assert not list(tmp_path.iterdir()), "the notebook left files in its working directory"

import os
import subprocess
import sys

import pytest


def run_cli(*args, env=None, cwd=None, timeout=600):
    """Run ``python -m monkeysim ARGS`` in a subprocess; returns CompletedProcess (text)."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run([sys.executable, "-m", "monkeysim", *map(str, args)],
                          capture_output=True, text=True, env=full_env, cwd=cwd,
                          timeout=timeout)


def assert_clean_error(proc, *fragments):
    """Exit status 2, one stderr line starting 'monkeysim: error:', no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("monkeysim: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])


@pytest.fixture
def cli():
    return run_cli

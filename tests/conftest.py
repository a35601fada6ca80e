"""Shared pytest fixtures: where the fulcrum binary and the model cache are."""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="session")
def fulcrum_bin():
    path = os.environ.get("FULCRUM_BIN", os.path.join(ROOT, "build", "fulcrum"))
    if not os.path.exists(path):
        pytest.fail(f"{path} does not exist: build first (scripts/setup.sh)")
    return path


def run_fulcrum(binary, *args, timeout=600):
    """Runs the CLI; returns CompletedProcess with text stdout/stderr."""
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=timeout)


def expect_error(result, *needles):
    """A clean CLI failure: non-zero exit, one `error:` line on stderr naming each of `needles`."""
    assert result.returncode > 0, f"expected a clean failure, got rc={result.returncode}\n{result.stderr}"
    assert "error:" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, f"expected one message, got:\n{result.stderr}"
    for n in needles:
        assert n in result.stderr, f"'{n}' not in: {result.stderr}"

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

"""Fixtures for the observability tests: the repository's deploy/ folder and promtool."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"

INSTALL_HINT = (
    "promtool is not on PATH. It comes with Debian's `prometheus` package: "
    "`apt-get update && apt-get install -y --no-install-recommends prometheus` "
    "(`make test` and `make system-deps` install it through .ci/install-system-deps.sh)."
)


@pytest.fixture(scope="session")
def promtool() -> str:
    """Path of promtool; a missing promtool fails the test instead of skipping it."""
    path = shutil.which("promtool")
    if path is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    return path


@pytest.fixture(scope="session")
def deploy() -> Path:
    """The repository's deploy/ folder."""
    return DEPLOY


@pytest.fixture(scope="session")
def root() -> Path:
    """The repository root."""
    return REPO

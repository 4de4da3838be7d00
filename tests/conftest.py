"""Cross-service test helpers: the broker the run uses, and the proof report that fault and
security tests fill in."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

_PROOF: list[str] = []


@pytest.fixture
def proof() -> Callable[..., None]:
    """Record counts (lost, doubled, bypasses, ...) that the run's summary prints."""

    def record(name: str, **counts: int) -> None:
        figures = ", ".join(f"{k}={v}" for k, v in counts.items())
        _PROOF.append(f"{name}: {figures}")

    return record


def pytest_report_header() -> str:
    bootstrap = os.environ.get("SIARAN_TEST_KAFKA_BOOTSTRAP")
    if bootstrap:
        return f"kafka: {bootstrap} from SIARAN_TEST_KAFKA_BOOTSTRAP, one stack at a time"
    return "kafka: a bundled broker per stack (SIARAN_TEST_KAFKA_BOOTSTRAP names another)"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _PROOF:
        terminalreporter.section("proof: counts from the fault and security suites")
        for line in _PROOF:
            terminalreporter.write_line(line)

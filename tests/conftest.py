"""Cross-service test helpers: the proof report that fault and security tests fill in."""

from __future__ import annotations

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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _PROOF:
        terminalreporter.section("proof: counts from the fault and security suites")
        for line in _PROOF:
            terminalreporter.write_line(line)

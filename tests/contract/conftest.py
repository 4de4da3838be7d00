"""Operations whose OpenAPI does not yet tell the truth (issue 12), each marked xfail with
the check that fails: the failure stays visible in the summary, and the day an operation passes
the run fails until its entry goes, as xfail(strict=True) would. The marks are strict=False
and the strictness is imposed after schemathesis' own report hook, which asserts that a failed
report carries an exception: an XPASS(strict) has none, and its assertion would abort the
whole session with an INTERNALERROR instead of failing one test."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest

#: test id -> the check that fails and why (as of the last merge of main)
KNOWN_FAILURES: dict[str, str] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        reason = KNOWN_FAILURES.get(item.name)
        if reason and item.path.parent == here:
            item.add_marker(pytest.mark.xfail(strict=False, reason=reason))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """An unexpected pass of a known failure fails, as pytest's strict xfail reports it."""
    report = yield
    if call.when == "call" and report.passed and item.name in KNOWN_FAILURES:
        report.outcome = "failed"
        report.longrepr = (
            f"[XPASS(strict)] {KNOWN_FAILURES[item.name]}: it passes now; "
            "remove its entry from KNOWN_FAILURES in tests/contract/conftest.py"
        )
        del report.wasxfail
    return report

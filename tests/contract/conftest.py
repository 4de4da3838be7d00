"""Operations whose OpenAPI does not yet tell the truth (issue 12), marked xfail(strict=True)
one by one with the check that fails: the failure stays visible in the summary, and the day an
operation passes its entry must go (strict: an unexpected pass fails the suite)."""

from __future__ import annotations

from pathlib import Path

import pytest

UNDOCUMENTED_401 = "ST103 undocumented status code: 401 for a missing or invalid API key"

#: test id -> the check that fails and why
KNOWN_FAILURES = {
    "test_ingest[POST /v1/announcements]": (
        "ST201 a CAP element given a number or boolean where the CapAlert schema says string "
        "(schemathesis mutates types; in XML both are the same text, which ingest reads); "
        "ST202 would follow for expires_at in the past or not after publish_at, a 422 no "
        "schema can state"
    ),
    "test_router[PUT /v1/channels/{channel_id}]": (
        f"{UNDOCUMENTED_401}; ST205 a 405 (OPTIONS) with `Allow: PUT` leaves out GET and DELETE"
    ),
    "test_router[GET /v1/channels/{channel_id}]": UNDOCUMENTED_401,
    "test_router[DELETE /v1/channels/{channel_id}]": UNDOCUMENTED_401,
    "test_router[POST /v1/channels:import]": UNDOCUMENTED_401,
    "test_router[GET /v1/channels]": UNDOCUMENTED_401,
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        reason = KNOWN_FAILURES.get(item.name)
        if reason and item.path.parent == here:
            item.add_marker(pytest.mark.xfail(strict=True, reason=reason))

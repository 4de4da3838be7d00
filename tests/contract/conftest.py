"""Operations whose OpenAPI does not yet tell the truth (issue 12), marked xfail(strict=True)
one by one with the check that fails: the failure stays visible in the summary, and the day an
operation passes its entry must go (strict: an unexpected pass fails the suite)."""

from __future__ import annotations

from pathlib import Path

import pytest

UNDOCUMENTED_401 = "ST103 undocumented status code: 401 for a missing or invalid API key"
METRICS_TEXT = "ST105 undocumented Content-Type: /metrics answers text/plain, documents JSON"

#: test id -> the check that fails and why
KNOWN_FAILURES = {
    "test_ingest[GET /metrics]": METRICS_TEXT,
    "test_ingest[POST /v1/announcements/{announcement_id}/cancel]": (
        "ST103 undocumented status code: 400 for a body that is not JSON"
    ),
    "test_router[GET /metrics]": METRICS_TEXT,
    "test_router[PUT /v1/channels/{channel_id}]": (
        "ST202 schema-valid endpoints refused: the schema gives their shape (scheme, no "
        "spaces, length) but which Apprise URLs Apprise accepts and which hosts the SSRF "
        "rules refuse cannot be said in JSON Schema"
    ),
    "test_metrics[GET /metrics]": METRICS_TEXT,
    "test_metrics[GET /v1/announcements/{announcement_id}/report]": UNDOCUMENTED_401,
    "test_metrics[GET /v1/announcements]": UNDOCUMENTED_401,
    "test_metrics[GET /v1/coverage]": UNDOCUMENTED_401,
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        reason = KNOWN_FAILURES.get(item.name)
        if reason and item.path.parent == here:
            item.add_marker(pytest.mark.xfail(strict=True, reason=reason))

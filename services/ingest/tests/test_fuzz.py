"""Property-based fuzz of the HTTP API: whatever arrives, the answer is never a 5xx, and every
error is in the contract's shape. Hypothesis drives the app through ASGI on one event loop.

(Schemathesis is not a dependency of the workspace; hypothesis generates bodies from the same
rules the OpenAPI document states, plus arbitrary JSON, bytes and content types.)
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from siaran_shared.events.topics import ANNOUNCEMENTS, DLQ
from siaran_shared.testing import service_under_test

from services.ingest.tests.conftest import factory

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


class App:
    """The ingest app on its own event loop, called synchronously from hypothesis examples."""

    def __init__(self, home: Path) -> None:
        self.runner = asyncio.Runner()
        self.cm = service_under_test(factory(), home, observe=(ANNOUNCEMENTS, DLQ))
        sut = self.runner.run(self.cm.__aenter__())
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=sut.app),
            base_url="http://ingest",
            headers={"Authorization": f"Bearer {sut.admin_key}"},
        )

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.runner.run(self.client.request(method, path, **kwargs))

    def close(self) -> None:
        self.runner.run(self.client.aclose())
        self.runner.run(self.cm.__aexit__(None, None, None))
        self.runner.close()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    running = App(tmp_path_factory.mktemp("fuzz"))
    try:
        yield running
    finally:
        running.close()


def check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert isinstance(error["code"], str)
        assert isinstance(error["message"], str)
        assert isinstance(error["details"], list)
    else:
        assert response.status_code in (200, 202, 307), "307: a trailing-slash redirect"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=15,
)
codes = st.sampled_from(["73", "31", "99", "73.03", "31.71", "73.99", "ID", "", "7", "73.0x"])
texts = st.text(max_size=60) | st.sampled_from(["", "   ", "\u0301", "x" * 201, "e\u0301"])
targets = st.fixed_dictionaries(
    {},
    optional={
        "national": st.booleans() | json_values,
        "provinces": st.lists(codes, max_size=3) | json_values,
        "regencies": st.lists(codes, max_size=3),
        "zones": st.lists(st.sampled_from(["WIB", "WITA", "WIT", "UTC", ""]), max_size=3),
        "kinds": st.lists(texts, max_size=3),
        "tags": st.lists(texts, max_size=3),
    },
)
datetimes = st.sampled_from(
    ["2099-01-01T00:00:00Z", "2020-01-01T00:00:00Z", "2099-01-01T00:00:00", "not a date", "",
     "2099-13-45T99:99:99+07:00", "2099-01-01T00:00:00+07:00"]
) | json_values  # fmt: skip
announcements = st.fixed_dictionaries(
    {"title": texts, "body": texts, "target": targets | json_values},
    optional={
        "id": st.from_regex(r"[A-Za-z0-9._-]{1,20}", fullmatch=True) | texts,
        "summary": texts | st.none(),
        "link": st.sampled_from(
            [
                "https://example.go.id/a",
                "ftp://x",
                "http://",
                "javascript:x",
                "https://" + "a" * 3000,
            ]
        )
        | texts,
        "category": texts,
        "priority": st.sampled_from(["normal", "high", "urgent", "critical", ""]) | json_values,
        "hashtags": st.lists(texts, max_size=4) | json_values,
        "publish_at": datetimes,
        "expires_at": datetimes,
        "publish_local_time": st.sampled_from(["09:00", "24:00", "9:00", ""]) | json_values,
        "extra": json_values,
    },
)


@FUZZ
@given(body=announcements)
def test_structured_announcements_never_5xx(app: App, body: dict[str, Any]) -> None:
    check(app.request("POST", "/v1/announcements", json=body))


@FUZZ
@given(body=json_values)
def test_arbitrary_json_never_5xx(app: App, body: Any) -> None:
    check(app.request("POST", "/v1/announcements", content=json.dumps(body).encode(),
                      headers={"Content-Type": "application/json"}))  # fmt: skip


@FUZZ
@given(
    body=st.binary(max_size=300) | st.text(max_size=300).map(str.encode),
    content_type=st.sampled_from(
        ["application/json", "application/cap+xml", "application/xml", "text/plain",
         "application/json; charset=utf-8", "application/cap+xml; charset=latin-1", "", ";;"]
    ),
)  # fmt: skip
def test_arbitrary_bytes_never_5xx(app: App, body: bytes, content_type: str) -> None:
    check(app.request("POST", "/v1/announcements", content=body,
                      headers={"Content-Type": content_type}))  # fmt: skip


cap_fields = st.fixed_dictionaries(
    {
        "identifier": st.from_regex(r"[A-Za-z0-9.-]{1,12}", fullmatch=True) | texts,
        "msgType": st.sampled_from(["Alert", "Update", "Cancel", "Ack", "alert", ""]),
        "status": st.sampled_from(["Actual", "Test", "actual", ""]),
        "geocode": codes,
        "expires": datetimes.filter(lambda v: isinstance(v, str)),
        "references": st.sampled_from(["", "a,b,2026-01-01T00:00:00Z", "x"]),
        "headline": texts,
    }
)


@FUZZ
@given(fields=cap_fields)
def test_cap_documents_never_5xx(app: App, fields: dict[str, str]) -> None:
    def esc(value: str) -> str:
        return value.replace("&", "&amp;").replace("<", "&lt;")

    document = (
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
        f"<identifier>{esc(fields['identifier'])}</identifier><sender>s@x.go.id</sender>"
        "<sent>2026-01-01T00:00:00+07:00</sent>"
        f"<status>{fields['status']}</status><msgType>{fields['msgType']}</msgType>"
        f"<scope>Public</scope><references>{fields['references']}</references>"
        "<info><category>Met</category><event>Banjir</event><urgency>Expected</urgency>"
        "<severity>Severe</severity><certainty>Likely</certainty>"
        f"<expires>{esc(fields['expires'])}</expires>"
        f"<headline>{esc(fields['headline'])}</headline><description>Isi</description>"
        "<area><areaDesc>W</areaDesc><geocode><valueName>KEMENDAGRI</valueName>"
        f"<value>{fields['geocode']}</value></geocode></area></info></alert>"
    )
    check(app.request("POST", "/v1/announcements", content=document.encode(),
                      headers={"Content-Type": "application/cap+xml"}))  # fmt: skip


@FUZZ
@given(
    announcement_id=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
    .map(lambda s: quote(s, safe=""))
    .filter(lambda s: s not in (".", "..")),
    body=st.none() | json_values,
)
def test_read_and_cancel_never_5xx(app: App, announcement_id: str, body: Any) -> None:
    check(app.request("GET", f"/v1/announcements/{announcement_id}"))
    kwargs = {} if body is None else {"json": body}
    check(app.request("POST", f"/v1/announcements/{announcement_id}/cancel", **kwargs))

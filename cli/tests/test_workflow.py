"""The workflow commands (announce, preview, submit, approve, reject, edit, announcements,
deliveries) as HTTP clients: what each sends and how it shows the answers, against a local
server that answers in the contract's shapes (tests/e2e/test_cli_workflow.py runs them
against the real services)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from click.testing import Result
from siaran_cli.main import app
from typer.testing import CliRunner

from cli.tests.conftest import Call, FakeApi

KEY = "sk-writer-test-key"
ANNOUNCEMENT = {"id": "a-1", "title": "Uji", "body": "Isi.", "target": {"provinces": ["73"]}}


async def siaran(api: FakeApi, *args: str, stdin: str | None = None, **env: str) -> Result:
    """Run `siaran ARGS` with every service URL pointing at the fake API."""
    environment = {"COLUMNS": "200", "SIARAN_API_KEY": KEY, "SIARAN_INGEST_URL": api.url,
                   "SIARAN_ROUTER_URL": api.url, "SIARAN_METRICS_URL": api.url, **env}  # fmt: skip
    runner = CliRunner()
    return await asyncio.to_thread(runner.invoke, app, list(args), stdin, environment)


def error(status: int, code: str, message: str, *details: tuple[str, str]) -> tuple[int, Any]:
    items = [{"field": f, "message": m} for f, m in details]
    return status, {"error": {"code": code, "message": message, "details": items}}


async def test_announce_yaml_as_a_draft_sends_the_fields_as_written(
    fake_api: FakeApi, tmp_path: Path
) -> None:
    fake_api.on("POST", "/v1/announcements", (201, {"id": "a-1", "status": "draft"}))
    file = tmp_path / "a.yaml"
    file.write_text(
        "id: a-1\ntitle: Uji\nbody: Isi.\npublish_at: 2026-01-15T09:00:00+07:00\n"
        "target:\n  provinces: ['73']\n"
    )
    result = await siaran(fake_api, "announce", str(file), "--draft")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "a-1 draft"
    assert "siaran submit a-1" in result.stderr
    [call] = fake_api.calls
    assert call.authorization == f"Bearer {KEY}"
    assert call.body == {"id": "a-1", "title": "Uji", "body": "Isi.", "draft": True,
                         "publish_at": "2026-01-15T09:00:00+07:00",
                         "target": {"provinces": ["73"]}}  # fmt: skip


async def test_announce_from_stdin_waits_for_approval(fake_api: FakeApi) -> None:
    fake_api.on("POST", "/v1/announcements", (202, {"id": "a-1", "status": "pending_approval"}))
    result = await siaran(fake_api, "announce", "-", stdin=json.dumps(ANNOUNCEMENT))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "a-1 pending_approval"
    assert "siaran approve a-1" in result.stderr
    assert fake_api.calls[0].body == ANNOUNCEMENT


async def test_an_api_error_names_every_field_and_exits_non_zero(fake_api: FakeApi) -> None:
    fake_api.on("POST", "/v1/announcements", error(
        422, "invalid_request", "invalid request: check link, target.provinces",
        ("link", "URL scheme should be 'http' or 'https'"),
        ("target.provinces", "unknown province code(s) '99'"),
    ))  # fmt: skip
    result = await siaran(fake_api, "announce", "-", stdin=json.dumps(ANNOUNCEMENT))
    assert result.exit_code == 1
    assert not result.stdout
    assert "ingest answered 422: invalid request: check link, target.provinces" in result.stderr
    assert "link: URL scheme should be 'http' or 'https'" in result.stderr
    assert "target.provinces: unknown province code(s) '99'" in result.stderr


async def test_unreadable_input_is_refused_before_any_request(
    fake_api: FakeApi, tmp_path: Path
) -> None:
    listing, broken = tmp_path / "list.yaml", tmp_path / "broken.yaml"
    listing.write_text("- title: a\n")
    broken.write_text("title: [unclosed\n")
    for file, message in ((listing, "expected one announcement"),
                          (broken, "neither JSON nor YAML"),
                          (tmp_path / "absent.json", "cannot read")):  # fmt: skip
        result = await siaran(fake_api, "announce", str(file))
        assert result.exit_code == 2, result.output
        assert message in result.stderr
    assert fake_api.calls == []


async def test_the_key_comes_from_the_dev_key_file_else_it_is_a_usage_error(
    fake_api: FakeApi, tmp_path: Path
) -> None:
    fake_api.on("POST", "/v1/announcements/a-1/submit", (202, {"id": "a-1", "status": "x"}))
    empty = await siaran(fake_api, "submit", "a-1", SIARAN_API_KEY="", SIARAN_HOME=str(tmp_path))
    assert empty.exit_code == 2
    assert "no API key" in empty.stderr
    (tmp_path / "dev-api-key").write_text("sk-dev\n")
    dev = await siaran(fake_api, "submit", "a-1", SIARAN_API_KEY="", SIARAN_HOME=str(tmp_path))
    assert dev.exit_code == 0, dev.output
    assert [c.authorization for c in fake_api.calls] == ["Bearer sk-dev"]


async def test_an_unreachable_service_is_named(fake_api: FakeApi) -> None:
    closed = "http://127.0.0.1:9"  # discard port: nothing listens
    result = await siaran(fake_api, "approve", "a-1", SIARAN_INGEST_URL=closed)
    assert result.exit_code == 1
    assert f"cannot reach the ingest at {closed}" in result.stderr


PREVIEW = {
    "channels": 5,
    "regions": 2,
    "by_kind": {
        "x": {"channels": 2, "text": "Uji [bold]literal[/bold] baris satu\nbaris dua",
              "length": 280, "limit": 280, "unit": "weighted characters", "truncated": True},
        "web": {"channels": 2, "text": "Uji\n\nIsi.", "length": 9, "limit": None,
                "unit": "characters", "truncated": False},
        "instagram": {"channels": 1, "text": "Uji", "length": 3, "limit": 2200,
                      "unit": "characters", "truncated": False},
    },
    "warnings": [
        {"kind": "instagram", "code": "media_required", "channels": 1, "skipped": 1},
        {"code": "no_channels", "region": "73.03", "channels": 0},
        {"kind": "x", "code": "truncated", "channels": 2},
    ],
}  # fmt: skip


def table_rows(text: str) -> dict[str, list[str]]:
    """The rows of a rich table, by their first cell."""
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in text.splitlines()]
    return {row[0]: row[1:] for row in rows if row and row[0]}


async def test_preview_shows_each_kind_and_the_warnings(fake_api: FakeApi) -> None:
    fake_api.on("POST", "/v1/previews", (200, PREVIEW))
    result = await siaran(fake_api, "preview", "-", "--text", stdin=json.dumps(ANNOUNCEMENT))
    assert result.exit_code == 0, result.output
    assert fake_api.calls[0].body == ANNOUNCEMENT
    assert "5 channels in 2 regions" in result.stdout
    rows = table_rows(result.stdout)
    assert rows["x"] == ["2", "280 / 280", "weighted characters", "yes",
                         "Uji [bold]literal[/bold] baris satu"]  # fmt: skip
    assert rows["web"] == ["2", "9 / no limit", "characters", "no", "Uji"]
    assert rows["instagram"][:4] == ["1", "3 / 2200", "characters", "no"]
    lines = " ".join(result.stdout.split())
    assert "instagram: 1 channels need a picture or video" in lines
    assert "1 of them (native adapters) would be skipped" in lines
    assert "no channel for region 73.03" in lines
    assert "x: the text is cut to fit the limit on 2 channels" in lines
    assert "baris dua" in result.stdout, "--text prints every line"


async def test_preview_refused_outside_the_scope_says_why(fake_api: FakeApi) -> None:
    fake_api.on("POST", "/v1/previews", error(
        403, "forbidden", "key 'sulsel' (province:73) may not target 31.71"))  # fmt: skip
    result = await siaran(fake_api, "preview", "-", stdin=json.dumps(ANNOUNCEMENT))
    assert result.exit_code == 1
    assert "router answered 403: key 'sulsel' (province:73) may not target 31.71" in result.stderr


async def test_submit_approve_and_reject_call_their_routes(fake_api: FakeApi) -> None:
    for action, status in (("submit", "pending_approval"), ("approve", "accepted")):
        answer = (202, {"id": "a-1", "status": status})
        fake_api.on("POST", f"/v1/announcements/a-1/{action}", answer)
        result = await siaran(fake_api, action, "a-1")
        assert result.exit_code == 0, result.output
        assert result.stdout.strip() == f"a-1 {status}"
    fake_api.on("POST", "/v1/announcements/a-2/reject", (200, {"id": "a-2", "status": "rejected"}))
    rejected = await siaran(fake_api, "reject", "a-2", "--reason", " data belum diverifikasi ")
    assert rejected.exit_code == 0, rejected.output
    assert rejected.stdout.strip() == "a-2 rejected"
    assert fake_api.calls[-1].body == {"reason": "data belum diverifikasi"}


async def test_cancel_sends_the_reason_and_a_wrong_status_is_shown(fake_api: FakeApi) -> None:
    fake_api.on("POST", "/v1/announcements/a-1/cancel", (202, {"id": "a-1", "status": "cancelled"}))
    result = await siaran(fake_api, "cancel", "a-1", "--reason", "salah sasaran")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "a-1 cancelled"
    assert "retracted where the platform allows it" in result.stderr
    assert fake_api.calls[-1].body == {"reason": "salah sasaran"}
    message = "announcement 'a-2' is draft; cancel needs it to be accepted"
    fake_api.on("POST", "/v1/announcements/a-2/cancel", error(409, "conflict", message))
    refused = await siaran(fake_api, "cancel", "a-2")
    assert refused.exit_code == 1
    assert message in refused.stderr


async def test_reject_needs_a_reason(fake_api: FakeApi) -> None:
    missing = await siaran(fake_api, "reject", "a-1")
    assert missing.exit_code == 2
    assert "--reason" in missing.stderr
    blank = await siaran(fake_api, "reject", "a-1", "--reason", "  ")
    assert blank.exit_code == 2
    assert fake_api.calls == []


async def test_the_two_person_rule_and_a_wrong_status_are_shown(fake_api: FakeApi) -> None:
    fake_api.on("POST", "/v1/announcements/a-1/approve", error(
        403, "forbidden", "key 'writer' submitted announcement 'a-1' and may not approve it too",
        ("authorization", "another key with the approve role must")))  # fmt: skip
    fake_api.on("POST", "/v1/announcements/a-1/submit", error(
        409, "conflict", "announcement 'a-1' is accepted; submit needs it to be draft",
        ("status", "accepted")))  # fmt: skip
    refused = await siaran(fake_api, "approve", "a-1")
    assert refused.exit_code == 1
    assert "403: key 'writer' submitted announcement 'a-1'" in refused.stderr
    assert "authorization: another key with the approve role must" in refused.stderr
    conflict = await siaran(fake_api, "submit", "a-1")
    assert conflict.exit_code == 1
    assert "409: announcement 'a-1' is accepted; submit needs it to be draft" in conflict.stderr


async def test_edit_of_a_published_announcement_says_it_is_a_correction(
    fake_api: FakeApi, tmp_path: Path
) -> None:
    file = tmp_path / "fix.json"
    file.write_text(json.dumps(ANNOUNCEMENT | {"body": "Isi yang benar."}))
    fake_api.on("GET", "/v1/announcements/a-1", (200, ANNOUNCEMENT | {"revision": 1}))
    fake_api.on("PUT", "/v1/announcements/a-1", (202, {"id": "a-1", "status": "accepted",
                                                       "revision": 2}))  # fmt: skip
    result = await siaran(fake_api, "edit", "a-1", str(file))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "a-1 accepted revision 2"
    assert "correction published as revision 2" in result.stderr
    assert [c.method for c in fake_api.calls] == ["GET", "PUT"]
    assert fake_api.calls[1].body["body"] == "Isi yang benar."


async def test_the_same_correction_again_is_said_to_change_nothing(
    fake_api: FakeApi, tmp_path: Path
) -> None:
    file = tmp_path / "fix.json"
    file.write_text(json.dumps(ANNOUNCEMENT))
    fake_api.on("GET", "/v1/announcements/a-1", (200, ANNOUNCEMENT | {"revision": 2}))
    fake_api.on("PUT", "/v1/announcements/a-1", (202, {"id": "a-1", "status": "accepted"}))
    result = await siaran(fake_api, "edit", "a-1", str(file))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "a-1 accepted revision 2"
    assert "unchanged: revision 2" in result.stderr
    assert "correction published" not in result.stderr


async def test_edit_of_a_draft_keeps_it_a_draft_and_a_wrong_id_is_refused(
    fake_api: FakeApi, tmp_path: Path
) -> None:
    file = tmp_path / "draft.yaml"
    file.write_text("title: Uji\nbody: Isi.\ntarget: {provinces: ['73']}\n")
    fake_api.on("GET", "/v1/announcements/a-1", (200, ANNOUNCEMENT | {"status": "draft"}))
    fake_api.on("PUT", "/v1/announcements/a-1", (200, {"id": "a-1", "status": "draft"}))
    result = await siaran(fake_api, "edit", "a-1", str(file))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "a-1 draft"
    assert "correction" not in result.output
    other = await siaran(fake_api, "edit", "a-2", "-", stdin=json.dumps(ANNOUNCEMENT))
    assert other.exit_code == 2
    assert "the file's id 'a-1' is not 'a-2'" in other.stderr
    assert [c.method for c in fake_api.calls] == ["GET", "PUT"]


def paged(items: list[dict[str, Any]], seen: list[Call]) -> Any:
    """An answer that pages `items` by `limit` and an offset cursor, as the contract pages."""

    def answer(call: Call) -> tuple[int, Any]:
        seen.append(call)
        start, size = int(call.query.get("cursor", 0)), int(call.query["limit"])
        end = start + size
        cursor = str(end) if end < len(items) else None
        return 200, {"items": items[start:end], "next_cursor": cursor}

    return answer


async def test_announcements_list_follows_the_cursor_and_filters(fake_api: FakeApi) -> None:
    items = [{"id": f"a-{n}", "title": f"Judul {n}", "status": "pending_approval",
              "revision": 1 + (n == 1), "submitted_by": "writer",
              "accepted_at": "2026-01-15T09:00:00+00:00"} for n in range(150)]  # fmt: skip
    seen: list[Call] = []
    fake_api.on("GET", "/v1/announcements", paged(items, seen))
    result = await siaran(fake_api, "announcements", "list", "--status", "pending_approval",
                          "--limit", "120")  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = table_rows(result.stdout)
    assert rows["a-0"] == ["pending_approval", "writer", "2026-01-15 09:00", "Judul 0"]
    assert rows["a-1"][0] == "pending_approval r2"
    assert "a-119" in rows
    assert "a-120" not in rows
    assert [c.query for c in seen] == [
        {"status": "pending_approval", "limit": "100"},
        {"status": "pending_approval", "limit": "20", "cursor": "100"},
    ]
    assert "120 announcements; more with --limit 240" in result.stderr


async def test_announcements_show_gives_status_revision_and_history(fake_api: FakeApi) -> None:
    fake_api.on("GET", "/v1/announcements/a-1", (200, ANNOUNCEMENT | {
        "status": "rejected", "revision": 1, "submitted_by": "writer",
        "accepted_at": "2026-01-15T09:00:00+00:00", "cancelled_at": None, "replaces": None,
        "history": [
            {"at": "2026-01-15T09:00:00+00:00", "by": "writer", "action": "submit"},
            {"at": "2026-01-15T09:05:00+00:00", "by": "editor", "action": "reject",
             "reason": "data belum diverifikasi"},
        ]}))  # fmt: skip
    result = await siaran(fake_api, "announcements", "show", "a-1")
    assert result.exit_code == 0, result.output
    rows = table_rows(result.stdout)
    assert rows["status"] == ["rejected"]
    assert rows["revision"] == ["1"]
    assert rows["submitted by"] == ["writer"]
    assert rows["target"] == ["provinces 73"]
    assert rows["2026-01-15 09:05:00"] == ["editor", "reject", "data belum diverifikasi"]
    assert rows["2026-01-15 09:00:00"] == ["writer", "submit", ""]


async def test_deliveries_pass_the_filters_and_show_why_each_failed(fake_api: FakeApi) -> None:
    items = [{"delivery_id": f"a-1:ch-{n}", "channel_id": f"ch-{n}", "region": "73.03",
              "kind": "x", "status": "failed", "reason": "HTTP 400 from the endpoint",
              "attempts": 1, "delivered_at": None} for n in range(3)]  # fmt: skip
    seen: list[Call] = []
    fake_api.on("GET", "/v1/announcements/a-1/deliveries", paged(items, seen))
    result = await siaran(fake_api, "deliveries", "a-1", "--status", "failed",
                          "--province", "73", "--kind", "x", "--limit", "2")  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = table_rows(result.stdout)
    assert rows["ch-0"] == ["73.03", "x", "failed", "1", "HTTP 400 from the endpoint"]
    assert "ch-2" not in rows
    assert seen[0].query == {"status": "failed", "province": "73", "kind": "x", "limit": "2"}
    assert "2 deliveries (status failed, province 73, kind x); more" in result.stderr


async def test_deliveries_of_an_unknown_announcement_exit_non_zero(fake_api: FakeApi) -> None:
    result = await siaran(fake_api, "deliveries", "nope")
    assert result.exit_code == 1
    assert "metrics answered 404" in result.stderr


async def test_deliveries_show_revisions_and_fallbacks_when_given(fake_api: FakeApi) -> None:
    items = [{"delivery_id": "a-1:sms-1", "channel_id": "sms-1", "region": "73.03",
              "kind": "sms", "status": "delivered", "reason": None, "attempts": 2,
              "revision": 2, "fallback_of": "a-1:x-1"}]  # fmt: skip
    route = "/v1/announcements/a-1/deliveries"
    fake_api.on("GET", route, (200, {"items": items, "next_cursor": None}))
    result = await siaran(fake_api, "deliveries", "a-1")
    assert result.exit_code == 0, result.output
    assert table_rows(result.stdout)["sms-1"] == [
        "73.03", "sms", "delivered", "2", "2", "fallback for a-1:x-1"]  # fmt: skip
    fake_api.on("GET", route, (200, {"items": [], "next_cursor": None}))
    none = await siaran(fake_api, "deliveries", "a-1", "--status", "failed")
    assert none.exit_code == 0
    assert not none.stdout
    assert "0 deliveries (status failed)" in none.stderr

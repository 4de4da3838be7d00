"""Endpoint safety on the addresses actually connected to: names that resolve to refused
addresses, IPv4 written otherwise than dotted decimal, and Apprise redirects. Every refused
address here is only ever resolved to, never connected to: the guard stops the send first."""

from __future__ import annotations

import socket

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from siaran_publisher.apprise_sender import AppriseSender
from siaran_publisher.outcome import Verdict
from siaran_publisher.webhook import WebhookSender
from siaran_shared.events import DeliveryStatus
from siaran_shared.guard import GuardedResolver

from .conftest import Harness, ScriptedReceiver, task


class MapResolver(AbstractResolver):
    """A DNS that answers from a table (what a hostile or re-pointed zone would say)."""

    def __init__(self, table: dict[str, str]) -> None:
        self.table = table

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        address = self.table.get(host, host)
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [ResolveResult(hostname=host, host=address, port=port, family=family,
                              proto=0, flags=socket.AI_NUMERICHOST)]  # fmt: skip

    async def close(self) -> None:
        return None


DNS = {
    "friendly.example": "127.0.0.1",
    "metadata.example": "169.254.169.254",
    "linklocal.example": "fe80::1",
    "mapped.example": "::ffff:169.254.169.254",
}


async def test_names_resolving_to_refused_addresses_are_refused_at_connect(
    receiver: ScriptedReceiver,
) -> None:
    receiver.answer("/hook", 200, 200, 200, 200)
    sender = WebhookSender(guard=GuardedResolver(inner=MapResolver(DNS)))
    try:
        ok = await sender.send(task(""), f"http://friendly.example:{receiver.port}/hook", None)
        assert ok.verdict is Verdict.DELIVERED  # the resolver is really used
        for name in ("metadata.example", "linklocal.example", "mapped.example"):
            attempt = await sender.send(task(""), f"http://{name}:{receiver.port}/hook", None)
            assert attempt.verdict is Verdict.PERMANENT, name
            assert attempt.summary.startswith("endpoint refused"), attempt.summary
    finally:
        await sender.close()
    assert len(receiver.at("/hook")) == 1


async def test_ipv4_written_in_decimal_is_refused_before_sending(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    receiver.answer("/hook", 200)
    decimal_loopback = f"http://2130706433:{receiver.port}/hook"  # 127.0.0.1
    [outcome] = await harness.run(task(decimal_loopback))
    assert outcome.status is DeliveryStatus.FAILED
    assert "dotted decimal" in (outcome.response or "")
    assert receiver.at("/hook") == []


async def test_apprise_does_not_follow_redirects(
    harness: Harness, receiver: ScriptedReceiver
) -> None:
    receiver.answer("/bounce", (307, {"Location": "/target"}, 0.0))
    endpoint = f"json://127.0.0.1:{receiver.port}/bounce?redirect=yes"
    [outcome] = await harness.run(task(endpoint, channel="tg", kind="telegram"))
    assert outcome.status is DeliveryStatus.FAILED
    assert len(receiver.at("/bounce")) == 1
    assert receiver.at("/target") == []


async def test_apprise_self_hosted_names_are_resolved_and_refused(
    receiver: ScriptedReceiver,
) -> None:
    sender = AppriseSender(GuardedResolver(inner=MapResolver(DNS)))
    refused = await sender.send(task("", kind="telegram"), "json://metadata.example/x")
    assert refused.verdict is Verdict.PERMANENT
    assert refused.summary.startswith("endpoint refused")
    receiver.answer("/ok", 200)
    url = f"json://127.0.0.1:{receiver.port}/ok"
    assert (await sender.send(task("", kind="telegram"), url)).verdict is Verdict.DELIVERED
    assert len(receiver.at("/ok")) == 1


async def test_secret_values_echoed_by_a_receiver_are_scrubbed(
    harness: Harness, receiver: ScriptedReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIARAN_SECRET_PATH_TOKEN", "tok en/with:odd&chars")
    receiver.answer("/hook/tok en/with:odd&chars", 400)  # keyed by the decoded path
    endpoint = f"{receiver.base}/hook/{{secret:PATH_TOKEN}}"
    [outcome] = await harness.run(task(endpoint))
    assert outcome.status is DeliveryStatus.FAILED
    assert "no: /hook/***" in (outcome.response or "")
    for leak in ("tok en", "tok%20en", "odd&chars"):
        assert leak not in (outcome.response or "")
        assert leak not in (harness.last_dead_letter or "")

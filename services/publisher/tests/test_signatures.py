"""A receiver can verify a delivery and reject a stale or replayed one, with the code the
README gives receivers (run here as written there)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from siaran_shared.events import DeliveryStatus
from siaran_shared.signing import signed_headers, standard_signature

from .conftest import SECRET, Harness, ScriptedReceiver, task

README = Path(__file__).resolve().parents[3] / "README.md"

Verify = Callable[[dict[str, str], bytes, str], bool]


@pytest.fixture
def verify_webhook() -> Verify:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text("utf-8"), re.S)
    [snippet] = [b for b in blocks if "def verify_webhook" in b]
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)  # noqa: S102 - the README's own example, run as a receiver would
    verify: Verify = namespace["verify_webhook"]
    return verify


async def test_a_receiver_verifies_a_delivery_with_the_readme_code(
    harness: Harness, receiver: ScriptedReceiver, verify_webhook: Verify
) -> None:
    url = receiver.answer("/signed", 200)
    [outcome] = await harness.run(task(url, secret="HOOK"))
    assert outcome.status is DeliveryStatus.DELIVERED
    [hit] = receiver.at("/signed")
    headers = {k.lower(): v for k, v in hit.headers.items()}
    assert headers["webhook-id"] == headers["idempotency-key"] == "a1:bantaeng-web"
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    assert verify_webhook(headers, hit.body, SECRET)
    assert not verify_webhook(headers, hit.body + b" ", SECRET)  # altered body
    assert not verify_webhook(headers, hit.body, "another secret")
    later = {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) + 1)}
    assert not verify_webhook(later, hit.body, SECRET)  # the timestamp is signed too


def test_a_replay_after_the_tolerance_is_rejected(
    verify_webhook: Verify, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = b'{"id": "a1:c1"}'
    headers = signed_headers("a1:c1", body, SECRET)
    assert verify_webhook(headers, body, SECRET)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 6 * 60)
    assert not verify_webhook(headers, body, SECRET)


def test_whsec_secrets_are_used_as_standard_webhooks_libraries_do() -> None:
    # the example of the Standard Webhooks specification
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert standard_signature("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, secret) == (
        expected
    )

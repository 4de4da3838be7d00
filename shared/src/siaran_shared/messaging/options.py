"""Kafka client options from the shared settings, built in one place: the security of
every client (FastStream's broker, plain aiokafka clients, the admin client) and the
durability of every producer."""

from __future__ import annotations

import ssl
from typing import Any

from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from siaran_shared.settings import Settings

_SASL = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}


def security(settings: Settings) -> BaseSecurity | None:
    """TLS and SASL of the configured protocol, as FastStream describes them."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = (
        ssl.create_default_context(cafile=settings.kafka_ssl_cafile)
        if protocol.endswith("SSL")
        else None
    )
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context)
    password = settings.kafka_sasl_password
    sasl = _SASL[settings.kafka_sasl_mechanism or "PLAIN"]
    return sasl(
        settings.kafka_sasl_username or "",
        password.get_secret_value() if password else "",
        ssl_context=context,
    )


def aiokafka_options(settings: Settings) -> dict[str, Any]:
    """Bootstrap servers, TLS and SASL options for a plain aiokafka client (the publisher's
    own consumer, the lag probe, the admin client, the dead-letter CLI)."""
    return {"bootstrap_servers": settings.kafka_bootstrap, **parse_security(security(settings))}


def producer_options(settings: Settings) -> dict[str, Any]:
    """Durability of every produce: acknowledged by all in-sync replicas, and idempotent
    (no duplicate on a retried send) where the broker supports it; the bundled broker
    does not (aiokafka's idempotent producer fails at start against it)."""
    return {"acks": "all", "enable_idempotence": not settings.bundled_broker}


def heartbeat_interval_ms(settings: Settings) -> int:
    """A group member's heartbeat interval: a third of the session timeout."""
    return max(settings.kafka_session_timeout_ms // 3, 300)

"""Connection options for plain aiokafka clients (consumers and producers used outside
FastStream: the publisher's concurrent consumer, the dead-letter CLI)."""

from __future__ import annotations

import ssl
from typing import Any

from siaran_shared.settings import Settings


def aiokafka_options(settings: Settings) -> dict[str, Any]:
    """Bootstrap servers, TLS and SASL options for aiokafka, from the shared settings."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "security_protocol": settings.kafka_security_protocol,
    }
    if settings.kafka_security_protocol.endswith("SSL"):
        cafile = str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
        options["ssl_context"] = ssl.create_default_context(cafile=cafile)
    if settings.kafka_security_protocol.startswith("SASL"):
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism or "PLAIN"
        options["sasl_plain_username"] = settings.kafka_sasl_username or ""
        password = settings.kafka_sasl_password
        options["sasl_plain_password"] = password.get_secret_value() if password else ""
    return options

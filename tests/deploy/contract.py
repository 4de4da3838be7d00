"""What the deploy files must agree with: one place to update when the services change.

Settings names come from siaran_shared.settings (the source of truth), topics are compared with
siaran_shared.events.topics.
"""

from __future__ import annotations

from siaran_shared.settings import SERVICE_PORTS

# Every service on its contract port: a service added to SERVICE_PORTS (as the console was)
# fails each deploy check until compose, Kubernetes and Prometheus all run it.
SERVICES: dict[str, int] = dict(SERVICE_PORTS)
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"

# Reachable from outside the namespace: the HTTP APIs and the web console (the publisher has
# no API).
PUBLIC: frozenset[str] = frozenset({"ingest", "router", "metrics", "console"})

# Clients of other services' HTTP APIs only (no Kafka, no store, no key file): the services
# each calls, each named by its setting SIARAN_<CLIENT>_<SERVICE>_URL. Every other service is
# on Kafka and the store (KAFKA_ACCESS below).
API_CLIENTS: dict[str, frozenset[str]] = {"console": frozenset({"ingest", "router", "metrics"})}


def api_url_variable(client: str, service: str) -> str:
    """The setting that tells an API client where a service answers."""
    return f"SIARAN_{client.upper()}_{service.upper()}_URL"


# Where an API client's pod may connect besides those services and the trace collector of
# OTEL_EXPORTER_OTLP_ENDPOINT: the cluster DNS, as (namespace, port, protocol).
API_CLIENT_DNS: frozenset[tuple[str, int, str]] = frozenset(
    {("kube-system", 53, "UDP"), ("kube-system", 53, "TCP")}
)

# The topics each autoscaled service's lag is measured on.
LAG_TOPICS: dict[str, frozenset[str]] = {
    "router": frozenset({"siaran.announcements.v1"}),
    "publisher": frozenset({"siaran.deliveries.v1", "siaran.deliveries.retry.v1"}),
}

# Topic name -> (partitions, extra configs that must be present); compared with
# siaran_shared.events.topics.TOPICS by test_topics.py.
TOPICS: dict[str, tuple[int, dict[str, str]]] = {
    "siaran.inbound.v1": (6, {}),
    "siaran.announcements.v1": (6, {}),
    "siaran.channels.v1": (1, {"cleanup.policy": "compact"}),
    "siaran.deliveries.v1": (12, {}),
    "siaran.deliveries.retry.v1": (12, {}),
    "siaran.results.v1": (6, {}),
    "siaran.plans.v1": (6, {}),
    "siaran.dlq.v1": (1, {}),
    "siaran.channel-health.v1": (1, {"cleanup.policy": "compact"}),
}

# What each service may do on Kafka (its KafkaUser's ACLs): topics read, topics written, after
# the services' code (subscribers, the publisher's own consumer, Outgoing(...) and dead_letter
# calls). Each service's consumer group is siaran-<service>; the router reads the registry and
# channel health without a group, the publisher the registry.
KAFKA_ACCESS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "ingest": (
        # announcements.v1: metrics' completions (announcement.completed.v1) mark the archive
        frozenset({"siaran.inbound.v1", "siaran.announcements.v1"}),
        frozenset({"siaran.announcements.v1", "siaran.dlq.v1"}),
    ),
    "router": (
        # results.v1 in the announcements' consumer (group siaran-router): a permanent failure
        # plans the announcement's fallback kinds in the region
        frozenset(
            {
                "siaran.announcements.v1",
                "siaran.results.v1",
                "siaran.channels.v1",
                "siaran.channel-health.v1",
            }
        ),
        frozenset(
            {
                "siaran.channels.v1",
                "siaran.deliveries.v1",
                "siaran.plans.v1",  # a summary per released chunk, which metrics counts
                "siaran.results.v1",
                "siaran.dlq.v1",
            }
        ),
    ),
    "publisher": (
        # channels.v1 without a group: each send follows the channel as it is now (the
        # publisher branch's subscriber, wt-publisher 2747f22)
        frozenset({"siaran.deliveries.v1", "siaran.deliveries.retry.v1", "siaran.channels.v1"}),
        frozenset(
            {
                "siaran.deliveries.retry.v1",
                "siaran.results.v1",
                "siaran.channel-health.v1",
                "siaran.dlq.v1",
            }
        ),
    ),
    "metrics": (
        frozenset(
            {
                "siaran.announcements.v1",
                "siaran.channels.v1",
                "siaran.plans.v1",  # what was planned; never the tasks of siaran.deliveries.v1
                "siaran.results.v1",
                "siaran.channel-health.v1",
                "siaran.dlq.v1",  # the dead letters it keeps for admins
            }
        ),
        # POST /v1/dead-letters/{id}/replay produces a dead letter back to its origin topic
        frozenset(TOPICS),
    ),
}

# Services that read secrets by NAME at send time (SIARAN_SECRETS_DIR), and the secret
# folder each must get: the publisher its channels' tokens and TOKEN_KEY (the Fernet key of
# refreshed platform tokens), metrics the secrets that sign completion callbacks. Each its own
# folder (compose) or Secret (Kubernetes): metrics never sees a channel's token.
SECRET_READERS: dict[str, str] = {
    "publisher": "siaran-channel-secrets",
    "metrics": "siaran-callback-secrets",
}
#: The Secret holding the publisher's TOKEN_KEY, projected into its secrets folder.
TOKEN_KEY_SECRET = "siaran-token-key"

# Consumer groups: one per service on Kafka.
CONSUMER_GROUPS: dict[str, str] = {name: f"siaran-{name}" for name in KAFKA_ACCESS}

# Standard OpenTelemetry SDK variables the deploy files may set (read by the SDK, not Settings).
OTEL_VARIABLES: frozenset[str] = frozenset(
    {
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_SERVICE_NAME",
        "OTEL_RESOURCE_ATTRIBUTES",
        "OTEL_TRACES_SAMPLER",
        "OTEL_TRACES_SAMPLER_ARG",
    }
)

# Settings a deploy file may pin to a value the services must accept.
ALLOWED_VALUES: dict[str, frozenset[str]] = {
    "SIARAN_ENV": frozenset({"local", "production"}),
    "SIARAN_LOG_FORMAT": frozenset({"json", "console"}),
    "SIARAN_KAFKA_SECURITY_PROTOCOL": frozenset({"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}),
    "SIARAN_KAFKA_SASL_MECHANISM": frozenset({"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}),
}

# Kubernetes versions the rendered manifests are validated against (oldest supported, newest).
KUBERNETES_VERSIONS: tuple[str, ...] = ("1.31", "1.37")

# compose services that run and stay up without a container healthcheck, and why.
COMPOSE_NO_HEALTHCHECK: dict[str, str] = {
    "otel-collector": "distroless image: no shell or HTTP client to probe :13133 with",
}
# compose one-shot jobs: run to completion, no restart, no healthcheck.
COMPOSE_ONE_SHOT: frozenset[str] = frozenset({"kafka-init", "tempo-init", "mongodb-init"})

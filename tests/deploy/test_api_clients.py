"""The web console (contract.API_CLIENTS) in Kubernetes: it is told where ingest, router and
metrics answer, gets no Kafka or store settings or credentials, and its NetworkPolicy lets it
connect to those services' HTTP ports (plus DNS and the trace collector) and nothing else:
not Kafka, not the store, not the publisher, not the internet."""

from __future__ import annotations

from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.deploy.manifests import (
    OVERLAYS,
    Docs,
    config,
    container,
    env_of,
    of_kind,
    pod_labels,
    selects,
    settings_of,
)

# Pods a policy must never let the console reach, with the labels Strimzi and the MongoDB
# operators give them (they are not rendered here).
FORBIDDEN_PODS: dict[str, dict[str, str]] = {
    "kafka broker": {
        "app.kubernetes.io/name": "kafka",
        "strimzi.io/cluster": "siaran",
        "strimzi.io/kind": "Kafka",
        "strimzi.io/name": "siaran-kafka",
    },
    "mongodb": {"app.kubernetes.io/name": "mongodb", "app": "mongodb"},
}
Peer = tuple[dict[str, Any], list[dict[str, Any]]]


def egress_peers(docs: Docs, deployment: dict[str, Any]) -> list[Peer]:
    """(peer, ports) of every egress rule that applies to the Deployment's pods; fails on a
    rule that allows any destination or any port, as Kubernetes reads a missing `to`/`ports`."""
    labels = pod_labels(deployment)
    policies = [
        policy
        for policy in of_kind(docs, "NetworkPolicy").values()
        if "Egress" in policy["spec"].get("policyTypes", [])
        and selects(policy["spec"]["podSelector"], labels)
    ]
    assert policies, "no egress policy: the pod may connect anywhere"
    peers = []
    for policy in policies:
        for rule in policy["spec"].get("egress", []):
            where = policy["metadata"]["name"]
            assert rule.get("to"), f"{where}: a rule without `to` allows every destination"
            assert rule.get("ports"), f"{where}: a rule without `ports` allows every port"
            peers += [(peer, rule["ports"]) for peer in rule["to"]]
    return peers


def collector(docs: Docs) -> tuple[str, int]:
    """(namespace, port) of OTEL_EXPORTER_OTLP_ENDPOINT (`http://name.namespace:port`)."""
    url = urlsplit(config(docs)["OTEL_EXPORTER_OTLP_ENDPOINT"])
    assert url.hostname
    assert url.port
    return url.hostname.split(".")[1], url.port


def reached_in_namespace(
    peer: dict[str, Any], ports: list[dict[str, Any]], deployments: dict[str, dict[str, Any]]
) -> set[str]:
    """The Deployments an in-namespace peer lets the pod reach, each on its own HTTP port."""
    selector = peer["podSelector"]
    assert selector.get("matchLabels") or selector.get("matchExpressions"), (
        "an empty podSelector selects every pod of the namespace, Kafka's too"
    )
    for what, labels in FORBIDDEN_PODS.items():
        assert not selects(selector, labels), f"{selector} selects the {what}"
    reached = {name for name, d in deployments.items() if selects(selector, pod_labels(d))}
    for name in reached:
        (http,) = container(deployments[name])["ports"]
        allowed = {(http["containerPort"], "TCP"), ("http", "TCP")}
        for port in ports:
            assert (port["port"], port.get("protocol", "TCP")) in allowed, f"{name}: {port}"
    return reached


def outside_namespace(peer: dict[str, Any], ports: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    """(namespace, port, protocol) of a peer in another namespace named by its label."""
    namespace = peer["namespaceSelector"].get("matchLabels", {}).get("kubernetes.io/metadata.name")
    assert namespace, f"{peer}: only a namespace named by kubernetes.io/metadata.name"
    assert len(peer["namespaceSelector"]["matchLabels"]) == 1
    assert not peer["namespaceSelector"].get("matchExpressions")
    return {(namespace, port["port"], port.get("protocol", "TCP")) for port in ports}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_api_clients_connect_only_to_the_apis_they_call(
    overlay: str, rendered: dict[str, Docs], contract: ModuleType
) -> None:
    docs = rendered[overlay]
    deployments = of_kind(docs, "Deployment")
    namespace, port = collector(docs)
    allowed_outside = contract.API_CLIENT_DNS | {(namespace, port, "TCP")}
    for client, called in contract.API_CLIENTS.items():
        reached: set[str] = set()
        outside: set[tuple[Any, ...]] = set()
        for peer, ports in egress_peers(docs, deployments[f"siaran-{client}"]):
            assert "ipBlock" not in peer, f"{client}: no address ranges"
            if "namespaceSelector" in peer:
                outside |= outside_namespace(peer, ports)
            else:
                reached |= reached_in_namespace(peer, ports, deployments)
        assert reached == {f"siaran-{name}" for name in called}, client
        assert outside <= allowed_outside, f"{client}: {sorted(outside - allowed_outside)}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_api_clients_are_told_where_the_apis_answer_and_nothing_about_kafka_or_the_store(
    overlay: str, rendered: dict[str, Docs], contract: ModuleType
) -> None:
    docs = rendered[overlay]
    deployments = of_kind(docs, "Deployment")
    services = of_kind(docs, "Service")
    for client, called in contract.API_CLIENTS.items():
        deployment = deployments[f"siaran-{client}"]
        settings = settings_of(docs, deployment)
        # production: the console's session cookie is Secure and __Host- prefixed
        assert settings["SIARAN_ENV"] == "production", client
        for target in called:
            url = urlsplit(str(settings[contract.api_url_variable(client, target)]))
            assert url.scheme == "http", f"{client} -> {target}: inside the cluster"
            (port,) = services[f"siaran-{target}"]["spec"]["ports"]
            assert (url.hostname, url.port) == (f"siaran-{target}", port["port"]), client
        assert not [k for k in settings if k.startswith("SIARAN_KAFKA_")], client
        assert not {"SIARAN_STORE_URL", "SIARAN_API_KEYS_FILE", "SIARAN_SECRETS_DIR"} & set(
            settings
        ), client
        assert not [item for item in env_of(deployment).values() if "valueFrom" in item], client
        volumes = deployment["spec"]["template"]["spec"]["volumes"]
        assert all("emptyDir" in volume for volume in volumes), f"{client}: no Secret mounted"


def test_api_clients_have_no_kafka_user(rendered: dict[str, Docs], contract: ModuleType) -> None:
    users = of_kind(rendered["prod"], "KafkaUser")
    for client in contract.API_CLIENTS:
        assert f"siaran-{client}" not in users

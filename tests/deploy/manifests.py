"""Reading rendered Kubernetes manifests: resources by kind, a Deployment's container, its
settings (ConfigMaps it loads plus its own env), and label selectors as Kubernetes applies them."""

from __future__ import annotations

from typing import Any

Docs = list[dict[str, Any]]
# What conftest.rendered holds: the dev and prod overlays, and prod with the HPA fallback.
OVERLAYS = ("dev", "prod", "prod-hpa")


def of_kind(docs: Docs, kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def settings_maps(docs: Docs) -> dict[str, dict[str, Any]]:
    """The services' settings ConfigMaps (not the Grafana dashboards)."""
    return {
        name: doc
        for name, doc in of_kind(docs, "ConfigMap").items()
        if "grafana_dashboard" not in doc["metadata"].get("labels", {})
    }


def config(docs: Docs) -> dict[str, str]:
    """Every settings ConfigMap's data in one: no setting is in two of them."""
    merged: dict[str, str] = {}
    for name, configmap in settings_maps(docs).items():
        twice = set(merged) & set(configmap["data"])
        assert not twice, f"{name} repeats {sorted(twice)}"
        merged |= configmap["data"]
    return merged


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(only)


def env_of(deployment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container(deployment).get("env", [])}


def config_maps_of(deployment: dict[str, Any]) -> set[str]:
    """The ConfigMaps a Deployment loads whole (envFrom)."""
    return {ref["configMapRef"]["name"] for ref in container(deployment).get("envFrom", [])}


def settings_of(docs: Docs, deployment: dict[str, Any]) -> dict[str, str | None]:
    """What a pod's process sees: its ConfigMaps' data, then its own env (value or None for a
    reference to a Secret)."""
    maps = settings_maps(docs)
    seen: dict[str, str | None] = {}
    for name in sorted(config_maps_of(deployment)):
        seen |= maps[name]["data"]
    return seen | {name: item.get("value") for name, item in env_of(deployment).items()}


def pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    return dict(deployment["spec"]["template"]["metadata"]["labels"])


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels and matchExpressions) selects these labels."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values", [])
        present = key in labels
        if not {
            "In": present and labels[key] in values,
            "NotIn": not present or labels[key] not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[operator]:
            return False
    return True

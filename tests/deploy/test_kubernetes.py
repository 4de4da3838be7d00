"""deploy/k8s: every overlay renders, validates against the Kubernetes schemas, and agrees with
the services (variables, ports, probes, images), the monitoring and the store credentials; Kafka
(topics, autoscaling, ACLs) is test_kubernetes_kafka.py, the console is test_api_clients.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePosixPath
from types import ModuleType

import kubernetes_validate
import pytest
import yaml
from siaran_shared.settings import Settings

from tests.deploy.manifests import (
    OVERLAYS,
    Docs,
    config,
    config_maps_of,
    container,
    env_of,
    of_kind,
    settings_maps,
    settings_of,
)

# Custom resources: no upstream schema in kubernetes-validate; checked field by field below.
CUSTOM_KINDS = {
    "ScaledObject",
    "TriggerAuthentication",
    "Kafka",
    "KafkaNodePool",
    "KafkaTopic",
    "KafkaUser",
    "ServiceMonitor",
    "PrometheusRule",
}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_manifests_match_the_kubernetes_schemas(
    overlay: str, rendered: dict[str, Docs], contract: ModuleType
) -> None:
    for doc in rendered[overlay]:
        if doc["kind"] in CUSTOM_KINDS:
            continue
        for version in contract.KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                where = ".".join(str(p) for p in error.path)
                pytest.fail(f"{overlay} {doc['kind']}/{doc['metadata']['name']} {where}: {error}")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_values_are_rendered(overlay: str, rendered: dict[str, Docs]) -> None:
    assert not of_kind(rendered[overlay], "Secret")
    for name, deployment in of_kind(rendered[overlay], "Deployment").items():
        for variable, item in env_of(deployment).items():
            # Passwords, and the store URL that carries one, come from Secrets.
            if "PASSWORD" in variable or variable == "SIARAN_STORE_URL":
                assert "secretKeyRef" in item.get("valueFrom", {}), f"{name}: {variable}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_variables_are_ones_the_services_read(
    overlay: str,
    rendered: dict[str, Docs],
    contract: ModuleType,
    siaran_variables: frozenset[str],
    service_variables: dict[str, frozenset[str]],
) -> None:
    settings = config(rendered[overlay])
    shared = siaran_variables | contract.OTEL_VARIABLES
    assert set(settings) <= shared, sorted(set(settings) - shared)
    for key, allowed in contract.ALLOWED_VALUES.items():
        if key in settings:
            assert settings[key] in allowed, f"{key}={settings[key]}"
    deployments = of_kind(rendered[overlay], "Deployment")
    for name in contract.SERVICES:
        deployment = deployments[f"siaran-{name}"]
        known = service_variables[name] | contract.OTEL_VARIABLES
        assert set(env_of(deployment)) <= known, name
        assert config_maps_of(deployment) <= set(settings_maps(rendered[overlay])), name
    loaded = set().union(*(config_maps_of(d) for d in deployments.values()))
    assert loaded == set(settings_maps(rendered[overlay])), "a settings ConfigMap nobody loads"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_accepts_the_settings_its_pod_gets(
    overlay: str,
    rendered: dict[str, Docs],
    contract: ModuleType,
    load_settings: Callable[..., Settings],
) -> None:
    deployments = of_kind(rendered[overlay], "Deployment")
    for name, port in contract.SERVICES.items():
        seen = settings_of(rendered[overlay], deployments[f"siaran-{name}"])
        # a Secret's value (None here) is only known in the cluster: any non-empty text
        settings = load_settings(
            name, {k: "from-a-secret" if v is None else v for k, v in seen.items()}
        )
        assert (settings.env.value, settings.http_port) == ("production", port), name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ports_and_probes_are_the_services_own(
    overlay: str, rendered: dict[str, Docs], contract: ModuleType
) -> None:
    deployments = of_kind(rendered[overlay], "Deployment")
    services = of_kind(rendered[overlay], "Service")
    assert set(deployments) == {f"siaran-{name}" for name in contract.SERVICES}
    for name, port in contract.SERVICES.items():
        main = container(deployments[f"siaran-{name}"])
        assert main["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]
        assert env_of(deployments[f"siaran-{name}"])["SIARAN_PORT"]["value"] == str(port)
        for probe, path in (
            ("startupProbe", contract.HEALTH_PATH),
            ("livenessProbe", contract.HEALTH_PATH),
            ("readinessProbe", contract.READY_PATH),
        ):
            assert main[probe]["httpGet"] == {"path": path, "port": "http"}, f"{name} {probe}"
        (service_port,) = services[f"siaran-{name}"]["spec"]["ports"]
        assert (service_port["port"], service_port["targetPort"]) == (port, "http")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_overlay_pins_every_services_image_to_one_release(
    overlay: str, rendered: dict[str, Docs], contract: ModuleType
) -> None:
    releases = set()
    for name in contract.SERVICES:
        image = container(of_kind(rendered[overlay], "Deployment")[f"siaran-{name}"])["image"]
        repository, _, tag = image.rpartition(":")
        assert "/" not in tag, f"{overlay} leaves siaran-{name} on {image}: add it to `images:`"
        prefix, _, last = repository.rpartition("/")
        assert last == name, image
        releases.add((prefix, tag))
    assert len(releases) == 1, f"{overlay} mixes registries or versions: {sorted(releases)}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_are_locked_down_and_sized(overlay: str, rendered: dict[str, Docs]) -> None:
    for name, deployment in of_kind(rendered[overlay], "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["automountServiceAccountToken"] is False, name
        main = container(deployment)
        security = main["securityContext"]
        assert security["readOnlyRootFilesystem"] is True, name
        assert security["allowPrivilegeEscalation"] is False, name
        assert security["capabilities"]["drop"] == ["ALL"], name
        assert {"cpu", "memory"} <= set(main["resources"]["requests"]), name
        assert "memory" in main["resources"]["limits"], name
        mounts = {m["mountPath"] for m in main["volumeMounts"]}
        assert "/tmp" in mounts, f"{name}: read-only root needs a writable /tmp"
        volumes = {v["name"] for v in pod["volumes"]}
        assert {m["name"] for m in main["volumeMounts"]} <= volumes, name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_files_named_by_settings_are_mounted(overlay: str, rendered: dict[str, Docs]) -> None:
    for name, deployment in of_kind(rendered[overlay], "Deployment").items():
        values = settings_of(rendered[overlay], deployment)
        mounts = {m["mountPath"] for m in container(deployment)["volumeMounts"]}
        for variable in ("SIARAN_API_KEYS_FILE", "SIARAN_KAFKA_SSL_CAFILE"):
            if values.get(variable):
                assert str(PurePosixPath(values[variable]).parent) in mounts, f"{name} {variable}"
        if values.get("SIARAN_SECRETS_DIR"):
            assert values["SIARAN_SECRETS_DIR"] in mounts, name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_that_read_secrets_get_their_own_secret(
    overlay: str, rendered: dict[str, Docs], contract: ModuleType
) -> None:
    """metrics signs callbacks from its own Secret; the publisher's folder also holds
    TOKEN_KEY from its own Secret, so replacing the channel secrets never drops it."""
    deployments = of_kind(rendered[overlay], "Deployment")
    for name, secret in contract.SECRET_READERS.items():
        deployment = deployments[f"siaran-{name}"]
        folder = settings_of(rendered[overlay], deployment).get("SIARAN_SECRETS_DIR")
        assert folder, f"{name} reads secrets by name but has no SIARAN_SECRETS_DIR"
        [mount] = [m for m in container(deployment)["volumeMounts"] if m["mountPath"] == folder]
        assert mount.get("readOnly") is True, name
        [volume] = [
            v
            for v in deployment["spec"]["template"]["spec"]["volumes"]
            if v["name"] == mount["name"]
        ]
        sources = volume.get("projected", {}).get("sources", [{"secret": volume.get("secret")}])
        names = {(s.get("secret") or {}).get("name") or (s.get("secret") or {}).get("secretName")
                 for s in sources}  # fmt: skip
        assert secret in names, f"{name}: {names}"
        if name == "publisher":
            assert contract.TOKEN_KEY_SECRET in names, names
        else:
            assert contract.TOKEN_KEY_SECRET not in names, names


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_has_a_service_and_a_disruption_budget(
    overlay: str, rendered: dict[str, Docs]
) -> None:
    services = of_kind(rendered[overlay], "Service")
    budgets = of_kind(rendered[overlay], "PodDisruptionBudget")
    for name, deployment in of_kind(rendered[overlay], "Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= labels.items(), name
        assert services[name]["spec"]["selector"].items() <= labels.items(), name
        assert budgets[name]["spec"]["selector"]["matchLabels"].items() <= labels.items(), name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_apis_are_reachable(
    overlay: str, rendered: dict[str, Docs], contract: ModuleType
) -> None:
    policies = of_kind(rendered[overlay], "NetworkPolicy")
    deny = policies["siaran-default-deny-ingress"]["spec"]
    assert deny["policyTypes"] == ["Ingress"]
    assert "ingress" not in deny
    (expression,) = policies["siaran-allow-api"]["spec"]["podSelector"]["matchExpressions"]
    assert set(expression["values"]) == {f"siaran-{name}" for name in contract.PUBLIC}
    scrape = policies["siaran-allow-prometheus"]["spec"]["ingress"]
    assert all(rule.get("from") for rule in scrape), "scraping is limited to Prometheus"


def test_service_monitor_scrapes_every_service_under_its_compose_job_name(
    rendered: dict[str, Docs], contract: ModuleType
) -> None:
    docs = rendered["prod"]
    (monitor,) = of_kind(docs, "ServiceMonitor").values()
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["path"] == contract.METRICS_PATH
    selector = monitor["spec"]["selector"]["matchLabels"]
    services = of_kind(docs, "Service")
    assert set(services) == {f"siaran-{name}" for name in contract.SERVICES}
    for name, service in services.items():
        assert selector.items() <= service["metadata"]["labels"].items(), name
        assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}, name
        # job = this label's value: the job names the alert rules and dashboards select on
        job = service["metadata"]["labels"][monitor["spec"]["jobLabel"]]
        assert f"siaran-{job}" == name


def test_prod_ships_the_alert_rules_and_dashboards(rendered: dict[str, Docs], root: Path) -> None:
    regenerate = "run .venv/bin/python deploy/k8s/components/monitoring/generate.py"
    docs = rendered["prod"]
    (rule,) = of_kind(docs, "PrometheusRule").values()
    groups = [
        group
        for path in sorted((root / "deploy/prometheus/rules").glob("*.yml"))
        for group in yaml.safe_load(path.read_text())["groups"]
    ]
    assert rule["spec"]["groups"] == groups, f"the PrometheusRule is out of date: {regenerate}"
    boards = {
        key: value
        for doc in of_kind(docs, "ConfigMap").values()
        if doc["metadata"].get("labels", {}).get("grafana_dashboard") == "1"
        for key, value in doc["data"].items()
    }
    files = {p.name: p.read_text() for p in (root / "deploy/grafana/dashboards").glob("*.json")}
    assert files
    assert boards == files, f"the dashboard ConfigMaps are out of date: {regenerate}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_reaches_the_store_with_its_own_credentials(
    overlay: str, rendered: dict[str, Docs], contract: ModuleType
) -> None:
    deployments = of_kind(rendered[overlay], "Deployment")
    for name in contract.KAFKA_ACCESS:
        url = env_of(deployments[f"siaran-{name}"])["SIARAN_STORE_URL"]
        assert url["valueFrom"]["secretKeyRef"] == {"name": f"siaran-store-{name}", "key": "url"}

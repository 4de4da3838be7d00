"""Write this component's PrometheusRule and dashboard ConfigMaps from the compose stack's files.

The alert rules (deploy/prometheus/rules/*.yml) and Grafana dashboards
(deploy/grafana/dashboards/*.json) are edited in one place, there; kustomize cannot read files
outside a kustomization's folder, so this copies them into resources here. Run it after
changing either (tests/deploy/test_kubernetes.py fails while the copies differ):

    .venv/bin/python deploy/k8s/components/monitoring/generate.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
DEPLOY = HERE.parents[2]
HEADER = "# Written by generate.py from {source}: edit that, then run generate.py.\n"


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks, so the copies stay readable and diffable."""


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _string)


def prometheus_rule() -> dict[str, Any]:
    """Every rule group of deploy/prometheus/rules as one PrometheusRule."""
    groups = [
        group
        for path in sorted((DEPLOY / "prometheus/rules").glob("*.yml"))
        for group in yaml.safe_load(path.read_text())["groups"]
    ]
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "siaran-alerts", "labels": {"app.kubernetes.io/part-of": "siaran"}},
        "spec": {"groups": groups},
    }


def dashboard_configmaps() -> list[dict[str, Any]]:
    """One ConfigMap per dashboard, labelled for the Grafana dashboard sidecar."""
    maps = []
    for path in sorted((DEPLOY / "grafana/dashboards").glob("*.json")):
        text = path.read_text()
        json.loads(text)  # refuses a broken file before it is copied
        maps.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": f"siaran-dashboard-{path.stem}",
                    "labels": {"grafana_dashboard": "1"},
                    "annotations": {"grafana_folder": "Siaran"},
                },
                "data": {path.name: text},
            }
        )
    return maps


def rendered() -> dict[str, str]:
    """File name in this folder -> its text."""
    rule = HEADER.format(source="deploy/prometheus/rules/*.yml") + yaml.dump(
        prometheus_rule(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
    )
    boards = HEADER.format(source="deploy/grafana/dashboards/*.json") + yaml.dump_all(
        dashboard_configmaps(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
    )
    return {"prometheusrule.yaml": rule, "dashboards.yaml": boards}


def main() -> None:
    for name, text in rendered().items():
        (HERE / name).write_text(text)


if __name__ == "__main__":
    main()

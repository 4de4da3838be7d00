"""Every dashboard and alert query names only series and labels the services export.

No PromQL parser exists on PyPI, so a small tokenizer extracts the selectors: enough of
PromQL to tell metric names from functions, keywords, label matchers, grouping clauses
(`by`, `without`, `on`, `ignoring`, `group_left/right`), ranges and Grafana variables. The
syntax itself is left to promtool, which parses every dashboard expression as a recording rule.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from siaran_shared.metric_names import ALL_METRICS, MetricSpec

DASHBOARDS = sorted(
    (Path(__file__).resolve().parents[2] / "deploy/grafana/dashboards").glob("*.json")
)
RULE_FILES = sorted((Path(__file__).resolve().parents[2] / "deploy/prometheus/rules").glob("*.yml"))

PROMETHEUS_UID = "prometheus"
SCRAPE_LABELS = frozenset({"job", "instance"})
UP_LABELS = SCRAPE_LABELS

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<var>\$\{[^}]*\}|\$\w+|\[\[\w+\]\])
  | (?P<number>0x[0-9a-fA-F]+|\d[\w.]*|\.\d[\w.]*)
  | (?P<ident>[A-Za-z_:][\w:]*)
  | (?P<punct>[(){}\[\],])
  | (?P<op>=~|!~|!=|==|>=|<=|[-+*/%^=<>@:])
    """,
    re.VERBOSE,
)
_GROUPING = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
_KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset", "inf", "nan"}) | _GROUPING


@dataclass
class Selector:
    """One vector selector: its metric name and the label names its matchers use."""

    metric: str | None
    labels: set[str] = field(default_factory=set)


@dataclass
class Query:
    """What a PromQL expression refers to."""

    selectors: list[Selector] = field(default_factory=list)
    grouping: set[str] = field(default_factory=set)

    @property
    def metrics(self) -> set[str | None]:
        return {s.metric for s in self.selectors}


def _tokens(expr: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(expr):
        match = _TOKEN.match(expr, pos)
        if match is None:
            raise ValueError(f"cannot tokenize {expr[pos:]!r} in {expr!r}")
        kind = match.lastgroup
        assert kind is not None
        if kind not in {"space", "comment"}:
            tokens.append((kind, match.group()))
        pos = match.end()
    return tokens


def parse(expr: str) -> Query:
    """The selectors and grouping labels of a PromQL expression (Grafana variables allowed)."""
    tokens = _tokens(expr)
    query = Query()
    i = 0

    def peek(at: int) -> str:
        return tokens[at][1] if at < len(tokens) else ""

    def label_list(start: int) -> int:
        # tokens[start] is "(": collect label names up to ")".
        end = start + 1
        while peek(end) != ")":
            kind, text = tokens[end]
            if kind == "ident":
                query.grouping.add(text)
            elif kind == "string":  # Prometheus 3 quotes label names outside [a-zA-Z0-9_]
                query.grouping.add(text[1:-1])
            end += 1
        return end + 1

    def matchers(start: int, selector: Selector) -> int:
        # tokens[start] is "{": label op string, ... "}".
        end = start + 1
        while peek(end) != "}":
            kind, text = tokens[end]
            if kind == "ident":
                op, value = peek(end + 1), peek(end + 2)
                if text == "__name__" and op == "=":
                    selector.metric = value[1:-1]
                else:
                    selector.labels.add(text)
                end += 3
            else:
                end += 1
        return end + 1

    while i < len(tokens):
        kind, text = tokens[i]
        if text == "[":
            while peek(i) != "]":
                i += 1
            i += 1
        elif text == "{":
            selector = Selector(metric=None)
            query.selectors.append(selector)
            i = matchers(i, selector)
        elif kind == "ident" and text in _GROUPING and peek(i + 1) == "(":
            i = label_list(i + 1)
        elif kind == "ident" and (text in _KEYWORDS or peek(i + 1) in {"(", "by", "without"}):
            i += 1  # a keyword, a function, or an aggregation (`sum by (x) (...)`)
        elif kind == "ident":
            selector = Selector(metric=text)
            query.selectors.append(selector)
            i = matchers(i + 1, selector) if peek(i + 1) == "{" else i + 1
        else:
            i += 1
    return query


_LABEL_VALUES = re.compile(r"^\s*label_values\((?:(?P<expr>.+),)?\s*(?P<label>\w+)\s*\)\s*$")


def variable_query(query: str) -> Query:
    """A Grafana Prometheus variable query (`label_values(expr, label)`) as a Query."""
    match = _LABEL_VALUES.match(query)
    if match is None:
        return parse(query)
    parsed = parse(match["expr"]) if match["expr"] else Query()
    parsed.grouping.add(match["label"])
    return parsed


# --- the contract --------------------------------------------------------------------------


def _series_labels() -> dict[str, frozenset[str]]:
    labels: dict[str, frozenset[str]] = {"up": UP_LABELS}
    spec: MetricSpec
    for spec in ALL_METRICS.values():
        for series in spec.prometheus_series:
            extra = {"le"} if series.endswith("_bucket") else set()
            labels[series] = frozenset(spec.labels) | SCRAPE_LABELS | extra
    return labels


SERIES_LABELS = _series_labels()


def check_query(query: Query) -> list[str]:
    """Problems with a parsed query: unknown series, or labels no selected series has."""
    problems = []
    allowed: set[str] = set()
    for selector in query.selectors:
        if selector.metric not in SERIES_LABELS:
            problems.append(f"{selector.metric!r} is not in siaran_shared.metric_names")
            continue
        known = SERIES_LABELS[selector.metric]
        allowed |= known
        for label in sorted(selector.labels - known):
            problems.append(f"{selector.metric} has no label {label!r}")
    for label in sorted(query.grouping - allowed):
        problems.append(f"no selected series has the label {label!r}")
    if not query.selectors:
        problems.append("selects no series")
    return problems


# --- where the queries are ------------------------------------------------------------------


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def dashboard_queries() -> Iterator[tuple[str, str, Query]]:
    """(where, PromQL or variable query, parsed) for every query in every dashboard."""
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        for panel in _walk(board.get("panels", [])):
            if isinstance(panel.get("expr"), str):
                yield f"{path.name}: {panel['expr']}", panel["expr"], parse(panel["expr"])
        for variable in board.get("templating", {}).get("list", []):
            if variable.get("type") == "query":
                raw = variable["query"]
                text = raw["query"] if isinstance(raw, dict) else raw
                yield f"{path.name} ${variable['name']}: {text}", text, variable_query(text)


def rule_queries() -> Iterator[tuple[str, str, Query]]:
    """(where, PromQL, parsed) for every alerting and recording rule."""
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                name = rule.get("alert") or rule["record"]
                yield f"{path.name} {name}", rule["expr"], parse(rule["expr"])


def _ids(items: list[tuple[str, str, Query]]) -> list[str]:
    return [where for where, _, _ in items]


DASHBOARD_QUERIES = list(dashboard_queries())
RULE_QUERIES = list(rule_queries())


# --- tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "metrics", "grouping"),
    [
        ("up", {"up"}, set()),
        ('sum by (kind) (rate(a_total{x="y",z=~"$kind"}[5m]))', {"a_total"}, {"kind"}),
        ("sum(rate(a_total[$__rate_interval])) by (job)", {"a_total"}, {"job"}),
        ("a and on (job) b unless ignoring(instance) c", {"a", "b", "c"}, {"job", "instance"}),
        ("x * on(a) group_left(b) y", {"x", "y"}, {"a", "b"}),
        ("x * on(a) group_left y", {"x", "y"}, {"a"}),
        ('label_replace(up, "dst", "$1", "src", "(.*)")', {"up"}, set()),
        ('{__name__="foo", job="x"}', {"foo"}, set()),
        ("a offset 5m > bool 0.5", {"a"}, set()),
        ("a @ start() - a @ 1609746000", {"a"}, set()),
        (
            "histogram_quantile(0.9, sum without (instance) (rate(h_bucket[1h:5m])))",
            {"h_bucket"},
            {"instance"},
        ),
        ("count(sum by (p) (x) == 0) or vector(0)", {"x"}, {"p"}),
        ("topk(5, -a) / 1e3 + inf * nan", {"a"}, set()),
        ('sum by ("odd.name") (a) # trailing comment', {"a"}, {"odd.name"}),
        ("deriv(lag:recorded[10m])", {"lag:recorded"}, set()),
        ("rate(a[${interval}])", {"a"}, set()),
    ],
)
def test_extractor(expr: str, metrics: set[str], grouping: set[str]) -> None:
    query = parse(expr)
    assert query.metrics == metrics
    assert query.grouping == grouping


def test_extractor_reports_matcher_labels_per_selector() -> None:
    query = parse('a{x="1", y!~"2"} / on() b{z="}"}')
    assert [(s.metric, s.labels) for s in query.selectors] == [("a", {"x", "y"}), ("b", {"z"})]


def test_variable_queries() -> None:
    query = variable_query("label_values(siaran_deliveries_total, kind)")
    assert (query.metrics, query.grouping) == ({"siaran_deliveries_total"}, {"kind"})


def test_contract_check_catches_mistakes() -> None:
    assert check_query(parse("siaran_deliveries")) != []  # the OTel name, not the series
    assert check_query(parse("siaran_delivery_seconds")) != []  # histograms have no bare series
    assert check_query(parse('siaran_delivery_seconds_sum{province="73"}')) != []
    assert check_query(parse("sum by (route) (siaran_pending_deliveries)")) != []
    assert check_query(parse("sum by (le) (rate(siaran_delivery_seconds_bucket[5m]))")) == []
    assert check_query(parse('sum by (job) (up{instance="x"})')) == []


def test_there_are_dashboards_and_rules_to_check() -> None:
    assert {p.name for p in DASHBOARDS} >= {
        "delivery-overview.json",
        "coverage.json",
        "service-health.json",
    }
    assert RULE_QUERIES


@pytest.mark.parametrize(("where", "expr", "query"), DASHBOARD_QUERIES, ids=_ids(DASHBOARD_QUERIES))
def test_dashboard_query_uses_catalogued_metrics(where: str, expr: str, query: Query) -> None:
    assert check_query(query) == [], where


@pytest.mark.parametrize(("where", "expr", "query"), RULE_QUERIES, ids=_ids(RULE_QUERIES))
def test_rule_uses_catalogued_metrics(where: str, expr: str, query: Query) -> None:
    assert check_query(query) == [], where


_GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "6h"}


def test_dashboard_queries_are_valid_promql(promtool: str, tmp_path: Path) -> None:
    rules = []
    for n, (where, expr, _) in enumerate(DASHBOARD_QUERIES):
        if "label_values(" in expr:
            continue
        for variable, value in _GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        expr = re.sub(r"\$\w+", "x", expr)  # template variables, all inside label matchers
        rules.append({"record": f"dashboard:query:{n}", "expr": expr, "labels": {"at": where}})
    path = tmp_path / "dashboards.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run(
        [promtool, "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", DASHBOARDS, ids=[p.name for p in DASHBOARDS])
def test_dashboard_is_well_formed(path: Path) -> None:
    board = json.loads(path.read_text())
    assert board["schemaVersion"] >= 39
    assert board["uid"]
    assert board["title"].startswith("Siaran / ")
    panels = list(_walk(board["panels"]))
    ids = [p["id"] for p in panels if "gridPos" in p]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels:
        if "targets" not in panel:
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": PROMETHEUS_UID}, panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == PROMETHEUS_UID, panel["title"]
    for variable in board.get("templating", {}).get("list", []):
        assert variable["datasource"]["uid"] == PROMETHEUS_UID, variable["name"]


def test_dashboard_uids_are_unique() -> None:
    uids = [json.loads(p.read_text())["uid"] for p in DASHBOARDS]
    assert len(uids) == len(set(uids))


def test_provisioning_points_at_the_dashboards_and_datasources() -> None:
    grafana = DASHBOARDS[0].parents[1]
    sources = yaml.safe_load((grafana / "provisioning/datasources/datasources.yml").read_text())
    by_uid = {d["uid"]: d for d in sources["datasources"]}
    assert by_uid["prometheus"]["url"] == "http://prometheus:9090"
    assert by_uid["prometheus"]["type"] == "prometheus"
    assert by_uid["tempo"]["url"] == "http://tempo:3200"
    assert by_uid["tempo"]["type"] == "tempo"
    providers = yaml.safe_load((grafana / "provisioning/dashboards/dashboards.yml").read_text())
    assert [p["options"]["path"] for p in providers["providers"]] == ["/var/lib/grafana/dashboards"]


# Gauges every replica reports in full for the whole group or system (not its own share):
# summing them over replicas multiplies them by the replica count.
WHOLE_PER_REPLICA = frozenset({"siaran_consumer_lag"})
_ADDING = frozenset({"sum", "count"})


def adds_up_replicas(expr: str) -> bool:
    """Whether an aggregation that adds (sum, count) is applied to a whole-per-replica gauge."""
    tokens = [text for kind, text in _tokens(expr) if kind != "string"]
    return any(t in WHOLE_PER_REPLICA for t in tokens) and any(t in _ADDING for t in tokens)


def test_replica_check_catches_a_sum() -> None:
    assert adds_up_replicas("sum by (group, topic) (siaran_consumer_lag)")
    assert not adds_up_replicas("max by (group, topic) (siaran_consumer_lag)")


@pytest.mark.parametrize(
    ("where", "expr", "query"),
    DASHBOARD_QUERIES + RULE_QUERIES,
    ids=_ids(DASHBOARD_QUERIES + RULE_QUERIES),
)
def test_lag_is_not_multiplied_by_the_replicas(where: str, expr: str, query: Query) -> None:
    assert not adds_up_replicas(expr), f"{where}: combine replicas with max, not sum"

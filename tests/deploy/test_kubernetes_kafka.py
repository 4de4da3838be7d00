"""deploy/k8s and Kafka: the KafkaTopics match the topic contract, router and publisher scale
on consumer lag (KEDA, or the HPA fallback) within the partition counts, prod talks TLS + SCRAM,
and each service's KafkaUser may touch only its own topics and group."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from tests.deploy.manifests import OVERLAYS, Docs, config, env_of, of_kind


def test_topics_match_the_contract(rendered: dict[str, Docs], contract: ModuleType) -> None:
    for overlay in OVERLAYS:
        docs = rendered[overlay]
        (cluster,) = of_kind(docs, "Kafka")
        topics = of_kind(docs, "KafkaTopic")
        brokers = sum(pool["spec"]["replicas"] for pool in of_kind(docs, "KafkaNodePool").values())
        assert {t["spec"]["topicName"] for t in topics.values()} == set(contract.TOPICS)
        for topic in topics.values():
            partitions, configs = contract.TOPICS[topic["spec"]["topicName"]]
            assert topic["metadata"]["labels"]["strimzi.io/cluster"] == cluster
            assert topic["spec"]["partitions"] == partitions
            assert (
                configs.items() <= {k: str(v) for k, v in topic["spec"]["config"].items()}.items()
            )
            assert topic["spec"]["replicas"] <= brokers, overlay


def scaled_objects(docs: Docs) -> dict[str, dict[str, Any]]:
    return {
        so["spec"]["scaleTargetRef"]["name"]: so for so in of_kind(docs, "ScaledObject").values()
    }


def test_router_and_publisher_scale_on_consumer_lag(
    rendered: dict[str, Docs], contract: ModuleType
) -> None:
    docs = rendered["prod"]
    settings = config(docs)
    deployments = of_kind(docs, "Deployment")
    objects = scaled_objects(docs)
    assert set(objects) == {f"siaran-{name}" for name in contract.LAG_TOPICS}
    auths = of_kind(docs, "TriggerAuthentication")
    for name, topics in contract.LAG_TOPICS.items():
        spec = objects[f"siaran-{name}"]["spec"]
        assert "replicas" not in deployments[f"siaran-{name}"]["spec"], "owned by the autoscaler"
        assert {t["type"] for t in spec["triggers"]} == {"kafka"}
        assert {t["metadata"]["topic"] for t in spec["triggers"]} == topics
        least = min(contract.TOPICS[topic][0] for topic in topics)
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"] <= least
        for trigger in spec["triggers"]:
            meta = trigger["metadata"]
            assert meta["consumerGroup"] == contract.CONSUMER_GROUPS[name]
            assert meta["bootstrapServers"] == settings["SIARAN_KAFKA_BOOTSTRAP"]
            assert int(meta["lagThreshold"]) > 0
            if settings["SIARAN_KAFKA_SECURITY_PROTOCOL"].startswith("SASL"):
                mechanism = settings["SIARAN_KAFKA_SASL_MECHANISM"].lower().replace("-", "_")
                assert meta["sasl"] == mechanism.replace("scram_sha_", "scram_sha")
                assert meta["tls"] == "enable"
                assert trigger["authenticationRef"]["name"] in auths


def test_hpa_fallback_replaces_keda(rendered: dict[str, Docs], contract: ModuleType) -> None:
    docs = rendered["prod-hpa"]
    assert not of_kind(docs, "ScaledObject")
    hpas = of_kind(docs, "HorizontalPodAutoscaler")
    assert set(hpas) == {f"siaran-{name}" for name in contract.LAG_TOPICS}
    for name, topics in contract.LAG_TOPICS.items():
        spec = hpas[f"siaran-{name}"]["spec"]
        assert spec["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": f"siaran-{name}",
        }
        assert spec["maxReplicas"] <= min(contract.TOPICS[topic][0] for topic in topics)


def test_dev_has_no_autoscaling(rendered: dict[str, Docs]) -> None:
    assert not of_kind(rendered["dev"], "ScaledObject")
    assert not of_kind(rendered["dev"], "HorizontalPodAutoscaler")


def test_prod_talks_to_kafka_over_tls_with_scram(
    rendered: dict[str, Docs], contract: ModuleType
) -> None:
    docs = rendered["prod"]
    settings = config(docs)
    assert settings["SIARAN_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    (cluster,) = of_kind(docs, "Kafka").values()
    port = int(settings["SIARAN_KAFKA_BOOTSTRAP"].rsplit(":", 1)[1])
    (listener,) = [lsn for lsn in cluster["spec"]["kafka"]["listeners"] if lsn["port"] == port]
    assert listener["tls"] is True
    mechanism = settings["SIARAN_KAFKA_SASL_MECHANISM"].lower()
    assert listener["authentication"]["type"] == mechanism
    users = of_kind(docs, "KafkaUser")
    deployments = of_kind(docs, "Deployment")
    for name in contract.KAFKA_ACCESS:
        env = env_of(deployments[f"siaran-{name}"])
        user = env["SIARAN_KAFKA_SASL_USERNAME"]["value"]
        assert users[user]["spec"]["authentication"]["type"] == mechanism, name
        password = env["SIARAN_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert password == {"name": user, "key": "password"}, "the Strimzi user secret"


def acls_of(user: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    """(resource type, name) -> operations; only literal names are allowed."""
    found: dict[tuple[str, str], set[str]] = {}
    for acl in user["spec"]["authorization"]["acls"]:
        resource = acl["resource"]
        assert resource["patternType"] == "literal", f"no prefix grants: {resource}"
        assert acl.get("type", "allow") == "allow"
        found.setdefault((resource["type"], resource["name"]), set()).update(acl["operations"])
    return found


def test_each_service_may_touch_only_its_own_topics_and_group(
    rendered: dict[str, Docs], contract: ModuleType
) -> None:
    users = of_kind(rendered["prod"], "KafkaUser")
    assert set(users) == {f"siaran-{name}" for name in contract.KAFKA_ACCESS} | {"siaran-keda"}
    for name, (reads, writes) in contract.KAFKA_ACCESS.items():
        assert (reads | writes) <= set(contract.TOPICS), name
        expected = {
            ("topic", topic): {"Describe"}
            | ({"Read"} if topic in reads else set())
            | ({"Write"} if topic in writes else set())
            for topic in reads | writes
        }
        expected[("group", contract.CONSUMER_GROUPS[name])] = {"Read", "Describe"}
        assert acls_of(users[f"siaran-{name}"]) == expected, name


def test_keda_may_only_describe_the_scaled_groups_and_topics(
    rendered: dict[str, Docs], contract: ModuleType
) -> None:
    keda = acls_of(of_kind(rendered["prod"], "KafkaUser")["siaran-keda"])
    expected = {("topic", t): {"Describe"} for ts in contract.LAG_TOPICS.values() for t in ts}
    expected |= {
        ("group", contract.CONSUMER_GROUPS[name]): {"Describe"} for name in contract.LAG_TOPICS
    }
    assert keda == expected

#!/bin/sh
# One-shot topic initialiser for docker-compose: creates Siaran's topics if missing (idempotent).
# Names and partition counts mirror siaran_shared.events.topics.TOPICS (tests/deploy checks it).
# Usage inside the apache/kafka image: create-topics.sh BOOTSTRAP
set -eu

BOOTSTRAP="${1:?usage: create-topics.sh BOOTSTRAP}"
TOPICS_CMD="${KAFKA_TOPICS_CMD:-/opt/kafka/bin/kafka-topics.sh}"
RF="${SIARAN_TOPIC_REPLICATION_FACTOR:-1}"
DAY_MS=86400000

# name partitions configs(comma-separated)
while read -r name partitions configs; do
  [ -n "$name" ] || continue
  set -- --bootstrap-server "$BOOTSTRAP" --create --if-not-exists \
    --topic "$name" --partitions "$partitions" --replication-factor "$RF"
  old_ifs=$IFS
  IFS=,
  for config in $configs; do
    set -- "$@" --config "$config"
  done
  IFS=$old_ifs
  "$TOPICS_CMD" "$@"
done <<TOPICS
siaran.inbound.v1 6 retention.ms=$((7 * DAY_MS))
siaran.announcements.v1 6 retention.ms=$((30 * DAY_MS))
siaran.channels.v1 1 cleanup.policy=compact,min.compaction.lag.ms=60000
siaran.deliveries.v1 12 retention.ms=$((7 * DAY_MS))
siaran.deliveries.retry.v1 12 retention.ms=$((7 * DAY_MS))
siaran.results.v1 6 retention.ms=$((30 * DAY_MS))
siaran.plans.v1 6 retention.ms=$((7 * DAY_MS))
siaran.dlq.v1 1 retention.ms=$((30 * DAY_MS))
siaran.channel-health.v1 1 cleanup.policy=compact,min.compaction.lag.ms=60000
TOPICS

"$TOPICS_CMD" --bootstrap-server "$BOOTSTRAP" --list

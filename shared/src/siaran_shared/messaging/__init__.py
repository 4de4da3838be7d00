"""Siaran's Kafka layer, one module per job:

- `options`: client options from the settings (security, producer durability, group timeouts)
- `broker`: the FastStream broker of a service and the subscriber policy (batches, commits,
  backoff of a failing handler)
- `headers`: CloudEvents binary-mode headers, decoding, trace context, credentials
- `producer` and `spans`: the one produce path and its span policies
- `decoding`: consumed records into events, or poison with the reason
- `dead_letters`: poison to `siaran.dlq.v1`, and replays back to the origin topic
- `admin`: topic creation
- `lag`: consumer lag measurement
"""

from siaran_shared.messaging.admin import ensure_topics
from siaran_shared.messaging.broker import Backoff, make_broker, subscriber
from siaran_shared.messaging.dead_letters import (
    Replay,
    dead_letter,
    produce_replays,
    reason_kind,
    replay,
    replay_headers,
)
from siaran_shared.messaging.decoding import Poison, Record, decode
from siaran_shared.messaging.headers import ce_headers, decode_headers, trace_context
from siaran_shared.messaging.options import aiokafka_options, producer_options
from siaran_shared.messaging.producer import Outgoing, aiokafka_producer, publish_all, send_all
from siaran_shared.messaging.spans import InContext, SpanPerContext

__all__ = [
    "Backoff",
    "InContext",
    "Outgoing",
    "Poison",
    "Record",
    "Replay",
    "SpanPerContext",
    "aiokafka_options",
    "aiokafka_producer",
    "ce_headers",
    "dead_letter",
    "decode",
    "decode_headers",
    "ensure_topics",
    "make_broker",
    "produce_replays",
    "producer_options",
    "publish_all",
    "reason_kind",
    "replay",
    "replay_headers",
    "send_all",
    "subscriber",
    "trace_context",
]

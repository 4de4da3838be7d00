"""The channels topic is read a little behind the API: a change this instance made is not
undone by an older change read from the topic meanwhile."""

from __future__ import annotations

from datetime import timedelta

from siaran_router.registry import Registry
from siaran_shared.events import Channel, utcnow
from siaran_shared.store import Store


def _channel(endpoint: str = "https://example.go.id/a") -> Channel:
    return Channel(id="a", region="73.03", kind="web", name="a", endpoint=endpoint)


async def test_a_removed_channel_is_not_brought_back_by_its_older_configuration(
    store: Store,
) -> None:
    registry = Registry(store.collection("channels"))
    await registry.save(_channel())
    configured_at = utcnow()  # when the PUT's record was produced
    await registry.remove("a")

    registry.apply(_channel(), "a", configured_at)  # the PUT's record, read after the DELETE
    assert registry.get("a") is None
    registry.apply(None, "a", utcnow())  # the DELETE's tombstone
    assert registry.get("a") is None
    registry.apply(_channel(), "a", utcnow())  # another instance configures it again, later
    assert registry.get("a") is not None


async def test_a_saved_channel_is_not_overwritten_by_an_older_version(store: Store) -> None:
    registry = Registry(store.collection("channels"))
    old_at = utcnow() - timedelta(seconds=1)
    await registry.save(_channel("https://example.go.id/new"))

    registry.apply(_channel("https://example.go.id/old"), "a", old_at)
    assert (listed := registry.get("a")) is not None
    assert listed.endpoint == "https://example.go.id/new"
    registry.apply(None, "a", old_at)  # an older removal
    assert registry.get("a") is not None
    registry.apply(_channel("https://example.go.id/new"), "a", utcnow())  # its own echo
    registry.apply(None, "a", utcnow())  # a later removal applies
    assert registry.get("a") is None

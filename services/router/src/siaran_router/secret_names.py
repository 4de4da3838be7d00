"""Which secrets a regional key may name in the channels it saves.

Secrets are one pool per publisher, looked up by NAME. An admin names any of them; a
province or regency key, which may now save its own channels, names only secrets of its own
regions: NAME starts with `R` and the region code without its dot, then `_` (`R73_` for
province 73, `R7303_` for Kabupaten Bantaeng; a province key also those of its regencies).
Otherwise a regional office could point a channel at its own server with
`{secret:R3171_FB_TOKEN}` (another region's token) and have the publisher fill it in.
"""

from __future__ import annotations

from siaran_shared.auth import ApiKey
from siaran_shared.events import Channel
from siaran_shared.regions import regions
from siaran_shared.secret_refs import PLACEHOLDER


def prefix_of(region: str) -> str:
    """The secret-name prefix of a region: R73_, R7303_."""
    return f"R{region.replace('.', '')}_"


def allowed_prefixes(key: ApiKey) -> tuple[str, ...] | None:
    """The prefixes a key's secret names must start with; None: any name (admin, national)."""
    scope = key.parsed_scope
    if scope.region is None:
        return None
    if scope.kind == "province":
        codes = (scope.region, *regions().regencies_of(scope.region))
        return tuple(prefix_of(code) for code in codes)
    return (prefix_of(scope.region),)


def foreign_secret_names(key: ApiKey, channel: Channel) -> list[dict[str, str]]:
    """One error detail per secret the channel names that the key may not name."""
    prefixes = allowed_prefixes(key)
    if prefixes is None:
        return []
    named = [("endpoint", m.group(1)) for m in PLACEHOLDER.finditer(channel.endpoint)]
    if channel.secret:
        named.append(("secret", channel.secret))
    own = (
        prefixes[0]
        if len(prefixes) == 1
        else f"{prefixes[0]} (or a regency's, R{prefixes[0][1:-1]}xx_)"
    )
    return [
        {
            "field": field,
            "message": f"secret {name!r} is not one of the regions of key {key.name!r} "
            f"({key.scope}): its name must start with {own}, "
            f"e.g. {prefix_of(channel.region)}FB_TOKEN",
        }
        for field, name in named
        if not name.startswith(prefixes)
    ]

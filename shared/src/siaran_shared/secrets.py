"""Secrets resolved at send time: a file NAME in SIARAN_SECRETS_DIR, else the environment
variable SIARAN_SECRET_NAME, and nowhere else: a channel must never be able to name the
service's own configuration (`{secret:SIARAN_STORE_URL}` would send the store's credentials
to whoever the endpoint names). Values are never logged, never put in events."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

from yarl import URL

from siaran_shared.secret_refs import PLACEHOLDER

#: The prefix of the environment variables that may hold channel secrets.
ENV_PREFIX = "SIARAN_SECRET_"


class MissingSecret(LookupError):
    """A secret named by a channel is in neither the secrets folder nor the environment."""


class Secrets:
    """Looks secrets up by name; the folder wins over the environment.

    `reserved` names are the service's own (the publisher's token encryption key): a channel
    that names one gets MissingSecret as if it did not exist, so no endpoint, header or
    signature can carry it to whoever the channel points at; `own` reads them."""

    def __init__(self, folder: Path | None, reserved: Iterable[str] = ()) -> None:
        self._folder = folder
        self._reserved = frozenset(reserved)

    def get(self, name: str) -> str:
        """A secret a channel names."""
        if name in self._reserved:
            raise MissingSecret(
                f"secret {name!r} is the service's own and never goes to a channel: "
                "name another secret"
            )
        return self.own(name)

    def own(self, name: str) -> str:
        """A secret of the service itself (reserved names included)."""
        if self._folder is not None and PLACEHOLDER.fullmatch(f"{{secret:{name}}}"):
            path = self._folder / name
            if path.is_file():
                return path.read_text("utf-8").strip()
        value = os.environ.get(ENV_PREFIX + name)
        if value is None:
            where = f"{self._folder}/{name} or " if self._folder else ""
            raise MissingSecret(
                f"secret {name!r} not found: create {where}env var {ENV_PREFIX}{name}"
            )
        return value

    def fill(self, endpoint: str) -> str:
        """The endpoint with every {secret:NAME} replaced by its value."""
        if "{secret:" not in endpoint:  # most endpoints: no regex pass per send
            return endpoint
        return PLACEHOLDER.sub(lambda m: self.get(m.group(1)), endpoint)

    def values_in(self, endpoint: str, secret: str | None) -> list[str]:
        """The values of the secrets an endpoint and a signing secret name, as they are and
        as they appear percent-encoded in a URL (to scrub text)."""
        if not secret and "{secret:" not in endpoint:
            return []
        names = [m.group(1) for m in PLACEHOLDER.finditer(endpoint)]
        if secret:
            names.append(secret)
        values: list[str] = []
        for name in names:
            try:
                value = self.get(name)
            except MissingSecret:
                continue
            values += _spellings(value) - {""}
        return sorted(values, key=len, reverse=True)  # longest first: no partial leftovers


def _spellings(value: str) -> set[str]:
    """A value as it may appear in text: as it is, and percent-encoded the ways a URL's path
    or query may carry it (what yarl sends, and strict encodings)."""
    path = URL.build(path="/" + value).raw_path[1:]
    query = URL.build(query_string=value).raw_query_string
    return {value, quote(value, safe=""), quote(value), path, query}

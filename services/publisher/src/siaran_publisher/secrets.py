"""Secrets resolved at send time: a file NAME in SIARAN_SECRETS_DIR, else the environment
variable NAME. Values are never logged, never put in events."""

from __future__ import annotations

import os
import re
from pathlib import Path

PLACEHOLDER = re.compile(r"\{secret:([A-Za-z0-9_]{1,64})\}")


class MissingSecret(LookupError):
    """A secret named by a channel is in neither the secrets folder nor the environment."""


class Secrets:
    """Looks secrets up by name; the folder wins over the environment."""

    def __init__(self, folder: Path | None) -> None:
        self._folder = folder

    def get(self, name: str) -> str:
        if self._folder is not None:
            path = self._folder / name
            if path.is_file():
                return path.read_text("utf-8").strip()
        value = os.environ.get(name)
        if value is None:
            where = f"{self._folder}/{name} or " if self._folder else ""
            raise MissingSecret(f"secret {name!r} not found: create {where}env var {name}")
        return value

    def fill(self, endpoint: str) -> str:
        """The endpoint with every {secret:NAME} replaced by its value."""
        if "{secret:" not in endpoint:  # most endpoints: no regex pass per send
            return endpoint
        return PLACEHOLDER.sub(lambda m: self.get(m.group(1)), endpoint)

    def values_in(self, endpoint: str, secret: str | None) -> list[str]:
        """The values of the secrets an endpoint and a signing secret name (to scrub text)."""
        if not secret and "{secret:" not in endpoint:
            return []
        names = [m.group(1) for m in PLACEHOLDER.finditer(endpoint)]
        if secret:
            names.append(secret)
        values = []
        for name in names:
            try:
                values.append(self.get(name))
            except MissingSecret:
                continue
        return values

"""When to try again: the shared retry policy (siaran_shared.retrying), which completion
callbacks use as well."""

from __future__ import annotations

from siaran_shared.retrying import RetryPolicy

__all__ = ["RetryPolicy"]

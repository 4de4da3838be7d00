"""How channel configuration names a secret instead of holding it: `{secret:NAME}`, resolved
by the publisher at send time (DESIGN: registry section) and required by the router."""

from __future__ import annotations

import re

#: `{secret:NAME}` in an endpoint; group 1 is the NAME.
PLACEHOLDER = re.compile(r"\{secret:([A-Za-z0-9_]{1,64})\}")

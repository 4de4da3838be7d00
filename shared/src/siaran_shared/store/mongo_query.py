"""What the MongoDB store sends: client options, query filters, and its errors as ours.

Kept apart from the collection code so each piece is unit-tested without a server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bson.errors import BSONError
from pymongo.errors import (
    ConnectionFailure,
    ExecutionTimeout,
    OperationFailure,
    PyMongoError,
    WriteConcernError,
)

from siaran_shared.store.base import StoreError, StoreUnavailable
from siaran_shared.store.query import Where

#: Timeouts a URL may override (milliseconds): finding a server, one socket read, a whole
#: operation with its retries (PyMongo's client-side operation timeout).
DEFAULT_TIMEOUTS_MS = {
    "serverSelectionTimeoutMS": 5_000,
    "connectTimeoutMS": 5_000,
    "socketTimeoutMS": 10_000,
    "timeoutMS": 10_000,
}
#: What a URL may not weaken: an acknowledged write survives a failover and a crash.
REQUIRED = {"w": "majority", "journal": True, "readConcernLevel": "majority"}
_WEAKER = {"w": "majority", "journal": "true", "j": "true", "readconcernlevel": "majority"}
_TYPE_MISMATCH = 14
_NOT_SCALAR = {"$not": {"$type": ["array", "object"]}}
_NOT_ARRAY = {"$not": {"$type": "array"}}


def client_options(url: str, app_name: str) -> dict[str, Any]:
    """Keyword options for AsyncMongoClient(url, ...): our timeouts unless the URL sets its
    own, and majority, journaled writes and majority reads always (a URL asking for less is
    refused, since keyword options would silently win over it)."""
    given = {k.lower(): v for k, v in parse_qsl(urlsplit(url).query)}
    for option, required in _WEAKER.items():
        if option in given and given[option].lower() != required:
            raise ValueError(
                f"SIARAN_STORE_URL: {option}={given[option]} is weaker than the store needs "
                f"({option}={required}); remove it from the URL"
            )
    options: dict[str, Any] = {
        name: value for name, value in DEFAULT_TIMEOUTS_MS.items() if name.lower() not in given
    }
    options.update(REQUIRED)
    options.update(retryWrites=True, retryReads=True, tz_aware=True, appname=app_name)
    return options


def _condition(field: str, cond: Any) -> list[dict[str, Any]]:
    """One field's condition as clauses, with the guards that make MongoDB answer like the
    reference semantics: no matching inside arrays or objects, or through an array."""
    parts = field.split(".")
    clauses: list[dict[str, Any]] = [
        {".".join(parts[:n]): _NOT_ARRAY} for n in range(1, len(parts))
    ]
    clauses.append({field: _NOT_SCALAR})
    if isinstance(cond, Mapping):
        clauses.append({field: {op: list(arg) if op == "$in" else arg for op, arg in cond.items()}})
    else:  # $eq: a boolean never equals a number in MongoDB either
        clauses.append({field: cond if cond is None else {"$eq": cond}})
    return clauses


def mongo_filter(where: Where | None) -> dict[str, Any]:
    """A checked query (see `query.check_where`) as a MongoDB filter."""
    if not where:
        return {}
    clauses: list[dict[str, Any]] = []
    for field, cond in where.items():
        if field == "$or":
            clauses.append({"$or": [mongo_filter(sub) for sub in cond]})
        else:
            clauses.extend(_condition(field, cond))
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def store_error(exc: Exception) -> Exception:
    """A PyMongo (or BSON) error as the store's own: StoreUnavailable for what a retry may
    fix (no server, a timeout, a failover, an unconfirmed write concern), StoreError for a
    refusal, ValueError for a document BSON cannot hold or a change its fields refuse."""
    if isinstance(exc, BSONError):
        return ValueError(f"document refused by MongoDB: {exc}")
    if not isinstance(exc, PyMongoError):
        return exc
    retryable = isinstance(exc, ConnectionFailure | ExecutionTimeout | WriteConcernError) or (
        exc.timeout
        or exc.has_error_label("TransientTransactionError")
        or exc.has_error_label("RetryableWriteError")
    )
    if isinstance(exc, OperationFailure) and exc.code == _TYPE_MISMATCH:  # $inc of a string
        return ValueError(f"MongoDB refused a change: {exc}")
    message = f"MongoDB: {exc}"
    if isinstance(exc, OperationFailure) and exc.code is not None:
        message = f"MongoDB error {exc.code}: {exc}"
    return StoreUnavailable(message) if retryable else StoreError(message)

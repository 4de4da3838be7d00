"""The query subset of the store, its reference semantics, and the checks both backends run
before they translate anything.

Queries compare scalars: strings, numbers (a boolean is not a number) and None. A document
field holding an array or an object, or reached through an array, matches no condition (MongoDB
would look inside arrays; SQLite would compare JSON text): the interface refuses to guess.
Range operators compare like with like (numbers with numbers, strings with strings), as
MongoDB does. Anything outside the subset is refused with a ValueError naming it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

Doc = dict[str, Any]
Where = Mapping[str, Any]

#: A field name: identifiers joined by dots (what both backends accept in a path).
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
RANGE_OPS = ("$lt", "$lte", "$gt", "$gte")
OPS = (*RANGE_OPS, "$ne", "$in")
_INT64 = (-(2**63), 2**63 - 1)
#: Top-level names the store keeps for itself: MongoDB's key, the hidden expiry time.
RESERVED = ("_id", "_final_at")

_CONTAINERS = (dict, list, tuple)
MISSING = object()  # what get_path answers for a field that is absent
_NOT_SCALAR = object()  # an array or object, or a path through an array


def check_field(field: str) -> str:
    """The field name itself, if it is a plain (dotted) name; else ValueError."""
    if not isinstance(field, str) or not FIELD_NAME.match(field):
        raise ValueError(f"invalid field name {field!r}")
    return field


def _check_scalar(field: str, value: Any, what: str) -> None:
    if value is None or isinstance(value, (str, bool, float)):
        return
    if isinstance(value, int):
        if not _INT64[0] <= value <= _INT64[1]:
            raise ValueError(f"{field}: {what} {value} is beyond 64 bits")
        return
    raise ValueError(
        f"{field}: {what} must be a string, number, boolean or None, not {type(value).__name__}"
    )


def _check_condition(field: str, cond: Any) -> None:
    if not isinstance(cond, Mapping):
        _check_scalar(field, cond, "a value to match")
        return
    if not cond or not all(isinstance(op, str) and op.startswith("$") for op in cond):
        raise ValueError(f"{field}: matching a whole object is not supported; name its fields")
    for op, arg in cond.items():
        if op in RANGE_OPS:
            if arg is None or isinstance(arg, bool) or not isinstance(arg, (str, int, float)):
                raise ValueError(f"{field}: {op} compares strings or numbers, not {arg!r}")
            _check_scalar(field, arg, op)
        elif op == "$ne":
            _check_scalar(field, arg, op)
        elif op == "$in":
            if not isinstance(arg, list | tuple | set | frozenset):
                raise ValueError(f"{field}: $in takes a list of values")
            for value in arg:
                if value is None:
                    raise ValueError(f"{field}: $in cannot hold None; use $or with None")
                _check_scalar(field, value, "$in value")
        else:
            raise ValueError(f"{field}: unsupported query operator {op!r}")


def check_where(where: Where | None) -> None:
    """Refuse a query outside the subset both backends answer identically."""
    if not where:
        return
    if not isinstance(where, Mapping):
        raise ValueError(f"a query is a mapping of fields to conditions, not {where!r}")
    for field, cond in where.items():
        if field == "$or":
            if isinstance(cond, (str, Mapping)) or not isinstance(cond, (list, tuple)) or not cond:
                raise ValueError("$or takes a non-empty list of queries")
            for sub in cond:
                if not isinstance(sub, Mapping) or not sub:
                    raise ValueError("$or takes a non-empty list of non-empty queries")
                check_where(sub)
            continue
        if isinstance(field, str) and field.startswith("$"):
            raise ValueError(f"unsupported query operator {field!r}")
        if isinstance(field, str) and field.split(".")[0] in RESERVED:
            raise ValueError(f"field {field!r} is reserved by the store; query by key instead")
        _check_condition(check_field(field), cond)


def check_find(order_by: str | None, limit: int | None) -> None:
    """Refuse a sort field that is no plain name and a limit that is not a positive integer
    (MongoDB reads limit 0 as "no limit", SQLite as "nothing")."""
    if order_by is not None:
        check_field(order_by)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive integer or None, not {limit!r}")


def check_doc(doc: Mapping[str, Any]) -> None:
    """Refuse a document with keys both backends cannot store and query alike: keys that are
    not strings, contain a dot, start with "$", or (at the top) are reserved by the store.

    It runs on every write, so it walks only the containers (documents are plain JSON:
    dicts and lists), without recursion or abstract-class checks."""
    if not isinstance(doc, Mapping):
        raise TypeError(f"a document is a mapping, not {type(doc).__name__}")
    for key in RESERVED:
        if key in doc:
            raise ValueError(f"document key {key!r} is reserved by the store")
    pending: list[tuple[Any, str]] = [(doc if isinstance(doc, dict) else dict(doc), "")]
    while pending:
        value, path = pending.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if type(key) is not str:
                    raise TypeError(f"document key {key!r} at {path or 'top'} is not a string")
                if "." in key or key[:1] == "$":
                    raise ValueError(
                        f"document key {path + key!r} may not contain '.' or start '$'"
                    )
                if isinstance(item, _CONTAINERS):
                    pending.append((item, f"{path}{key}."))
        else:
            pending.extend((item, path) for item in value if isinstance(item, _CONTAINERS))


def get_path(doc: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path of a document, or a sentinel when absent."""
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return MISSING
        value = value[part]
    return value


def _scalar_at(doc: Mapping[str, Any], path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        if isinstance(value, list):
            return _NOT_SCALAR
        if not isinstance(value, Mapping) or part not in value:
            return MISSING
        value = value[part]
    return _NOT_SCALAR if isinstance(value, (list, dict)) else value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return "str" if isinstance(value, str) else "other"


def same(value: Any, arg: Any) -> bool:
    """Equality as both backends see it: a boolean is not a number, 1 equals 1.0."""
    return _kind(value) == _kind(arg) and value == arg


def matches(doc: Mapping[str, Any], where: Where | None) -> bool:
    """Evaluate a query against one document (the reference semantics of the interface)."""
    if not where:
        return True
    for field, cond in where.items():
        if field == "$or":
            if not any(matches(doc, sub) for sub in cond):
                return False
            continue
        value = _scalar_at(doc, field)
        if value is _NOT_SCALAR:
            return False
        if isinstance(cond, Mapping):
            if not all(_compare(value, op, arg) for op, arg in cond.items()):
                return False
        elif cond is None:
            if value is not MISSING and value is not None:
                return False
        elif not same(value, cond):
            return False
    return True


def _compare(value: Any, op: str, arg: Any) -> bool:
    absent = value is MISSING or value is None
    if op == "$ne":
        return not absent if arg is None else absent or not same(value, arg)
    if op == "$in":
        return not absent and any(same(value, v) for v in arg)
    if absent or _kind(value) != _kind(arg):
        return False
    if op == "$lt":
        return bool(value < arg)
    if op == "$lte":
        return bool(value <= arg)
    if op == "$gt":
        return bool(value > arg)
    if op == "$gte":
        return bool(value >= arg)
    raise ValueError(f"unsupported query operator {op}")


def check_deltas(deltas: Mapping[str, int]) -> None:
    """Refuse an increment whose fields are not plain (dotted) names or whose values are not
    integers, before anything is written."""
    for field, delta in deltas.items():
        check_field(field)
        if isinstance(delta, bool) or not isinstance(delta, int):
            raise TypeError(f"increment of {field!r} must be an integer, not {delta!r}")


def add_deltas(doc: Doc, deltas: Mapping[str, int]) -> None:
    """Add integers to (dotted) numeric fields of a document in place: the reference
    semantics of `Collection.increment` (missing fields start at 0, missing objects empty)."""
    for field, delta in deltas.items():
        *parents, leaf = field.split(".")
        target = doc
        for part in parents:
            inner = target.setdefault(part, {})
            if not isinstance(inner, dict):
                raise ValueError(f"cannot increment {field!r}: {part!r} is not an object")
            target = inner
        value = target.get(leaf, 0)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"cannot increment {field!r}: {value!r} is not a number")
        target[leaf] = value + delta

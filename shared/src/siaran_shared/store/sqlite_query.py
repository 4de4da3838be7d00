"""Queries (already checked by `query.check_where`) as SQL over SQLite's JSON functions.

`query.matches` is the reference semantics. json_extract alone differs from it in three ways,
each closed here by a json_type check where it can matter (every JSON function parses the
document again, so a check is added only where a value could otherwise match): it reads true
and false as 1 and 0 (a boolean would equal 1 or 0), it gives arrays and objects as JSON text
(a string that looks like one could equal it, and a range over strings would include it), and
it answers NULL for a path through an array (which `None` and `$ne` would match).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from siaran_shared.store.query import RANGE_OPS, Where, check_field

_SQL_OPS = {"$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}
_NUMBER = "IN ('integer', 'real')"


def json_path(field: str) -> str:
    """SQL for the value at a (checked) dotted field."""
    return f"json_extract(doc, '$.{check_field(field)}')"


def json_type(field: str) -> str:
    """SQL for the JSON type at a field: 'null', 'true', 'text', ... or 'missing'."""
    return f"coalesce(json_type(doc, '$.{check_field(field)}'), 'missing')"


def _scalar(field: str) -> list[str]:
    """The field holds no array or object, and no part of its path is an array."""
    parts = field.split(".")
    checks = [f"{json_type('.'.join(parts[:n]))} != 'array'" for n in range(1, len(parts))]
    return [*checks, f"{json_type(field)} NOT IN ('array', 'object')"]


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return f"= '{'true' if value else 'false'}'"
    if isinstance(value, str):
        return "= 'text'"
    return _NUMBER


def _ambiguous(value: Any) -> bool:
    """Whether json_extract could equal `value` for a value of another kind: 1 or 0 for a
    boolean, a string shaped like an array's or object's JSON text."""
    if isinstance(value, str):
        return value[:1] in ("[", "{")
    return bool(value in (0, 1))


def _equal(field: str, value: Any, params: list[Any], *, typed: bool = False) -> str:
    if value is None:
        return " AND ".join([*_scalar(field)[:-1], f"{json_path(field)} IS NULL"])
    if isinstance(value, bool):
        return f"{json_type(field)} {_type_of(value)}"
    params.append(value)
    if typed or _ambiguous(value):
        return f"({json_type(field)} {_type_of(value)} AND {json_path(field)} = ?)"
    return f"{json_path(field)} = ?"


def _one_of(field: str, values: list[Any], params: list[Any]) -> str:
    """$in, grouped by type so that strings (the common case) are one IN over the index."""
    terms: list[str] = []
    for kind in ("= 'text'", _NUMBER):
        group = [v for v in values if not isinstance(v, bool) and _type_of(v) == kind]
        if group:
            check = f"{json_type(field)} {kind} AND " if any(map(_ambiguous, group)) else ""
            terms.append(f"({check}{json_path(field)} IN ({','.join('?' * len(group))}))")
            params.extend(group)
    flags = sorted({v for v in values if isinstance(v, bool)})
    terms += [f"{json_type(field)} {_type_of(v)}" for v in flags]
    return "(" + " OR ".join(terms) + ")" if terms else "0"


def _operator(field: str, op: str, arg: Any, params: list[Any]) -> str:
    if op in RANGE_OPS:
        params.append(arg)
        return f"({json_type(field)} {_type_of(arg)} AND {json_path(field)} {_SQL_OPS[op]} ?)"
    if op == "$ne":
        if arg is None:
            not_null = f"{json_path(field)} IS NOT NULL"
        else:
            not_null = f"NOT {_equal(field, arg, params, typed=True)}"
        return " AND ".join([*_scalar(field), not_null])
    if op == "$in":
        return _one_of(field, list(arg), params)
    raise ValueError(f"unsupported query operator {op}")


def where_sql(where: Where | None) -> tuple[str, list[Any]]:
    """A checked query as an SQL condition over the `doc` column, with its parameters."""
    if not where:
        return "1", []
    clauses: list[str] = []
    params: list[Any] = []
    for field, cond in where.items():
        if field == "$or":
            subs = [where_sql(sub) for sub in cond]
            clauses.append("(" + " OR ".join(f"({s})" for s, _ in subs) + ")")
            for _, p in subs:
                params.extend(p)
            continue
        if isinstance(cond, Mapping):
            clauses.extend(_operator(field, op, arg, params) for op, arg in cond.items())
        else:
            clauses.append(_equal(field, cond, params))
    return " AND ".join(clauses), params

"""Queries (already checked by `query.check_where`) as SQL over SQLite's JSON functions.

`query.matches` is the reference semantics. json_extract alone would differ from it in three
ways, each closed here by a json_type guard: it reads true and false as 1 and 0 (a boolean
would equal a number), it gives arrays and objects as JSON text (a string could equal them,
and every text sorts after every number), and it answers NULL for a path through an array
(which `None` would match).
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


def _guards(field: str) -> list[str]:
    """The field holds no array or object, and no part of its path is an array."""
    parts = field.split(".")
    guards = [f"{json_type('.'.join(parts[:n]))} != 'array'" for n in range(1, len(parts))]
    guards.append(f"{json_type(field)} NOT IN ('array', 'object')")
    return guards


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return f"= '{'true' if value else 'false'}'"
    if isinstance(value, str):
        return "= 'text'"
    return _NUMBER


def _equal(field: str, value: Any, params: list[Any]) -> str:
    if value is None:
        return f"{json_path(field)} IS NULL"
    if isinstance(value, bool):
        return f"{json_type(field)} {_type_of(value)}"
    params.append(value)
    return f"({json_type(field)} {_type_of(value)} AND {json_path(field)} = ?)"


def _one_of(field: str, values: list[Any], params: list[Any]) -> str:
    """$in, grouped by type so that strings (the common case) are one IN over the index."""
    terms: list[str] = []
    for kind in ("= 'text'", _NUMBER):
        group = [v for v in values if not isinstance(v, bool) and _type_of(v) == kind]
        if group:
            terms.append(
                f"({json_type(field)} {kind} AND {json_path(field)} "
                f"IN ({','.join('?' * len(group))}))"
            )
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
            return f"{json_path(field)} IS NOT NULL"
        return f"NOT {_equal(field, arg, params)}"
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
        clauses.extend(_guards(field))
        if isinstance(cond, Mapping):
            clauses.extend(_operator(field, op, arg, params) for op, arg in cond.items())
        else:
            clauses.append(_equal(field, cond, params))
    return " AND ".join(clauses), params

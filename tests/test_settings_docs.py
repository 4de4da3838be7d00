"""The documented settings are the real ones: every variable, and every default.

The variables come from the pydantic-settings classes themselves (found by reading the source
of shared/, services/ and cli/, then imported), the documentation from the "variable | default
| meaning" tables of README.md and docs/services.md. The code is the truth.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from pydantic import AliasChoices, AliasPath
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[1]
DOCS = (ROOT / "README.md", ROOT / "docs" / "services.md")
SRC_ROOTS = (ROOT / "shared" / "src", *sorted(ROOT.glob("services/*/src")), ROOT / "cli" / "src")

# Defaults the code computes at run time (the field's own default is None): the documentation
# gives what the variable effectively means when unset. One line of reason each.
COMPUTED_DEFAULTS: dict[str, str] = {
    "SIARAN_STORE_URL": "Settings.resolved_store_url: one SQLite file per service under home",
    "SIARAN_API_KEYS_FILE": "Settings.resolved_api_keys_file: api-keys.json under home",
    "SIARAN_LOG_FORMAT": "configure_logging picks console on a terminal, json otherwise",
    "SIARAN_PORT": "Settings.http_port falls back to the service's port (SERVICE_PORTS)",
}

# Fields that a settings class reads from the environment but that are no operator setting.
UNDOCUMENTED: dict[str, str] = {
    "SIARAN_SERVICE": "load_settings(service) overwrites it with the service being started",
}

DOC_NONE = "—"
_SETTING = re.compile(r"^SIARAN_[A-Z0-9_]+$")
# Variables some code reads without a settings class: os.environ / getenv / typer's envvar=.
_DIRECT_READ = re.compile(
    r"""(?:environ\.get\(|environ\[|getenv\(|envvar=)\s*["'](SIARAN_[A-Z0-9_]+)["']"""
)


@dataclass(frozen=True)
class CodeSetting:
    variable: str
    owner: str  # "module.Class.field"
    default: Any  # PydanticUndefined for a required field


@dataclass(frozen=True)
class DocRow:
    variables: tuple[str, ...]  # SIARAN_ names in the first cell
    fragments: tuple[str, ...]  # abbreviations such as `_PASSWORD`
    default: str | None  # the backticked literal, DOC_NONE, or None for prose
    default_cell: str
    where: str  # "README.md:123"


# --- the code -------------------------------------------------------------------------------


def _module_name(path: Path, src: Path) -> str:
    parts = path.relative_to(src).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _base_names(node: ast.ClassDef) -> set[str]:
    names = set()
    for base in node.bases:
        if isinstance(base, ast.Name):
            names.add(base.id)
        elif isinstance(base, ast.Attribute):
            names.add(base.attr)
    return names


def settings_classes() -> list[type[BaseSettings]]:
    """Every BaseSettings subclass defined in the source, however indirectly it derives."""
    classes: list[tuple[str, str, set[str]]] = []  # (module, class, base names)
    for src in SRC_ROOTS:
        for path in sorted(src.rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            module = _module_name(path, src)
            classes += [
                (module, node.name, _base_names(node))
                for node in ast.walk(tree)
                if isinstance(node, ast.ClassDef)
            ]
    known = {"BaseSettings"}
    while grown := {name for _, name, bases in classes if bases & known} - known:
        known |= grown
    found: list[type[BaseSettings]] = []
    for module, name, _ in classes:
        if name in known:
            cls = getattr(importlib.import_module(module), name)
            if isinstance(cls, type) and issubclass(cls, BaseSettings):
                found.append(cls)
    return found


def _env_names(cls: type[BaseSettings], name: str, field: FieldInfo) -> list[str]:
    alias = field.validation_alias or field.alias
    if alias is None:
        return [f"{cls.model_config.get('env_prefix', '')}{name}".upper()]
    choices = alias.choices if isinstance(alias, AliasChoices) else [alias]
    return [
        str(c.path[0] if isinstance(c, AliasPath) else c).upper()
        for c in choices
        if isinstance(c, str | AliasPath)
    ]


def code_settings() -> dict[str, CodeSetting]:
    """Variable name -> where it is read and its default, from the classes' model_fields."""
    found: dict[str, CodeSetting] = {}
    for cls in settings_classes():
        for name, field in cls.model_fields.items():
            default = field.get_default(call_default_factory=True)
            owner = f"{cls.__module__}.{cls.__qualname__}.{name}"
            for variable in _env_names(cls, name, field):
                setting = CodeSetting(variable, owner, default)
                earlier = found.setdefault(variable, setting)
                assert _same(earlier.default, default), (
                    f"{variable}: {earlier.owner} defaults to {earlier.default!r}, "
                    f"{owner} to {default!r}"
                )
    return found


def _same(a: Any, b: Any) -> bool:
    return a is b or (type(a) is type(b) and a == b)


def directly_read() -> set[str]:
    """SIARAN_ variables read without a settings class (os.environ, typer's envvar=)."""
    return {
        match
        for src in SRC_ROOTS
        for path in src.rglob("*.py")
        for match in _DIRECT_READ.findall(path.read_text(encoding="utf-8"))
    }


# --- the documentation ----------------------------------------------------------------------


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _documented_default(cell: str) -> str | None:
    """`literal` -> literal, "—" -> "—", prose (a computed default) -> None."""
    if cell == DOC_NONE:
        return DOC_NONE
    literal = re.fullmatch(r"`([^`]*)`", cell)
    return literal.group(1) if literal else None


def doc_rows() -> Iterator[DocRow]:
    """The rows of every table whose header starts with "variable | default"."""
    for doc in DOCS:
        in_table = False
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            if not line.startswith("|"):
                in_table = False
                continue
            cells = _cells(line)
            if cells[:2] == ["variable", "default"]:
                in_table = True
                continue
            if not in_table or set(cells[0]) <= set("-: "):
                continue
            names = re.findall(r"`([^`]+)`", cells[0])
            yield DocRow(
                variables=tuple(n for n in names if _SETTING.match(n)),
                fragments=tuple(n for n in names if n.startswith("_")),
                default=_documented_default(cells[1]),
                default_cell=cells[1],
                where=f"{doc.relative_to(ROOT)}:{number}",
            )


def documented() -> dict[str, list[DocRow]]:
    rows: dict[str, list[DocRow]] = {}
    for row in doc_rows():
        for variable in row.variables:
            rows.setdefault(variable, []).append(row)
    return rows


def matches(documented_default: str | None, code_default: Any) -> bool:
    """The documented literal means the code's default (numbers as numbers, None as "—")."""
    if documented_default is None or code_default is PydanticUndefined:
        return False
    if code_default is None or documented_default == DOC_NONE:
        return code_default is None and documented_default == DOC_NONE
    if isinstance(code_default, bool):
        return documented_default == str(code_default).lower()
    if isinstance(code_default, int | float):
        try:
            return float(documented_default) == float(code_default)
        except ValueError:
            return False
    if isinstance(code_default, Enum):
        return documented_default == str(code_default.value)
    if isinstance(code_default, list | dict | tuple):
        try:
            return bool(json.loads(documented_default) == code_default)
        except ValueError:
            return False
    if isinstance(code_default, Path):
        return Path(documented_default) == code_default
    return documented_default == str(code_default)


# --- the checks -----------------------------------------------------------------------------


def _report(title: str, problems: list[str]) -> None:
    if problems:
        pytest.fail(f"{title}:\n" + "\n".join(f"  {p}" for p in problems), pytrace=False)


@pytest.fixture(scope="module")
def code() -> dict[str, CodeSetting]:
    return code_settings()


@pytest.fixture(scope="module")
def docs() -> dict[str, list[DocRow]]:
    return documented()


def test_settings_classes_are_found() -> None:
    names = {cls.__qualname__ for cls in settings_classes()}
    assert {"Settings", "IngestConfig", "PublisherSettings"} <= names, names


def test_one_variable_per_row() -> None:
    combined = [
        f"{row.where}: {', '.join(row.variables + row.fragments)}"
        for row in doc_rows()
        if len(row.variables) + len(row.fragments) > 1
    ]
    _report("write one table row per variable (so each name can be searched)", combined)


def test_every_setting_is_documented_once(
    code: dict[str, CodeSetting], docs: dict[str, list[DocRow]]
) -> None:
    problems = [
        f"{variable} ({setting.owner}): not in any settings table"
        for variable, setting in sorted(code.items())
        if variable not in docs and variable not in UNDOCUMENTED
    ]
    problems += [
        f"{variable}: documented {len(rows)} times ({', '.join(r.where for r in rows)})"
        for variable, rows in sorted(docs.items())
        if len(rows) > 1
    ]
    problems += [
        f"{variable}: listed as undocumented ({reason}) but documented at {docs[variable][0].where}"
        for variable, reason in UNDOCUMENTED.items()
        if variable in docs
    ]
    _report("settings and their documentation differ", problems)


def test_no_stale_documentation(
    code: dict[str, CodeSetting], docs: dict[str, list[DocRow]]
) -> None:
    read = code.keys() | directly_read()
    stale = [
        f"{variable} ({rows[0].where}): documented but no code reads it"
        for variable, rows in sorted(docs.items())
        if variable not in read
    ]
    _report("stale settings documentation", stale)


def test_documented_defaults_are_the_code_defaults(
    code: dict[str, CodeSetting], docs: dict[str, list[DocRow]]
) -> None:
    wrong = [
        f"{variable} ({rows[0].where}): documented {rows[0].default_cell}, "
        f"code ({setting.owner}) {setting.default!r}"
        for variable, setting in sorted(code.items())
        if variable not in COMPUTED_DEFAULTS
        and (rows := docs.get(variable))
        and not matches(rows[0].default, setting.default)
    ]
    _report("documented defaults differ from the code (the code is the truth)", wrong)


def test_exceptions_name_real_settings(code: dict[str, CodeSetting]) -> None:
    unknown = sorted((COMPUTED_DEFAULTS.keys() | UNDOCUMENTED.keys()) - code.keys())
    assert not unknown, f"exceptions for settings that no longer exist: {unknown}"
    plain = sorted(v for v in COMPUTED_DEFAULTS if code[v].default is not None)
    assert not plain, f"these now have a plain default in code; compare them instead: {plain}"


@pytest.mark.parametrize(
    ("documented_default", "code_default", "expected"),
    [
        ("0.5", 0.5, True),
        ("8", 8.0, True),
        ("262144", 256 * 1024, True),
        ("2000", 1000, False),
        (DOC_NONE, None, True),
        (DOC_NONE, 0, False),
        ("0", None, False),
        ("true", True, True),
        ("1", True, False),
        ("[]", [], True),
        (".siaran", Path(".siaran"), True),
        ("INFO", "INFO", True),
        (None, "INFO", False),
    ],
)
def test_matches(documented_default: str | None, code_default: Any, expected: bool) -> None:
    assert matches(documented_default, code_default) is expected

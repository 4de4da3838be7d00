"""docs/architecture.md names modules that exist: each `name.py` in a service's section is a
module of that service (or, for shared, of siaran_shared), unless the "Renames in flight"
section names it, so the page stays one hop from the folder names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
_MODULE = re.compile(r"`((?:[\w/]+/)?\w+\.py)`")


def sections() -> dict[str, str]:
    """Heading's first word -> the section's text."""
    parts = re.split(r"^## ", DOC.read_text(), flags=re.MULTILINE)[1:]
    return {part.split()[0].rstrip(":"): part for part in parts}


def package_of(section: str) -> Path:
    if section == "shared":
        return ROOT / "shared/src/siaran_shared"
    return ROOT / "services" / section / "src" / f"siaran_{section}"


def module_references() -> list[tuple[str, str]]:
    found = []
    for name, text in sections().items():
        if package_of(name).is_dir():
            found += [(name, module) for module in _MODULE.findall(text)]
    return found


def test_every_service_has_a_section() -> None:
    services = {p.name for p in (ROOT / "services").iterdir() if (p / "src").is_dir()}
    assert services | {"shared"} <= set(sections())


@pytest.mark.parametrize(("section", "module"), module_references())
def test_named_module_exists_or_is_being_renamed(section: str, module: str) -> None:
    in_flight = sections().get("Renames", "")
    path = package_of(section) / module
    candidates = [path, ROOT / module]
    assert any(p.exists() for p in candidates) or f"`{Path(module).name}`" in in_flight, (
        f"docs/architecture.md ({section}) names {module}, which is not in {package_of(section)}"
    )

"""Structural rules from DESIGN.md: no central provider lists, small modules, a pinned public API."""

from __future__ import annotations

import ast
from pathlib import Path

import modelrouter
from modelrouter.catalog import bundled_providers

PACKAGE = Path(modelrouter.__file__).parent
PROVIDER_IDS = {p.id for p in bundled_providers()}
# Where provider knowledge belongs: the catalog (data), provider modules, and codecs (which
# name their own protocol family, e.g. a reasoning signature's origin).
ALLOWED = ("catalog", "providers", "protocols")


def python_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_provider_id_literal_outside_catalog_providers_and_protocols() -> None:
    offenders = []
    for path in python_files():
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in ALLOWED:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in PROVIDER_IDS:
                offenders.append(f"{relative}:{node.lineno} {node.value!r}")
    assert offenders == [], "provider ids belong in catalog data or providers/<id>.py"


def test_modules_stay_small() -> None:
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text().splitlines()) for p in python_files()}
    assert {name: n for name, n in sizes.items() if n > 800} == {}


def test_every_module_says_why_it_exists() -> None:
    missing = [
        str(p.relative_to(PACKAGE))
        for p in python_files()
        if ast.get_docstring(ast.parse(p.read_text())) is None
    ]
    assert missing == []


def test_public_api_is_pinned() -> None:
    assert modelrouter.__all__ == ["Decision", "Engine", "Needs", "Policy", "__version__", "route"]
    for name in modelrouter.__all__:
        assert hasattr(modelrouter, name)

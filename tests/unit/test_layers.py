"""The layers read top-down: pages -> viewer -> services (engine.services, engine.pipeline,
and the CLI) -> computation (recommend, evaluate, reviews, bandits) | store -> data model
and errors. Each rule is checked on the imports (``ast``, at any depth, so an import
inside a function counts) of every module under engine/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "engine"

COMPUTATION = ("engine.recommend", "engine.evaluate", "engine.reviews", "engine.bandits", "engine.predict")
SERVICES = ("engine.services", "engine.pipeline", "engine.importrun", "engine.demo",
            "engine.commands", "engine.cli")
STORE = ("engine.store",)
DATA_MODEL = ("engine.data", "engine.errors", "engine.progress")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every module a file imports, absolute (relative imports resolved), at any depth;
    ``from a import b`` yields both ``a`` and ``a.b`` (b may be a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return out


def _under(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


MODULES = {_module_name(p): _imports(p) for p in sorted(ENGINE.rglob("*.py"))}


def _violations(sources, forbidden) -> list[str]:
    return sorted(f"{mod} imports {name}" for mod, names in MODULES.items() if _under(mod, sources)
                  for name in names if _under(name, forbidden))


def test_the_parser_sees_imports_at_any_depth():
    # a canary: the services import the store at the top, and the parser must see it
    assert "engine.store" in MODULES["engine.services.compare"] or \
        any(n.startswith("engine.store.") for n in MODULES["engine.services.compare"])
    tree = ast.parse("def f():\n    from engine.store import runs\n")
    assert any(isinstance(n, ast.ImportFrom) for n in ast.walk(tree))


def test_the_store_imports_no_computation_and_no_service():
    assert _violations(STORE, COMPUTATION + SERVICES + ("engine.analysis",)) == []


def test_computation_imports_no_store_and_no_service():
    assert _violations(COMPUTATION, STORE + SERVICES) == []


def test_the_backends_import_no_store_and_no_service():
    # they map pure functions; only the driver's services write the store
    assert _violations(("engine.backends",), STORE + SERVICES) == []


def test_the_data_model_imports_nothing_above_it():
    assert _violations(DATA_MODEL, STORE + COMPUTATION + SERVICES) == []


@pytest.mark.parametrize("top", ["streamlit", "viewer", "pages"])
def test_nothing_in_engine_imports_the_app(top):
    assert _violations(("engine",), (top,)) == []

"""The codebase keeps the shape docs/architecture.md describes, so a newcomer can walk it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import ai_agent

PACKAGE = Path(ai_agent.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))
DATABASE = PACKAGE / "infrastructure" / "database"
MAX_LINES = 350


def _dotted(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_of(name: str) -> str:
    """``name`` itself when it is a module of the package, else the module that defines it."""
    path = PACKAGE.parent.joinpath(*name.split("."))
    if path.with_suffix(".py").is_file() or (path / "__init__.py").is_file():
        return name
    return name.rpartition(".")[0]


def _import_statements(path: Path) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(module, names) of each absolute import; ``import a.b`` is ``("a.b", ())``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, ()) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, tuple(alias.name for alias in node.names)


def _imported(path: Path) -> set[str]:
    """Every dotted name ``path`` imports: ``from a import b`` gives ``a`` and ``a.b``."""
    names: set[str] = set()
    for module, members in _import_statements(path):
        names.add(module)
        names.update(f"{module}.{member}" for member in members)
    return names


def _modules_imported(path: Path) -> set[str]:
    """The project's modules ``path`` imports: ``from a import b`` is ``a.b`` if a module."""
    found: set[str] = set()
    for module, members in _import_statements(path):
        if not members:
            found.add(module)
        found.update(_module_of(f"{module}.{member}") for member in members)
    return {name for name in found if name.startswith("ai_agent.")}


def test_no_module_is_longer_than_the_limit() -> None:
    lengths = {
        _dotted(path): len(path.read_text(encoding="utf-8").splitlines()) for path in MODULES
    }
    assert {name: n for name, n in lengths.items() if n > MAX_LINES} == {}


def test_no_module_imports_the_private_module_of_another_package() -> None:
    """``a.b._c`` may be imported from inside ``a.b`` only; packages meet at public names."""
    offences = []
    for path in MODULES:
        importer = _dotted(path)
        for name in _imported(path):
            parts = name.split(".")
            private = [i for i, part in enumerate(parts) if part.startswith("_") and i > 0]
            if private and name.startswith("ai_agent."):
                owner = ".".join(parts[: private[0]])
                if importer != owner and not importer.startswith(owner + "."):
                    offences.append(f"{importer} imports {name}")
    assert offences == []


def test_only_the_config_package_reads_the_environment() -> None:
    readers = [
        _dotted(path)
        for path in MODULES
        if any(read in path.read_text(encoding="utf-8") for read in ("os.environ", "getenv("))
    ]
    assert [name for name in readers if not name.startswith("ai_agent.config")] == []


def test_no_modules_import_each_other_even_lazily_or_for_types() -> None:
    """Imports inside functions and ``TYPE_CHECKING`` blocks count: a cycle is a knot."""
    graph = {_dotted(path): _modules_imported(path) for path in MODULES}
    cycles = []
    for start in graph:
        seen, stack = {start}, [(start, [start])]
        while stack:
            module, trail = stack.pop()
            for target in graph.get(module, ()):
                if target == start and len(trail) > 1:
                    cycles.append(" -> ".join([*trail, start]))
                elif target not in seen:
                    seen.add(target)
                    stack.append((target, [*trail, target]))
    assert cycles == []


@pytest.mark.parametrize("backend", ["sqlite", "redis", "postgresql"])
def test_every_driver_backend_has_the_same_core_files(backend: str) -> None:
    files = {path.name for path in (DATABASE / backend).glob("*.py")}
    core = ("__init__", "_repository", "_codec", "_queries", "_connection", "_errors")
    assert {f"{name}.py" for name in core} <= files

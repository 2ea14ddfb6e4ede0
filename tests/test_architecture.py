"""Dependencies point one way: read from the source's imports (``ast``), nothing is imported.

The code read is ``backend/``, ``search_index/`` and ``miniapp_api/`` (migrations excepted). An import is an
edge from the importing module to the imported one; ``from package import module`` is an edge to the module,
and the package's ``__init__`` that Python runs on the way is not counted (it is the parent, not a
dependency). Imports under ``if TYPE_CHECKING:`` are not edges: they never run.

A *package* is where one floor of one part of the application lives:

- each domain package ``backend/<x>/`` and ``miniapp_api`` has three floors, each its own package:
  ``<x>:models`` (``models.py``), ``<x>:entry`` (what a request or a command enters by: ``routes.py``,
  ``cli.py``, ``fast_path.py`` (WSGI middleware answering some requests in a route's place, so it knows
  that route) and any module that creates a blueprint at module level) and ``<x>:domain`` (the rest:
  services, policies, schemas, presenters). A domain's services may use another domain's models while
  that domain's services use the first one's policy; what may not happen is a circle.
- each of backend's top-level modules (``backend/app.py``, ``backend/cli.py``, ...) is its own package;
- ``search_index`` (the search port: interfaces, engines, mappings, pure logic) is one package and imports
  nothing of the application; ``backend/search/`` (its outbox and indexer, which read the database) is the
  application's side;
- the infrastructure (INFRASTRUCTURE: extensions, errors, config, search, ...) is one floor below every domain
  and imports none.

Checked: no cycle between packages, nor between modules; models never import a higher floor, domain code
never imports an entry point; a blueprint's module imports no other blueprint's module (presenters and
limiters several blueprints use live in a domain module); no import inside a function except in the places
listed in ALLOWED_FUNCTION_IMPORTS (command registration, and third-party modules
that are slow to import and needed by one command); no module imports another module's private (``_name``) names;
no function is over MAX_FUNCTION_LINES lines without a ``Long because:`` line in its docstring.
"""

from __future__ import annotations

import ast
import itertools
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("backend", "search_index", "miniapp_api")
FIRST_PARTY = frozenset(SOURCES)
# The floor everything stands on: it imports none of the domains, blueprints or the factory.
INFRASTRUCTURE = frozenset(
    {
        "backend.canonical",
        "backend.config",
        "backend.divisions",
        "backend.errors",
        "backend.extensions",
        "backend.input_guard",
        "backend.metrics",
        "backend.progress",
        "backend.search",
        "backend.timezone",
        "backend.workdays",
        "search_index",
    }
)

# (module, function) -> why an import may live inside that function.
ALLOWED_FUNCTION_IMPORTS = {
    ("backend.cli", "register_commands"): "command registration: each domain's commands, loaded with the app",
    ("backend.cli", "alembic_config"): "Alembic is slow to import; only the db commands need it",
    ("backend.cli", "db_upgrade"): "Alembic, as above",
    ("backend.cli", "db_downgrade"): "Alembic, as above",
    ("backend.cli", "db_revision"): "Alembic, as above",
    ("backend.supervision.annual", "to_xlsx"): "openpyxl is slow to import; only the spreadsheet export needs it",
    (
        "backend",
        "__getattr__",
    ): "create_app on first use: gunicorn.conf.py reads config before prometheus-client loads",
    ("backend.keys", "suite"): "tongsuopy (SM2) loads a second OpenSSL; only SIGNATURE_SUITE=sm2 needs it",
}


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported module (first-party) or top-level name (third-party)
    line: int
    function: str | None  # the outermost function holding the import, None at module level

    def __str__(self) -> str:
        where = f" (inside {self.function}())" if self.function else ""
        return f"{self.source}:{self.line} imports {self.target}{where}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for source in SOURCES
        for path in sorted((ROOT / source).rglob("*.py"))
        if "migrations" not in path.parts
    }


MODULES = _modules()


def _from(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute name of the module a ``from ... import`` statement in ``module`` imports from."""
    base = node.module or ""
    if node.level:
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join(package + ([base] if base else []))
    return base


def _targets(module: str, path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = _from(module, path, node)
    submodules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES]
    return submodules + ([base] if len(submodules) < len(node.names) else [])


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(module: str, path: Path) -> list[Import]:
    found: list[Import] = []

    def walk(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for orelse in child.orelse:
                    walk(orelse, function)
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.extend(Import(module, target, child.lineno, function) for target in _targets(module, path, child))
            inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else None
            walk(child, function or inner)

    walk(ast.parse(path.read_text(encoding="utf-8"), str(path)), None)
    return found


IMPORTS = [found for module, path in MODULES.items() for found in _imports(module, path)]
PROJECT_IMPORTS = [i for i in IMPORTS if i.target.split(".")[0] in FIRST_PARTY]


def _creates_blueprint(path: Path) -> bool:
    """A module-level ``name = ...SomethingBlueprint(...)...``."""
    return any(
        isinstance(node, ast.Assign)
        and any(
            isinstance(call, ast.Call) and ast.unparse(call.func).endswith("Blueprint") for call in ast.walk(node.value)
        )
        for node in ast.parse(path.read_text(encoding="utf-8")).body
    )


BLUEPRINT_MODULES = frozenset(module for module, path in MODULES.items() if _creates_blueprint(path))


def floor(module: str) -> str:
    last = module.rsplit(".", 1)[-1]
    if last == "models":
        return "models"
    if last in ("routes", "cli", "fast_path") or module in BLUEPRINT_MODULES:
        return "entry"
    return "domain"


def is_floored(module: str) -> bool:
    """A domain package (``backend/<x>/`` but the infrastructure, or ``miniapp_api``)."""
    parts = module.split(".")
    if parts[0] == "miniapp_api":
        return True
    return (
        parts[0] == "backend"
        and len(parts) >= 2
        and (ROOT / "backend" / parts[1]).is_dir()
        and ".".join(parts[:2]) not in INFRASTRUCTURE
    )


def package(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "search_index":
        return "search_index"
    if is_floored(module):
        return f"{'.'.join(parts[:1] if parts[0] == 'miniapp_api' else parts[:2])}:{floor(module)}"
    return ".".join(parts[:2])


def _cycles(edges: dict[str, dict[str, list[Import]]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in edges.get(node, {}):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while (member := stack.pop()) != node:
                on_stack.discard(member)
                component.append(member)
            on_stack.discard(node)
            component.append(node)
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(components)


def _shortest_path(edges: dict[str, dict[str, list[Import]]], start: str, goal: str, within: set[str]) -> list[str]:
    paths = {start: [start]}
    queue = [start]
    for node in queue:
        for successor in sorted(edges.get(node, {})):
            if successor in within and successor not in paths:
                paths[successor] = paths[node] + [successor]
                if successor == goal:
                    return paths[successor]
                queue.append(successor)
    raise AssertionError(f"{goal} is not reachable from {start}")


def _describe(components: list[list[str]], edges: dict[str, dict[str, list[Import]]]) -> str:
    """Every step of every circle, each in the shortest loop through it, with the import behind each step."""
    lines: list[str] = []
    for members in components:
        within, seen = set(members), set()
        for source in members:
            for target in sorted(edges.get(source, {})):
                if target not in within or (source, target) in seen:
                    continue
                loop = [source, *_shortest_path(edges, target, source, within)]
                seen.update(itertools.pairwise(loop))
                lines.append("cycle: " + " -> ".join(loop))
                lines.extend(f"    {edges[a][b][0]}" for a, b in itertools.pairwise(loop))
    return "\n".join(lines)


def _graph(node_of) -> dict[str, dict[str, list[Import]]]:
    edges: dict[str, dict[str, list[Import]]] = defaultdict(lambda: defaultdict(list))
    for found in PROJECT_IMPORTS:
        source, target = node_of(found.source), node_of(found.target)
        if source != target:
            edges[source][target].append(found)
    return edges


def test_the_reader_sees_the_code():
    """Guards the checks below against passing because they read nothing."""
    assert {"backend.app", "backend.disclosures.publishing", "search_index.interfaces", "miniapp_api.routes"} <= set(
        MODULES
    )
    assert len(PROJECT_IMPORTS) > 200
    assert {"backend.officers.routes", "backend.pages.routes", "miniapp_api.official"} <= BLUEPRINT_MODULES


def test_no_cycle_between_packages():
    edges = _graph(package)
    cycles = _cycles(edges)
    assert not cycles, "import cycles between packages:\n" + _describe(cycles, edges)


def test_no_cycle_between_modules():
    edges = _graph(lambda module: module)
    cycles = _cycles(edges)
    assert not cycles, "import cycles between modules:\n" + _describe(cycles, edges)


def test_lower_floors_never_import_higher_ones():
    rank = {"models": 0, "domain": 1, "entry": 2}
    upward = [
        str(found)
        for found in PROJECT_IMPORTS
        if is_floored(found.source)
        and is_floored(found.target)
        and rank[floor(found.target)] > rank[floor(found.source)]
    ]
    assert not upward, "imports from a lower floor to a higher one:\n" + "\n".join(upward)


def test_infrastructure_imports_no_domain():
    def infrastructure(module: str) -> bool:
        return module.split(".")[0] == "search_index" or ".".join(module.split(".")[:2]) in INFRASTRUCTURE

    upward = [
        str(found) for found in PROJECT_IMPORTS if infrastructure(found.source) and not infrastructure(found.target)
    ]
    assert not upward, "the infrastructure imports the application above it:\n" + "\n".join(upward)


def test_the_search_port_does_not_import_the_application():
    into_app = [
        str(found)
        for found in PROJECT_IMPORTS
        if found.source.startswith("search_index") and not found.target.startswith("search_index")
    ]
    assert not into_app, "search_index imports the application:\n" + "\n".join(into_app)


def test_blueprints_do_not_import_other_blueprints():
    crossing = [
        str(found)
        for found in PROJECT_IMPORTS
        if found.source in BLUEPRINT_MODULES and found.target in BLUEPRINT_MODULES and found.source != found.target
    ]
    assert not crossing, "a blueprint's module imports another's (move what they share to a service):\n" + "\n".join(
        crossing
    )


def test_no_import_inside_a_function_outside_the_allowed_places():
    hidden = [
        str(found)
        for found in IMPORTS
        if found.function is not None and (found.source, found.function) not in ALLOWED_FUNCTION_IMPORTS
    ]
    assert not hidden, "imports inside functions (move them to the top; if that makes a cycle, move the rule):\n" + (
        "\n".join(hidden)
    )


@pytest.mark.parametrize("place", sorted(ALLOWED_FUNCTION_IMPORTS))
def test_every_allowed_place_exists(place: tuple[str, str]):
    """An allowance outlives no function: a renamed or removed one must leave the list too."""
    module, function = place
    assert any(found.source == module and found.function == function for found in IMPORTS), place


def _private_imports(module: str, path: Path) -> list[str]:
    """``from <another first-party module> import _name``: a private name used outside its module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if not isinstance(node, ast.ImportFrom):
            continue
        source = _from(module, path, node)
        if source.split(".")[0] not in FIRST_PARTY or source == module:
            continue
        found.extend(
            f"{module}:{node.lineno} imports {alias.name} from {source}"
            for alias in node.names
            if alias.name.startswith("_") and not alias.name.startswith("__")
        )
    return found


def test_no_module_imports_another_ones_private_names():
    private = [found for module, path in MODULES.items() for found in _private_imports(module, path)]
    assert not private, "private names imported from another module (make them public or move the code):\n" + (
        "\n".join(private)
    )


MAX_FUNCTION_LINES = 60


def _long_functions(module: str, path: Path) -> list[str]:
    """Functions over MAX_FUNCTION_LINES lines (decorators aside) whose docstring has no ``Long because:`` line."""
    return [
        f"{module}:{node.lineno} {node.name}() has {node.end_lineno - node.lineno + 1} lines"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
        and not any(line.strip().startswith("Long because:") for line in (ast.get_docstring(node) or "").splitlines())
    ]


def test_long_functions_say_why():
    long = [found for module, path in MODULES.items() for found in _long_functions(module, path)]
    assert not long, (
        f"functions over {MAX_FUNCTION_LINES} lines (split them, or add a 'Long because: ...' line to the docstring):\n"
        + "\n".join(long)
    )

"""The layers of src/concert_platform hold (docs/architecture.md, "Layers"), read from the imports
and comparisons of every module's syntax tree (imports inside functions included):

- the foundation modules import nothing of the tool but each other;
- engines/ imports nothing of the tool but itself and the foundation;
- nothing outside engines/ imports the embedded engine's internals (engines.moto_ext);
- nothing outside engines/ decides by an engine's name: it asks `engine.capabilities`;
- no module of the package is in an import circle (imports inside functions included).

Each rule is also run on a planted module, so a rule that could not fail would show here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from concert_platform.engines import ENGINE_NAMES

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "concert_platform"
#: modules every layer may import: they import nothing of the tool but each other
FOUNDATION = frozenset(
    {
        "concert_platform",
        "concert_platform.errors",
        "concert_platform.interrupt",
        "concert_platform.manifest",
        "concert_platform.naming",
        "concert_platform.filter_pattern",
        "concert_platform.packaging",
        "concert_platform.provider_schemas",
    }
)
ENGINES = "concert_platform.engines"
ENGINE_INTERNALS = "concert_platform.engines.moto_ext"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_modules() -> dict[str, str]:
    return {_module_name(path): path.read_text() for path in sorted(PACKAGE.rglob("*.py"))}


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def imports_of(module: str, source: str, known: frozenset[str]) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the module; `from a import b` gives a.b too
    where b is a module (`known`), so `from concert_platform.engines import moto_ext` is seen."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against this module's package
                parts = module.split(".")[:-1]
                anchor = parts[: len(parts) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{a.name}") for a in node.names if f"{base}.{a.name}" in known]
    return found


def layer_violations(modules: dict[str, str]) -> list[str]:
    known = frozenset(source_modules()) | frozenset(modules)
    problems = []
    for module, source in modules.items():
        in_engines = _within(module, ENGINES)
        for line, imported in imports_of(module, source, known):
            if not _within(imported, "concert_platform"):
                continue
            where = f"{module}:{line} imports {imported}"
            if module in FOUNDATION and imported not in FOUNDATION:
                problems.append(f"{where}: a foundation module imports only the foundation")
            elif in_engines and not _within(imported, ENGINES) and imported not in FOUNDATION:
                problems.append(f"{where}: engines/ imports only itself and the foundation")
            elif not in_engines and _within(imported, ENGINE_INTERNALS):
                problems.append(f"{where}: only engines/ may know the embedded engine's internals")
    return problems


def import_circles(modules: dict[str, str], package: str) -> list[str]:
    """Each circle of imports among the modules of `package`, as "a -> b -> a" (a depth-first walk
    over every import, those inside functions included)."""
    known = frozenset(source_modules()) | frozenset(modules)
    graph = {
        module: sorted(
            {imported for _, imported in imports_of(module, source, known) if imported in modules} - {module}
        )
        for module, source in modules.items()
        if _within(module, package)
    }
    circles: list[str] = []
    done: set[str] = set()

    def walk(module: str, path: list[str]) -> None:
        for imported in graph.get(module, []):
            if imported in path:
                circle = [*path[path.index(imported) :], imported]
                if " -> ".join(circle) not in circles and not set(circle) <= done:
                    circles.append(" -> ".join(circle))
            elif imported not in done:
                walk(imported, [*path, imported])
        done.add(module)

    for module in sorted(graph):
        if module not in done:
            walk(module, [module])
    return circles


def _mentions_engine(node: ast.AST) -> bool:
    """`engine.name`, `self.engine.name`, `platform.engine.name`, `concert_engine.name`, `engine_name`."""
    if isinstance(node, ast.Attribute) and node.attr == "name":
        return any(
            "engine" in (n.id if isinstance(n, ast.Name) else n.attr).lower()
            for n in ast.walk(node.value)
            if isinstance(n, ast.Name | ast.Attribute)
        )
    return isinstance(node, ast.Name) and "engine_name" in node.id.lower()


def _names_an_engine(node: ast.AST) -> bool:
    """A string literal (or a tuple, list or set of them) that is an engine's name."""
    if isinstance(node, ast.Constant):
        return node.value in ENGINE_NAMES
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_names_an_engine(element) for element in node.elts)
    return False


def name_branches(modules: dict[str, str]) -> list[str]:
    """Comparisons outside engines/ that decide by which engine runs: `engine.name == ...`,
    `engine_name != ...`, `x.name in ("embedded", ...)`, `... == "localstack"`."""
    problems = []
    for module, source in modules.items():
        if _within(module, ENGINES):
            continue
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.Compare):
                continue
            sides = [node.left, *node.comparators]
            on_engine = any(_mentions_engine(side) for side in sides)
            on_name = any(isinstance(s, ast.Attribute) and s.attr == "name" for s in sides)
            if on_engine or (on_name and any(_names_an_engine(side) for side in sides)):
                problems.append(f"{module}:{node.lineno} {ast.unparse(node)}")
    return problems


def test_the_layers_hold() -> None:
    modules = source_modules()
    assert ENGINE_INTERNALS in modules and "concert_platform.smoke" in modules  # the walk sees the tree
    assert layer_violations(modules) == []


def test_src_has_no_import_circle() -> None:
    modules = source_modules()
    assert "concert_platform.smoke.run" in modules and "concert_platform.engines.moto_ext.faults" in modules
    assert import_circles(modules, "concert_platform") == []


def test_a_planted_import_circle_in_the_smoke_package_is_named() -> None:
    modules = source_modules()
    planted = "def f():\n    from concert_platform.smoke.contracts import contract_checks\n"
    modules["concert_platform.smoke.alarms"] += planted  # contracts already imports alarms
    [circle] = import_circles(modules, "concert_platform.smoke")
    assert "concert_platform.smoke.alarms" in circle and "concert_platform.smoke.contracts" in circle


@pytest.mark.parametrize(
    ("module", "planted", "other"),
    [
        # the shared words back in e2e: outcome already lies below e2e
        (
            "concert_platform.outcome",
            "def f():\n    from concert_platform.e2e import PHASES\n",
            "concert_platform.e2e",
        ),
        # a module of moto_ext reaching a sibling through the package that registers it
        (
            "concert_platform.engines.moto_ext.cloudwatch",
            "def f():\n    from concert_platform.engines.moto_ext import faults\n",
            "concert_platform.engines.moto_ext",
        ),
    ],
)
def test_a_planted_import_circle_in_the_package_is_named(module: str, planted: str, other: str) -> None:
    modules = source_modules()
    modules[module] += planted
    circles = import_circles(modules, "concert_platform")
    assert circles and all(module in circle and other in circle for circle in circles)


def test_nothing_outside_engines_decides_by_an_engines_name() -> None:
    assert name_branches(source_modules()) == []


@pytest.mark.parametrize(
    ("module", "source", "named"),
    [
        (
            "concert_platform.smoke.alarms",
            "from concert_platform.engines.moto_ext.clock import CLOCK\n",
            "moto_ext.clock",
        ),
        (
            "concert_platform.execution_roles",
            "def f():\n    from concert_platform.engines import moto_ext\n",
            "engines.moto_ext",
        ),
        (
            "concert_platform.engines.embedded",
            "from concert_platform.local_invoke import close_runtime\n",
            "local_invoke",
        ),
        (
            "concert_platform.engines.moto_ext.logs",
            "from ...smoke import FlowResult\n",
            "concert_platform.smoke",
        ),
        ("concert_platform.naming", "import concert_platform.deploy\n", "concert_platform.deploy"),
    ],
)
def test_a_planted_import_across_the_layers_is_named(module: str, source: str, named: str) -> None:
    [problem] = layer_violations({module: source})
    assert module in problem and named in problem


@pytest.mark.parametrize(
    "source",
    [
        'if engine.name == "embedded":\n    pass\n',
        'if self.engine.name != "aws":\n    pass\n',
        "if platform.engine.name not in WAREHOUSE_ENGINES:\n    pass\n",
        'if keep and engine_name != "embedded":\n    pass\n',
        'if runtime.owner.name in ("embedded", "aws"):\n    pass\n',
    ],
)
def test_a_planted_engine_name_branch_is_named(source: str) -> None:
    [problem] = name_branches({"concert_platform.smoke": source})
    assert problem.startswith("concert_platform.smoke:1 ")


def test_comparisons_that_are_not_about_engines_pass() -> None:
    source = 'if check.name == "health" or spec.name == other.name or src.kind == "input":\n    pass\n'
    assert name_branches({"concert_platform.reports": source}) == []

"""The package's shape: a small Learner whose verbs delegate, and no function a reader has to hold
for more than a screen."""

from __future__ import annotations

import ast
from pathlib import Path

import tflearner

PACKAGE = Path(tflearner.__file__).parent
LEARNER_LINES, METHOD_LINES, FUNCTION_LINES = 400, 40, 60
#: Functions of other parts of the package still over the limit while they are split; the test
#: fails once one is short enough, so its entry goes with it.


def _size(node: ast.AST) -> int:
    return node.end_lineno - node.lineno + 1


def test_the_learner_is_small_and_its_verbs_delegate():
    tree = ast.parse((PACKAGE / "learner.py").read_text())
    [learner] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Learner"]
    assert _size(learner) <= LEARNER_LINES
    long = {n.name: _size(n) for n in learner.body
            if isinstance(n, ast.FunctionDef) and _size(n) > METHOD_LINES}
    assert long == {}, f"Learner methods over {METHOD_LINES} lines: {long}"


def test_no_function_over_sixty_lines():
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                    _size(node) > FUNCTION_LINES):
                long.append(f"{rel}:{node.name}")
    assert long == [], f"functions over {FUNCTION_LINES} lines: {long}"


def test_nothing_below_the_learner_imports_it():
    """Dependencies run one way: only the Learner's clients (the command, the Keras pieces, the
    package's lazy map) import tflearner.learner."""
    importers = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (
                    (node.module or "").split(".")[-1] == "learner" or any(
                        a.name == "Learner" for a in node.names)):
                importers.add(path.relative_to(PACKAGE).as_posix())
    assert importers <= {"__init__.py", "cli.py", "keras_fit/lr_finder.py"}, importers


def _imports(path: Path, name: str, modules: set[str]) -> set[str]:
    """The package modules ``name`` (at ``path``) imports, wherever the import stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*parts, node.module] if node.module else parts) if node.level \
                else node.module or ""
            out |= {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                    for a in node.names}
    return out & modules


def test_no_import_cycle():
    """The modules' import graph (imports inside functions and under TYPE_CHECKING included:
    they are dependencies of the design) has no cycle."""
    paths = {".".join(("tflearner", *p.relative_to(PACKAGE).with_suffix("").parts))
             .removesuffix(".__init__"): p for p in PACKAGE.rglob("*.py")}
    graph = {m: _imports(p, m, set(paths)) - {m} for m, p in paths.items()}
    done: set[str] = set()

    def visit(m: str, stack: list[str]) -> None:
        if m in stack:
            raise AssertionError("import cycle: " + " -> ".join([*stack[stack.index(m):], m]))
        if m not in done:
            for n in sorted(graph[m]):
                visit(n, [*stack, m])
            done.add(m)

    for m in sorted(graph):
        visit(m, [])

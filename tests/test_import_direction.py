"""The import graph runs one way: each part of charrnn imports only the parts below it, no
modules import each other round in a cycle, and no terminal renderer imports the inspect
command whose result it draws (both import cli/views.py)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# from the bottom up: a part may import the parts of lower layers, never those of its own or above
LAYERS = [
    {"charrnn", "charrnn.chars"},  # charrnn itself defines __version__ (and load, lazily: below)
    {"charrnn.errors"},
    {"charrnn.config", "charrnn.vocab", "charrnn.npz", "charrnn.files"},
    {"charrnn.nn", "charrnn.metadata"},
    {"charrnn.budget", "charrnn.checkpoint", "charrnn.data"},
    {"charrnn.analysis"},
    {"charrnn.generation", "charrnn.web"},
    {"charrnn.language_model"},
    {"charrnn.training"},
    {"charrnn.cli"},
    {"charrnn.__main__"},  # python -m charrnn
]
# `charrnn.load` and `charrnn.LanguageModel` are the library's front door: charrnn's __getattr__
# imports language_model when they are first asked for, long after everything below has loaded
FRONT_DOOR = ("charrnn", "charrnn.language_model")


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, name: str, known: set[str], type_only: bool = False) -> set[str]:
    """The package's modules that `name` imports, anywhere in it (a function's body too); those
    under `if TYPE_CHECKING:` only when `type_only`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if not type_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                node.body = []
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    [*package.split(".")[: len(package.split(".")) - node.level + 1], *filter(None, [base])]
                )
            found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names)
    return {m for m in found if m in known and m != name}


def graph(root: Path, package: str, type_only: bool = False) -> dict[str, set[str]]:
    paths = {module_name(p, root): p for p in (root / package).rglob("*.py")}
    return {name: imports(path, name, set(paths), type_only) for name, path in paths.items()}


def part(name: str) -> str:
    """The part of charrnn a module belongs to: charrnn.nn.cells.lstm is charrnn.nn's."""
    return ".".join(name.split(".")[:2])


def upward(edges: dict[str, set[str]], layers: list[set[str]]) -> list[str]:
    """The imports of one part by another at its own layer or below it."""
    layer = {p: i for i, parts in enumerate(layers) for p in parts}
    return sorted(
        f"{a} imports {b}"
        for a, targets in edges.items()
        for b in targets
        if part(a) != part(b) and (part(a), part(b)) != FRONT_DOOR and layer[part(a)] <= layer[part(b)]
    )


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected sets of more than one module (Tarjan), the front door left out."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if (v, w) == FRONT_DOOR:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_every_part_of_charrnn_has_a_layer():
    assert {part(name) for name in graph(ROOT, "charrnn")} == set().union(*LAYERS)


def test_each_part_imports_only_the_parts_below_it():
    assert upward(graph(ROOT, "charrnn"), LAYERS) == []


def test_no_modules_import_each_other_round_in_a_cycle():
    assert cycles(graph(ROOT, "charrnn")) == []


def test_no_renderer_imports_the_view_it_draws():
    edges = graph(ROOT, "charrnn", type_only=True)
    render = {a: {b for b in targets if b.startswith("charrnn.cli.inspect")} for a, targets in edges.items()}
    assert {a: b for a, b in render.items() if a.startswith("charrnn.cli.render") and b} == {}


def test_an_upward_import_and_a_cycle_are_caught(tmp_path):
    package = tmp_path / "pkg"
    (package / "low").mkdir(parents=True)
    for name, text in {
        "__init__.py": "",
        "low/__init__.py": "",
        "low/a.py": "from pkg.low import b\nfrom pkg import high\n",
        "low/b.py": "def f():\n    from . import a\n",
        "high.py": "from pkg.low import a\n",
    }.items():
        (package / name).write_text(text)
    edges = graph(tmp_path, "pkg")
    assert edges["pkg.low.a"] == {"pkg.low.b", "pkg.high"} and edges["pkg.low.b"] == {"pkg.low.a"}
    assert upward(edges, [{"pkg"}, {"pkg.low"}, {"pkg.high"}]) == ["pkg.low.a imports pkg.high"]
    assert cycles(edges) == [["pkg.high", "pkg.low.a", "pkg.low.b"]]

"""The packages form layers: no import circle anywhere, the models package imports nothing above it, and the
central server imports nothing of the kiosk program or of device provisioning."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("hajiri_wire", "hajiri_common", "edge_models", "model_lab", "kiosk", "sync_agent", "provisioning",
            "central_server", "hajiri_demo", "hajiri_cli", "bench")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every module of ours that `name` imports, at any depth of its code (a late import is still a dependency)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(up + ([base] if base else []))
            # `from pkg import mod` names a module when pkg.mod is one; otherwise it names something in pkg.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import a.b.c` of ours depends on the deepest module known
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _crossings(graph: dict[str, set[str]], source: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(f"{m} -> {t}" for m, targets in graph.items() if m.split(".")[0] == source
                  for t in targets if t.split(".")[0] in forbidden)


def test_no_import_circles() -> None:
    assert _cycles(_graph()) == []


def test_models_import_nothing_above_them() -> None:
    graph = _graph()
    above = tuple(p for p in PACKAGES if p not in ("edge_models", "hajiri_wire", "hajiri_common"))
    assert _crossings(graph, "edge_models", above) == []


def test_central_server_imports_nothing_of_the_kiosk_or_provisioning() -> None:
    assert _crossings(_graph(), "central_server", ("kiosk", "provisioning", "sync_agent", "hajiri_demo",
                                                   "model_lab")) == []


def test_the_checker_sees_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_central_server_root_holds_only_the_app_and_its_config() -> None:
    # Everything else lives in a feature package; a new root module is a package that lost its home.
    root = {p.name for p in (REPO / "central_server").glob("*.py")}
    assert root == {"__init__.py", "app.py", "cli.py", "config.py", "errors.py"}


def test_the_common_layers_import_no_component() -> None:
    graph = _graph()
    components = tuple(p for p in PACKAGES if p not in ("hajiri_wire", "hajiri_common"))
    assert _crossings(graph, "hajiri_wire", components) == []
    assert _crossings(graph, "hajiri_common", (*components, "hajiri_wire")) == []

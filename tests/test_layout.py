"""The floor plan of ``wgan/`` stays honest: read from the source with ``ast``, not by importing it.

1. Only the lab's own corners (``wgan/lab/``, the ``study`` and ``benchmark`` commands,
   ``benchmarks/``, ``tools/``) import ``wgan.lab``: the toolkit must not depend on its
   research tooling.
2. Few loose modules at the top of ``wgan/``: new code goes into the package of its role.
3. No import circle between the packages of ``wgan/`` (each subpackage and each top-level
   module is one node; every import statement counts, a function-level one too).
4. The light entry points (the hyperparameter validator and the registries it reads, the
   data package) import without TensorFlow, in a fresh interpreter.
"""

import ast
import itertools
import os
import subprocess
import sys
from collections import defaultdict

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(REPO, "wgan")

# Where ``wgan.lab`` may be imported from (paths relative to the repository, "/" separated).
LAB_USERS = ("wgan/lab/", "wgan/cli/study.py", "wgan/cli/benchmark.py", "benchmarks/", "tools/")
MAX_LOOSE_MODULES = 6
LIGHT_MODULES = ["wgan.config", "wgan.gan.objectives", "wgan.models", "wgan.data"]


def python_files(*folders, root=REPO):
    """Paths (relative to ``root``) of the .py files under ``folders`` (recursively), sorted."""
    found = []
    for folder in folders:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, folder)):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            found += [os.path.relpath(os.path.join(dirpath, f), root).replace(os.sep, "/")
                      for f in filenames if f.endswith(".py")]
    return sorted(found)


def module_name(path):
    """``wgan/gan/model.py`` -> ``wgan.gan.model``; ``wgan/data/__init__.py`` -> ``wgan.data``."""
    parts = path[:-len(".py")].split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path, root=REPO):
    """``[(module, line)]``: every module an import statement of ``path`` may load.

    ``from a.b import c`` yields ``a.b`` and ``a.b.c`` (``c`` may be a submodule: ``from wgan
    import lab``); relative imports are resolved; ``importlib.import_module("...")`` and
    ``__import__("...")`` with a literal name count too.
    """
    with open(os.path.join(root, path), encoding="utf-8") as f:
        tree = ast.parse(f.read(), filename=path)
    module = module_name(path)
    package = module.split(".") if path.endswith("__init__.py") else module.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module
            found += [(name, node.lineno)] + [(f"{name}.{alias.name}", node.lineno) for alias in node.names]
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and (isinstance(node.func, ast.Name) and node.func.id == "__import__"
                   or isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")):
            found.append((node.args[0].value, node.lineno))
    return found


def is_lab(name):
    return name == "wgan.lab" or name.startswith("wgan.lab.")


# ----- 1. the lab stays apart -------------------------------------------------------------------
def lab_imports(paths, root=REPO):
    """``["path:line imports name"]`` of the imports of ``wgan.lab`` in ``paths`` outside ``LAB_USERS``."""
    return [f"{path}:{line} imports {name}" for path in paths if not path.startswith(LAB_USERS)
            for name, line in imported(path, root) if is_lab(name)]


def test_only_the_lab_commands_import_the_lab():
    paths = python_files("wgan", "bin")
    assert "wgan/train/loop.py" in paths and "bin/train.py" in paths  # the walk sees the package and the scripts
    assert any(is_lab(name) for name, _ in imported("wgan/cli/study.py"))  # and it sees a lab import where one is
    assert lab_imports(paths) == []


def test_the_lab_check_sees_every_form_of_import(tmp_path):
    (tmp_path / "wgan" / "gan").mkdir(parents=True)
    (tmp_path / "wgan" / "lab").mkdir()
    forms = ["from wgan import lab", "import wgan.lab.study", "from wgan.lab.study import run",
             "from ..lab import study", "import importlib\nimportlib.import_module('wgan.lab.capacity')",
             "def later():\n    from wgan.lab import benchmark"]
    for i, text in enumerate(forms):
        (tmp_path / "wgan" / "gan" / f"m{i}.py").write_text(text + "\n")
    (tmp_path / "wgan" / "gan" / "fine.py").write_text("from wgan import labels, runs\nimport wgan.laboratory\n")
    (tmp_path / "wgan" / "lab" / "inside.py").write_text("from wgan.lab import study\n")
    found = lab_imports(python_files("wgan", root=str(tmp_path)), root=str(tmp_path))
    assert sorted({hit.split(":")[0] for hit in found}) == [f"wgan/gan/m{i}.py" for i in range(len(forms))], found


# ----- 2. few loose modules ---------------------------------------------------------------------
def test_few_loose_modules_at_the_top_of_the_package():
    loose = sorted(f for f in os.listdir(PACKAGE) if f.endswith(".py") and f != "__init__.py")
    assert "config.py" in loose
    assert len(loose) <= MAX_LOOSE_MODULES, (
        f"{len(loose)} modules at the top of wgan/ ({', '.join(loose)}); at most {MAX_LOOSE_MODULES}: "
        "put the new one into the package of its role (wgan/data, gan, train, metrics, util, ...)")


# ----- 3. no import circle between the packages -------------------------------------------------
def nodes():
    """The nodes of the package graph: ``wgan.<subpackage>`` and ``wgan.<top-level module>``."""
    found = set()
    for entry in os.listdir(PACKAGE):
        if os.path.isfile(os.path.join(PACKAGE, entry, "__init__.py")):
            found.add(f"wgan.{entry}")
        elif entry.endswith(".py") and entry != "__init__.py":
            found.add(f"wgan.{entry[:-3]}")
    return found


def node_of(module, known):
    """The node ``module`` belongs to (``wgan.gan.model`` -> ``wgan.gan``), or None outside them."""
    parts = module.split(".")
    node = ".".join(parts[:2])
    return node if parts[0] == "wgan" and node in known else None


def package_graph():
    """``{node: {node it imports: "path:line" of the first such import}}`` over wgan/**/*.py."""
    known = nodes()
    graph = defaultdict(dict)
    for path in python_files("wgan"):
        source = node_of(module_name(path), known)
        if source is None:  # wgan/__init__.py
            continue
        for name, line in imported(path):
            target = node_of(name, known)
            if target is not None and target != source:
                graph[source].setdefault(target, f"{path}:{line}")
    return graph


def find_cycle(graph):
    """One cycle of ``graph`` as a list of nodes (first == last), or None."""
    state = {}  # node -> "open" while on the DFS path, "done" after

    def visit(node, path):
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt, path)
                if cycle:
                    return cycle
        path.pop()
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start, [])
            if cycle:
                return cycle
    return None


def describe(cycle, graph):
    return " -> ".join(cycle) + "  (" + "; ".join(
        f"{a} -> {b} at {graph[a][b]}" for a, b in itertools.pairwise(cycle)) + ")"


def test_no_import_circle_between_the_packages():
    graph = package_graph()
    assert "wgan.gan" in graph["wgan.train"] and "wgan.errors" in graph["wgan.models"]  # the graph has its edges
    cycle = find_cycle(graph)
    assert cycle is None, f"import circle between packages of wgan/: {describe(cycle, graph)}"


def test_the_cycle_finder_names_the_circle():
    graph = {"wgan.a": {"wgan.b": "a.py:1"}, "wgan.b": {"wgan.c": "b.py:2"}, "wgan.c": {"wgan.a": "c.py:3"},
             "wgan.d": {"wgan.a": "d.py:4"}}
    cycle = find_cycle(graph)
    assert cycle == ["wgan.a", "wgan.b", "wgan.c", "wgan.a"]
    assert describe(cycle, graph).startswith("wgan.a -> wgan.b -> wgan.c -> wgan.a  (wgan.a -> wgan.b at a.py:1")
    assert find_cycle({"wgan.a": {"wgan.b": ""}, "wgan.c": {"wgan.b": ""}}) is None


# ----- 4. the light modules import without TensorFlow -------------------------------------------
@pytest.mark.parametrize("module", LIGHT_MODULES)
def test_light_modules_import_without_tensorflow(module):
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.split('.')[0] == 'tensorflow')[:3])"
    env = dict(os.environ, PYTHONPATH=REPO)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[]", f"import {module} imported TensorFlow: {proc.stdout.strip()}"

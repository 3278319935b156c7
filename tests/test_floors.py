"""The library's floors, read from its source (ast, nothing imported): no module imports upward.

- the core, flat in ``rnnreg/`` (data, model, train, runfolder, live, bench, published): imports
  no ``rnnreg.analysis`` and no ``rnnreg.views`` module, and only PyTorch and the standard library;
- ``rnnreg.analysis``: the core and other analysis modules, never ``rnnreg.views``, matplotlib or
  ipywidgets;
- ``rnnreg.views``: the core and ``rnnreg.analysis``;
- ``rnnreg.__main__`` (the CLI): may import analysis modules, lazily inside its commands, never views.

And no module imports a private name (leading underscore) from another rnnreg module.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "rnnreg"
FLOORS = {"core": 0, "analysis": 1, "views": 2}
#: Third-party packages the core may import (pyproject's dependencies).
CORE_THIRD_PARTY = {"torch", "tqdm"}
#: Optional packages a core module may import inside a function only: the core imports without them.
LAZY_THIRD_PARTY = {"rnnreg.sweeps": {"submitit"}}
#: Packages only the views floor may import.
VIEWS_ONLY = {"matplotlib", "matplotlib_inline", "ipywidgets", "IPython"}
STDLIB = set(sys.stdlib_module_names)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def floor(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ("analysis", "views") else "core"


def imports(module: str):
    """(imported module, names or None, line, at module level) for every import in ``module``,
    relative imports resolved."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    top = {id(n) for n in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno, id(node) in top
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            names = [a.name for a in node.names]
            # ``from rnnreg.analysis import zoo`` imports the module rnnreg.analysis.zoo
            subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES]
            if subs and len(subs) == len(names):
                for s in subs:
                    yield s, None, node.lineno, id(node) in top
            else:
                yield target, names, node.lineno, id(node) in top


def test_the_floors_are_the_ones_the_issue_names():
    assert {m for m in MODULES if floor(m) == "core"} == {
        "rnnreg",
        "rnnreg.__main__",
        "rnnreg.data",
        "rnnreg.model",
        "rnnreg.fast_lstm",
        "rnnreg.config",
        "rnnreg.train",
        "rnnreg.runfolder",
        "rnnreg.live",
        "rnnreg.bench",
        "rnnreg.published",
        "rnnreg.sweeps",
    }
    assert {m.rpartition(".")[2] for m in MODULES if floor(m) == "analysis"} == {
        "analysis",
        "runs",
        "schemes",
        "signal",
        "signal_runs",
        "equivalence",
        "zoo",
        "averaging",
    }
    assert {m.rpartition(".")[2] for m in MODULES if floor(m) == "views"} == {
        "views",
        "style",
        "plots",
        "diagrams",
        "panels",
        "signal",
        "equivalence",
        "zoo",
    }


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_upward(module):
    mine = FLOORS[floor(module)]
    problems = []
    for target, _, line, at_top in imports(module):
        top_level = target.split(".")[0]
        if top_level == "rnnreg":
            theirs = FLOORS[floor(target)]
            if module == "rnnreg.__main__":
                if floor(target) == "views" or (floor(target) == "analysis" and at_top):
                    problems.append(f"line {line}: {target} (the CLI imports analysis lazily, views never)")
            elif theirs > mine:
                problems.append(f"line {line}: {target} is on the {floor(target)} floor, above {floor(module)}")
        elif (
            floor(module) == "core"
            and top_level not in STDLIB | CORE_THIRD_PARTY
            and not (top_level in LAZY_THIRD_PARTY.get(module, ()) and not at_top)
        ):
            problems.append(f"line {line}: {target} (the core needs only PyTorch and the standard library)")
        elif floor(module) == "analysis" and top_level in VIEWS_ONLY:
            problems.append(f"line {line}: {target} (analysis draws nothing: no matplotlib, no ipywidgets)")
    assert not problems, f"{module} imports upward:\n" + "\n".join(problems)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_name_from_another_module(module):
    private = [
        f"line {line}: from {target} import {n}"
        for target, names, line, _ in imports(module)
        if target.split(".")[0] == "rnnreg" and target != module
        for n in names or ()
        if n.startswith("_") and not n.startswith("__")
    ]
    private += [
        f"line {line}: import {target}"
        for target, _, line, _ in imports(module)
        if target.split(".")[0] == "rnnreg" and any(p.startswith("_") and p != "__main__" for p in target.split("."))
    ]
    assert not private, f"{module} imports private names:\n" + "\n".join(private)


def test_the_checker_sees_an_upward_import(tmp_path, monkeypatch):
    """The test above would notice: a core module importing views, relative or absolute."""
    fake = {"rnnreg.model": tmp_path / "model.py"}
    fake["rnnreg.model"].write_text(
        "from .views import plots\nfrom rnnreg.analysis.zoo import load_zoo\nfrom .train import _private\n"
    )
    monkeypatch.setitem(MODULES, "rnnreg.model", fake["rnnreg.model"])
    found = list(imports("rnnreg.model"))
    assert ("rnnreg.views.plots", None, 1, True) in found
    assert ("rnnreg.analysis.zoo", ["load_zoo"], 2, True) in found
    with pytest.raises(AssertionError, match="above core"):
        test_no_import_upward("rnnreg.model")
    with pytest.raises(AssertionError, match="_private"):
        test_no_private_name_from_another_module("rnnreg.model")


def test_the_cli_and_the_core_load_without_pandas_or_matplotlib():
    """Importing the CLI, every core module and the torch-only analysis modules that the CLI's
    ``average`` and ``measure`` use pulls in neither pandas nor matplotlib nor ipywidgets."""
    code = (
        "import sys, rnnreg.__main__, rnnreg.bench, rnnreg.live, rnnreg.published, rnnreg.analysis.averaging, "
        "rnnreg.analysis.signal; "
        "print(sorted(m for m in ('pandas', 'matplotlib', 'ipywidgets') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE.parent)
    assert out.stdout.strip() == "[]"


PROSE_WORDS = 8  #: a string with this many literal words is a sentence, and sentences are the chapters' job


def literal_words(node) -> int:
    """Words in a string expression's literal text: a literal, an f-string's text, both sides of a ``+``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return sum(w.strip(".,;:!?()'\"`").isalpha() for w in node.value.split())  # not options, paths, numbers
    if isinstance(node, ast.JoinedStr):
        return sum(literal_words(v) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return literal_words(node.left) + literal_words(node.right)
    return 0


def prose(source: str) -> list[str]:
    """``line N: function`` for each string of :data:`PROSE_WORDS` or more literal words in a function
    body; docstrings, the messages of ``raise`` and ``warn(...)`` and functions named ``*_warnings``
    (they return warning messages) are exempt."""
    tree = ast.parse(source)
    exempt = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.Raise) or (isinstance(node, ast.Call) and ast.unparse(node.func).endswith("warn"))
        for n in ast.walk(node)
    }
    return sorted(
        {
            f"line {node.lineno}: {fn.name}"
            for fn in ast.walk(tree)
            if isinstance(fn, ast.FunctionDef) and not fn.name.endswith("_warnings")
            for stmt in fn.body[1 if ast.get_docstring(fn) else 0 :]
            for node in ast.walk(stmt)
            if id(node) not in exempt and literal_words(node) >= PROSE_WORDS
        }
    )


@pytest.mark.parametrize("module", sorted(m for m in MODULES if floor(m) == "analysis"))
def test_analysis_returns_numbers_and_decisions_not_sentences(module):
    found = prose(MODULES[module].read_text())
    assert not found, f"{module} writes sentences (the chapter's markdown should):\n" + "\n".join(found)


def test_the_checker_sees_a_sentence():
    """A sentence written by a function is found, however it is built; an error message is not."""
    sentence = '''
def said(run):
    """A docstring of more than eight words is documentation, not a sentence returned."""
    if run is None:
        raise FileNotFoundError(f"no recorded run here: record one with python -m rnnreg train {run}")
    verdict = f"The run {run.name} overfits: its validation perplexity turned up"
    return "Reproduced: " + f"{run.name} lands within the project's target of {run.target} in test"
'''
    assert prose(sentence) == ["line 6: said", "line 7: said"]
    assert prose("def table(run):\n    return {'valid': run.valid, 'test': run.test}\n") == []


def test_a_newcomer_can_read_it_in_an_afternoon():
    """The size #31 set: the library at most 7,000 lines, train.py at most 450, no core function over 60."""
    lines = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in MODULES.items()}
    assert sum(lines.values()) <= 7000 and lines["rnnreg.train"] <= 450
    core = [name for name in MODULES if floor(name) == "core"]
    long = [
        (name, node.name)
        for name in core
        for node in ast.walk(ast.parse(MODULES[name].read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef) and node.end_lineno - node.lineno >= 60
    ]
    assert not long

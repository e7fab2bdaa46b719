"""The public API: type stubs that match the functions, docstrings on every
public name, and the documented example."""
from __future__ import annotations

import ast
import inspect
import os
import subprocess
import sys
from pathlib import Path

import fordeling

from conftest import ROOT

PACKAGE = Path(fordeling.__file__).parent


def stub_functions(path: Path) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(path.read_text())
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def parameters(node: ast.FunctionDef) -> list[tuple[str, str | None]]:
    """(name, default as source) of each parameter, in order."""
    args = node.args
    plain = args.posonlyargs + args.args
    defaults = [None] * (len(plain) - len(args.defaults)) + [ast.unparse(d) for d in args.defaults]
    found = list(zip([a.arg for a in plain], defaults))
    found += [
        (a.arg, None if d is None else ast.unparse(d))
        for a, d in zip(args.kwonlyargs, args.kw_defaults)
    ]
    return found


def test_the_stubs_match_every_public_function():
    stubs = stub_functions(PACKAGE / "__init__.pyi")
    public = [n for n in fordeling.__all__ if inspect.isfunction(getattr(fordeling, n))]
    assert set(public) <= set(stubs), set(public) - set(stubs)
    for name in public:
        runtime = inspect.signature(getattr(fordeling, name))
        expected = [
            (p.name, None if p.default is inspect.Parameter.empty else repr(p.default))
            for p in runtime.parameters.values()
        ]
        assert parameters(stubs[name]) == expected, name
        kinds = [p.kind for p in runtime.parameters.values()]
        assert kinds.count(inspect.Parameter.KEYWORD_ONLY) == len(stubs[name].args.kwonlyargs), name


def test_the_native_stub_names_every_native_function():
    stubs = stub_functions(PACKAGE / "_native.pyi")
    native = fordeling._native
    names = {n for n in dir(native) if not n.startswith("_") and callable(getattr(native, n))}
    functions = {n for n in names if not isinstance(getattr(native, n), type)}
    assert functions <= set(stubs), functions - set(stubs)
    classes = {n for n in names if isinstance(getattr(native, n), type)}
    text = (PACKAGE / "_native.pyi").read_text()
    for name in classes:
        assert f"class {name}(" in text or f"class {name}:" in text, name


def test_every_public_name_has_a_docstring():
    for name in fordeling.__all__:
        obj = getattr(fordeling, name)
        assert inspect.getdoc(obj), name
    for cls in (fordeling.Model, fordeling.Result):
        for member, value in vars(cls).items():
            if member.startswith("_"):
                continue
            assert inspect.getdoc(value), f"{cls.__name__}.{member}"
    assert (PACKAGE / "py.typed").exists()


def test_the_notebook_example_runs(tmp_path):
    example = ROOT / "examples" / "python_notebook.py"
    done = subprocess.run(
        [sys.executable, str(example)], cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "FORDELING_EXAMPLE_SCALE": "0.02"},
    )
    assert done.returncode == 0, done.stderr
    assert "minimum patient counts" in done.stdout


def _count_clinics(population, clinics, queue):
    result = fordeling.run(population=population, clinics=clinics)
    queue.put(result.clinics.num_rows)


def test_a_forked_child_can_run_after_its_parent(inputs):
    # multiprocessing forks on Linux: the child must not inherit worker
    # threads it does not have (a pool kept across calls would hang it).
    import multiprocessing
    import pytest

    if not hasattr(os, "fork"):
        pytest.skip("no fork on this platform")
    parent = fordeling.run(population=inputs["population"], clinics=inputs["clinics"])
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(
        target=_count_clinics, args=(inputs["population"], inputs["clinics"], queue)
    )
    child.start()
    child.join(120)
    alive = child.is_alive()
    if alive:
        child.kill()
    assert not alive, "the forked child hung"
    assert child.exitcode == 0
    assert queue.get(timeout=10) == parent.clinics.num_rows

"""The shape of the code: no import hides inside a function (an import there usually hides a
cycle), and every module of the Django half imports cleanly on its own.

The arrows themselves (quizsite -> questions -> attention_engine, the feature packages' order)
are import-linter's contracts in pyproject.toml, run by `make test` as `lint-imports`.
"""

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ("questions", "quizsite", "attention_engine")


def _modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts)


def _nested_project_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.ImportFrom):
                names = [inner.module or ""]
                relative = inner.level > 0
            elif isinstance(inner, ast.Import):
                names = [a.name for a in inner.names]
                relative = False
            else:
                continue
            if relative or any(n.split(".")[0] in PROJECT for n in names):
                found.append(f"{path.name}:{inner.lineno} in {node.name}()")
    return found


@pytest.mark.parametrize("package", ["questions", "quizsite"])
def test_no_module_imports_a_project_module_inside_a_function(package):
    offenders = [hit for path in _modules(package) for hit in _nested_project_imports(path)]
    assert offenders == []


def test_the_scan_finds_an_import_inside_a_function(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from questions.practice import services\n    return services\n")
    assert len(_nested_project_imports(sample)) == 1


@pytest.mark.parametrize(
    "module",
    [".".join(p.relative_to(ROOT).with_suffix("").parts) for p in _modules("questions") + _modules("quizsite")
     if p.name != "__main__.py"],
)
def test_every_module_imports_on_its_own(module):
    importlib.import_module(module.removesuffix(".__init__"))

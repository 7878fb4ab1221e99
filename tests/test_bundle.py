"""The student bundle's parts, without a kernel: the rubric and pyproject as TOML, and imports that run one way."""

from __future__ import annotations

import ast
import shutil
import tomllib
from pathlib import Path

import pytest

from grader.export.student import PACKAGE_DATA, pyproject, rubric_toml
from grader.folders import CHECKS_FILE
from grader.rubric import ANSWERS_FILE
from grader.loader import assignment_ids, load_assignment, load_rubric, own_folders
from grader.visibility import public_part

PACKAGE = Path(__file__).resolve().parent.parent / "grader"


@pytest.mark.parametrize("assignment_id", [a for a in assignment_ids() if public_part(load_assignment(a))[0].items])
def test_every_assignment_s_public_part_reads_back_as_written(assignment_id, tmp_path):
    assignment = load_assignment(assignment_id)
    public, _, _ = public_part(assignment)
    bundled = public.model_copy(update={"self_test": type(public.self_test)(), "common_code": []})
    path = tmp_path / "assignments" / assignment_id / "rubric.toml"
    path.parent.mkdir(parents=True)
    for folder in own_folders(assignment):  # as the export lays them out: the probes and rules its items name
        (tmp_path / "assignments" / folder.name).mkdir(exist_ok=True)
        shutil.copy(folder / CHECKS_FILE, tmp_path / "assignments" / folder.name / CHECKS_FILE)
    path.write_text(rubric_toml(bundled), encoding="utf-8")
    (path.parent / ANSWERS_FILE).write_text("{}", encoding="utf-8")  # a bundle: its answers stand in for the reference/ it has not
    exclude = {"directory", "answers"}
    assert load_rubric(path).model_dump(exclude=exclude) == bundled.model_dump(exclude=exclude)


def test_text_a_hand_written_toml_would_break_is_written_by_the_library(tmp_path):
    assignment = load_assignment("dlwp-ch2")
    public, _, _ = public_part(assignment)
    awkward = 'Tricky "quotes", a back\\slash, a tab\tand\na new line — ünïcode'
    first = public.items[0].model_copy(update={"title": awkward, "hint": "'''triple''' and \"\"\"more\"\"\""})
    bundled = public.model_copy(update={"title": awkward, "items": [first, *public.items[1:]],
                                        "self_test": type(public.self_test)(), "common_code": []})
    text = rubric_toml(bundled)
    assert text.startswith("# Student bundle of dlwp-ch2")
    data = tomllib.loads(text)
    assert data["title"] == awkward and data["items"][0]["title"] == awkward
    assert data["items"][0]["hint"] == "'''triple''' and \"\"\"more\"\"\""


def test_the_bundle_s_pyproject_is_toml_with_the_package_data_the_bundle_needs():
    data = tomllib.loads(__import__("tomli_w").dumps(pyproject(load_assignment("dlwp-ch2"))))
    assert data["project"]["name"] == "grader-bundle-dlwp-ch2"
    assert data["project"]["scripts"] == {"grade": "grader.cli:main"}
    assert data["tool"]["setuptools"]["package-data"]["grader"] == PACKAGE_DATA
    assert "assignments/*/*.json" in PACKAGE_DATA  # the stored answers travel in the wheel


def _imports(path: Path) -> set[str]:
    """Every grader module a file imports, at its top or inside a function (a lazy import still ties the two)."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("grader")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            if base.startswith("grader"):
                found.add(base)
                found |= {f"{base}.{a.name}" for a in node.names}
    return found


def _graph() -> dict[str, set[str]]:
    modules = {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): p
               for p in PACKAGE.rglob("*.py") if "shims" not in p.parts}
    return {name: {m for m in _imports(path) if m in modules and m != name} for name, path in modules.items()}


def _reaches(graph: dict[str, set[str]], start: str, target: str) -> bool:
    seen, stack = set(), [start]
    while stack:
        name = stack.pop()
        if name == target:
            return True
        if name not in seen:
            seen.add(name)
            stack.extend(graph.get(name, ()))
    return False


def test_grading_never_imports_the_export_that_uses_it():
    """The export uses the grading flow (the reference's answers); grading, bundle mode and `%check` never reach back."""
    graph = _graph()
    assert "grader.student" not in graph  # split into grader.bundle, grader.visibility and grader.export.student
    assert "grader.grade" in graph["grader.export.student"]
    for module in ("grader.grade", "grader.bundle", "grader.visibility", "grader.selfcheck", "grader.render.html"):
        assert not _reaches(graph, module, "grader.export.student"), module

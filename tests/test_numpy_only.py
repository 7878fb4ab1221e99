"""The writing guide's numpy-only assignment, built from the guide alone, graded, and used without TensorFlow (issue 16, points 1 and 6).

The assignment is written from docs/writing-an-assignment.md §11 into a
temporary assignments folder (nothing of the repository is edited) and one
notebook is graded there, once per session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from guide import EXAMPLE, build

pytestmark = pytest.mark.kernel  # grader subprocesses and a kernel

ROOT = Path(__file__).resolve().parent.parent
NO_TENSORFLOW = 'import sys\nassert not {"tensorflow", "keras", "tf_keras"} & set(sys.modules), "TensorFlow was imported"'


@pytest.fixture(scope="session")
def guide_assignments(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("guide"), with_shipped=False)


@pytest.fixture(scope="session")
def graded(guide_assignments, tmp_path_factory):
    """The guide's wrong example plus a cell that fails if anything imported TensorFlow into the kernel, graded with `grade`."""
    folder = tmp_path_factory.mktemp("graded")
    nb = nbformat.read(guide_assignments / EXAMPLE / "wrong" / "reversed_layers.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(NO_TENSORFLOW))
    path = folder / "student.ipynb"
    nbformat.write(nb, path)
    env = {**os.environ, "GRADER_ASSIGNMENTS_DIR": str(guide_assignments), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "grader", str(path), "--json", str(folder / "r.json")],
                          capture_output=True, text=True, timeout=300, env=env)
    return proc, json.loads((folder / "r.json").read_text())


def test_the_guides_assignment_is_detected_and_graded_with_its_own_probe_rule_and_reference(graded):
    proc, report = graded
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert report["assignment"] == {**report["assignment"], "id": EXAMPLE, "detected": True}
    items = {i["id"]: i for i in report["items"]}
    assert items["naive_relu"]["status"] == "pass" and items["naive_relu"]["score"] == 1
    assert items["naive_sequential"]["status"] == "fail"
    assert items["naive_sequential"]["feedback"].startswith("the layers ran in reverse order.")  # the folder's own rule
    assert [c["name"] for c in items["naive_relu"]["checks"]] == ["a (4, 3) array", "all-negative", "leaves its arguments unchanged"]
    assert report["cells"]["errors"] == []  # the last cell: no TensorFlow in the kernel


def test_a_numpy_only_assignment_needs_no_tensorflow_anywhere(guide_assignments, tmp_path):
    """With TensorFlow unimportable and its version unknown: load, cache key, reference answers, judgement, bundle."""
    script = textwrap.dedent(f"""
        import importlib.abc, importlib.metadata as md, sys
        BLOCKED = ("tensorflow", "keras", "tf_keras")
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(name + " is not installed here")
        sys.meta_path.insert(0, Block())
        real = md.version
        def version(name):
            if name.replace("_", "-") in ("tensorflow", "tf-keras", "keras"):
                raise md.PackageNotFoundError(name)
            return real(name)
        md.version = version

        from pathlib import Path
        from grader.checks import KINDS
        from grader.expected import answer, cache_key
        from grader.grade import kernel_env
        from grader.loader import load_assignment
        from grader.export.student import export_student

        assignment = load_assignment({EXAMPLE!r}, Path({str(guide_assignments)!r}))
        probes = {{i.id: KINDS[i.kind].probes(i, assignment, []) for i in assignment.items}}
        requests = [p.request for found in probes.values() for p in found]
        key = cache_key(requests, kernel_env(assignment))
        answers = {{r["item"]: answer(r) for r in requests}}
        assert all("observations" in a for a in answers.values()), answers
        rubric = export_student(assignment, Path({str(tmp_path / "bundle")!r}), answers=answers, wheel=False)
        assert not set(BLOCKED) & set(sys.modules), sorted(set(BLOCKED) & set(sys.modules))
        print(key, rubric)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    bundle = tmp_path / "bundle"
    project = (bundle / "pyproject.toml").read_text()
    assert "numpy" in project and "tensorflow" not in project and "tf-keras" not in project
    assert (bundle / "assignments" / EXAMPLE / "checks.py").is_file()  # its probes and rules travel with it
    assert not list(bundle.rglob("numpy_net.py"))  # its reference does not
    # the bundle grades with its stored answers and its own checks.py, no reference code
    wrong = guide_assignments / EXAMPLE / "wrong" / "reversed_layers.ipynb"
    proc = subprocess.run([sys.executable, "-m", "grader", str(wrong), "-a", EXAMPLE, "--json", str(tmp_path / "b.json")], cwd=bundle,
                          capture_output=True, text=True, timeout=300, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((tmp_path / "b.json").read_text())
    assert report["scope"] == "public" and {i["id"]: i["status"] for i in report["items"]} == {"naive_relu": "pass", "naive_sequential": "fail"}
    assert "reverse order" in report["items"][1]["feedback"] + report["items"][0]["feedback"]

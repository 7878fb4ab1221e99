"""The students' bundle of dlwp-ch2: public checks only, no reference code, and the same verdicts on them."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import NOTEBOOKS

from grader.loader import load_assignment
from grader.export.student import BundleError, export_student
from grader.visibility import public_part

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = ["naive_relu", "naive_add", "naive_vector_dot", "naive_dense", "batch_generator", "update_weights"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle")
    proc = subprocess.run([sys.executable, "-m", "grader", "export-student", "dlwp-ch2", str(out)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


@pytest.fixture(scope="module")
def bundle_reports(bundle, tmp_path_factory):
    """The walkthrough and lab01 graded by the bundle's own grader, two at a time.

    The long training cells are cut at 8 s: no public item depends on them.
    """
    reports = tmp_path_factory.mktemp("bundle-reports")

    def one(stem):
        out = reports / f"{stem}.json"
        proc = subprocess.run([sys.executable, "-m", "grader", str(NOTEBOOKS / f"{stem}.ipynb"), "-a", "dlwp-ch2", "--json", str(out),
                               "--cell-timeout", "8"], capture_output=True, text=True, timeout=600, cwd=bundle)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return stem, (proc.stdout, json.loads(out.read_text()))

    with ThreadPoolExecutor(2) as pool:
        return dict(pool.map(one, ["dlwp-ch2_walkthrough", "lab01_math"]))


@pytest.mark.kernel
def test_the_bundle_holds_no_reference_code(bundle):
    files = [p for p in bundle.rglob("*") if p.is_file()]
    assert not any("reference" in p.relative_to(bundle).parts for p in files)
    reference = {p.read_bytes() for p in (ROOT / "reference").glob("*.py")}
    assert not [p for p in files if p.read_bytes() in reference]
    rubric = (bundle / "assignments" / "dlwp-ch2" / "rubric.toml").read_text()
    assert "trained_model" not in rubric and "layer(x) with softmax" not in rubric
    stored = json.loads((bundle / "assignments" / "dlwp-ch2" / "expected.json").read_text())
    assert sorted(stored["answers"]) == sorted(PUBLIC)
    assert stored["hidden"] == {"items": 6, "checks": 1, "points": 10.0} and stored["hidden_checks"] == {"naive_dense": 1}


@pytest.mark.kernel
def test_public_checks_give_the_instructors_verdicts(bundle_reports, real_reports):
    for stem, full in (("dlwp-ch2_walkthrough", real_reports["walkthrough"]), ("lab01_math", real_reports["lab01"])):
        stdout, report = bundle_reports[stem]
        assert report["scope"] == "public" and report["hidden"]["items"] == 6
        assert [i["id"] for i in report["items"]] == PUBLIC
        instructor = {i["id"]: i["status"] for i in full["items"]}
        assert {i["id"]: i["status"] for i in report["items"]} == {i: instructor[i] for i in PUBLIC}, stem
        assert report["max_score"] == 7
        assert "Public checks only" in stdout and "hidden" in stdout
        dense = next(i for i in report["items"] if i["id"] == "naive_dense")
        assert dense["hidden_checks"] == 1 and len(dense["checks"]) == 3
        for item in report["items"]:
            assert item["feedback"] != "All checks passed."  # never "all passed" while hidden checks exist
    walkthrough = bundle_reports["dlwp-ch2_walkthrough"][1]
    assert {i["id"]: i["status"] for i in walkthrough["items"]}["naive_vector_dot"] == "pass"


def test_an_item_that_needs_reference_code_cannot_be_public(tmp_path):
    assignment = load_assignment("dlwp-ch2")
    leaky = assignment.model_copy(update={"items": [i.model_copy(update={"public": True}) for i in assignment.items]})
    with pytest.raises(BundleError, match="naive_sequential: its probe from_scratch.sequential uses reference code"):
        export_student(leaky, tmp_path / "b", answers={})
    assert not (tmp_path / "b").exists()
    public, hidden, per_item = public_part(assignment)
    assert [i.id for i in public.items] == PUBLIC and hidden.points == 10


SELF_CHECK = """
import json, numpy as np, grader
from grader import check
def naive_relu(x):
    return np.maximum(x, 0)
def naive_add(x, y):
    return x - y
results = check(namespace=globals())  # the bundle's one assignment, its stored answers
print(json.dumps({"file": grader.__file__, "results": [r.as_dict() for r in results]}))
"""


@pytest.mark.kernel
def test_the_wheel_installs_offline_and_checks_in_a_notebook_s_namespace(bundle, tmp_path):
    """One file: `pip install` it with no index into a fresh venv; `check` there uses the stored answers."""
    import zipfile

    wheels = list(bundle.glob("grader_bundle_dlwp_ch2-*.whl"))
    assert len(wheels) == 1
    names = zipfile.ZipFile(wheels[0]).namelist()
    assert "grader/assignments/dlwp-ch2/expected.json" in names and "grader/selfcheck.py" in names
    assert "grader/templates/item.html.j2" in names and "grader/templates/feedback.css" in names  # `%check`'s output
    assert not any(n.startswith("reference/") or "/reference/" in n for n in names)
    readme = (bundle / "README.md").read_text()
    assert f"!pip install ./{wheels[0].name}\n%load_ext grader\n%check naive_relu" in readme
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "--no-index", "--no-deps", "--quiet", str(wheels[0])],
                             capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-2000:]
    env = {k: v for k, v in __import__("os").environ.items() if k != "PYTHONPATH"}
    run = subprocess.run([str(python), "-c", SELF_CHECK], capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["file"].startswith(str(venv))
    got = {r["item"]: r for r in out["results"]}
    assert got["naive_relu"]["status"] == "pass" and got["naive_relu"]["feedback"] == "All public checks passed."
    assert got["naive_add"]["status"] == "fail" and got["naive_add"]["assignment"] == "dlwp-ch2"

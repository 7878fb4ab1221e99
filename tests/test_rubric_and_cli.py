"""Rubric files, bad inputs and the command line's exit codes."""

import json
import subprocess
import sys

import pytest

from grader.report import Report
from grader.rubric import RubricError
from grader.loader import assignment_ids, load_assignment, load_rubric


def grade(*args):
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, timeout=120)


def test_shipped_rubric_loads_with_every_catalog_item():
    assignment = load_assignment("dlwp-ch2")
    assert [i.id for i in assignment.items] == [
        "naive_relu", "naive_add", "naive_vector_dot", "naive_matrix_vector_dot", "naive_matrix_dot", "naive_dense",
        "naive_sequential", "batch_generator", "update_weights", "one_training_step", "fit", "trained_model"]
    assert "dlwp-ch2" in assignment_ids()


@pytest.mark.parametrize("text, field", [
    ('id = "x"\ntitle = "x"\nitems = [{ id = "a", title = "a", points = 1, kind = "nope", names = ["a"], reference = "tensor_ops" }]', "items.0.kind"),
    ('id = "x"\ntitle = "x"\nitems = [{ id = "a", title = "a", points = -1, kind = "function", names = ["a"], reference = "tensor_ops" }]', "items.0.points"),
    ('id = "x"\nitems = []', "title"),
    ('id = "x"\ntitle = "x"\nbogus = 1\nitems = [{ id = "a", title = "a", points = 1, kind = "function", names = ["a"], reference = "tensor_ops" }]', "bogus"),
])
def test_malformed_rubric_names_file_and_field(tmp_path, text, field):
    path = tmp_path / "rubric.toml"
    path.write_text(text)
    with pytest.raises(RubricError) as info:
        load_rubric(path)
    assert str(path) in str(info.value) and f"`{field}`" in str(info.value)


def test_rubric_that_is_not_toml(tmp_path):
    path = tmp_path / "rubric.toml"
    path.write_text("id = ")
    with pytest.raises(RubricError, match="not valid TOML"):
        load_rubric(path)


def _huge(path):
    with open(path, "wb") as f:
        f.truncate(300 * 2**20)  # a sparse 300 MB file
    return path


def test_nbformat_3_is_converted(tmp_path):
    from grader.notebook import load

    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "input": "def naive_relu(x):\n    return x", "language": "python", "outputs": [], "metadata": {}}],
        "metadata": {}}]}
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(v3))
    nb = load(path).nb
    assert nb.nbformat == 4 and nb.cells[0].source.startswith("def naive_relu")


@pytest.mark.parametrize("make, words", [
    (lambda d: d / "absent.ipynb", "no such file"),
    (lambda d: d, "is a directory"),
    (lambda d: (d / "x.ipynb").write_text("not json") and d / "x.ipynb", "not JSON"),
    (lambda d: (d / "y.ipynb").write_text('{"a": 1}') and d / "y.ipynb", "not a notebook"),
    (lambda d: (d / "z.ipynb").write_bytes(b"\xff\xfe{") and d / "z.ipynb", "not UTF-8"),
    (lambda d: (d / "e.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})) and d / "e.ipynb",
     "no code to run"),
    (lambda d: (d / "s.ipynb").write_text(json.dumps({"cells": [{"cell_type": "code", "source": 5, "metadata": {}, "outputs": [],
     "execution_count": None}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})) and d / "s.ipynb", "not a valid notebook"),
    (lambda d: _huge(d / "h.ipynb"), "larger than"),
])
@pytest.mark.kernel
def test_bad_input_is_one_sentence_and_exit_2(tmp_path, make, words):
    proc = grade(str(make(tmp_path)), "-a", "dlwp-ch2")
    assert proc.returncode == 2
    assert words in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.kernel
def test_unknown_assignment_is_exit_2(tmp_path):
    proc = grade("tests/notebooks/lab01_math.ipynb", "-a", "no-such-assignment")
    assert proc.returncode == 2 and "unknown assignment" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.kernel
def test_schema_is_generated_from_the_models():
    proc = grade("--schema")
    assert proc.returncode == 0
    schema = json.loads(proc.stdout)
    assert schema == Report.model_json_schema()
    assert {"schema_version", "status", "items", "cells", "timing"} <= set(schema["properties"])
    rubric = json.loads(grade("--rubric-schema").stdout)
    assert "items" in rubric["properties"]

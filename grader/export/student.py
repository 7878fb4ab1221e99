"""`grade export-student`: the bundle a student runs before submitting, with the public checks only.

The bundle is a directory: a copy of the grader package (never
`reference/`), the assignment's rubric cut down to its public items and
checks (`grader.visibility`), and the reference's answers to those checks,
computed here from the reference and stored as data (`expected.json`), which
puts the grader in bundle mode (`grader.bundle`). The same directory is
also built as one wheel, so `pip install` of one file gives a student
`grade` and `%check`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import tomli_w

from .. import __version__
from ..bundle import StoredAnswers, request_digest
from ..checks import KINDS
from ..grade import reference_answers  # the grading flow, which never imports the export
from ..folders import CHECKS_FILE
from ..loader import code_of, load_rubric, own_folders
from ..rubric import ANSWERS_FILE, RUBRIC_FILE, Assignment
from ..versions import uses_tensorflow
from ..visibility import needs_reference_code, public_part

PACKAGE_DIR = Path(__file__).resolve().parent.parent
PACKAGE_DATA = ["data/*.npz", "data/*.md", "shims/**/*.py", "templates/*", "assignments/*/*.toml", "assignments/*/*.json",
                "assignments/*/checks.py"]


class BundleError(Exception):
    """The assignment cannot be exported as a student bundle; the message says which item and why."""


def rubric_toml(assignment: Assignment) -> str:
    """The rubric file of an assignment model (what differs from the defaults), headed by a comment."""
    data = assignment.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)
    data.update(id=assignment.id, title=assignment.title)
    try:
        body = tomli_w.dumps(data)
    except TypeError as exc:
        raise BundleError(f"the rubric of {assignment.id} cannot be written as TOML: {exc}") from None
    return f"# Student bundle of {assignment.id}: public items and checks only. Written by `grade export-student`.\n{body}"


def pyproject(assignment: Assignment) -> dict:
    """The bundle's `pyproject.toml`: one project, the grader package with the rubric and stored answers inside."""
    return {
        "build-system": {"requires": ["setuptools>=68"], "build-backend": "setuptools.build_meta"},
        "project": {
            "name": f"grader-bundle-{assignment.id}",
            "version": __version__,
            "description": f"Public checks of {assignment.id}, for students (no reference solution inside)",
            "requires-python": ">=3.10",
            "dependencies": _dependencies(assignment),
            "scripts": {"grade": "grader.cli:main"},
        },
        "tool": {"setuptools": {"packages": {"find": {"include": ["grader*"]}}, "package-data": {"grader": PACKAGE_DATA}}},
    }


README = """# {title}: public checks

Check your work while you write it, in your notebook (JupyterLab, Notebook, VS Code, Colab):

```python
!pip install ./{wheel}
%load_ext grader
%check naive_relu          # one item; `%check` alone checks every item you have defined so far
```

`%check` runs the item's public checks on your notebook's objects as they
are now: a preview. Your grade comes from a fresh top-to-bottom run of the
notebook, which you can do here too, before you submit:

```sh
pip install ./{wheel}      # or, in this directory: pip install -e .
grade YOUR_NOTEBOOK.ipynb -a {id} --html feedback.html
```

Only the **public** checks run here: {public} items. {hidden}
A passing item here means its public checks passed, not that the item is
right: the score you get may be lower than the one you see.
"""


def wheel_name(assignment: Assignment) -> str:
    """The file name `pip wheel` gives the bundle's project (PEP 427: `-` in the name becomes `_`)."""
    return f"grader_bundle_{assignment.id.replace('-', '_')}-{__version__}-py3-none-any.whl"


def build_wheel(out: Path) -> Path:
    """Build the bundle in `out` as one wheel (the rubric and stored answers inside the package), offline.

    The wheel is built from a staging copy where `assignments/` sits inside
    the package, so an installed bundle finds it (`grader.rubric.ASSIGNMENTS_DIR`);
    `pip wheel --no-deps --no-build-isolation` needs no network.
    """
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory(prefix="grader-wheel-") as tmp:
        stage = Path(tmp) / "bundle"
        shutil.copytree(out / "grader", stage / "grader", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        shutil.copytree(out / "assignments", stage / "grader" / "assignments")
        shutil.copy(out / "pyproject.toml", stage / "pyproject.toml")
        shutil.copy(out / "README.md", stage / "README.md")
        built = Path(tmp) / "dist"
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                               "--quiet", "-w", str(built), str(stage)], capture_output=True, text=True)
        wheels = sorted(built.glob("*.whl"))
        if proc.returncode != 0 or len(wheels) != 1:
            raise BundleError(f"building the bundle's wheel failed: {(proc.stderr or proc.stdout).strip()[-500:]}")
        target = out / wheels[0].name
        shutil.move(str(wheels[0]), target)
    return target


def export_student(assignment: Assignment, out: Path, *, answers: dict[str, dict] | None = None, wheel: bool = True) -> Path:
    """Write the student bundle of an assignment into `out`; return the bundled rubric's path.

    The reference's answers to the public checks are computed here (or
    taken from `answers`, keyed by item) and stored as data. With `wheel`,
    the bundle is also built as one wheel in `out` (`build_wheel`).
    """
    public, hidden, per_item = public_part(assignment)
    if not public.items:
        raise BundleError(f"{assignment.id} has no public item: mark some with `public = true`")
    problems = [f"{item.id}: {why}" for item in public.items if (why := needs_reference_code(item))]
    if problems:
        raise BundleError(f"{assignment.id}: these public items cannot be checked without the reference solution; "
                          f"mark them `public = false`: " + "; ".join(problems))
    probes = {item.id: KINDS[item.kind].probes(item, public, []) for item in public.items}
    requests = [p.request for item in public.items if KINDS[item.kind].needs_reference for p in probes[item.id] if p.request.get("reference")]
    if answers is None:
        answers = reference_answers(public, probes).answers()
    missing = [r["item"] for r in requests if "observations" not in answers.get(r["item"], {})]
    if missing:
        raise BundleError(f"the reference gave no answer for {', '.join(missing)}")
    stored = StoredAnswers(grader_version=__version__, assignment=assignment.id, version=assignment.version,
                           answers={r["item"]: answers[r["item"]] for r in requests},
                           requests={r["item"]: request_digest(r) for r in requests}, hidden=hidden, hidden_checks=per_item)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copytree(PACKAGE_DIR, out / "grader", dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    target = out / "assignments" / assignment.id
    target.mkdir(parents=True, exist_ok=True)
    bundled = public.model_copy(update={"self_test": type(public.self_test)(), "common_code": []})
    (target / RUBRIC_FILE).write_text(rubric_toml(bundled), encoding="utf-8")
    (target / ANSWERS_FILE).write_text(stored.model_dump_json(indent=1) + "\n", encoding="utf-8")
    for folder in own_folders(assignment):  # the probes and rules of the folders it uses (never their reference/)
        (out / "assignments" / folder.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(folder / CHECKS_FILE, out / "assignments" / folder.name / CHECKS_FILE)
    if load_rubric(target / RUBRIC_FILE).model_dump(exclude={"directory", "answers"}) != bundled.model_dump(exclude={"directory", "answers"}):
        raise BundleError("the bundled rubric does not read back as written")
    (out / "pyproject.toml").write_text(tomli_w.dumps(pyproject(assignment)), encoding="utf-8")
    hidden_text = (f"Your instructor also runs {hidden.items} hidden items and {hidden.checks} hidden checks."
                   if hidden.items or hidden.checks else "Your instructor runs the same checks.")
    (out / "README.md").write_text(README.format(title=assignment.title, id=assignment.id, public=len(public.items), hidden=hidden_text,
                                                 wheel=wheel_name(assignment)), encoding="utf-8")
    if wheel:
        build_wheel(out)
    return target / RUBRIC_FILE


def _dependencies(assignment: Assignment) -> list[str]:
    """The grader's requirements; TensorFlow's only when the assignment's code imports it."""
    import importlib.metadata

    try:
        found = [r for r in importlib.metadata.requires("grader") or [] if "extra ==" not in r]
    except importlib.metadata.PackageNotFoundError:
        found = ["numpy", "tensorflow", "tf-keras", "nbformat", "nbclient", "ipykernel", "pydantic", "typer", "rich", "matplotlib",
                 "jinja2", "psutil", "tomli-w"]
    if not uses_tensorflow(code_of(assignment)):
        found = [r for r in found if not r.lower().startswith(("tensorflow", "tf-keras", "tf_keras"))]
    return found

"""Student bundles: grade with the public checks only, without the reference solution.

`grade export-student ASSIGNMENT DIR` writes a directory a student can run
before submitting: a copy of the grader package (never `reference/`), the
assignment's rubric cut down to its public items and checks, and the
reference's answers to those checks, computed here from the reference and
stored as data (`expected.json`). A rubric with an `expected.json` beside it
is graded in bundle mode: the answers are read from the file and no
reference code runs anywhere, so the report says `scope: public` and counts
what the instructor's grading adds. Students see "public checks passed",
never "all tests passed", when hidden checks exist.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from pydantic import BaseModel, Field

from . import __version__
from .probes.registry import probe_spec
from .report import HiddenChecks, Report
from .rubric import ANSWERS_FILE, RUBRIC_FILE, Assignment, Item
from .folders import CHECKS_FILE
from .loader import code_of, load_rubric, own_folders
from .versions import uses_tensorflow

PACKAGE_DIR = Path(__file__).resolve().parent


class BundleError(Exception):
    """The assignment cannot be exported as a student bundle; the message says which item and why."""


class StoredAnswers(BaseModel):
    """`expected.json` of a bundle: the reference's answers, and what they answer."""

    grader_version: str
    assignment: str
    version: str
    answers: dict[str, dict] = Field(description="item id -> the reference's response to that item's probe")
    requests: dict[str, str] = Field(description="item id -> digest of the probe request the answer is for")
    hidden: HiddenChecks
    hidden_checks: dict[str, int] = Field(default_factory=dict, description="item id -> its checks left out of the bundle")


def request_digest(request: dict) -> str:
    """What an answer depends on in a request (the data paths and the assignment's folder differ from machine to machine)."""
    text = json.dumps({k: v for k, v in request.items() if k not in ("data", "folder")}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class BundledAnswers:
    """Stands in for `ExpectedAnswers` in bundle mode: answers read from the file, never computed.

    An answer whose request changed since the export (an edited rubric) is
    left out, so the item says it has no reference answer instead of
    comparing with the wrong one.
    """

    cached = True

    def __init__(self, path: Path, requests: list[dict]):
        self.stored = StoredAnswers.model_validate_json(path.read_text(encoding="utf-8"))
        self.requests = requests

    def answers(self, requests: list[dict] | None = None) -> dict[str, dict]:
        """The stored answers to `requests` (by default, those given when it was made)."""
        digests = {r["item"]: request_digest(r) for r in (self.requests if requests is None else requests)}
        return {item: answer for item, answer in self.stored.answers.items() if self.stored.requests.get(item) == digests.get(item)}


# --- which checks are public -------------------------------------------------------------------


def _visible(flag: bool | None, item: Item) -> bool:
    return item.public if flag is None else flag


def public_part(assignment: Assignment) -> tuple[Assignment, HiddenChecks, dict[str, int]]:
    """The assignment cut down to what students may run, what was left out, and per item how many checks."""
    items, hidden, per_item = [], HiddenChecks(), {}
    for item in assignment.items:
        all_checks, all_cases = getattr(item, "checks", []), getattr(item, "cases", [])
        checks = [c for c in all_checks if _visible(c.public, item)]
        cases = [c for c in all_cases if _visible(c.public, item)]
        has_parts = bool(all_checks or all_cases)
        if (has_parts and not (checks or cases)) or (not has_parts and not item.public):
            hidden.items += 1
            hidden.points += item.points
            continue
        left_out = len(all_checks) - len(checks) + len(all_cases) - len(cases)
        if left_out:
            per_item[item.id] = left_out
            hidden.checks += left_out
        parts = {name: value for name, value in (("checks", checks), ("cases", cases)) if name in type(item).model_fields}
        items.append(item.model_copy(update={**parts, "public": True}))
    if not items:
        raise BundleError(f"{assignment.id} has no public item: mark some with `public = true`")
    return assignment.model_copy(update={"items": items}), hidden, per_item


def needs_reference_code(item: Item) -> str | None:
    """Why checking this item would need reference code beside the student's (None: it does not)."""
    if getattr(item, "expected_from", None):
        return f"its expected answer is computed by reference.{item.expected_from} from the student's own values"
    if item.kind not in ("function", "behaviour") or not item.reference:
        return None
    if item.uses:
        return f"it lets {', '.join(item.uses)} resolve to the reference's versions in the student's kernel"
    if getattr(item, "reference_builder", None):
        return f"its probe builds the reference's object ({item.reference_builder}) in the student's kernel"
    probe = item.probe if item.kind == "behaviour" else "calls.call_function"
    if probe_spec(probe, item._folder).ships:
        return f"its probe {probe} uses reference code in the student's kernel ({', '.join(probe_spec(probe, item._folder).ships)})"
    return None


# --- bundle mode --------------------------------------------------------------------------------


def hidden_checks_of(answers) -> dict[str, int] | None:
    """Graded by a student bundle: per item, the checks its rubric left out; otherwise None (every check ran)."""
    return answers.stored.hidden_checks if isinstance(answers, BundledAnswers) else None


def hidden_of(answers) -> HiddenChecks | None:
    """Graded by a student bundle: what the instructor's grading adds (hidden items, checks, points); otherwise None."""
    return answers.stored.hidden if isinstance(answers, BundledAnswers) else None


def summary_line(report: Report) -> str | None:
    """One sentence on what a public-only score means, or None for an instructor's report."""
    if report.scope != "public" or report.hidden is None:
        return None
    judged = [i for i in report.items if i.status != "manual"]  # free text waits for a person either way
    passed = sum(i.status == "pass" for i in judged)
    hidden = report.hidden
    text = f"Public checks only: {passed} of {len(judged)} items passed their public checks."
    extra = []
    if hidden.items:
        extra.append(f"{hidden.items} hidden item{'s' if hidden.items != 1 else ''} ({hidden.points:g} point{'s' if hidden.points != 1 else ''})")
    if hidden.checks:
        extra.append(f"{hidden.checks} hidden check{'s' if hidden.checks != 1 else ''} of the items above")
    if extra:
        text += f" Your instructor also grades {' and '.join(extra)}, so the final score may be lower."
    return text


# --- export -------------------------------------------------------------------------------------


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise BundleError(f"cannot write {value!r} to TOML")


def rubric_toml(assignment: Assignment) -> str:
    """The rubric file of an assignment model: scalars, then [limits], then one [[items]] table each."""
    data = assignment.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)
    data.update(id=assignment.id, title=assignment.title)
    lines = [f"# Student bundle of {assignment.id}: public items and checks only. Written by `grade export-student`."]
    tables = {key: data.pop(key) for key in ("limits", "validate") if key in data}
    items = data.pop("items")
    lines += [f"{key} = {_toml_value(value)}" for key, value in data.items()]
    for key, table in tables.items():
        lines += ["", f"[{key}]"] + [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    for item in items:
        lines += ["", "[[items]]"] + [f"{k} = {_toml_value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "grader-bundle-{id}"
version = "{version}"
description = "Public checks of {id}, for students (no reference solution inside)"
requires-python = ">=3.10"
dependencies = {dependencies}

[project.scripts]
grade = "grader.cli:main"

[tool.setuptools.packages.find]
include = ["grader*"]

[tool.setuptools.package-data]
grader = ["data/*.npz", "data/*.md", "shims/**/*.py", "assignments/*/*.toml", "assignments/*/*.json", "assignments/*/checks.py"]
"""

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
    from .checks import KINDS
    from .grade import reference_answers

    public, hidden, per_item = public_part(assignment)
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
        raise BundleError("the bundled rubric does not read back as written")  # the TOML writer's own check
    dependencies = json.dumps(_dependencies(assignment))
    (out / "pyproject.toml").write_text(PYPROJECT.format(id=assignment.id, version=__version__, dependencies=dependencies), encoding="utf-8")
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
        found = ["numpy", "tensorflow", "tf-keras", "nbformat", "nbclient", "ipykernel", "pydantic", "typer", "rich", "matplotlib"]
    if not uses_tensorflow(code_of(assignment)):
        found = [r for r in found if not r.lower().startswith(("tensorflow", "tf-keras", "tf_keras"))]
    return found

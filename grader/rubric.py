"""Assignment rubric files: pydantic models, loading, and the assignment registry.

A rubric is `assignments/<id>/rubric.toml`. These models are the single
source of truth for its format; `grade --rubric-schema` prints the JSON
Schema generated from them.
"""

from __future__ import annotations

import json
import os
import tomllib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .mutants.models import DeclaredMutant

# beside the package in a checkout or a student bundle's directory; inside it when a bundle's wheel is installed
ASSIGNMENTS_DIR = next((d for d in (Path(__file__).resolve().parent.parent / "assignments", Path(__file__).resolve().parent / "assignments")
                        if d.is_dir()), Path(__file__).resolve().parent.parent / "assignments")
ASSIGNMENTS_ENV = "GRADER_ASSIGNMENTS_DIR"  # another folder of assignments (a copied, edited rubric; tests)


def assignments_dir() -> Path:
    return Path(os.environ[ASSIGNMENTS_ENV]) if os.environ.get(ASSIGNMENTS_ENV) else ASSIGNMENTS_DIR
RUBRIC_FILE = "rubric.toml"
ANSWERS_FILE = "expected.json"  # present in a student bundle only


class RubricError(Exception):
    """A rubric file that cannot be used; the message names the file, field and problem."""


class UnknownAssignment(Exception):
    """No assignment has this id."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ArgSpec(_Strict):
    """One argument the grader makes for a call: random, filled, or a literal value."""

    random: Literal["uniform", "integers", "normal"] | None = None
    fill: float | None = None
    value: Any = None
    shape: list[int] = Field(default_factory=list)
    low: float = -1.0
    high: float = 1.0
    dtype: str = "float64"

    @model_validator(mode="after")
    def _one_source(self) -> "ArgSpec":
        given = [self.random is not None, self.fill is not None, self.value is not None]
        if sum(given) != 1:
            raise ValueError("give exactly one of `random`, `fill` or `value`")
        return self


class Case(_Strict):
    """A named set of arguments for a function item."""

    name: str
    args: list[ArgSpec]
    public: bool | None = Field(default=None, description="shown to students in their bundle; default: the item's `public`")


class Question(_Strict):
    """A question of the sheet, found by its text (tolerant of numbering, case and small edits)."""

    text: str
    alternatives: list[str] = Field(default_factory=list)
    expected: Any = None
    evidence: list[str | list[str]] = Field(default_factory=list, description=(
        "what the answer's code contains (identifiers, dotted calls such as `tape.gradient`, operators such as `**`; "
        "a list is alternatives): when the text is not found, the question is looked for by these, in its place "
        "among the sheet's questions and definitions (grader/anchors.py)"))

    @property
    def texts(self) -> list[str]:
        return [self.text, *self.alternatives]


class CheckSpec(_Strict):
    """One judged property of an item: a rule applied to one observation."""

    name: str
    observe: str
    rule: str = "equal"
    hint: str = ""
    weight: float = 1.0
    rtol: float = 1e-5
    atol: float = 1e-6
    dtype: Literal["ignore", "kind"] = "ignore"
    params: dict[str, Any] = Field(default_factory=dict)
    public: bool | None = Field(default=None, description="shown to students in their bundle; default: the item's `public`")


class Item(_Strict):
    """One graded item: where to find it, how to ask it, how to judge it."""

    id: str
    title: str
    points: float = Field(gt=0)
    kind: str
    names: list[str] = Field(default_factory=list)
    questions: list[Question] = Field(default_factory=list)
    capture: list[str] = Field(default_factory=list, description="names captured with a question's answer")
    expected: Any = None
    expected_from: str | None = Field(default=None, description="module.function in reference/ computing the expected answer from the captured names")
    match: Literal["value", "rank"] = "value"
    run: bool = Field(default=False, description="manual items: the answer cells must also run without error")
    reference: str | None = Field(default=None, description="module in reference/; a behaviour item without one is judged by its rules alone")
    reference_target: str | None = None
    reference_builder: str | None = None
    probe: str | None = None
    uses: list[str] = Field(default_factory=list, description="names the object calls that resolve to reference versions while it is checked")
    params: dict[str, Any] = Field(default_factory=dict)
    cases: list[Case] = Field(default_factory=list)
    checks: list[CheckSpec] = Field(default_factory=list)
    dtype: Literal["ignore", "kind"] = "ignore"
    rtol: float = 1e-5
    atol: float = 1e-6
    hint: str = ""
    feedback: Literal["first", "all"] = Field(default="first", description="the feedback gives the first failed check's reason, or every one's")
    timeout_s: float | None = Field(default=None, gt=0)
    public: bool = Field(default=True, description="students' bundles grade this item's public checks; `false` hides the whole item")
    depends_on: list[str] = Field(default_factory=list, description="items whose objects the notebook uses to answer this one (its own "
                                  "training uses its own layers): when one of them fails too, the feedback names it as the likely cause")

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str) -> str:
        from .checks import KINDS

        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r} (known: {', '.join(sorted(KINDS))})")
        return kind

    @model_validator(mode="after")
    def _known_rules(self) -> "Item":
        from .checks.rules import RULES

        for check in self.checks:
            if check.rule not in RULES:
                raise ValueError(f"check {check.name!r}: unknown rule {check.rule!r} (known: {', '.join(sorted(RULES))})")
        if self.kind == "behaviour" and not self.probe:
            raise ValueError("a behaviour item needs a `probe`")
        if self.kind == "function" and not (self.names and self.reference):
            raise ValueError("a function item needs `names` and a `reference` module")
        if self.kind == "behaviour" and not (self.names or self.questions):
            raise ValueError("a behaviour item needs `names` or `questions`")
        if (self.reference_target or self.reference_builder) and not self.reference:
            raise ValueError("`reference_target` and `reference_builder` need a `reference` module")
        if self.kind in ("answer", "manual") and not self.questions:
            raise ValueError(f"a {self.kind} item needs `questions`")
        return self


class Limits(_Strict):
    """What one run may use. TensorFlow needs ~1 GiB resident; the cap is on resident memory."""

    cell_timeout_s: float = Field(default=120, gt=0)
    notebook_timeout_s: float = Field(default=900, gt=0)
    item_timeout_s: float = Field(default=60, gt=0)
    memory_mb: int = Field(default=4096, gt=0, description="resident memory of the kernel and everything it starts")
    output_kb: int = Field(default=1000, gt=0, description="output kept per cell")
    file_mb: int = Field(default=256, gt=0, description="largest file the kernel may write")


class WrongExample(_Strict):
    """A known-wrong notebook the self-test grades: it must lose exactly these items."""

    notebook: str = Field(description="path relative to the assignment's directory")
    loses: list[str] = Field(min_length=1, description="the items that must not pass (every other item must)")
    why: str = ""


class SelfTest(_Strict):
    """What `grade validate` runs: the solution (full marks) and the known-wrong examples."""

    solution: str = Field(default="solution.ipynb", description="path relative to the assignment's directory")
    wrong: list[WrongExample] = Field(default_factory=list)
    mutants: list[DeclaredMutant] = Field(default_factory=list, description="`grade validate --mutants`: mistakes students make, "
                                          "as edits of the solution, with the hint a submission behaving like one gets")


class LatePolicy(BaseModel):
    """`[late]`: how late work is marked down (applied by `grader.late`): `penalty_per_day` percent per started day after the grace period, at most `cap_percent`."""

    model_config = ConfigDict(extra="forbid")

    due: datetime | None = Field(default=None, description="ISO 8601; without a time zone it is read as UTC")
    grace_minutes: float = Field(default=0.0, ge=0)
    penalty_per_day: float = Field(default=0.0, ge=0, le=100, description="percent per started day late")
    cap_percent: float = Field(default=100.0, ge=0, le=100, description="the largest penalty, in percent")
    of: str = Field(default="score", description="`score`: percent of the points earned; `max_score`: of the points possible")

    @field_validator("due")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value

    @field_validator("of")
    @classmethod
    def _known_base(cls, value: str) -> str:
        if value not in ("score", "max_score"):
            raise ValueError("`of` is `score` or `max_score`")
        return value

    def describe(self) -> str:
        parts = [f"{self.penalty_per_day:g}% a day"]
        if self.cap_percent < 100:
            parts.append(f"at most {self.cap_percent:g}%")
        if self.grace_minutes:
            parts.append(f"{self.grace_minutes:g} minutes' grace")
        return ", ".join(parts)


class Assignment(_Strict):
    """An assignment: its items and how its submissions are run."""

    id: str
    title: str
    version: str = "1"
    keras: Literal["3", "2"] = "3"
    seed: int = 0
    datasets: list[Literal["mnist", "svhn"]] = Field(default_factory=lambda: ["mnist"])
    preload: list[str] = Field(default_factory=list, description="modules the preamble imports before cell 0 when the notebook "
                               "names them; a kernel a batch starts ahead of use imports them all (tensorflow: ~3 s off the critical path)")
    limits: Limits = Field(default_factory=Limits)
    common_code: list[str] = Field(default_factory=list, description="files (next to the rubric) of code everyone is given or types in: not evidence of copying")
    items: list[Item] = Field(min_length=1)
    self_test: SelfTest = Field(default_factory=SelfTest, alias="validate", description="`grade validate`: the solution and known-wrong examples")
    late: LatePolicy | None = Field(default=None, description="late work: due date, grace, penalty per day, cap (the command line may override)")
    directory: Path | None = Field(default=None, exclude=True)
    answers: Path | None = Field(default=None, exclude=True, description="a student bundle's stored reference answers (`expected.json`), used instead of reference/")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _unique_ids(self) -> "Assignment":
        ids = [item.id for item in self.items]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"item ids appear twice: {', '.join(repeated)}")
        for example in self.self_test.wrong:
            unknown = sorted(set(example.loses) - set(ids))
            if unknown:
                raise ValueError(f"validate.wrong {example.notebook!r}: no item {', '.join(unknown)}")
        for mutant in self.self_test.mutants:
            if mutant.item not in ids:
                raise ValueError(f"validate.mutants: no item {mutant.item!r}")
        return self

    @property
    def max_score(self) -> float:
        return sum(item.points for item in self.items)

    @classmethod
    def schema_json_text(cls) -> str:
        return json.dumps(cls.model_json_schema(), indent=2)


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RubricError(f"{path}: cannot be read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise RubricError(f"{path}: not valid TOML ({exc})") from None


def _resolve_includes(data: dict, path: Path, depth: int = 0) -> dict:
    """Replace `{ include = "other-assignment:item" }` entries by that rubric's item, unchanged.

    Items shared between assignments are written once, so they are checked
    the same way everywhere.
    """
    items = []
    for index, entry in enumerate(data.get("items", [])):
        if not isinstance(entry, dict) or "include" not in entry:
            items.append(entry)
            continue
        target = str(entry["include"])
        other_id, _, item_id = target.partition(":")
        other_path = path.parent.parent / other_id / RUBRIC_FILE
        if depth > 3 or not other_path.is_file():
            raise RubricError(f"{path}: field `items.{index}.include`: no assignment {other_id!r} to include from")
        other = _resolve_includes(_read_toml(other_path), other_path, depth + 1)
        found = [i for i in other.get("items", []) if i.get("id") == item_id]
        if not found:
            raise RubricError(f"{path}: field `items.{index}.include`: {other_id} has no item {item_id!r}")
        items.append(found[0])
    return {**data, "items": items}


def load_rubric(path: Path) -> Assignment:
    """Read and validate one rubric file."""
    data = _resolve_includes(_read_toml(path), path)
    try:
        answers = path.parent / ANSWERS_FILE
        assignment = Assignment.model_validate({**data, "directory": path.parent, "answers": answers if answers.is_file() else None})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise RubricError(f"{path}: field `{where}`: {first['msg']}") from None
    from .contract import contract_errors  # the probes' and rules' declarations, checked at load time

    errors = contract_errors(assignment)
    if errors:
        raise RubricError(f"{path}: field `{errors[0]}`" + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))
    return assignment


def assignment_ids(root: Path | None = None) -> list[str]:
    root = root or assignments_dir()
    return sorted(p.parent.name for p in root.glob(f"*/{RUBRIC_FILE}"))


def load_assignment(assignment_id: str, root: Path | None = None) -> Assignment:
    root = root or assignments_dir()
    path = root / assignment_id / RUBRIC_FILE
    if not path.is_file():
        known = ", ".join(assignment_ids(root)) or "none"
        raise UnknownAssignment(f"unknown assignment {assignment_id!r} (known: {known})")
    return load_rubric(path)

"""Assignment rubric files: pydantic models, loading, and the assignment registry.

A rubric is `assignments/<id>/rubric.toml`. These models are the single
source of truth for its format; `grade --rubric-schema` prints the JSON
Schema generated from them.
"""

from __future__ import annotations

import json
import tomllib
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, PrivateAttr, field_validator, model_validator

from .folders import ASSIGNMENTS_DIR, ASSIGNMENTS_ENV, assignments_dir  # noqa: F401  (where assignments are: re-exported)

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
    weight: float = Field(default=1.0, ge=0, description="the case's share of the item's points, against the other checks' weights")
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


class Binding(_Strict):
    """Which binding of an item's name to judge when the notebook binds it in several cells (`model`: a Sequential, then a subclass).

    Every condition given must hold of the object a cell bound; among those that qualify the last is judged,
    and when none does, the name as the notebook left it (grader/rebinding.py).
    """

    isa: list[str] = Field(default_factory=list, description="a class of one of these names is in the object's MRO (`Sequential`)")
    not_isa: list[str] = Field(default_factory=list, description="no class of these names is in its MRO")
    own_class: bool | None = Field(default=None, description="true: its class is defined by the notebook itself; false: it is not")

    def describe(self) -> str:
        """The rule in words, for feedback: "a `Sequential`", "of a class the notebook defines"."""
        parts = []
        if self.isa:
            parts.append("a " + " or a ".join(f"`{name}`" for name in self.isa))
        if self.not_isa:
            parts.append("not a " + " or a ".join(f"`{name}`" for name in self.not_isa))
        if self.own_class is not None:
            parts.append("of a class the notebook defines" if self.own_class else "not of a class the notebook defines")
        return ", ".join(parts) or "any object"


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


class _ItemBase(_Strict):
    """What every item has: its id and points, where the notebook answers it, its feedback."""

    id: str
    title: str
    points: float = Field(gt=0)
    names: list[str] = Field(default_factory=list, description="the object's name in the notebook, then accepted aliases")
    questions: list[Question] = Field(default_factory=list)
    hint: str = ""
    feedback: Literal["first", "all"] = Field(default="first", description="the feedback gives the first failed check's reason, or every one's")
    timeout_s: float | None = Field(default=None, gt=0)
    public: bool = Field(default=True, description="students' bundles grade this item's public checks; `false` hides the whole item")
    binding: Binding | None = Field(default=None, description=(
        "for a name the notebook binds in several cells: which binding to judge (each is captured when its cell runs)"))
    depends_on: list[str] = Field(default_factory=list, description="items whose objects the notebook uses to answer this one (its own "
                                  "training uses its own layers): when one of them fails too, the feedback names it as the likely cause")
    _folder: Path | None = PrivateAttr(default=None)  # set by grader.loader: where `probe`, rules and `reference` resolve
    origin: str | None = Field(default=None, description="set by `include`: the assignment the item comes from; its probe, rules "
                               "and reference resolve in that assignment's folder (its `checks.py` and `reference/`)")


class _ReferenceFields(_Strict):
    """Items compared with a reference: which module, which object in it, which helpers resolve to it."""

    reference: str | None = Field(default=None, description="module of the assignment's `reference/` folder, else of the top-level `reference/`")
    reference_target: str | None = Field(default=None, description="the object in the module (default: the item's first name)")
    uses: list[str] = Field(default_factory=list, description="names the object calls that resolve to reference versions while it is checked")
    params: dict[str, Any] = Field(default_factory=dict, description="settings the probe reads")


class FunctionItem(_ItemBase, _ReferenceFields):
    """`function`: the student's function and the reference's called on the same inputs, outputs compared."""

    kind: Literal["function"]
    reference: str = Field(description="module of the assignment's `reference/` folder, else of the top-level `reference/`")
    names: list[str] = Field(min_length=1, description="the function's name in the notebook, then accepted aliases")
    cases: list[Case] = Field(default_factory=list)
    dtype: Literal["ignore", "kind"] = "ignore"
    rtol: float = 1e-5
    atol: float = 1e-6
    unchanged_weight: float = Field(default=1.0, ge=0, description="weight of the check that the arguments are left unchanged, "
                                    "against each case's `weight`")


class BehaviourItem(_ItemBase, _ReferenceFields):
    """`behaviour`: a probe exercises the object, each check's rule judges one observation."""

    kind: Literal["behaviour"]
    probe: str = Field(description="`module.function` of grader/probes (generic), or `function` of the assignment's `checks.py`")
    reference_builder: str | None = Field(default=None, description="a function beside the probe that builds the reference object")
    checks: list[CheckSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _found_somehow(self) -> "BehaviourItem":
        if not (self.names or self.questions):
            raise ValueError("a behaviour item needs `names` or `questions`")
        if (self.reference_target or self.reference_builder) and not self.reference:
            raise ValueError("`reference_target` and `reference_builder` need a `reference` module")
        if self.binding is not None and not self.names:
            raise ValueError("`binding` chooses among the bindings of the item's `names`: give `names`")
        return self


class AnswerItem(_ItemBase):
    """`answer`: the value a question's answer cells left, compared with what the rubric expects."""

    kind: Literal["answer"]
    questions: list[Question] = Field(min_length=1)
    capture: list[str] = Field(default_factory=list, description="names captured with a question's answer")
    expected: Any = None
    expected_from: str | None = Field(default=None, description="module.function of the reference computing the expected answer from the captured names")
    match: Literal["value", "rank"] = "value"
    rtol: float = 1e-5
    atol: float = 1e-6


class ManualItem(_ItemBase):
    """`manual`: a free-text answer, found and shown to a person."""

    kind: Literal["manual"]
    questions: list[Question] = Field(min_length=1)
    run: bool = Field(default=False, description="the answer cells must also run without error")


Item = Annotated[FunctionItem | BehaviourItem | AnswerItem | ManualItem, Field(discriminator="kind")]
ITEM_KINDS = ("function", "behaviour", "answer", "manual")


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


class DeclaredMutant(_Strict):
    """`[[validate.mutants]]`: a mistake the rubric's author knows students make, with its words for the student.

    `find` is replaced by `replace` once in the code that defines `item` in the
    solution; the mutant is always run (it counts against no sample limit), and
    its `description` is the hint a submission behaving like it gets. A generated
    mutant giving the same code takes this description.
    """

    item: str
    find: str = Field(min_length=1, description="text of the solution's code for the item, replaced once")
    replace: str
    description: str = Field(min_length=1, description="what this mistake is, in words a student understands "
                             "(the hint reads “This is what DESCRIPTION gives.”)")


class FreeCode(_Strict):
    """`[[validate.free]]`: code of the solution that the sheet leaves to the student, so no mutant of it is a rubric gap.

    Mutation tools let an author exempt code (mutmut's `# pragma: no mutate`,
    Cosmic Ray's filters, cargo-mutants' `exclude_re`); here the exemption is
    declared in the rubric, beside the items, with the sheet's reason, instead
    of being hidden in the solution. A generated mutant of `item` whose change
    lies inside an occurrence of one of the `find` texts (by one of `operators`,
    when given) is neither sampled nor graded; `grade validate --mutants`
    counts it in the item's `free` column and lists the declaration with `why`.
    """

    item: str
    find: list[str] = Field(min_length=1, description="text of the solution's code for the item (one string or several) "
                            "inside which any answer is right")
    operators: list[str] = Field(default_factory=list, description="only the mutants of these operators are free (names of "
                                 "`grader.mutants.operators.Operator`: `constant`, `range_bound`, …); empty: every mutant inside `find`")
    why: str = Field(min_length=1, description="what the sheet says that leaves this code free, for the instructor reading "
                     "the mutants' report")

    @field_validator("find", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return [value] if isinstance(value, str) else value

    @field_validator("find")
    @classmethod
    def _not_empty(cls, value: list[str]) -> list[str]:
        if any(not text for text in value):
            raise ValueError("a `find` text is empty")
        return value


class SelfTest(_Strict):
    """What `grade validate` runs: the solution (full marks) and the known-wrong examples."""

    solution: str = Field(default="solution.ipynb", description="path relative to the assignment's directory")
    wrong: list[WrongExample] = Field(default_factory=list)
    mutants: list[DeclaredMutant] = Field(default_factory=list, description="`grade validate --mutants`: mistakes students make, "
                                          "as edits of the solution, with the hint a submission behaving like one gets")
    free: list[FreeCode] = Field(default_factory=list, description="`grade validate --mutants`: code the sheet leaves to the "
                                 "student; its mutants are not graded and do not count against the item")


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
        for free in self.self_test.free:
            if free.item not in ids:
                raise ValueError(f"validate.free: no item {free.item!r}")
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
        items.append({"origin": other_id, **found[0]})  # its probe, rules and reference resolve in its own folder
    return {**data, "items": items}


def _where(error: dict) -> str:
    """An error's field as the rubric file spells it: `items.0.points`, not pydantic's `items.0.function.points`."""
    loc = list(error["loc"])
    for i in range(len(loc) - 1, 0, -1):
        if isinstance(loc[i - 1], int) and loc[i] in ITEM_KINDS:
            del loc[i]
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        loc.append("kind")
    return ".".join(str(part) for part in loc) or "(top level)"


def read_rubric(path: Path) -> Assignment:
    """Read one rubric file and validate its format (names of probes, rules and references: `grader.loader`)."""
    data = _resolve_includes(_read_toml(path), path)
    try:
        answers = path.parent / ANSWERS_FILE
        return Assignment.model_validate({**data, "directory": path.parent, "answers": answers if answers.is_file() else None})
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"]
        if first["type"] == "union_tag_invalid":
            message = f"unknown kind {first['input'].get('kind')!r} (known: {', '.join(ITEM_KINDS)})" if isinstance(first.get("input"), dict) else message
        raise RubricError(f"{path}: field `{_where(first)}`: {message}") from None


def assignment_ids(root: Path | None = None) -> list[str]:
    root = root or assignments_dir()
    return sorted(p.parent.name for p in root.glob(f"*/{RUBRIC_FILE}"))


def rubric_path(assignment_id: str, root: Path | None = None) -> Path:
    """The rubric of an assignment id; UnknownAssignment (naming the known ones) when there is none."""
    root = root or assignments_dir()
    path = root / assignment_id / RUBRIC_FILE
    if not path.is_file():
        known = ", ".join(assignment_ids(root)) or "none"
        raise UnknownAssignment(f"unknown assignment {assignment_id!r} (known: {known})")
    return path

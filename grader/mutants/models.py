"""The file formats of mutation testing: a rubric's declared mutants, the `--json` report, the hint store.

Pydantic models are the single source of truth of each format (`MutationReport.model_json_schema()`).
"""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field

from ..rubric import DeclaredMutant, FreeCode  # noqa: F401  (rubric fields: the format is the rubric's; re-exported)


class Fate(str, Enum):
    """What became of one mutant."""

    KILLED = "killed"          # its item fails: the rubric sees the mistake
    SURVIVED = "survived"      # its item still passes and something observable changed: a rubric gap
    EQUIVALENT = "equivalent"  # every observation equals the solution's: no test could tell, not a gap
    BROKEN = "broken"          # the notebook no longer runs past the mutated cell, or no check could judge the item: it tests nothing of the rubric


class MutantSpec(BaseModel):
    """One mutant of the solution: which item's code, which cell, what changed."""

    id: str = Field(description="digest of the item, cell and mutated source (names its notebook)")
    item: str
    cell: int = Field(description="0-based index of the solution's cell that was changed")
    operator: str
    line: int = Field(description="1-based line in the cell")
    before: str
    after: str
    description: str
    source: str = Field(description="the whole mutated cell")
    original: str = Field(description="the cell as the solution has it")
    declared: bool = Field(default=False, description="listed in the rubric's [[validate.mutants]]")


class Cascade(BaseModel):
    """A mutant of one item that made another item fail."""

    mutant: str
    item: str = Field(description="the item whose code was changed")
    failed: str = Field(description="the other item that no longer passes")
    status: str
    feedback: str = ""
    expected: bool = Field(description="the failed item lists the mutated one in its `depends_on` (the README says why)")


class MutantResult(MutantSpec):
    fate: Fate
    status: str | None = Field(default=None, description="the mutated item's status in the mutant's report")
    feedback: str = ""
    changed: list[str] = Field(default_factory=list, description="items whose observations differ from the solution's")


class FreeMutant(BaseModel):
    """A generated mutant inside code the rubric declares free: not graded, listed under its declaration."""

    id: str
    cell: int
    line: int
    operator: str
    before: str
    after: str
    description: str


class FreeResult(BaseModel):
    """One `[[validate.free]]` declaration and the generated mutants it left out of the sample."""

    item: str
    find: list[str]
    operators: list[str] = Field(default_factory=list)
    why: str
    mutants: list[FreeMutant] = Field(default_factory=list)


class ItemTally(BaseModel):
    killed: int = 0
    survived: int = 0
    equivalent: int = 0
    broken: int = 0
    free: int = Field(default=0, description="generated mutants inside code the rubric declares free ([[validate.free]]): "
                      "neither sampled nor graded, not in the kill rate")
    generated: int = Field(default=0, description="mutants the operators produced for this item before sampling (free ones included)")

    @property
    def score(self) -> float | None:
        """The share of the mutants a test could tell apart (neither equivalent nor broken) that the rubric kills."""
        tested = self.killed + self.survived
        return self.killed / tested if tested else None


class MutationReport(BaseModel):
    """`grade validate --mutants --json PATH`."""

    assignment: str
    version: str
    seed: int
    max_per_item: int
    seconds: float = 0.0
    items: dict[str, ItemTally] = Field(default_factory=dict)
    cascades: list[Cascade] = Field(default_factory=list)
    mutants: list[MutantResult] = Field(default_factory=list)
    free: list[FreeResult] = Field(default_factory=list, description="the rubric's [[validate.free]] declarations, each with "
                                   "the mutants it left out and the sheet's reason")
    unstable: list[str] = Field(default_factory=list, description="items whose observations differ between two runs of the "
                                "solution (left out of the equivalence test)")
    problems: list[str] = Field(default_factory=list, description="why the run could not be judged (the solution failed, a declared mutant does not apply)")
    shipped: str | None = Field(default=None, description="the assignment's shipped hint file (mutant-hints.json) the run wrote")
    notes: list[str] = Field(default_factory=list, description="what the run could not do that does not weaken its verdict")

    def survivors(self) -> list[MutantResult]:
        return [m for m in self.mutants if m.fate is Fate.SURVIVED]


class KnownMutant(BaseModel):
    id: str
    description: str
    digest: str = Field(description="digest of the item's observations on the grader's inputs (grader.mutants.observe)")


class HintStore(BaseModel):
    """The killed mutants' observations of one assignment version, on one set of inputs: what hints match against."""

    assignment: str
    version: str
    inputs: str = Field(description="`public`, or the digest of the instructor's secret the inputs were drawn with")
    grader_version: str
    grading_key: str | None = Field(default=None, description="the rubric's grading content it was computed with "
                                    "(grader.mutants.hints.grading_key); a store of another is stale and never used")
    items: dict[str, list[KnownMutant]] = Field(default_factory=dict)


class ShippedHints(BaseModel):
    """`assignments/ID/mutant-hints.json`: the hint stores `grade validate --mutants` computed, shipped with the assignment.

    Like a lockfile: used while the rubric's grading content and version are those it was computed with (a fast
    test fails otherwise), one store per set of inputs, so a fresh clone grading with the same inputs (the same
    instructor's secret, or the public seed) gives the same hints without running a mutant.
    """

    assignment: str
    version: str
    grading_key: str = Field(description="grader.mutants.hints.grading_key of the rubric the stores were computed with")
    stores: dict[str, HintStore] = Field(default_factory=dict, description="inputs key (`public`, or the secret's digest) -> its store")

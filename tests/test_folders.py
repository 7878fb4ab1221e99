"""Assignments as folders (issue 16, points 1, 2, 6): per-kind rubric models, names resolved above rubric and checks,
an assignment's own probes and rules, detection that a subset assignment cannot disturb, weighted function checks.

No kernel here: the guide's example assignment is written from the guide's text into a temporary folder.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from guide import EXAMPLE, HEREDOC, PAGE, PYTHON, build, section, shell_blocks, written_files
from import_graph import circles, edges

from grader.checks.base import scored
from grader.checks.function import FunctionCheck
from grader.detect import AmbiguousAssignment, choose, detect_assignment, scores
from grader.loader import assignment_ids, load_assignment, load_rubric
from grader.notebook import NotebookRejected, load
from grader.rubric import Assignment, FunctionItem, RubricError

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted({*ROOT.glob("tests/notebooks/**/*.ipynb"), *ROOT.glob("assignments/*/*.ipynb"), *ROOT.glob("assignments/*/wrong/*.ipynb"),
                  *Path("/work/shared/submissions").glob("*.ipynb")})


def _detected(path: Path, assignments) -> str:
    try:
        return choose(load(path).nb, assignments).id
    except AmbiguousAssignment as exc:
        return f"ambiguous: {exc}"


# --- point 2: the rubric stands alone, names are checked above it --------------------------------------

def test_rubric_and_checks_do_not_import_each_other_and_the_graph_prints(capsys):
    import import_graph

    graph = edges()
    checks = {m for m in graph if m == "grader.checks" or m.startswith("grader.checks.")}
    assert not graph["grader.rubric"] & (checks | {"grader.contract", "grader.loader", "grader.probes.registry"})
    assert all("grader.rubric" not in graph[m] for m in checks)
    assert {"grader.rubric", "grader.checks", "grader.probes.registry"} <= graph["grader.contract"]
    mine = {"grader.rubric", "grader.loader", "grader.contract", "grader.folders", "grader.detect", "grader.versions", *checks,
            *(m for m in graph if m.startswith("grader.probes"))}
    assert not [group for group in circles(graph) if mine & set(group)]
    assert circles(graph) == []  # none anywhere: grade <-> student went with the split, cli <-> its tools with register()
    assert import_graph.main() in (0, 1)  # the command anyone can run prints the graph and its circles
    assert "grader.rubric -> grader.folders\n" in capsys.readouterr().out  # the format needs nothing but where folders are


def test_the_rubric_schema_documents_each_kind_with_its_own_fields():
    schema = Assignment.model_json_schema()
    kinds = {name: d for name, d in schema["$defs"].items() if "kind" in d.get("properties", {})}
    assert {d["properties"]["kind"]["const"] for d in kinds.values()} == {"function", "behaviour", "answer", "manual"}
    assert "cases" in kinds["FunctionItem"]["properties"] and "checks" not in kinds["FunctionItem"]["properties"]
    assert "probe" in kinds["BehaviourItem"]["required"] and "run" in kinds["ManualItem"]["properties"]
    assert "unchanged_weight" in kinds["FunctionItem"]["properties"] and "weight" in schema["$defs"]["Case"]["properties"]
    assert schema["properties"]["items"]["items"]["discriminator"]["propertyName"] == "kind"


def test_a_field_of_another_kind_is_refused_by_name(tmp_path):
    path = tmp_path / "rubric.toml"
    path.write_text('id = "x"\ntitle = "x"\nitems = [{ id = "a", title = "a", points = 1, kind = "function", names = ["a"], '
                    'reference = "tensor_ops", checks = [] }]')
    with pytest.raises(RubricError, match=r"field `items\.0\.checks`"):
        load_rubric(path)


def test_names_are_resolved_by_the_loader_and_a_folder_rule_may_not_shadow_a_package_rule(tmp_path):
    folder = build(tmp_path, with_shipped=False, notebooks=False) / EXAMPLE
    assignment = load_rubric(folder / "rubric.toml")
    assert [i.kind for i in assignment.items] == ["function", "behaviour"]
    (folder / "checks.py").write_text((folder / "checks.py").read_text() + "\n\n@rule()\ndef equal(check, observed, expected, item):\n    return None\n")
    with pytest.raises(RubricError, match="declares equal, which the package's rules already name"):
        load_rubric(folder / "rubric.toml")
    (folder / "checks.py").unlink()
    with pytest.raises(RubricError, match="no probe 'checks.chain'"):
        load_rubric(folder / "rubric.toml")


# --- point 1: an assignment is a folder; the guide adds one without touching grader/ -----------------

def test_the_guide_writes_only_inside_assignments():
    text = PAGE.read_text(encoding="utf-8")
    targets = written_files(text)
    assert targets and all(t.startswith("assignments/") for t in targets), targets
    scripts = [s for block in shell_blocks(text) for s in PYTHON.findall(block)]
    assert all(re.findall(r'"(assignments/[^"]+)"', s) for s in scripts)
    assert not [t for t in targets if t.startswith(("grader/", "reference/"))]
    example = written_files(section(text))
    assert set(example) == {f"assignments/{EXAMPLE}/{name}" for name in ("reference/numpy_net.py", "checks.py", "rubric.toml")}


def test_sheet_specific_probes_and_rules_live_in_their_assignments():
    from grader.checks.rules import RULES, rules_for
    from grader.probes.registry import all_probes, probe_spec

    package = {n for n in all_probes(ROOT / "assignments" / "week3-questions")}  # a folder without checks.py: the package's only
    assert not {p for p in package if p.startswith(("from_scratch.", "backprop.", "svhn.", "keras_layers."))}
    assert {"layers_applied", "batches", "beats_majority"}.isdisjoint(RULES)
    assert "layers_applied" in rules_for(ROOT / "assignments" / "dlwp-ch2")
    assert "beats_majority" in rules_for(ROOT / "assignments" / "dnn-backprop")
    assert probe_spec("from_scratch.sequential", ROOT / "assignments" / "dlwp-ch2").ships == ("NaiveDense",)
    lab = {i.id: i for i in load_assignment("lab01-math").items}
    assert lab["naive_sequential"]._folder == ROOT / "assignments" / "dlwp-ch2"  # included: resolved in its origin's folder
    assert "divide them by 255" not in (ROOT / "grader" / "checks" / "rules.py").read_text()


# --- point 6: detection weighs the evidence; a subset assignment disturbs nobody --------------------------

def test_adding_the_guides_subset_assignment_detects_every_sample_unchanged(tmp_path):
    root = build(tmp_path, notebooks=False)
    assert sorted(p.name for p in root.iterdir()) == sorted([*(p.parent.name for p in (ROOT / "assignments").glob("*/rubric.toml")), EXAMPLE])
    shipped = [load_assignment(a) for a in assignment_ids()]
    added = [load_assignment(a, root) for a in assignment_ids(root)]
    assert len(added) == len(shipped) + 1
    checked = 0
    for path in SAMPLES:
        try:
            before = _detected(path, shipped)
        except NotebookRejected:
            continue
        assert _detected(path, added) == before, path
        checked += 1
    assert checked >= 20
    assert _detected(ROOT / "tests" / "notebooks" / "dlwp-ch2_walkthrough.ipynb", added) == "dlwp-ch2"
    assert _detected(ROOT / "assignments" / "lab01-math" / "solution.ipynb", added) == "lab01-math"
    with pytest.raises(AmbiguousAssignment, match="dlwp-ch2 and week3-questions"):  # two that each explain their own part
        detect_assignment(load(ROOT / "tests" / "notebooks" / "week3_practice.ipynb"), root)


def test_the_subset_finds_all_its_items_yet_explains_nothing_the_superset_does_not(tmp_path):
    root = build(tmp_path, notebooks=False)
    nb = load(ROOT / "assignments" / "dlwp-ch2" / "solution.ipynb").nb
    ranked = {e.assignment.id: (score, e) for score, e in scores(nb, [load_assignment(a, root) for a in ("dlwp-ch2", EXAMPLE)])}
    assert ranked[EXAMPLE][1].share == 1.0 and ranked[EXAMPLE][0] == 0.0 and ranked["dlwp-ch2"][0] == 1.0


# --- point 6: function items weight their checks --------------------------------------------------------

def test_cases_and_the_no_mutation_check_carry_their_weights():
    item = FunctionItem(id="f", title="f", points=3, kind="function", names=["f"], reference="tensor_ops", unchanged_weight=0.5,
                        cases=[{"name": "a", "args": [{"value": [1.0]}]}, {"name": "b", "args": [{"value": [2.0]}], "weight": 2}])
    want = {"cases": [{"output": np.array([1.0]), "args_after": [np.array([1.0])]}, {"output": np.array([2.0]), "args_after": [np.array([2.0])]}]}
    mutated = {"cases": [{"output": np.array([1.0]), "args_after": [np.array([0.0])]}, {"output": np.array([2.0]), "args_after": [np.array([2.0])]}]}
    verdicts = FunctionCheck().verdicts(item, mutated, want, None)
    assert [v.weight for v in verdicts] == [1.0, 2.0, 0.5]
    result = scored(item, verdicts)
    assert result.status == "fail" and result.score == pytest.approx(3 * 3 / 3.5, abs=1e-3)
    assert json.loads(result.checks[-1].model_dump_json())["name"] == "leaves its arguments unchanged"

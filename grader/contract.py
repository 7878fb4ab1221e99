"""The contract between probes and rules, checked when a rubric is loaded (not while grading a class).

A probe declares what it observes (names and kinds of values, see
`grader.probes.context.Kind`); a rule declares what it reads. A rubric check
that observes something its probe never records, or feeds a rule a kind of
value it cannot judge, is refused with the item, the check and the field.
"""

from __future__ import annotations

from .checks.rules import RULES
from .probes.context import Kind
from .probes.registry import all_probes, probe_spec
from .rubric import Assignment


def contract_errors(assignment: Assignment) -> list[str]:
    """Every mismatch between the rubric's behaviour checks and their probes' declarations."""
    errors = []
    for i, item in enumerate(assignment.items):
        if item.kind != "behaviour" or not item.probe:
            continue
        where = f"items[{i}] ({item.id})"
        try:
            spec = probe_spec(item.probe)
        except KeyError:
            errors.append(f"{where} probe: no probe {item.probe!r} (known: {', '.join(sorted(all_probes()))})")
            continue
        observes = dict(spec.observes)
        if item.questions:  # an answer found by its question also has what its cells printed
            observes.setdefault("printed", Kind.TEXT)
        for j, check in enumerate(item.checks):
            field = f"{where} checks[{j}] ({check.name})"
            kind = observes.get(check.observe, observes.get("*"))
            if kind is None:
                errors.append(f"{field} observe: probe {item.probe} observes no {check.observe!r} "
                              f"(it observes: {', '.join(sorted(observes))})")
                continue
            reads = RULES[check.rule].reads
            if kind not in reads.kinds:
                errors.append(f"{field} rule: {check.rule} reads {', '.join(sorted(k.value for k in reads.kinds))}, "
                              f"but {item.probe} gives {check.observe!r} as {kind.value}")
            for name in reads.observations(check.params):
                if name not in observes and "*" not in observes:
                    errors.append(f"{field} rule: {check.rule} also reads {name!r}, which {item.probe} does not observe")
    return errors

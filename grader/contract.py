"""The names a rubric uses, checked when it is loaded (not while grading a class): the step above rubric and checks.

`grader.rubric` knows the file format only; `grader.checks` knows the kinds
and rules only; neither imports the other. Here, once an assignment's folder
is read, every name is resolved: each item's kind has a check kind; each
behaviour item's probe exists (in the package or the folder's `checks.py`)
and records what its checks observe, in a kind their rules read; each rule
exists; each reference module and builder exists. A mismatch is refused with
the item, the check and the field.
"""

from __future__ import annotations

from .checks import KINDS
from .checks.rules import RULES, rules_for
from .folders import declared, reference_file
from .probes.context import Kind
from .probes.registry import all_probes, builder_function, probe_spec
from .rubric import ITEM_KINDS, Assignment

if set(KINDS) != set(ITEM_KINDS):  # the rubric's kinds and the check kinds are one list, written twice
    raise ImportError(f"rubric kinds {sorted(ITEM_KINDS)} and check kinds {sorted(KINDS)} differ")


def contract_errors(assignment: Assignment) -> list[str]:
    """Every name of the rubric that does not resolve, and every mismatch between checks and their probes."""
    errors = []
    for i, item in enumerate(assignment.items):
        where = f"items[{i}] ({item.id})"
        folder = item._folder
        own = declared(folder, "reads")
        clash = sorted(set(own) & set(RULES))
        if clash:
            errors.append(f"{where} rule: {folder}/checks.py declares {', '.join(clash)}, which the package's rules already name")
        reference = getattr(item, "reference", None)
        if reference is not None and assignment.answers is None and not reference_file(reference, folder).is_file():  # a bundle has none
            errors.append(f"{where} reference: no reference module {reference!r} (in {folder}/reference/ or reference/)")
        if item.kind != "behaviour":
            continue
        try:
            spec = probe_spec(item.probe, folder)
        except KeyError:
            errors.append(f"{where} probe: no probe {item.probe!r} (known: {', '.join(sorted(all_probes(folder)))})")
            continue
        if item.reference_builder:
            try:
                builder_function(item.probe, item.reference_builder, folder)
            except (AttributeError, KeyError):
                errors.append(f"{where} reference_builder: no function {item.reference_builder!r} beside probe {item.probe}")
        observes = {**spec.observes, **(spec.from_cells if item.questions else {})}
        rules = rules_for(folder)
        for j, check in enumerate(item.checks):
            field = f"{where} checks[{j}] ({check.name})"
            if check.rule not in rules:
                errors.append(f"{field} rule: unknown rule {check.rule!r} (known: {', '.join(sorted(rules))})")
                continue
            kind = observes.get(check.observe, observes.get("*"))
            if kind is None:
                errors.append(f"{field} observe: probe {item.probe} observes no {check.observe!r} "
                              f"(it observes: {', '.join(sorted(observes))})")
                continue
            reads = rules[check.rule].reads
            if kind not in reads.kinds:
                errors.append(f"{field} rule: {check.rule} reads {', '.join(sorted(k.value for k in reads.kinds))}, "
                              f"but {item.probe} gives {check.observe!r} as {kind.value}")
            for name in reads.observations(check.params):
                if name not in observes and "*" not in observes:
                    errors.append(f"{field} rule: {check.rule} also reads {name!r}, which {item.probe} does not observe")
    return errors


__all__ = ["Kind", "contract_errors"]

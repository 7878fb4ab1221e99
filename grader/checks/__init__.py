"""Check kinds, registered by the name a rubric item gives in `kind`."""

from .base import CheckKind, Verdict, judge_item
from .behaviour import BehaviourCheck
from .function import FunctionCheck

KINDS: dict[str, CheckKind] = {kind.name: kind for kind in (FunctionCheck(), BehaviourCheck())}

__all__ = ["KINDS", "CheckKind", "Verdict", "judge_item"]

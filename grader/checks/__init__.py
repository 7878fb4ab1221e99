"""Check kinds, registered by the name a rubric item gives in `kind`."""

from .answer import AnswerCheck
from .base import CheckKind, Evidence, Probe, Verdict
from .behaviour import BehaviourCheck
from .function import FunctionCheck
from .manual import ManualCheck

KINDS: dict[str, CheckKind] = {kind.name: kind for kind in (FunctionCheck(), BehaviourCheck(), AnswerCheck(), ManualCheck())}

__all__ = ["KINDS", "CheckKind", "Evidence", "Probe", "Verdict"]

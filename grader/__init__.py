"""grader: an auto-grader for Jupyter notebook answers to deep-learning exercises.

The names an instructor's script needs; everything else may move.
"""

__version__ = "0.2.0"

from .grade import grade_notebook  # noqa: E402  (after __version__, which the modules read)
from .report import Report  # noqa: E402
from .rubric import Assignment, load_assignment  # noqa: E402

__all__ = ["Assignment", "Report", "__version__", "grade_notebook", "load_assignment"]

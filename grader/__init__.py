"""grader: an auto-grader for Jupyter notebook answers to deep-learning exercises.

The names an instructor's script needs; everything else may move. They are
imported when first used, so `grade` and `%load_ext grader` import only
what they use.

In a student's notebook: `%load_ext grader`, then `%check ITEM` (or
`from grader import check; check("ITEM")`) previews an item's verdict on
the live kernel's objects (`grader.selfcheck`).
"""

__version__ = "0.3.0"

_LAZY = {"grade_notebook": "grade", "Report": "report", "Assignment": "rubric", "load_assignment": "loader"}

__all__ = ["Assignment", "Report", "__version__", "check", "grade_notebook", "load_assignment"]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'grader' has no attribute {name!r}")


def check(*items: str, **options):
    """Preview items' verdicts on the notebook's live objects (see `grader.selfcheck.check`)."""
    from .selfcheck import check as run

    return run(*items, **options)


def load_ipython_extension(ipython) -> None:
    """`%load_ext grader`: registers the `%check` magic."""
    from .selfcheck import load_ipython_extension as load

    load(ipython)

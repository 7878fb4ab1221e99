"""Stand-in for `grader` inside a grading kernel: a submission's `%check` lines do nothing there.

A student who checked their work with `%load_ext grader` and `%check ITEM`
may leave those lines in the notebook they submit. The kernel that grades
it has this directory first on its path and never sees the real package
(hidden by the sandbox, or just not what `import grader` finds), so the
lines run without effect instead of raising, or of running the grader
inside the kernel under test. The grade is the fresh run's verdict.
"""


def check(*items, **options):
    return None


def _check_magic(line: str) -> None:
    return None


def load_ipython_extension(ipython) -> None:
    ipython.register_magic_function(_check_magic, "line", "check")

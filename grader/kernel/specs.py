"""Where a kernel manager finds the `python3` kernel spec, found once for the sandbox and the unprivileged launch alike,
and the launch command a grading kernel runs: ipykernel's own, without the debugger and tab completion."""

from __future__ import annotations

import os
from functools import cache

# ipykernel_launcher, less two imports a kernel that runs a notebook top to bottom never uses: the debugger
# (debugpy and its pydevd, imported by ipykernel when it is installed) and IPython's completion engine (jedi).
# Importing them is 55 ms of each kernel's 0.35 s start, about a sixth. They are hidden only while the kernel
# starts (a None in sys.modules makes `import` fail, and both libraries are optional there); after that a
# notebook that imports either gets it as usual. Like the launcher, the working directory is off sys.path while
# ipykernel loads (InteractiveShellApp puts it back).
LEAN_LAUNCH = """\
import sys
if sys.path and sys.path[0] in ("", __import__("os").getcwd()):
    del sys.path[0]
_grader_unused = ("debugpy", "jedi")
for _grader_name in _grader_unused:
    sys.modules.setdefault(_grader_name, None)
from ipykernel.kernelapp import IPKernelApp
_grader_app = IPKernelApp.instance()
_grader_app.initialize()
for _grader_name in _grader_unused:
    if _grader_name in sys.modules and sys.modules[_grader_name] is None:
        del sys.modules[_grader_name]
del _grader_unused, _grader_name
_grader_app.start()
"""


def lean_argv(argv: list[str]) -> list[str]:
    """The spec's command with ipykernel's launcher replaced by `LEAN_LAUNCH`; any other command as it is."""
    if len(argv) >= 3 and argv[1:3] == ["-m", "ipykernel_launcher"]:
        return [argv[0], "-c", LEAN_LAUNCH, *argv[3:]]
    return list(argv)


@cache
def _lean_manager():
    """jupyter_client's spec manager, its specs launched with `lean_argv` (a class made once, jupyter_client imported then)."""
    from jupyter_client.kernelspec import KernelSpecManager

    class LeanKernelSpecManager(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            spec = super().get_kernel_spec(kernel_name)
            spec.argv = lean_argv(spec.argv)
            return spec

    return LeanKernelSpecManager


def kernel_specs():
    """Where jupyter_client finds the `python3` kernel spec: its own default search path, computed without
    importing IPython (its default asks `IPython.paths` for ~/.ipython: 0.3 s of every grading process's start).
    The specs it hands out launch with `lean_argv`."""
    from jupyter_core.paths import jupyter_path

    ipython_dir = os.path.expanduser(os.environ.get("IPYTHONDIR") or os.path.join("~", ".ipython"))
    return _lean_manager()(kernel_dirs=[*jupyter_path("kernels"), os.path.join(ipython_dir, "kernels")])

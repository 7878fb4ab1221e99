"""Where a kernel manager finds the `python3` kernel spec, found once for the sandbox and the unprivileged launch alike,
and the launch command a grading kernel runs: ipykernel's own, without the debugger and tab completion."""

from __future__ import annotations

import os
from functools import cache

# ipykernel_launcher, less three imports a kernel that runs a notebook top to bottom never uses: the debugger
# (debugpy and its pydevd, imported by ipykernel when it is installed), IPython's completion engine (jedi), and
# IPython's terminal (`IPython/__init__.py` imports `IPython.terminal.embed` for `IPython.embed`, and with it
# prompt_toolkit). Together they were 0.12 s of each kernel's 0.35 s of CPU to start. Each is replaced only while
# the kernel starts: a None in sys.modules makes `import` fail (debugpy and jedi are optional there), and the
# terminal's module by one whose `embed` imports the real one when called. After that a notebook that imports
# any of them gets it as usual. Like the launcher, the working directory is off sys.path while ipykernel loads
# (InteractiveShellApp puts it back).
LEAN_LAUNCH = """\
import sys
import types
if sys.path and sys.path[0] in ("", __import__("os").getcwd()):
    del sys.path[0]
def embed(*args, **kwargs):
    from IPython.terminal.embed import embed
    return embed(*args, **kwargs)
_grader_terminal = types.ModuleType("IPython.terminal.embed")
_grader_terminal.embed = embed
_grader_unused = {"debugpy": None, "jedi": None, "IPython.terminal.embed": _grader_terminal}
for _grader_name, _grader_module in _grader_unused.items():
    sys.modules.setdefault(_grader_name, _grader_module)
from ipykernel.kernelapp import IPKernelApp
_grader_app = IPKernelApp.instance()
_grader_app.initialize()
for _grader_name, _grader_module in _grader_unused.items():
    if _grader_name in sys.modules and sys.modules[_grader_name] is _grader_module:
        del sys.modules[_grader_name]
del _grader_unused, _grader_name, _grader_module, _grader_terminal, embed
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

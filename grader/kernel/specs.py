"""Where a kernel manager finds the `python3` kernel spec, found once for the sandbox and the unprivileged launch alike."""

from __future__ import annotations

import os


def kernel_specs():
    """Where jupyter_client finds the `python3` kernel spec: its own default search path, computed without
    importing IPython (its default asks `IPython.paths` for ~/.ipython: 0.3 s of every grading process's start)."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_core.paths import jupyter_path

    ipython_dir = os.path.expanduser(os.environ.get("IPYTHONDIR") or os.path.join("~", ".ipython"))
    return KernelSpecManager(kernel_dirs=[*jupyter_path("kernels"), os.path.join(ipython_dir, "kernels")])

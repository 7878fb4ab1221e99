"""Isolating a kernel where the OS allows it (bubblewrap), and saying which isolation was in force.

With bubblewrap the kernel gets its own network namespace (no network at
all; the grader talks to it over IPC sockets in its working directory), its
own process namespace (it sees and can signal only the processes it
started, not the grader, another submission's kernel or the kernel waiting
for the next submission), a read-only view of the file system in which the grader's package, reference
solutions, cache and the other submissions are hidden, and a fresh /tmp;
only its working directory is writable. Without bubblewrap the kernel runs
as a plain child process and the report says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from pydantic import BaseModel


class Isolation(BaseModel):
    """Which isolation a run had (a field of the report)."""

    tool: str = "none"
    network: bool = False
    filesystem: bool = False
    processes: bool = False
    notes: str = ""


@cache
def available() -> Isolation:
    """Bubblewrap if it is installed and works here, else none, with the reason."""
    if os.environ.get("GRADER_SANDBOX", "1") == "0":
        return Isolation(notes="isolation turned off (GRADER_SANDBOX=0): the kernel shares the network and file system")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return Isolation(notes="bubblewrap (bwrap) is not installed: the kernel shares the network and file system")
    trial = subprocess.run([bwrap, "--unshare-net", "--unshare-pid", "--ro-bind", "/", "/", "--proc", "/proc", "--", "true"],
                           capture_output=True)
    if trial.returncode != 0:
        why = trial.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
        return Isolation(notes=f"bubblewrap cannot create namespaces here ({why[0]}): the kernel shares the network and file system")
    return Isolation(tool="bubblewrap", network=True, filesystem=True, processes=True,
                     notes="no network; read-only file system without the grader, its cache or other submissions; writable working "
                           "directory; only its own processes visible")


def _inside(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def bwrap_prefix(workdir: Path, hidden: list[Path], readable: list[Path]) -> list[str]:
    """The bubblewrap command line put before the kernel's own."""
    essential = [Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(sys.executable).resolve().parent, workdir]
    args = ["bwrap", "--die-with-parent", "--unshare-net", "--unshare-ipc", "--unshare-pid", "--ro-bind", "/", "/",
            "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    for path in sorted({p.resolve() for p in hidden if p.exists()}):
        if path != Path("/") and not any(_inside(e, path) for e in essential):
            args += ["--tmpfs", str(path)]
    for path in readable:
        if path.exists():
            args += ["--ro-bind", str(path), str(path)]
    args += ["--bind", str(workdir), str(workdir), "--unsetenv", "JPY_PARENT_PID", "--chdir", str(workdir), "--"]
    return args


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager that starts the kernel inside bubblewrap and talks to it over IPC."""

    prefix: list[str] = []

    def format_kernel_cmd(self, extra_arguments=None):
        return self.prefix + super().format_kernel_cmd(extra_arguments)


def sandboxed_manager(workdir: Path, hidden: list[Path], readable: list[Path]) -> SandboxedKernelManager:
    km = SandboxedKernelManager(kernel_name="python3", transport="ipc", ip=str(workdir / ".kernel"))
    km.connection_file = str(workdir / ".kernel.json")
    km.prefix = bwrap_prefix(workdir, hidden, readable)
    km.kernel_spec.interrupt_mode = "message"  # a signal would hit bubblewrap, not the kernel
    return km

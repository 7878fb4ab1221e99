"""Isolating a kernel as far as the machine allows, and saying which isolation was in force.

Three mechanisms, strongest first; a session uses the first that works here:

- bubblewrap: the kernel gets its own network namespace (no network at
  all; the grader talks to it over IPC sockets in its working directory),
  its own process namespace (it sees and can signal only the processes it
  started, not the grader, another submission's kernel or the kernel
  waiting for the next submission), no capabilities, a read-only view of the file system in
  which the grader's package, reference solutions, cache and the other
  submissions are hidden, and a fresh /tmp; only its working directory is
  writable. The interpreter and its environment stay visible wherever they
  live, /tmp included. Started by root, bubblewrap itself runs as a user
  of the kernel's own (`grader.kernel.unprivileged`, in a user namespace)
  where the machine allows it, so root's own files stay closed to the kernel.
- unprivileged user (`grader.kernel.unprivileged`): where bubblewrap is
  missing or refused (Docker's default seccomp profile, Gradescope) and the
  grader runs as root, the kernel runs as a user of its own, and file
  permissions keep the grader's files from it.
- none: a plain child process, and the report says so.

A kernel that does not start in a mechanism is started in the next one
(`demote`), for the rest of the process, and the report says why.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from pydantic import BaseModel, Field

from . import unprivileged
from .specs import kernel_specs


class Tool(str, Enum):
    """The mechanism that kept the kernel apart."""

    bubblewrap = "bubblewrap"
    unprivileged_user = "unprivileged-user"
    none = "none"


class Isolation(BaseModel):
    """Which isolation a run had (a field of the report)."""

    tool: Tool = Tool.none
    network: bool = False
    filesystem: bool = False
    processes: bool = False
    uid: int | None = Field(default=None, description="the user id the kernel ran as, when the grader (root) gave it a user of its own")
    notes: str = ""


SHARED = "the kernel shares the network and file system"
BWRAP_NOTES = ("no network; read-only file system without the grader, its cache or other submissions; writable working "
               "directory; only its own processes visible")

OWN_USER = "a user of its own"
_failed: dict[Tool, str] = {}  # mechanisms a kernel did not start in, in this process, with why


def _bubblewrap() -> tuple[Isolation | None, str]:
    """Bubblewrap if it is installed and can create namespaces here; else why not."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return None, "bubblewrap (bwrap) is not installed"
    try:
        trial = subprocess.run([bwrap, "--unshare-net", "--unshare-pid", "--ro-bind", "/", "/", "--proc", "/proc", "--", "true"],
                               capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"bubblewrap cannot run here ({exc})"
    if trial.returncode != 0:
        why = trial.stderr.decode(errors="replace").strip().splitlines()[-1:] or [f"exit {trial.returncode}"]
        return None, f"bubblewrap cannot create namespaces here ({why[0]})"
    isolation = Isolation(tool=Tool.bubblewrap, network=True, filesystem=True, processes=True, notes=BWRAP_NOTES)
    user = _bubblewrap_user(bwrap)
    if user is not None:  # root: the kernel is not root in the sandbox either, so root's own files stay closed to it
        isolation = isolation.model_copy(update={"uid": user.uid, "notes": f"{BWRAP_NOTES}; it runs as {OWN_USER}"})
    return isolation, ""


def _bubblewrap_user(bwrap: str) -> unprivileged.KernelUser | None:
    """As root: the kernels' user, if bubblewrap started as that user can create its namespaces (a user namespace)."""
    if not unprivileged.is_root():
        return None
    try:
        user = unprivileged.kernel_user()
        unprivileged.make_reachable([*environment_paths(), Path(bwrap).resolve().parent])
        trial = subprocess.run([bwrap, "--unshare-user", "--unshare-net", "--unshare-pid", "--ro-bind", "/", "/", "--proc", "/proc",
                                "--", "true"], capture_output=True, timeout=60, cwd="/", **unprivileged.launch_options(user))
    except (unprivileged.Unavailable, OSError, subprocess.SubprocessError):
        return None
    return user if trial.returncode == 0 else None


def _unprivileged() -> tuple[Isolation | None, str]:
    """A user of the kernel's own, if the grader is root and the interpreter starts as that user."""
    if not unprivileged.is_root():
        return None, ""
    try:
        user = unprivileged.kernel_user()
        unprivileged.make_reachable(environment_paths())
        unprivileged.trial(user)
    except unprivileged.Unavailable as exc:
        return None, f"the kernel cannot run as an unprivileged user: {exc}"
    return Isolation(tool=Tool.unprivileged_user, filesystem=True,
                     notes=f"the kernel runs as {OWN_USER} with no supplementary groups, in a working directory "
                           "it owns; the grader, its cache, the batch output and the submissions are unreadable to it; it can "
                           "signal only its own processes, but shares the network and sees the process list"), ""


STRENGTH = (Tool.bubblewrap, Tool.unprivileged_user, Tool.none)


@cache
def _trial(tool: Tool) -> tuple[Isolation | None, str]:
    """Whether `tool` works here (tried once per process, and only when no stronger one works), and why not."""
    if tool == Tool.bubblewrap:
        return _bubblewrap()
    if tool == Tool.unprivileged_user:
        return _unprivileged()
    return Isolation(notes=SHARED), ""


def available() -> Isolation:
    """The strongest isolation that works here, its notes saying why each stronger one is not in force."""
    if os.environ.get("GRADER_SANDBOX", "1") == "0":
        return Isolation(notes=f"isolation turned off (GRADER_SANDBOX=0): {SHARED}")
    reasons = []
    for tool in STRENGTH:
        if tool in _failed:
            reasons.append(f"the kernel did not start in {tool.value} ({_failed[tool]})")
            continue
        best, why = _trial(tool)
        if best is not None:
            break
        if why:
            reasons.append(why)
    if not reasons:
        return best
    return best.model_copy(update={"notes": "; ".join(reasons) + ("; " if best.tool != Tool.none else ": ") + best.notes})


def demote(tool: Tool, reason: str) -> None:
    """A kernel did not start in `tool`: use the next mechanism from now on, in this process."""
    if tool != Tool.none:
        _failed.setdefault(tool, reason)


def reset() -> None:
    """Forget the trials and the mechanisms kernels did not start in (the PATH or the machine changed; tests)."""
    _trial.cache_clear()
    environment_paths.cache_clear()
    _failed.clear()


def _inside(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


_PATHS = "import json, site, sys; print(json.dumps([sys.prefix, sys.base_prefix, sys.executable, *site.getsitepackages(), *sys.path]))"


@cache
def environment_paths() -> list[Path]:
    """What the kernel's interpreter needs: its prefixes, its executable's directories, its site directories, its sys.path.

    Asked of the interpreter itself, started as the kernel is (without the grader's PYTHONPATH or
    script directory), so that .pth entries count and the grader's own directories do not.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    try:
        out = subprocess.run([sys.executable, "-c", _PATHS], capture_output=True, text=True, env=env, cwd="/", timeout=60, check=True).stdout
        paths = [Path(p) for p in json.loads(out)]
    except (OSError, subprocess.SubprocessError, ValueError):
        paths = [Path(p) for p in (sys.prefix, sys.base_prefix, sys.executable, *site.getsitepackages())]
    paths += [Path(sys.executable).parent]
    found = []
    for path in paths:
        if not path.is_absolute() or path == Path("/"):
            continue
        for candidate in (path, path.resolve()):
            if candidate.exists() and candidate.is_file():
                candidate = candidate.parent  # the executable: its directory
            if candidate.exists() and candidate not in found:
                found.append(candidate)
    return found


def _needed(hidden: list[Path], readable: list[Path]) -> list[Path]:
    """What the kernel must see: the environment's paths (less any that would show a hidden one) and `readable`."""
    hidden = [h.resolve() for h in hidden if h.exists()]
    keep = [p for p in environment_paths() if not any(_inside(h, p) for h in hidden)]
    return keep + [p.resolve() for p in readable if p.exists()]


def bwrap_prefix(workdir: Path, hidden: list[Path], readable: list[Path], as_user: bool = False) -> list[str]:
    """The bubblewrap command line put before the kernel's own (`as_user`: bubblewrap is started as the kernel's user).

    A hidden path gets an empty tmpfs over it, and so does /tmp; what the kernel needs below them
    (the interpreter in a virtualenv under /tmp, the grading data inside the package) is bound back, read-only.
    """
    # --cap-drop ALL: started by root, bubblewrap would leave the kernel every capability, and with them it could
    # unmount the tmpfs over the grader's package or remount / read-write
    args = ["bwrap", *(["--unshare-user"] if as_user else []), "--die-with-parent", "--cap-drop", "ALL", "--unshare-net",
            "--unshare-ipc", "--unshare-pid", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    keep = _needed(hidden, readable)
    covered = [Path("/tmp")]
    for path in sorted({p.resolve() for p in hidden if p.exists()}):
        if path != Path("/") and path not in keep and not any(_inside(path, c) for c in covered):
            args += ["--tmpfs", str(path)]
            covered.append(path)
    bound: list[Path] = []
    for path in sorted(keep, key=lambda p: len(p.parts)):
        if any(_inside(path, c) for c in covered) and not any(_inside(path, b) for b in bound):
            args += ["--ro-bind", str(path), str(path)]
            bound.append(path)
    args += ["--bind", str(workdir), str(workdir), "--unsetenv", "JPY_PARENT_PID", "--chdir", str(workdir), "--"]
    return args


@cache
class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager that starts the kernel inside bubblewrap and talks to it over IPC."""

    prefix: list[str] = []

    def format_kernel_cmd(self, extra_arguments=None):
        return self.prefix + super().format_kernel_cmd(extra_arguments)


class SandboxedUserKernelManager(unprivileged.UserKernelManager):
    """A kernel manager that starts the kernel inside bubblewrap, bubblewrap itself started as the kernel's leased user."""

    prefix: list[str] = []

    def format_kernel_cmd(self, extra_arguments=None):
        return self.prefix + super().format_kernel_cmd(extra_arguments)


def sandboxed_manager(workdir: Path, hidden: list[Path], readable: list[Path],
                      lease: unprivileged.Lease | None = None) -> SandboxedKernelManager | SandboxedUserKernelManager:
    cls = SandboxedKernelManager if lease is None else SandboxedUserKernelManager
    km = cls(kernel_name="python3", transport="ipc", ip=str(workdir / ".kernel"), kernel_spec_manager=kernel_specs())
    km.connection_file = str(workdir / ".kernel.json")
    km.prefix = bwrap_prefix(workdir, hidden, readable, as_user=lease is not None)
    km.kernel_spec.interrupt_mode = "message"  # a signal would hit bubblewrap, not the kernel
    if lease is not None:
        km.lease = lease
    return km


def diagnose(km: AsyncKernelManager | None) -> str:
    """Why a kernel did not start in bubblewrap, in bubblewrap's or the interpreter's own words ("" if it says nothing)."""
    prefix = getattr(km, "prefix", None)
    if not prefix:
        return ""
    try:
        run = subprocess.run([*prefix, sys.executable, "-c", "import ipykernel"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    return (run.stderr.strip().splitlines() or [""])[-1] if run.returncode else ""


@dataclass
class Launch:
    """How one kernel is started: its manager (None: nbclient's plain one), Popen options, environment, and the isolation as it holds."""

    km: AsyncKernelManager | None
    isolation: Isolation
    popen: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)


def kernel_manager(isolation: Isolation, workdir: Path, hidden: list[Path], readable: list[Path]) -> Launch:
    """Prepare one kernel's start under `isolation`, in `workdir`, with `hidden` kept from it and `readable` left to it."""
    for path in hidden:
        if isolation.tool != Tool.none and not path.exists():
            path.mkdir(mode=0o700, parents=True, exist_ok=True)  # the reference cache, made later, must not appear to the kernel
    if isolation.tool == Tool.bubblewrap and isolation.uid is None:
        return Launch(sandboxed_manager(workdir, hidden, readable), isolation)
    if isolation.tool == Tool.bubblewrap:  # root: bubblewrap and the kernel run as a user of the kernel's own
        unprivileged.make_reachable(_needed(hidden, readable))
        held = unprivileged.lease()
        user = held.user
        os.chown(workdir, user.uid, user.gid)
        isolation = isolation.model_copy(update={"uid": user.uid, "notes": isolation.notes.replace(OWN_USER, f"{OWN_USER} ({user.name}, uid {user.uid})")})
        return Launch(sandboxed_manager(workdir, hidden, readable, held), isolation, unprivileged.launch_options(user),
                      {"HOME": str(workdir), "USER": user.name, "LOGNAME": user.name})
    if isolation.tool == Tool.unprivileged_user:
        keep = _needed(hidden, readable)
        unprivileged.make_reachable(keep)
        km, user, problems = unprivileged.user_manager(workdir, [h.resolve() for h in hidden], keep)
        isolation = isolation.model_copy(update={"uid": user.uid, "notes": isolation.notes.replace(OWN_USER, f"{OWN_USER} ({user.name}, uid {user.uid})")})
        if problems:
            isolation = isolation.model_copy(update={"filesystem": False, "notes": f"{isolation.notes}; but " + "; ".join(problems)})
        return Launch(km, isolation, unprivileged.launch_options(user),
                      {"HOME": str(workdir), "USER": user.name, "LOGNAME": user.name})
    return Launch(None, isolation)

"""The kernel as an unprivileged user, where namespaces are refused (Docker's default seccomp, Gradescope).

A grader that runs as root without bubblewrap still has what any Unix
process has: users and file permissions. Each kernel then runs as a system
user of its own, leased for as long as it runs (`grader-kernel`,
`grader-kernel-1`, … in the group `grader-kernel`, created on first use
with `useradd --system`, as Gradescope's guide does for `runuser`;
`GRADER_KERNEL_USER` names another base user), with no supplementary
groups, in a working directory it owns, with a private umask: it cannot
signal or read another submission's kernel. What it must not read — the
grader's package, reference solutions and cache, the batch's output, the
submissions — is made unreadable to users other than its owner (`o-rwx`;
the grader, as root, still reads it), except the way to what the kernel
needs inside (grading data, shims), which stays passable but not listable.
The directories above the interpreter and its environment are made
passable (`o+x`) wherever they live (`/root/.pyenv` included). These
permissions stay after the run: they are what the machine should have had.

It is weaker than bubblewrap: the kernel shares the network and sees the
process list.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

from . import processes

USER = "grader-kernel"
SLOTS = 256  # kernels that can run at once on one machine, each as a user of its own


@dataclass(frozen=True)
class KernelUser:
    name: str
    uid: int
    gid: int


class Unavailable(Exception):
    """The kernel cannot run as an unprivileged user here (the message says why)."""


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _user(name: str, group: str | None = None) -> KernelUser:
    """The system user `name` (in `group`, else a group of its own), created if it does not exist."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        useradd = shutil.which("useradd") or next((p for p in ("/usr/sbin/useradd", "/sbin/useradd") if os.path.exists(p)), None)
        if useradd is None:
            raise Unavailable(f"there is no user {name} and no useradd to create it") from None
        made = subprocess.run([useradd, "--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
                               *(["--gid", group] if group else ["--user-group"]), name], capture_output=True, text=True)
        try:
            entry = pwd.getpwnam(name)  # made here, or by a process that raced us
        except KeyError:
            why = (made.stderr.strip().splitlines() or [f"exit {made.returncode}"])[-1]
            raise Unavailable(f"could not create the user {name} ({why})") from None
    if entry.pw_uid == 0 or entry.pw_gid == 0:
        raise Unavailable(f"the user {name} is root or in root's group")
    return KernelUser(name, entry.pw_uid, entry.pw_gid)


def kernel_user() -> KernelUser:
    """The kernels' user (`GRADER_KERNEL_USER`, else grader-kernel), whose group every kernel's own user is in."""
    return _user(os.environ.get("GRADER_KERNEL_USER") or USER)


def _lock_dir() -> Path:
    """A directory for the users' leases that no kernel can write to (not /tmp if /run is there)."""
    for base in ("/run", "/var/run", tempfile.gettempdir()):
        if os.path.isdir(base) and os.access(base, os.W_OK):
            path = Path(base) / "grader-kernel-users"
            try:
                path.mkdir(mode=0o700, exist_ok=True)
                info = path.lstat()
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode) and info.st_uid == 0 and not info.st_mode & 0o022:
                return path
    raise Unavailable("there is no directory only root can write to for the kernel users' leases")


class Lease:
    """One kernel's own user, held (an flock) until `release`: no other kernel runs as it meanwhile."""

    def __init__(self, user: KernelUser, fd: int):
        self.user, self._fd = user, fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file drops the lock
            self._fd = None

    __del__ = release


def lease() -> Lease:
    """A user for one kernel, not used by any other kernel now; whatever still ran as it is killed first."""
    base = kernel_user()
    locks = _lock_dir()
    for slot in range(SLOTS):
        fd = os.open(locks / f"{slot}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        try:
            user = _user(f"{base.name}-{slot}", group=base.name) if slot else base
            if user.gid != base.gid:
                raise Unavailable(f"the user {user.name} is not in the group {base.name}")
        except BaseException:
            os.close(fd)
            raise
        processes.kill_all(processes.of_user(user.uid))  # left by a grader that died: not to meet this kernel
        return Lease(user, fd)
    raise Unavailable(f"all {SLOTS} kernel users are in use")


def _inside(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def make_reachable(paths: list[Path]) -> None:
    """Let other users pass through every directory above `paths` (o+x), as the interpreter's must be."""
    for path in paths:
        for parent in path.parents:
            try:
                mode = parent.stat().st_mode
                if not mode & stat.S_IXOTH:
                    os.chmod(parent, stat.S_IMODE(mode) | stat.S_IXOTH)
            except OSError:
                continue  # the trial run says whether the kernel can still start


def hide(hidden: list[Path], keep: list[Path], workdir: Path) -> list[str]:
    """Make `hidden` unreadable to other users but for the way to `keep` (paths inside them the kernel needs).

    Returns a sentence for each path that could not be hidden.
    """
    problems = []
    for path in sorted({p for p in hidden if p.exists()}):
        if path == Path("/") or _inside(workdir, path) or path in keep:
            problems.append(f"{path} is not hidden (the kernel needs it)")
            continue
        problems += _hide(path, [k for k in keep if _inside(k, path)])
    return problems


def _hide(path: Path, keep: list[Path]) -> list[str]:
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            return []  # a link's own mode means nothing; its target is hidden where it lives, if it should be
        mode = stat.S_IMODE(info.st_mode)
        inner = [k for k in keep if k != path]
        if not inner:
            if path not in keep and mode & 0o007:
                os.chmod(path, mode & ~0o007)
            return []
        if mode & 0o007 != 0o001:
            os.chmod(path, (mode & ~0o007) | 0o001)  # others may pass through to what they need, not list or open the rest
        problems = []
        for child in path.iterdir():
            problems += _hide(child, [k for k in inner if _inside(k, child)])
        return problems
    except OSError as exc:
        return [f"{path} could not be hidden ({exc.strerror or exc})"]


def trial(user: KernelUser) -> None:
    """Start the interpreter as the kernel's user and import the kernel: raises Unavailable with the reason."""
    try:
        run = subprocess.run([sys.executable, "-c", "import ipykernel, numpy"], capture_output=True, text=True, timeout=120,
                             cwd="/", env={**{k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, "HOME": "/"},
                             user=user.uid, group=user.gid, extra_groups=[])
    except (OSError, subprocess.SubprocessError) as exc:
        raise Unavailable(f"the interpreter does not start as {user.name} ({exc})") from None
    if run.returncode != 0:
        why = (run.stderr.strip().splitlines() or [f"exit {run.returncode}"])[-1]
        raise Unavailable(f"the interpreter does not start as {user.name} ({why})")


class UserKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs as the leased user, in a working directory it owns, over IPC sockets there."""

    lease: Lease | None = None

    def write_connection_file(self, **kwargs):
        super().write_connection_file(**kwargs)
        os.chown(self.connection_file, self.lease.user.uid, self.lease.user.gid)  # the kernel must read its key; no other kernel can

    async def cleanup_resources(self, restart: bool = False) -> None:
        await super().cleanup_resources(restart=restart)
        if not restart and self.lease is not None:
            self.lease.release()


def user_manager(workdir: Path, hidden: list[Path], keep: list[Path]) -> tuple[UserKernelManager, KernelUser, list[str]]:
    """A manager for a kernel run as a user of its own, that user, and the sentences for what could not be hidden from it."""
    held = lease()
    user = held.user
    os.chown(workdir, user.uid, user.gid)
    problems = hide(hidden, keep, workdir)
    from .specs import kernel_specs

    km = UserKernelManager(kernel_name="python3", transport="ipc", ip=str(workdir / ".kernel"), kernel_spec_manager=kernel_specs())
    km.connection_file = str(workdir / ".kernel.json")
    km.lease = held
    return km, user, problems


def launch_options(user: KernelUser) -> dict:
    """What Popen needs to start the kernel as `user`: no supplementary groups, files private to it."""
    return {"user": user.uid, "group": user.gid, "extra_groups": [], "umask": 0o077}

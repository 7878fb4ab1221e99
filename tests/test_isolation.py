"""What a kernel can reach: with bubblewrap, no network, none of the grader's files and no other process; as root
where bubblewrap is refused, none of the grader's files and no other kernel's process; else the report says so."""

import pytest
import asyncio
import os
import socket
from pathlib import Path

import nbformat

from grader.grade import DATA_DIR, PACKAGE_ROOT, SHIMS, kernel_env
from grader.kernel import processes, sandbox, unprivileged
from grader.kernel.session import KernelSession, KernelSpec, Limits
from grader.loader import load_assignment

pytestmark = pytest.mark.kernel  # every test here starts a kernel or a grader process

SPEC = KernelSpec.make(kernel_env(load_assignment("dlwp-ch2")), Limits(30, 60), "", hidden=[PACKAGE_ROOT], readable=[DATA_DIR, SHIMS])

REFUSING_BWRAP = '#!/bin/sh\necho "bwrap: setting up uid map: Permission denied" >&2\nexit 1\n'  # as Docker's seccomp does


@pytest.fixture(params=["as-installed", "bwrap-refused"], autouse=True)
def mechanism(request, monkeypatch, tmp_path):
    """Each test twice: with what this machine has, and with a bubblewrap that cannot create namespaces (Docker, Gradescope)."""
    if request.param == "bwrap-refused":
        (tmp_path / "bwrap").write_text(REFUSING_BWRAP)
        (tmp_path / "bwrap").chmod(0o755)
        monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    sandbox.reset()
    yield request.param
    sandbox.reset()


def notebook(cells) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    return nb


def run(cells):
    session = KernelSession(SPEC)
    result = asyncio.run(session.run(notebook(cells), []))
    return [r.stdout.strip() for r in result.cells], session.isolation


def test_what_the_kernel_can_reach(tmp_path):
    root_only = Path.home() / f".grader-root-only-{tmp_path.name}"  # outside every hidden path: only file permissions guard it
    root_only.write_text("secret")
    root_only.chmod(0o600)
    try:
        check_what_the_kernel_can_reach(root_only)
    finally:
        root_only.unlink()


def check_what_the_kernel_can_reach(root_only: Path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    reference = PACKAGE_ROOT / "reference" / "tensor_ops.py"
    out, isolation = run([
        f"import os\nprint(os.path.exists({str(reference)!r}))",
        f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n    print('connected')\nexcept OSError:\n    print('blocked')",
        f"print(os.path.exists({str(DATA_DIR / 'mnist.npz')!r}))",
        "open('mine.txt', 'w').write('ok')\nprint(open('mine.txt').read())",
        f"try:\n    open({str(Path.home() / 'grader-escape.txt')!r}, 'w')\n    print('wrote outside')\nexcept OSError:\n    print('read-only')",
        # what bubblewrap started by root would allow without --cap-drop ALL: lift the tmpfs that hides the package
        f"import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nprint(libc.umount2({str(PACKAGE_ROOT).encode()!r}, 2), "  # MNT_DETACH: submounts too
        f"os.path.exists({str(reference)!r}))",
        "print(int(next(l for l in open('/proc/self/status') if l.startswith('CapEff')).split()[1], 16))",
        f"try:\n    print(open({str(root_only)!r}).read())\nexcept OSError:\n    print('denied')",
    ])
    server.close()
    assert out[2] == "True" and out[3] == "ok"  # grading data and its own directory are there
    if isolation.tool == "bubblewrap":
        assert isolation.network and isolation.filesystem and isolation.processes
        assert out[0] == "False" and out[1] == "blocked" and out[4] == "read-only"
        assert out[5] == "-1 False" and out[6] == "0"  # no capability, so the hidden package stays hidden
        if unprivileged.is_root():  # bubblewrap runs as a user of the kernel's own: root's files stay root's
            assert isolation.uid not in (None, 0) and out[7] == "denied"
    elif isolation.tool == "unprivileged-user":  # root, bubblewrap refused
        assert isolation.filesystem and not isolation.network and isolation.uid not in (None, 0)
        assert "bwrap: setting up uid map: Permission denied" in isolation.notes and "shares the network" in isolation.notes
        assert out[0] == "False" and out[1] == "connected" and out[4] == "read-only"
        assert out[5] == "-1 False" and out[6] == "0" and out[7] == "denied"
    else:
        assert not isolation.network and "shares the network" in isolation.notes
        assert out[0] == "True"
        (Path.home() / "grader-escape.txt").unlink(missing_ok=True)


def test_a_kernel_cannot_signal_the_kernel_waiting_for_the_next_submission():
    """A batch starts the next submission's kernel while this one runs: this one must not be able to kill or reach it."""
    async def scenario():
        waiting = KernelSession(SPEC)
        await waiting.start()
        try:
            targets = sorted(processes.descendants(waiting.pid))
            attack = notebook([f"""import os, signal
seen = [p for p in os.listdir('/proc') if p.isdigit()]
hit = 0
for pid in {targets}:
    try:
        os.kill(pid, signal.SIGKILL)
        hit += 1
    except OSError:
        pass
print(len(seen), hit)"""])
            attacker = KernelSession(SPEC)
            result = await attacker.run(attack, [])
            return result, await waiting.alive(), attacker.isolation
        finally:
            await waiting.stop()

    result, alive, isolation = asyncio.run(scenario())
    seen, hit = map(int, result.cells[0].stdout.split())
    if isolation.processes:
        assert alive and hit == 0
        assert seen < 10  # bubblewrap, the kernel and what it started
    elif isolation.tool == "unprivileged-user":  # each kernel runs as a user of its own: it sees the others, cannot signal them
        assert alive and hit == 0 and seen > 2
    else:
        assert not alive and "share" in isolation.notes  # without isolation the report says what is shared

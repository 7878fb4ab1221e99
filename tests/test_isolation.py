"""What a kernel can reach: with bubblewrap, no network and none of the grader's files; without it, the report says so."""

import asyncio
import socket
from pathlib import Path

import nbformat

from grader.grade import DATA_DIR, PACKAGE_ROOT, SHIMS, kernel_env
from grader.kernel.session import KernelSession, KernelSpec, Limits
from grader.rubric import load_assignment


def run(cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    session = KernelSession(KernelSpec.make(kernel_env(load_assignment("dlwp-ch2")), Limits(30, 60), "",
                                            hidden=[PACKAGE_ROOT], readable=[DATA_DIR, SHIMS]))
    result = asyncio.run(session.run(nb, []))
    return [r.stdout.strip() for r in result.cells], session.isolation


def test_what_the_kernel_can_reach():
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
    ])
    server.close()
    assert out[2] == "True" and out[3] == "ok"  # grading data and its own directory are there
    if isolation.tool == "bubblewrap":
        assert isolation.network and isolation.filesystem
        assert out[0] == "False" and out[1] == "blocked" and out[4] == "read-only"
    else:
        assert not isolation.network and "shares the network" in isolation.notes
        assert out[0] == "True"
        (Path.home() / "grader-escape.txt").unlink(missing_ok=True)

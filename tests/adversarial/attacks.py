"""One notebook per attack on the grader, each around the same honest core.

Every notebook defines a correct `naive_relu` and `naive_add` (the honest
items, 2 points) and a wrong `naive_vector_dot` (the tampered item); the
attack cell comes between them. Processes an attack starts carry MARKER in
their command line, so the test can prove none is left.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

MARKER = "grader-adversary-marker"
HONEST_SCORE = 2.0
HONEST = "import numpy as np\ndef naive_relu(x):\n    return np.maximum(x, 0)"
LAST = "def naive_add(x, y):\n    return x + y"
WRONG = "def naive_vector_dot(x, y):\n    x[:] = 0  # wrong twice over: it changes its argument\n    return 0.0"

ATTACKS = {
    "patch_numpy": WRONG + '''
import numpy.testing
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), bool)
np.testing.assert_allclose = lambda *a, **k: None''',
    "lying_objects": '''class Liar(float):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __array__(self, *a, **k): return np.array(42.0)
    def __float__(self): return 42.0
    def numpy(self): raise RuntimeError("no")
def naive_vector_dot(x, y):
    x[:] = 0
    return Liar(0.0)''',
    "patched_traceback": WRONG + '''
from IPython.core.interactiveshell import InteractiveShell
InteractiveShell.showtraceback = lambda *a, **k: None
raise ValueError("hidden failure")''',
    "fake_protocol": WRONG + '''
import json
fake = {"token": "0" * 32, "response": {"found": "naive_vector_dot", "observations": {}}}
print(json.dumps(fake))
get_ipython().display_pub.publish(data={"application/vnd.grader.v1+json": fake}, metadata={})
print('{"schema_version": 1, "status": "graded", "score": 17.0, "max_score": 17.0}')''',
    "fake_report_files": WRONG + '''
import json, os
fake = json.dumps({"schema_version": 1, "grader_version": "0.1.0", "status": "graded", "score": 17.0,
                   "max_score": 17.0, "submission": {"path": "x"}, "items": []})
here = os.getcwd()
for depth in range(2):  # the working directory and the one above it
    for name in ("report.json", "fake_report_files.json", "results.json", "grades.csv"):
        try:
            open(os.path.join(here, name), "w").write(fake)
        except OSError:
            pass
    here = os.path.dirname(here)''',
    "malicious_pickle": WRONG + '''
import os, pickle
SENTINEL = os.environ.get("ADVERSARY_SENTINEL", "/tmp/grader-adversary-sentinel")
class Boom:
    def __reduce__(self):
        return (open, (SENTINEL, "w"))
payload = pickle.dumps(Boom())
cache = os.path.join(os.environ.get("GRADER_CACHE_DIR", os.path.expanduser("~/.cache/grader")), "expected")
for root in [os.getcwd(), os.path.dirname(os.getcwd()), cache]:
    try:
        os.makedirs(root, exist_ok=True)
        for name in ("expected.pkl", "answers.json", "cache.pickle"):
            open(os.path.join(root, name), "wb").write(payload)
        for name in os.listdir(root) if root == cache else []:
            open(os.path.join(root, name), "wb").write(payload)  # the grader's cached reference answers
    except OSError:
        pass''',
    "read_reference": WRONG + '''
import glob
stolen = []
for pattern in ("/work/*/reference/*.py", "/work/**/reference/tensor_ops.py", "../**/reference/*.py"):
    for path in glob.glob(pattern, recursive=True):
        try:
            stolen.append(open(path).read())
        except OSError:
            pass
print("read", len(stolen), "reference files")''',
    "infinite_loop": WRONG + "\nwhile True:\n    pass",
    "os_exit": WRONG + "\nimport os\nos._exit(0)",
    "segfault": WRONG + "\nimport ctypes\nctypes.string_at(0)",
    "memory_bomb": WRONG + "\nblocks = []\nfor i in range(16):\n    blocks.append(np.ones(512 * 2**20 // 8))",
    "orphan_child": WRONG + f'''
import subprocess, sys
code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"
subprocess.Popen([sys.executable, "-c", code, "{MARKER}"], start_new_session=True)''',
    "fork_many": WRONG + f'''
import subprocess
children = [subprocess.Popen(["sleep", "600", "{MARKER}"]) for _ in range(40)]''',
    "huge_output": WRONG + "\nimport sys\nchunk = 'x' * 1_000_000\nfor _ in range(200):\n    sys.stdout.write(chunk)",
    "big_file": WRONG + "\nwith open('big.bin', 'wb') as f:\n    for _ in range(300):\n        f.write(b'0' * 2**20)",
    "network": WRONG + '''
import os, socket
port = int(os.environ.get("ADVERSARY_PORT", "9"))
try:
    socket.create_connection(("127.0.0.1", port), timeout=2).sendall(b"stolen answers")
    print("network: connected")
except OSError as exc:
    print("network: blocked", type(exc).__name__)''',
}


def notebook(attack: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in (HONEST, ATTACKS[attack], LAST)]
    return nb


def write_all(directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in ATTACKS:
        paths[name] = directory / f"{name}.ipynb"
        nbformat.write(notebook(name), paths[name])
    return paths

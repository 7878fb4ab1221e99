"""Reading the grader's files where bubblewrap is refused, as in Docker with its default seccomp profile (Gradescope).

The grader runs as root with a stand-in `bwrap` early on PATH that fails at
namespace creation, as Docker's seccomp makes the real one fail. A batch of
two submissions sits in a world-readable course directory, with a
world-readable reference cache, and the grader's own files are made
world-readable first, as a fresh checkout has them: the grader itself must
make them unreadable to the kernel. One notebook, whose own functions are
wrong, goes straight for the paths it knows (the grader's `reference/`, the
cache, the batch output, the other submission) and execs the reference if it
can read it; then it walks the whole file system for any `reference/` with
`from_scratch.py` and any cache directory. It leaves what it found in a
directory the test gives it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import nbformat
import pytest

from grader.grade import PACKAGE_ROOT

pytestmark = pytest.mark.kernel

REFUSING_BWRAP = '#!/bin/sh\necho "bwrap: setting up uid map: Permission denied" >&2\nexit 1\n'

WRONG = "import numpy as np\ndef naive_relu(x):\n    return x\ndef naive_add(x, y):\n    return x"

TARGETED = '''import json, os
TARGETS = {targets!r}
stolen = {{}}
for label, path in TARGETS.items():
    try:
        if os.path.isdir(path):
            names = os.listdir(path)
            for name in names:
                open(os.path.join(path, name), "rb").read(100)
            stolen[label] = names
        else:
            stolen[label] = len(open(path, "rb").read())
    except OSError:
        pass
try:  # the reference's naive_relu and naive_add replace the wrong ones
    exec(compile(open(TARGETS["tensor_ops"]).read(), "tensor_ops", "exec"), globals())
    stolen["exec"] = True
except OSError:
    pass'''

SEARCH = '''found, readable, caches = [], [], []
for root, dirs, files in os.walk("/"):
    if root == "/":
        dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev")]
    if os.path.basename(root) == "reference" and "from_scratch.py" in files:
        found.append(root)
        try:
            open(os.path.join(root, "from_scratch.py")).read()
            readable.append(root)
        except OSError:
            pass
    if os.path.basename(root) == "expected" and any(f.endswith(".json") for f in files):
        caches.append(root)
json.dump({{"uid": os.getuid(), "groups": os.getgroups(), "stolen": stolen, "found": found, "readable": readable,
           "caches": caches}}, open({drop!r}, "w"))'''

NEIGHBOUR = "import numpy as np\n# {secret}\ndef naive_relu(x):\n    return np.maximum(x, 0)"


def _notebook(path: Path, cells: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, path)
    path.chmod(0o644)


def _open_to_all(path: Path) -> None:
    """Give `path` (and what is in it) the permissions of a fresh checkout: readable by every user."""
    for item in [path, *path.rglob("*")] if path.is_dir() else [path]:
        item.chmod(item.stat().st_mode | (0o005 if item.is_dir() else 0o004))


def _closed_to_others(path: str) -> bool:
    """Other users cannot read `path`: it is not world-readable, or a directory above it cannot be passed."""
    return not os.stat(path).st_mode & 0o004 or any(not os.stat(p).st_mode & 0o001 for p in Path(path).parents)


def _inside(path: str, parent: Path) -> bool:
    return Path(path) == parent or parent in Path(path).parents


@pytest.fixture(scope="module")
def searched():
    root = Path(tempfile.mkdtemp(prefix="grader-no-bwrap-", dir="/tmp"))  # not under pytest's 0700 directory
    try:
        root.chmod(0o755)
        stub, subs, out, cache, drop = (root / n for n in ("bin", "subs", "out", "cache", "drop"))
        decoy = root / "decoy" / "reference"  # a copy the grader knows nothing of: the search must find and read it
        for d in (stub, subs, cache / "expected", drop, decoy):
            d.mkdir(parents=True)
        (stub / "bwrap").write_text(REFUSING_BWRAP)
        (stub / "bwrap").chmod(0o755)
        drop.chmod(0o777)
        (decoy / "from_scratch.py").write_text("DECOY = True\n")
        session_cache = Path(os.environ.get("GRADER_CACHE_DIR", "")) / "expected"
        for answers in session_cache.glob("*.json") if session_cache.is_dir() else []:
            shutil.copy(answers, cache / "expected" / answers.name)  # the reference answers, if an earlier test computed them
        secret = f"neighbour-{uuid.uuid4().hex}"
        targets = {"tensor_ops": str(PACKAGE_ROOT / "reference" / "tensor_ops.py"), "reference": str(PACKAGE_ROOT / "reference"),
                   "grader": str(PACKAGE_ROOT / "grader" / "expected.py"), "cache": str(cache / "expected"), "out": str(out),
                   "neighbour": str(subs / "neighbour.ipynb"), "submissions": str(subs)}
        _notebook(subs / "search.ipynb", [WRONG, TARGETED.format(targets=targets), SEARCH.format(drop=str(drop / "found.json"))])
        _notebook(subs / "neighbour.ipynb", [NEIGHBOUR.format(secret=secret)])
        for path in (PACKAGE_ROOT / "reference", PACKAGE_ROOT / "grader" / "expected.py", cache):
            _open_to_all(path)
        for parent in (PACKAGE_ROOT, PACKAGE_ROOT / "grader"):
            parent.chmod(parent.stat().st_mode | 0o005)
        before = {label: os.stat(path).st_mode & 0o004 for label, path in targets.items() if label != "out"}
        env = {**os.environ, "PATH": f"{stub}:{os.environ['PATH']}", "GRADER_CACHE_DIR": str(cache)}
        proc = subprocess.run([sys.executable, "-m", "grader", str(subs), "-a", "dlwp-ch2", "--out", str(out), "--workers", "1"],
                              capture_output=True, text=True, env=env, timeout=600)
        if os.environ.get("GRADER_CACHE_DIR"):
            session_cache.mkdir(parents=True, exist_ok=True)
            for answers in (cache / "expected").glob("*.json"):
                shutil.copy(answers, session_cache / answers.name)  # computed here: later tests need not compute them again
        reports = {p.stem: json.loads(p.read_text()) for p in out.glob("*.json")}
        found = json.loads((drop / "found.json").read_text()) if (drop / "found.json").exists() else None
        yield {"proc": proc, "reports": reports, "found": found, "before": before, "targets": targets, "cache": cache, "out": out,
               "decoy": str(decoy)}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def status(report, item):
    return next(i["status"] for i in report["items"] if i["id"] == item)


def test_the_batch_is_graded_with_the_kernel_as_an_unprivileged_user(searched):
    assert searched["proc"].returncode == 0, searched["proc"].stderr[-2000:]
    assert "2 graded, 0 refused, 0 failed" in searched["proc"].stdout
    for report in searched["reports"].values():
        isolation = report["isolation"]
        assert isolation["tool"] == "unprivileged-user" and isolation["filesystem"] and not isolation["network"]
        assert isolation["uid"] not in (None, 0)
        assert "bwrap: setting up uid map: Permission denied" in isolation["notes"]
    assert searched["found"]["uid"] == searched["reports"]["search"]["isolation"]["uid"]
    assert 0 not in searched["found"]["groups"]


def test_the_paths_it_knows_were_open_to_all_and_are_closed_to_the_kernel(searched):
    assert all(searched["before"].values())  # world-readable before the run: the grader had to hide them
    assert searched["found"]["stolen"] == {}
    for label, path in searched["targets"].items():
        assert _closed_to_others(path), label


def test_a_search_of_the_whole_file_system_finds_nothing_of_this_grader(searched):
    found = searched["found"]
    assert searched["decoy"] in found["readable"]  # the walk reads what it may (other checkouts on this machine too)
    hidden = [PACKAGE_ROOT, searched["cache"], searched["out"]]
    assert [p for p in found["readable"] if any(_inside(p, h) for h in hidden)] == []
    assert str(PACKAGE_ROOT / "reference") not in found["found"]  # not even listed
    assert [p for p in found["caches"] if any(_inside(p, h) for h in hidden)] == []


def test_wrong_items_still_fail_and_right_ones_pass(searched):
    search, neighbour = searched["reports"]["search"], searched["reports"]["neighbour"]
    assert status(search, "naive_relu") == "fail" and status(search, "naive_add") == "fail"
    assert status(neighbour, "naive_relu") == "pass"

"""The isolation mechanisms' parts, without a kernel: which one is chosen and why, what bubblewrap binds, what the
unprivileged user's permissions hide, and the users leased to kernels."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from grader.kernel import processes, sandbox, unprivileged
from grader.kernel.sandbox import Isolation, Tool


def others(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode) & 0o007


@pytest.fixture
def fresh_trials():
    sandbox.reset()
    yield
    sandbox.reset()


def fake_trials(monkeypatch, bubblewrap: str | None, unprivileged_user: str | None) -> None:
    """Trials that fail with the given reason (None: they pass)."""
    def bwrap():
        return (None, bubblewrap) if bubblewrap else (Isolation(tool=Tool.bubblewrap, network=True, filesystem=True, processes=True), "")

    def user():
        return (None, unprivileged_user) if unprivileged_user else (Isolation(tool=Tool.unprivileged_user, filesystem=True,
                                                                              notes="as a user of its own"), "")
    monkeypatch.setattr(sandbox, "_bubblewrap", bwrap)
    monkeypatch.setattr(sandbox, "_unprivileged", user)


def test_the_strongest_mechanism_that_works_is_chosen_and_the_notes_say_why_not_a_stronger_one(monkeypatch, fresh_trials):
    fake_trials(monkeypatch, None, None)
    assert sandbox.available().tool == Tool.bubblewrap
    sandbox.reset()
    fake_trials(monkeypatch, "bubblewrap cannot create namespaces here (bwrap: setting up uid map: Permission denied)", None)
    chosen = sandbox.available()
    assert chosen.tool == Tool.unprivileged_user and chosen.filesystem and not chosen.network
    assert chosen.notes == ("bubblewrap cannot create namespaces here (bwrap: setting up uid map: Permission denied); "
                            "as a user of its own")


def test_a_mechanism_a_kernel_did_not_start_in_is_not_used_again(monkeypatch, fresh_trials):
    fake_trials(monkeypatch, None, None)
    sandbox.demote(Tool.bubblewrap, "Kernel died before replying to kernel_info")
    assert sandbox.available().tool == Tool.unprivileged_user
    sandbox.demote(Tool.unprivileged_user, "the preamble failed: ImportError: numpy")
    last = sandbox.available()
    assert last.tool == Tool.none
    assert last.notes == ("the kernel did not start in bubblewrap (Kernel died before replying to kernel_info); the kernel did not "
                          "start in unprivileged-user (the preamble failed: ImportError: numpy): the kernel shares the network "
                          "and file system")
    sandbox.demote(Tool.none, "never")  # there is nothing weaker: none stays
    assert sandbox.available().tool == Tool.none


def test_without_root_or_bubblewrap_the_report_says_the_kernel_shares_everything(monkeypatch, fresh_trials):
    fake_trials(monkeypatch, "bubblewrap (bwrap) is not installed", None)
    monkeypatch.setattr(sandbox, "_unprivileged", lambda: (None, ""))  # what a student's laptop answers: not root
    chosen = sandbox.available()
    assert chosen.tool == Tool.none
    assert chosen.notes == "bubblewrap (bwrap) is not installed: the kernel shares the network and file system"
    monkeypatch.setenv("GRADER_SANDBOX", "0")
    assert "GRADER_SANDBOX=0" in sandbox.available().notes


def test_the_isolation_field_names_the_mechanism_and_the_uid():
    field = Isolation(tool=Tool.unprivileged_user, filesystem=True, uid=998).model_dump(mode="json")
    assert field["tool"] == "unprivileged-user" and field["uid"] == 998
    assert Isolation.model_validate({"tool": "bubblewrap", "network": True}).tool == Tool.bubblewrap  # reports of before still load
    schema = Isolation.model_json_schema()
    assert set(schema["$defs"]["Tool"]["enum"]) == {"bubblewrap", "unprivileged-user", "none"}


def test_the_interpreters_paths_are_its_own_not_the_graders_pythonpath(tmp_path, monkeypatch, fresh_trials):
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # e.g. a checkout of the grader: the kernel runs without it
    paths = sandbox.environment_paths()
    assert Path(sys.base_prefix).resolve() in paths and Path(sys.prefix).resolve() in paths
    assert Path(sys.executable).resolve().parent in paths
    assert any(p.name in ("site-packages", "dist-packages") for p in paths)
    assert tmp_path not in paths and Path("/") not in paths


def test_bubblewrap_binds_an_interpreter_under_tmp_back_over_the_private_tmp(tmp_path, monkeypatch):
    venv = tmp_path / "venv"  # tmp_path is under /tmp, as `python -m venv /tmp/venv-x` is
    package = tmp_path / "checkout"
    for d in (venv / "lib" / "site-packages", package / "grader" / "data", package / ".venv", Path(tmp_path / "work")):
        d.mkdir(parents=True)
    monkeypatch.setattr(sandbox, "environment_paths", lambda: [venv, venv / "lib" / "site-packages", package / ".venv", package])
    args = sandbox.bwrap_prefix(tmp_path / "work", hidden=[package], readable=[package / "grader" / "data"])
    pairs = [(args[i], args[i + 1]) for i in range(len(args) - 1)]
    assert args.index("/tmp") < args.index(str(venv))  # bound after the private /tmp is mounted, so it shows through
    assert ("--ro-bind", str(venv)) in pairs and ("--ro-bind", str(venv / "lib" / "site-packages")) not in pairs  # once, with what is in it
    assert ("--ro-bind", str(package / ".venv")) in pairs and ("--ro-bind", str(package / "grader" / "data")) in pairs
    assert ("--ro-bind", str(package)) not in pairs  # the checkout on sys.path is not shown again
    assert ("--bind", str(tmp_path / "work")) in pairs


def make_checkout(root: Path) -> Path:
    for d in ("grader/data", "grader/shims", "grader/__pycache__", "reference", "cache/expected"):
        (root / d).mkdir(parents=True)
    for f in ("grader/data/mnist.npz", "grader/shims/colab.py", "grader/expected.py", "grader/__pycache__/expected.pyc",
              "reference/from_scratch.py", "README.md", "cache/expected/answers.json", "cache/svhn.npz"):
        (root / f).write_text("x")
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)  # a fresh checkout: readable by everyone
    (root / "grader" / "link").symlink_to("/etc")
    return root


def test_the_hidden_paths_are_closed_to_other_users_but_for_the_way_to_what_the_kernel_needs(tmp_path):
    root = make_checkout(tmp_path / "checkout")
    keep = [root / "grader" / "data", root / "grader" / "shims", root / "cache" / "svhn.npz"]
    problems = unprivileged.hide([root, root / "cache"], keep, workdir=tmp_path / "work")
    assert problems == []
    assert others(root) == others(root / "grader") == others(root / "cache") == 0o001  # passable, not listable
    for kept in keep:
        assert others(kept) in (0o005, 0o004)  # untouched
    for closed in ("grader/expected.py", "grader/__pycache__", "reference", "README.md", "cache/expected"):
        assert others(root / closed) == 0, closed
    assert stat.S_IMODE((root / "grader" / "__pycache__").stat().st_mode) == 0o750  # the owner (the grader) still reads it
    assert os.readlink(root / "grader" / "link") == "/etc" and others(Path("/etc")) == 0o005  # a link's target is not changed


def test_a_hidden_path_the_kernel_needs_is_left_and_said(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    before = others(tmp_path), others(work)
    problems = unprivileged.hide([tmp_path], [], workdir=work)
    assert problems == [f"{tmp_path} is not hidden (the kernel needs it)"]
    assert (others(tmp_path), others(work)) == before
    assert unprivileged.hide([Path("/")], [], workdir=work) == ["/ is not hidden (the kernel needs it)"]


root_only = pytest.mark.skipif(not unprivileged.is_root(), reason="kernels run as other users only when the grader is root")


@root_only
def test_each_kernel_leases_a_user_of_its_own_and_what_ran_as_it_before_is_killed():
    first, second = unprivileged.lease(), unprivileged.lease()
    try:
        assert first.user.uid != second.user.uid and first.user.gid == second.user.gid
        assert 0 not in (first.user.uid, first.user.gid, second.user.uid)
        left = subprocess.Popen(["sleep", "60"], user=second.user.uid, group=second.user.gid, extra_groups=[])
        uid = second.user.uid
        second.release()
        again = unprivileged.lease()  # the slot just freed
        try:
            assert again.user.uid == uid
            assert left.wait(timeout=5) == -9  # a process left by the user's last kernel does not meet the next one
            assert processes.of_user(uid) == {}
        finally:
            again.release()
    finally:
        first.release()
        second.release()

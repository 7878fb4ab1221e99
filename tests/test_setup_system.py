"""The README's test command on a fresh machine: scripts/setup-system.sh installs the system packages the suite needs,
and .ci/run runs the README's command as written."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "setup-system.sh"


def fake_bin(tmp_path: Path, *commands: str) -> Path:
    """A PATH with `id` and `sh`, and stand-ins for `commands` that log their arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for real in ("id", "sh"):
        (bin_dir / real).symlink_to(subprocess.run(["sh", "-c", f"command -v {real}"], capture_output=True, text=True).stdout.strip())
    for name in commands:
        (bin_dir / name).write_text(f'#!/bin/sh\necho "{name} $*" >> {tmp_path}/calls\n')
        (bin_dir / name).chmod(0o755)
    return bin_dir


def run(bin_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(bin_dir / "sh"), str(SCRIPT)], capture_output=True, text=True, env={"PATH": str(bin_dir)})


def test_missing_packages_are_installed_with_apt_get(tmp_path):
    proc = run(fake_bin(tmp_path, "apt-get"))
    assert proc.returncode == 0, proc.stderr
    calls = (tmp_path / "calls").read_text().splitlines()
    if os.getuid() == 0:
        assert calls == ["apt-get update -qq", "apt-get install -y -qq chromium bubblewrap"]
    assert "setup-system: apt-get install chromium bubblewrap" in proc.stderr


def test_nothing_is_installed_when_both_are_there(tmp_path):
    proc = run(fake_bin(tmp_path, "apt-get", "chromium", "bwrap"))
    assert proc.returncode == 0 and proc.stderr == ""
    assert not (tmp_path / "calls").exists()


def test_without_apt_get_it_says_what_to_install(tmp_path):
    proc = run(fake_bin(tmp_path, "bwrap"))
    assert proc.returncode == 1
    assert proc.stderr == ("setup-system: install chromium with your system's package manager (no apt-get here); "
                           "the feedback-page tests need chromium\n")


def test_ci_runs_the_readme_command_unchanged():
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"Run the whole test suite.*?```sh\n(.+?)\n```", readme, re.S).group(1)
    assert command.startswith("sh scripts/setup-system.sh && ")
    assert command in (ROOT / ".ci" / "run").read_text().splitlines()

"""The adversarial suite: every attack notebook graded in one batch, verdicts and limits checked."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import uuid

import pytest
from conftest import live_processes

from .attacks import ATTACKS, HONEST_SCORE, MARKER, write_all

pytestmark = pytest.mark.kernel  # every test here starts a kernel or a grader process

TIME_LIMIT_S = 60


def _environ_has(pid: str, tag: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return tag in f.read()
    except OSError:
        return False


def survivors(tag: str) -> list[str]:
    """Processes of the run still alive: by the tag in their environment or the marker in their command line."""
    return [cmdline.replace(b"\0", b" ").decode(errors="replace")[:120] for pid, cmdline in live_processes().items()
            if MARKER.encode() in cmdline or _environ_has(str(pid), tag.encode())]


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    src = tmp_path_factory.mktemp("attacks")
    out = tmp_path_factory.mktemp("attack-reports")
    write_all(src)
    received = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(1)

    def listen():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                received.append(conn.recv(100))
                conn.close()
            except OSError:
                continue

    stop = threading.Event()
    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    tag = f"adversary-{uuid.uuid4().hex}"
    sentinel = tmp_path_factory.mktemp("sentinel") / "unpickled"
    env = dict(os.environ, ADVERSARY_TAG=tag, ADVERSARY_SENTINEL=str(sentinel), ADVERSARY_PORT=str(server.getsockname()[1]))
    proc = subprocess.run([sys.executable, "-m", "grader", str(src), "-a", "dlwp-ch2", "--out", str(out), "--workers", "2",
                           "--cell-timeout", "10", "--memory-limit", "1500"], capture_output=True, text=True, env=env, timeout=900)
    stop.set()
    thread.join()
    server.close()
    reports = {name: json.loads((out / f"{name}.json").read_text()) for name in ATTACKS}
    return {"proc": proc, "reports": reports, "out": out, "survivors": survivors(tag), "sentinel": sentinel, "received": received}


def status(report, item):
    return next(i["status"] for i in report["items"] if i["id"] == item)


def test_the_batch_survives_every_attack(attacked):
    assert attacked["proc"].returncode == 0, attacked["proc"].stderr[-2000:]
    assert "16 graded, 0 refused, 0 failed" in attacked["proc"].stdout


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_verdict_and_limits(attacked, attack):
    report = attacked["reports"][attack]
    assert report["status"] == "graded"
    assert report["timing"]["total_s"] < TIME_LIMIT_S
    assert status(report, "naive_relu") == "pass" and status(report, "naive_add") == "pass"
    assert status(report, "naive_vector_dot") != "pass"
    assert report["score"] <= HONEST_SCORE


def test_no_process_of_any_run_is_left(attacked):
    assert attacked["survivors"] == []


def test_nothing_is_unpickled(attacked):
    assert not attacked["sentinel"].exists()


def test_what_each_limit_says(attacked):
    reports = attacked["reports"]
    assert reports["infinite_loop"]["cells"]["timed_out"] == [1]
    for attack in ("os_exit", "segfault", "memory_bomb"):
        assert reports[attack]["cells"]["kernel_died_at"] == 1, attack
        assert [c["cell"] for c in reports[attack]["cells"]["removed"]] == [1]
    assert "memory limit" in reports["memory_bomb"]["cells"]["removed"][0]["evalue"]
    assert reports["huge_output"]["cells"]["output_dropped_bytes"] > 150_000_000
    assert (attacked["out"] / "huge_output.json").stat().st_size < 200_000
    big = reports["big_file"]["cells"]["errors"]
    assert big and "File too large" in big[0]["evalue"]
    assert [e["cell"] for e in reports["patched_traceback"]["cells"]["errors"]] == [1]


def test_network_reaches_nothing_when_isolated(attacked):
    isolation = attacked["reports"]["network"]["isolation"]
    if isolation["network"]:
        assert attacked["received"] == []
    else:
        assert isolation["tool"] in ("none", "unprivileged-user") and "shares the network" in isolation["notes"]

"""Expected observations: the reference solution's answers to the same probes.

They are computed in a clean Python process (never in a kernel that ran
student code, which may have patched numpy), with the same environment as
the kernel, while the kernel runs the notebook; and cached on disk, keyed by
everything they depend on, so a batch computes them once.

Run as `python -m grader.expected` it is that clean process: requests on
stdin, responses on stdout.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

from . import __version__
from .atomic import write_atomic
from .data import dataset_digest
from .kernel import agent
from .probes import context, registry
from .probes.executor import LocalExecutor
from .probes.reference_code import reference_source

PROBES_DIR = Path(__file__).resolve().parent / "probes"


@cache
def probe_source(probe: str) -> str:
    return (PROBES_DIR / f"{probe.rsplit('.', 1)[0]}.py").read_text(encoding="utf-8")


@cache
def harness_source() -> str:
    """The code every probe runs through, on both sides: the agent, the context, the request runner."""
    return "".join(Path(m.__file__).read_text(encoding="utf-8") for m in (agent, context, registry))


@cache
def _tensorflow_version() -> str:
    """Read once per process (a scan of the installed distributions: a batch worker asked it per submission)."""
    return importlib.metadata.version("tensorflow")


def cache_dir() -> Path:
    root = os.environ.get("GRADER_CACHE_DIR") or os.path.join(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "grader")
    return Path(root) / "expected"


def cache_key(requests: list[dict], env: dict[str, str]) -> str:
    """Everything the reference answers depend on: requests, code, data, versions."""
    digest = hashlib.sha256()
    parts = [__version__, harness_source(), env.get("TF_USE_LEGACY_KERAS", ""), _tensorflow_version()]
    for request in requests:
        parts += [json.dumps({k: v for k, v in request.items() if k != "data"}, sort_keys=True),
                  reference_source(request["reference"]), probe_source(request["probe"])]
        parts += [dataset_digest(name) for name in sorted(request.get("data", {}))]
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:32]


class ExpectedAnswers:
    """Starts the reference computation (unless cached) and hands back its answers."""

    def __init__(self, requests: list[dict], env: dict[str, str]):
        self.requests = requests
        self.path = cache_dir() / f"{cache_key(requests, env)}.json"
        self._process: subprocess.Popen | None = None
        self._answers: dict | None = None
        if self.path.is_file():
            try:
                self._answers = json.loads(self.path.read_text())
            except (OSError, ValueError):
                self._answers = None
        if self._answers is None and requests:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "grader.expected"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, env=env, text=True, cwd=tempfile.gettempdir(),
            )
            self._process.stdin.write(json.dumps(requests))
            self._process.stdin.close()

    @property
    def cached(self) -> bool:
        return self._process is None

    def answers(self) -> dict[str, dict]:
        if self._answers is None:
            if self._process is None:
                return {}
            out = self._process.stdout.read()
            err = self._process.stderr.read()
            if self._process.wait() != 0:
                raise RuntimeError(f"the reference computation failed: {err.strip().splitlines()[-1:] or '?'}")
            self._answers = json.loads(out)
            self._store()
        return self._answers

    def _store(self) -> None:
        write_atomic(self.path, json.dumps(self._answers))


def answer(request: dict) -> dict:
    """The reference's answer to one probe request: the same request, run on a fresh copy of the reference module."""
    namespace: dict = {"__name__": f"reference_{request['reference']}"}
    exec(compile(reference_source(request["reference"]), f"<reference {request['reference']}>", "exec"), namespace)
    response = registry.run_request(request, LocalExecutor(namespace), reference_side=True)
    response["found"] = request["reference_target"]
    return response


def main() -> None:
    import random

    import numpy as np

    requests = json.loads(sys.stdin.read())
    answers = {}
    for request in requests:
        random.seed(0)
        np.random.seed(0)
        answers[request["item"]] = answer(request)
    sys.stdout.write(json.dumps(answers))


if __name__ == "__main__":
    main()

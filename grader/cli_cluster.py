"""The batch command's cluster side: where a batch runs (`--executor slurm|kubernetes`, `--shard`, `--merge`)
and what a stopped batch says. Kept apart from `grader.cli` so the command's module stays thin."""

from __future__ import annotations

import contextlib
import signal
from dataclasses import dataclass

from .lifetime import BatchStopped

CLUSTERS = ("slurm", "kubernetes")


class ClusterError(Exception):
    """A cluster executor cannot start (one sentence): grader.clusters' own, said without importing Dask."""


@dataclass(frozen=True)
class BatchPlace:
    """The batch options about where and in what parts it runs."""

    shard: str | None = None  # "I/N"
    merge: bool = False
    image: str | None = None  # --executor kubernetes
    volume: str | None = None  # --executor kubernetes: CLAIM:/PATH


@contextlib.contextmanager
def cluster_for(executor: str, workers: int, place: BatchPlace):
    """The Dask cluster a `slurm` or `kubernetes` batch runs on (stopped at the end); None for the other executors."""
    if executor not in CLUSTERS:
        yield None
        return
    try:
        from . import clusters
    except ImportError as exc:
        raise ClusterError(f"--executor {executor} needs the cluster extra: pip install -e '.[cluster]' ({exc.name} is missing)") from None
    try:
        with clusters.open_cluster(executor, workers, image=place.image, volume=place.volume) as cluster:
            yield cluster
    except clusters.ClusterError as exc:
        raise ClusterError(str(exc)) from None


def stopped_sentence(stopped: BatchStopped) -> str:
    """What a stopped batch says: by what, what is left, and how to finish."""
    name = signal.Signals(stopped.signum).name
    if not stopped.left:
        return f"stopped by {name}; every submission has its report"
    shown = ", ".join(stopped.left[:10]) + (", …" if len(stopped.left) > 10 else "")
    return (f"stopped by {name}: {len(stopped.left)} submission(s) left to grade ({shown}); "
            f"every finished report is kept: run the same command again to grade the rest")

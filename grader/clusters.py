"""Dask clusters on the machines instructors have: Slurm (dask-jobqueue) and Kubernetes (the Dask operator).

`grade DIR --executor slurm|kubernetes` starts one of these for the batch,
sends it the same grading tasks as `--executor dask`, and stops it at the end.
What the grader needs of a cluster is set here, the same for both: one
single-threaded worker process per core (each runs one kernel at a time),
memory for a TensorFlow kernel per core, and the reference-answer cache on
the file system the workers share (the batch computes it once, before the
workers start). Everything a site decides (partition, account, wall time,
namespace, …) comes from Dask's own configuration
(`~/.config/dask/jobqueue.yaml`, `DASK_JOBQUEUE__SLURM__ACCOUNT=…`,
`DASK_KUBERNETES__NAMESPACE=…`).

Install with `pip install -e '.[cluster]'` (dask-jobqueue, dask-kubernetes).
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shlex
from pathlib import Path

import dask

from .expected import cache_dir

class ClusterError(Exception):
    """The cluster cannot be started as asked (one sentence; the command line says it as its own ClusterError)."""


MEMORY_PER_WORKER_GB = 4  # one kernel per worker: a TensorFlow kernel training a small model fits


def _environment(cache: Path | None = None) -> dict[str, str]:
    """What each worker must see: the shared reference-answer cache (so no worker recomputes it)."""
    return {"GRADER_CACHE_DIR": str((cache or cache_dir().parent).resolve())}


def slurm_cluster(workers: int, *, cores: int | None = None, memory: str | None = None, cache: Path | None = None, **options):
    """A `dask_jobqueue.SLURMCluster` of jobs with one single-threaded worker per core, not yet scaled.

    `cores` per job (default: `jobqueue.slurm.cores` of Dask's configuration, else 2),
    `memory` per job (default: the configuration's, else 4 GB per core); any other
    SLURMCluster option (`queue`, `account`, `walltime`, `job_extra_directives`, …)
    passes through. No Slurm is needed until the cluster is scaled.
    """
    from dask_jobqueue import SLURMCluster

    cores = cores or dask.config.get("jobqueue.slurm.cores", None) or min(2, workers)
    memory = memory or dask.config.get("jobqueue.slurm.memory", None) or f"{MEMORY_PER_WORKER_GB * cores}GB"
    prologue = [f"export {name}={shlex.quote(value)}" for name, value in _environment(cache).items()]
    prologue += list(options.pop("job_script_prologue", None) or dask.config.get("jobqueue.slurm.job-script-prologue", None) or [])
    return SLURMCluster(cores=cores, processes=cores, memory=memory, job_name=options.pop("job_name", "grader"),
                        job_script_prologue=prologue, **options)


def kubernetes_spec(workers: int, image: str, *, volume: str | None = None, name: str | None = None,
                    memory_gb: int = MEMORY_PER_WORKER_GB, cache: Path | None = None) -> dict:
    """The `DaskCluster` resource (dask-kubernetes operator) of `workers` single-threaded worker pods.

    `image` must have the grader installed (`pip install grader[cluster]`); `volume`
    is `CLAIM:PATH`, a PersistentVolumeClaim mounted at PATH in every worker,
    where the submissions, the `--out` directory and the cache must be (the
    `grade` command runs where the same claim is mounted at the same path, e.g.
    a JupyterHub pod).
    """
    from dask_kubernetes.operator import make_cluster_spec

    env = _environment(cache)
    spec = make_cluster_spec(name=name or f"grader-{getpass.getuser()}".lower().replace("_", "-"), image=image,
                             n_workers=workers, env=env,
                             resources={"requests": {"cpu": "1", "memory": f"{memory_gb}Gi"}, "limits": {"memory": f"{memory_gb}Gi"}})
    worker = spec["spec"]["worker"]["spec"]
    worker["containers"][0]["args"] += ["--nthreads", "1", "--memory-limit", "0"]  # the grader caps each kernel itself
    if volume is not None:
        claim, sep, path = volume.partition(":")
        if not (claim and sep and path.startswith("/")):
            raise ClusterError(f"--volume {volume!r} is not CLAIM:/PATH (a PersistentVolumeClaim and where to mount it)")
        worker["volumes"] = [{"name": "grader-shared", "persistentVolumeClaim": {"claimName": claim}}]
        worker["containers"][0]["volumeMounts"] = [{"name": "grader-shared", "mountPath": path}]
    return spec


@contextlib.contextmanager
def open_cluster(kind: str, workers: int, *, image: str | None = None, volume: str | None = None):
    """Start a cluster of `kind` (`slurm`, `kubernetes`) with `workers` worker processes; stop it on leaving."""
    if kind == "slurm":
        cluster = slurm_cluster(workers)
        cluster.scale(n=workers)  # jobs of `cores` workers each, submitted with sbatch
    elif kind == "kubernetes":
        image = image or os.environ.get("DASK_KUBERNETES__IMAGE")
        if not image:
            raise ClusterError("--executor kubernetes needs --image IMAGE: a container image with the grader installed")
        from dask_kubernetes.operator import KubeCluster

        cluster = KubeCluster(custom_cluster_spec=kubernetes_spec(workers, image, volume=volume))
    else:
        raise ClusterError(f"unknown cluster kind {kind!r}")
    try:
        yield cluster
    finally:
        cluster.close()

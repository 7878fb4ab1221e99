"""The README's cluster recipes, checked on the closest local stand-in: the Slurm job script dask-jobqueue would
submit, the DaskCluster resource the Kubernetes operator would create, and the command's refusals."""

from __future__ import annotations

import re
import shlex

import dask
import dask_jobqueue  # noqa: F401  (loads its configuration defaults before the tests set site values over them)
import pytest
from typer.testing import CliRunner

from grader.cli import app
from grader.clusters import kubernetes_spec, slurm_cluster


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cluster") / "cache"


@pytest.fixture(scope="module")
def job_script(cache):
    """The job script of `--executor slurm --workers 4`, with the site's account and partition from Dask's config."""
    with dask.config.set({"jobqueue.slurm.account": "cs101", "jobqueue.slurm.queue": "short", "jobqueue.slurm.walltime": "02:00:00"}):
        cluster = slurm_cluster(4, cache=cache)
        try:
            yield cluster.job_script(), cluster
        finally:
            cluster.close()


def test_slurm_jobs_run_one_single_threaded_worker_per_core(job_script):
    script, cluster = job_script
    directives = dict(re.findall(r"^#SBATCH (\S+)\s*(\S*)$", script, re.M))
    assert directives["--cpus-per-task=2"] == "" and directives["--mem=8G"] == ""
    command = next(line for line in script.splitlines() if "distributed.cli.dask_worker" in line)
    args = shlex.split(command)
    assert args[args.index("--nworkers") + 1] == "2" and args[args.index("--nthreads") + 1] == "1"
    assert args[args.index("distributed.cli.dask_worker") + 1] == cluster.scheduler_address
    assert "--nanny" in args  # a worker that dies is restarted, and its kernels die with it


def test_slurm_site_settings_come_from_dask_config(job_script):
    script, _ = job_script
    assert "#SBATCH -A cs101" in script and "#SBATCH -p short" in script and "#SBATCH -t 02:00:00" in script
    assert "#SBATCH -J grader" in script


def test_slurm_workers_share_the_reference_cache(job_script, cache):
    script, _ = job_script
    export = f"export GRADER_CACHE_DIR={cache}"
    assert export in script
    assert script.index(export) < script.index("dask_worker")


def test_kubernetes_spec_has_single_threaded_workers_on_the_shared_claim(tmp_path):
    spec = kubernetes_spec(6, "registry.example/grader:0.2", volume="class-pvc:/shared", name="grader-cs101",
                           cache=tmp_path / "cache")
    assert spec["kind"] == "DaskCluster" and spec["apiVersion"].startswith("kubernetes.dask.org/")
    assert spec["metadata"]["name"] == "grader-cs101"
    worker = spec["spec"]["worker"]
    assert worker["replicas"] == 6
    pod = worker["spec"]
    container = pod["containers"][0]
    assert container["image"] == "registry.example/grader:0.2"
    args = container["args"]
    assert args[args.index("--nthreads") + 1] == "1"
    assert container["resources"]["requests"]["cpu"] == "1"
    assert {"name": "GRADER_CACHE_DIR", "value": str(tmp_path / "cache")} in container["env"]
    assert pod["volumes"] == [{"name": "grader-shared", "persistentVolumeClaim": {"claimName": "class-pvc"}}]
    assert container["volumeMounts"] == [{"name": "grader-shared", "mountPath": "/shared"}]
    assert spec["spec"]["scheduler"]["spec"]["containers"][0]["image"] == "registry.example/grader:0.2"


@pytest.mark.parametrize("args, sentence", [
    (["--executor", "kubernetes"], "grade: --executor kubernetes needs --image IMAGE: a container image with the grader installed\n"),
    (["--executor", "kubernetes", "--image", "g:1", "--volume", "pvc"],
     "grade: --volume 'pvc' is not CLAIM:/PATH (a PersistentVolumeClaim and where to mount it)\n"),
    (["--executor", "lsf"], "grade: --executor is `local`, `slurm`, `kubernetes`, or `dask` with --scheduler ADDRESS\n"),
    (["--shard", "4/3"], "grade: --shard 4/3: I must be between 1 and N\n"),
    (["--shard", "two"], "grade: --shard 'two' is not I/N (e.g. 2/8)\n"),
    (["--shard", "1/2", "--merge"], "grade: --merge reads every shard's reports: give it without --shard\n"),
    (["--shard", "1/2", "--html-dir", "pages"], "grade: --html-dir and --overrides go with --merge, which sees every shard's reports\n"),
])
def test_what_cannot_be_done_is_one_sentence(tmp_path, monkeypatch, args, sentence):
    monkeypatch.delenv("DASK_KUBERNETES__IMAGE", raising=False)
    (tmp_path / "subs").mkdir()
    result = CliRunner().invoke(app, [str(tmp_path / "subs"), "-a", "dlwp-ch2", "--out", str(tmp_path / "out"), *args])
    assert result.exit_code == 2
    assert result.stderr == sentence


SBATCH = '''#!/bin/sh
# stand-in for Slurm's sbatch: run the job script on this machine, in a session of its own (the job id)
job=$(mktemp "{jobs}/job.XXXXXX")
cp "$1" "$job"
setsid bash "$job" > "$job.log" 2>&1 < /dev/null &
echo "Submitted batch job $!"
'''
SCANCEL = '''#!/bin/sh
for job in "$@"; do kill -TERM -- "-$job" 2>/dev/null; done
exit 0
'''


@pytest.mark.kernel
def test_executor_slurm_grades_a_batch_through_sbatch(tmp_path):
    """`--executor slurm` end to end, with sbatch and scancel standing in for Slurm: the jobs' workers grade, then go."""
    import os
    import subprocess
    import sys
    import time

    from conftest import live_processes
    from numpy_batch import numpy_batch

    bin_dir, jobs = tmp_path / "bin", tmp_path / "jobs"
    bin_dir.mkdir()
    jobs.mkdir()
    for name, text in {"sbatch": SBATCH.format(jobs=jobs), "scancel": SCANCEL, "squeue": "#!/bin/sh\n"}.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    numpy_batch(tmp_path / "subs", 3)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    proc = subprocess.run([sys.executable, "-m", "grader", str(tmp_path / "subs"), "-a", "dlwp-ch2", "--out", str(tmp_path / "out"),
                           "--executor", "slurm", "--workers", "2"], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "3 graded, 0 refused, 0 failed" in proc.stdout
    scripts = [p for p in jobs.iterdir() if not p.name.endswith(".log")]
    assert len(scripts) == 1  # one job of two single-threaded workers, which joined the batch's scheduler
    assert (jobs / f"{scripts[0].name}.log").read_text().count("Registered to:") == 2
    assert re.search(r"dask_worker .*--nthreads 1 .*--nworkers 2 ", scripts[0].read_text())
    with open(tmp_path / "out" / "grades.csv") as f:
        assert len(f.read().splitlines()) == 4
    deadline = time.monotonic() + 15  # scancel, like Slurm's, returns before the job has ended
    while (job := [c for c in live_processes().values() if str(scripts[0]).encode() in c]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not job  # the job is gone

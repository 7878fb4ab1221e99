"""Time a batch of 20 submissions against 20 sequential bare nbclient executions; or a numpy-only batch of 10.

The 20 are copies and single-defect variants of the DLwP walkthrough (see
tests/variants.py) and the week-3 notebook's questions. Prints the wall
time of both, submissions per minute, the ratio, and the batch's peak
memory (the sum over the grader's process tree, sampled every 0.5 s).
The batch runs twice: with kernels started ahead of use (the default) and
with `--no-warm`, each kernel started on demand.

`--numpy` times the other kind of class: 10 small numpy-only submissions
(tests/numpy_batch.py), where the kernels' start, not the notebooks, is most
of the work (goal: ≤ 4 s on 2 workers). Each mode runs `--repeat` times
(default 3) and the median is printed, with where the time went: until the
first report (start of the command, workers and first kernels), the
submissions, and after the last report (gradebook, similarity, summary).

Each figure is printed with the machine's load average (1 min) when it was
taken: on a shared machine, compare only figures taken at a similar load.

    python benchmarks/bench_batch.py [--workers N] [--no-bare] [--warm-only]
    python benchmarks/bench_batch.py --numpy [--workers N] [--repeat 3] [--warm-only]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_single import BARE  # noqa: E402
from numpy_batch import numpy_batch  # noqa: E402
from variants import FAILS, base, variant  # noqa: E402


def make_batch(directory: Path) -> list[Path]:
    names = sorted(FAILS)
    notebooks = [base()] + [variant(n) for n in names]
    notebooks += [base() for _ in range(20 - len(notebooks))]
    paths = []
    for i, nb in enumerate(notebooks[:20]):
        path = directory / f"sub{i:02d}.ipynb"
        nbformat.write(nb, path)
        paths.append(path)
    return paths


def tree_rss(pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    import os

    total, stack = 0, [pid]
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry))
            except OSError:
                pass
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * 4096
        except OSError:
            pass
        stack += children.get(p, [])
    return total


def timed_batch(command: list[str]) -> tuple[float, int, str]:
    """Wall time, peak memory of the process tree, and the summary's line about kernels started ahead."""
    peak = [0]
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss(proc.pid))
            time.sleep(0.5)

    sampler = threading.Thread(target=sample)
    sampler.start()
    out, _ = proc.communicate()
    seconds = time.perf_counter() - start  # the batch's own time: not the sampler's last sleep after it ended
    sampler.join()
    line = next((l for l in out.splitlines() if l.startswith("kernels started ahead")), "")
    return seconds, peak[0], line


def phases(out: Path, started: float, ended: float) -> str:
    """Until the first report, between first and last, after the last (from the reports' file times)."""
    times = sorted(p.stat().st_mtime for p in out.glob("*.json"))
    return (f"first report after {times[0] - started:.2f} s, last {times[-1] - started:.2f} s, "
            f"done {ended - started:.2f} s")


def load() -> str:
    import os

    return f"load {os.getloadavg()[0]:.1f}"


def numpy_main(args) -> None:
    import statistics

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths = numpy_batch(tmp / "subs", 10)
        print("warming the reference cache …", flush=True)
        subprocess.run([sys.executable, "-m", "grader", str(paths[0]), "-a", "dlwp-ch2"], check=True, capture_output=True)
        for mode in ("--warm",) if args.warm_only else ("--warm", "--no-warm"):
            walls = []
            for run in range(args.repeat):
                out = tmp / f"out{mode}{run}"
                command = [sys.executable, "-m", "grader", str(tmp / "subs"), "-a", "dlwp-ch2", "--out", str(out), mode,
                           "--workers", str(args.workers or 2)]
                started = time.time()
                seconds, peak, summary = timed_batch(command)
                walls.append(seconds)
                print(f"  {mode} run {run + 1}: {seconds:.2f} s ({phases(out, started, started + seconds)}); {summary}; {load()}",
                      flush=True)
            print(f"numpy-only batch of 10 {mode}: median {statistics.median(walls):.2f} s, best {min(walls):.2f} s "
                  f"(goal ≤ 4 s)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--numpy", action="store_true", help="the numpy-only batch of 10 instead of the DL batch of 20")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each mode (--numpy)")
    parser.add_argument("--warm-only", action="store_true", help="only the batch with kernels started ahead (the default)")
    parser.add_argument("--no-bare", action="store_true", help="DL batch: skip the 20 sequential bare executions")
    args = parser.parse_args()
    if args.numpy:
        return numpy_main(args)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "subs").mkdir()
        paths = make_batch(tmp / "subs")
        print("warming the reference cache …", flush=True)
        subprocess.run([sys.executable, "-m", "grader", str(paths[0]), "-a", "dlwp-ch2"], check=True, capture_output=True)
        times = {}
        for mode in ("--warm",) if args.warm_only else ("--warm", "--no-warm"):
            command = [sys.executable, "-m", "grader", str(tmp / "subs"), "-a", "dlwp-ch2", "--out", str(tmp / f"out{mode}"), mode]
            if args.workers:
                command += ["--workers", str(args.workers)]
            times[mode], peak, summary = timed_batch(command)
            print(f"batch {mode}: {times[mode]:.1f} s, {60 * len(paths) / times[mode]:.1f} submissions/min, "
                  f"peak memory {peak / 2**30:.2f} GiB; {summary}; {load()}", flush=True)
        batch = times["--warm"]
        if "--no-warm" in times:
            print(f"kernels started ahead save {times['--no-warm'] - batch:.1f} s ({times['--no-warm'] / batch:.3f}x)", flush=True)
        if args.no_bare:
            return
        start = time.perf_counter()
        for path in paths:
            subprocess.run([sys.executable, "-c", BARE, str(path), "dlwp-ch2"], check=True, capture_output=True)
        bare = time.perf_counter() - start
    print(f"20 sequential bare executions: {bare:.1f} s; batch is {bare / batch:.2f}x faster")


if __name__ == "__main__":
    main()

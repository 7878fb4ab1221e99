"""Kernels started ahead of use: each runs one notebook, starts from the same state as one started on demand, and none is left behind."""

import pytest
import asyncio
import subprocess
import sys
import time

import nbformat
from conftest import kernel_pids

from grader.data import dataset_paths
from grader.grade import kernel_env
from grader.kernel.ahead import AheadBudget
from grader.kernel.pool import KernelPool
from grader.kernel.processes import alive
from grader.kernel.preamble import preamble_source
from grader.kernel.session import KernelSession, KernelSpec, Limits
from grader.notebook import named_modules
from grader.loader import load_assignment

pytestmark = pytest.mark.kernel  # every test here starts a kernel or a grader process

SPEC = KernelSpec.make(kernel_env(load_assignment("dlwp-ch2")), Limits(60, 120),
                       preamble_source(0, dataset_paths(["mnist"]), ["tensorflow"]))
SPEC_NUMPY = KernelSpec.make(dict(SPEC.env), Limits(60, 120), preamble_source(0, dataset_paths(["mnist"])))  # no preload
DRAWS = ("import random, sys\nimport numpy as np\nimport tensorflow as tf\n"
         "print(np.random.rand(), random.random(), float(tf.random.uniform(())), 'tensorflow' in sys.modules)")
NUMPY_DRAWS = "import random\nimport numpy as np\nprint(np.random.rand(), random.random())"


def notebook(*cells: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    return nb


def printed(result) -> list[str]:
    return [record.stdout.strip() for record in result.cells]


def waiting_kernels(pool: KernelPool, timeout: float = 120) -> list[int]:
    """The pool's kernels started ahead, once one has finished its preamble."""
    deadline = time.monotonic() + timeout
    while not (pids := pool.waiting()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return pids


def test_a_kernel_started_ahead_runs_one_notebook_from_the_same_state_and_is_stopped():
    before = kernel_pids()
    on_demand = asyncio.run(KernelSession(SPEC).run(notebook(DRAWS), []))
    pool = KernelPool()
    try:
        first = pool.run(SPEC, notebook("secret = 41", DRAWS), [])
        ahead = waiting_kernels(pool)
        assert len(ahead) == 1  # the next submission's kernel, started while `first` ran, preamble done
        second = pool.run(SPEC, notebook(DRAWS, "print('secret' in globals())"), [])
        assert not first.kernel_warm and second.kernel_warm
        assert second.kernel_pid == ahead[0] and second.kernel_wait_s < 1.0
        assert printed(second)[1] == "False"  # nothing from the previous notebook
        draws_first, draws_second, draws_cold = printed(first)[1].split(), printed(second)[0].split(), printed(on_demand)[0].split()
        assert first.kernel_pid != second.kernel_pid  # one kernel per notebook
        assert draws_second == draws_first == draws_cold  # same seeds, TensorFlow's included, started ahead or not
        assert draws_cold[-1] == "True"  # the preamble imported it: the notebook's import costs nothing

        third = pool.run(SPEC, notebook(NUMPY_DRAWS), [])  # never imports TensorFlow, though the kernel has it
        waiting = waiting_kernels(pool)
        other = KernelSpec.make(dict(SPEC.env), Limits(30, 120), preamble_source(0, dataset_paths(["mnist"])))  # no preload
        fourth = pool.run(other, notebook(NUMPY_DRAWS), [], ahead=False)
        assert third.kernel_warm and not fourth.kernel_warm
        assert printed(third) == printed(fourth)  # preloading TensorFlow changes no draw of a notebook that never imports it
        assert pool.waiting() == [] and not alive(waiting[0])  # a kernel for a configuration no longer wanted is stopped
        for result in (first, second, third, fourth):
            assert not alive(result.kernel_pid)
    finally:
        pool.close()
    assert kernel_pids() - before == set()


def test_two_workers_counting_together_keep_a_kernel_ready_for_each_submission_and_no_more():
    """Two pools (two workers of one batch) share a budget of three submissions: whichever begins one finds its
    kernel started; when none is left, nothing more starts, and one kernel at most waits for nothing."""
    import multiprocessing

    before = kernel_pids()
    budget = AheadBudget(multiprocessing.get_context("fork"))
    budget.expect(3)
    first, second = KernelPool(), KernelPool()
    first.budget = second.budget = budget
    try:
        first.prime(SPEC_NUMPY)
        second.prime(SPEC_NUMPY)
        runs = []
        for pool in (first, second, first):  # the first worker is free first twice: it begins two of the three
            runs.append(pool.run(SPEC_NUMPY, notebook(NUMPY_DRAWS), [], ahead=pool.begin()))
        assert [run.kernel_warm for run in runs] == [True, True, True]  # each submission's kernel had been started ahead
        assert len({run.kernel_pid for run in runs}) == 3
        assert first.waiting() == []  # nothing left when it began the last: it started none
        assert len(waiting_kernels(second)) == 1  # the one ready in case the last had come its way
    finally:
        first.close()
        second.close()
    assert kernel_pids() - before == set()


EXIT_WITH_A_KERNEL_WAITING = '''
import nbformat, sys
sys.path.insert(0, "tests")
from test_pool import SPEC, notebook, waiting_kernels
from grader.kernel.pool import shared

pool = shared()
pool.run(SPEC, notebook("print(1)"), [])
print(waiting_kernels(pool)[0])
'''


def test_a_process_that_ends_with_a_kernel_waiting_stops_it():
    before = kernel_pids()
    proc = subprocess.run([sys.executable, "-c", EXIT_WITH_A_KERNEL_WAITING], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not alive(int(proc.stdout.split()[-1]))
    assert kernel_pids() - before == set()



def test_a_kernel_started_on_demand_preloads_only_what_the_notebook_names():
    preload = ["tensorflow", "matplotlib.pyplot"]
    assert named_modules(notebook("import numpy as np", "x = np.ones(3)"), preload) == []
    assert named_modules(notebook("from tensorflow.keras import layers"), preload) == ["tensorflow"]
    assert named_modules(notebook("import keras"), preload) == ["tensorflow"]  # Keras 3 imports TensorFlow
    assert named_modules(notebook("import matplotlib.pyplot as plt", "import tf_keras"), preload) == preload
    assert named_modules(notebook("kerastuner = 1"), preload) == []  # a name, not the package

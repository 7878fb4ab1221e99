"""`grade NOTEBOOK`: the notebook's kernel starts before the grader prepares, not after.

Preparing a notebook (its cells, where each item is, the probes, the
reference answers from the cache, the isolation's trials) takes the grader's
process a few tenths of a second; starting a kernel takes as long again in
processes of its own. Started first, in a pool of one (`grader.kernel.pool`),
the kernel boots while the grader prepares. It is the kernel the notebook
would have been given on demand: the same spec (`grade.kernel_spec`, the
preloads that the notebook names), one kernel for one notebook, stopped after
(`grade.grade_path` makes the spec from the notebook and rubric it has read).
"""

from __future__ import annotations

import contextlib

from .kernel.pool import KernelPool
from .kernel.session import KernelSpec


@contextlib.contextmanager
def early_kernel(spec: KernelSpec):
    """A pool whose one kernel, of this spec, is starting while the block runs; stopped after."""
    pool = KernelPool()
    try:
        pool.prime(spec)
        yield pool
    finally:
        pool.close()

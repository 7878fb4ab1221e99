"""Magics of Colab and other front ends are no-ops that say so; real IPython magics and a notebook's own still work."""

import asyncio

import nbformat
import pytest

from grader.data import dataset_paths
from grader.grade import kernel_env
from grader.kernel.preamble import preamble_source
from grader.kernel.session import KernelSession, KernelSpec, Limits
from grader.loader import load_assignment

CELLS = [
    "%tensorflow_version 2.x\nimport numpy as np\ntotal = int(np.arange(4).sum())\nprint(total)",
    "%load_ext tensorboard\n%tensorboard --logdir logs/fit\nprint('after tensorboard')",
    "%%shell\necho from-the-shell\napt-get install -y something",
    "%%bigquery frame --project demo\nSELECT name FROM `bigquery-public-data.usa_names.usa_1910_2013` LIMIT 5",
    "%load_ext google.colab.data_table\n%unload_ext google.colab.data_table\n%load_ext autoreload\n%autoreload 2\nprint('autoreload loaded')",
    "%env GRADER_DEMO=1\n%matplotlib inline\nimport os\nprint(os.environ['GRADER_DEMO'])",
    "%%capture captured\nprint('captured, not shown')",
    "print(captured.stdout.strip())",
    "%no_such_magic_anywhere --flag\nprint('never printed')",
    # the third edition of DLwP defines its own %%backend; a notebook may define a magic named like one of ours
    "import os\nfrom IPython.core.magic import register_cell_magic, register_line_magic\n"
    "os.environ['KERAS_BACKEND'] = 'tensorflow'\n\n"
    "@register_cell_magic\ndef backend(line, cell):\n    if os.environ.get('KERAS_BACKEND') == line.split()[-1]:\n"
    "        get_ipython().run_cell(cell)\n    else:\n        print('needs', line.split()[-1])\n\n"
    "@register_line_magic\ndef tensorboard(line):\n    print('my own tensorboard', line)",
    "%%backend tensorflow\nran_tensorflow = True",
    "%%backend jax\nran_jax = True",
    "%tensorboard now\nprint('ran_tensorflow' in globals(), 'ran_jax' in globals())",
]


@pytest.fixture(scope="module")
def cells():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    spec = KernelSpec.make(kernel_env(load_assignment("dlwp-ch2")), Limits(20, 120), preamble_source(0, dataset_paths(["mnist"])))
    return asyncio.run(KernelSession(spec).run(nb, [])).cells


def grader_lines(record) -> list[str]:
    return [line for line in record.stdout.splitlines() if line.startswith("[grader]")]


@pytest.mark.kernel
def test_front_end_magics_are_no_ops_that_say_so(cells):
    tf_version, tensorboard, shell, bigquery, colab_ext = cells[:5]
    assert tf_version.status == "ok" and tf_version.stdout.splitlines() == ["[grader] skipped %tensorflow_version 2.x (a Colab magic)", "6"]
    assert tensorboard.status == "ok" and len(grader_lines(tensorboard)) == 2 and "after tensorboard" in tensorboard.stdout
    assert grader_lines(tensorboard)[0] == "[grader] skipped %load_ext tensorboard (a front-end extension)"
    assert shell.status == "ok" and grader_lines(shell) == ["[grader] skipped %%shell (a Colab magic)"]
    assert "from-the-shell" not in shell.stdout
    assert bigquery.status == "ok" and len(grader_lines(bigquery)) == 1
    assert colab_ext.status == "ok" and len(grader_lines(colab_ext)) == 2 and "autoreload loaded" in colab_ext.stdout


@pytest.mark.kernel
def test_real_magics_still_work_and_unknown_ones_still_raise(cells):
    env, capture, shown, unknown = cells[5:9]
    assert env.status == "ok" and env.stdout.strip().splitlines()[-1] == "1" and not grader_lines(env)
    assert capture.status == "ok" and capture.stdout.strip() == ""
    assert shown.stdout.strip() == "captured, not shown"
    assert (unknown.status, unknown.ename) == ("error", "UsageError") and "never printed" not in unknown.stdout


@pytest.mark.kernel
def test_a_notebook_s_own_magics_run_as_it_defines_them(cells):
    define, tensorflow, jax, check = cells[9:]
    assert define.status == tensorflow.status == jax.status == check.status == "ok"
    assert jax.stdout.strip() == "needs jax"
    assert check.stdout.splitlines() == ["my own tensorboard now", "True False"]

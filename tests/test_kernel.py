"""Running a notebook in a fresh kernel: errors, time limits, shell escapes, offline data, clean-up."""

import pytest
import asyncio

import nbformat
from conftest import live_processes

from grader.data import dataset_paths
from grader.kernel.preamble import preamble_source
from grader.kernel.session import KernelSession, KernelSpec, Limits
from grader.grade import kernel_env
from grader.loader import load_assignment

pytestmark = pytest.mark.kernel  # every test here starts a kernel or a grader process


def run(cells, cell_timeout=5, notebook_timeout=120):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    spec = KernelSpec.make(kernel_env(load_assignment("dlwp-ch2")), Limits(cell_timeout, notebook_timeout),
                           preamble_source(0, dataset_paths(["mnist"])))
    return asyncio.run(KernelSession(spec).run(nb, []))


def sleeping() -> list[str]:
    """Command lines of `sleep 300` processes (the one a cell starts in its own session)."""
    return [cmd for cmd in (c.replace(b"\0", b" ").decode().strip() for c in live_processes().values()) if cmd == "sleep 300"]


def test_errors_timeouts_escapes_and_offline_mnist():
    result = run([
        "import random, numpy as np\nprint(random.random(), np.random.rand())",
        "1/0",
        "import time\ntime.sleep(60)",
        "!pip install something\nfrom google.colab import drive\ndrive.mount('/content/drive')",
        "from tensorflow.keras.datasets import mnist\n(a, b), (c, d) = mnist.load_data()\nprint(a.shape, c.shape)",
        "import subprocess\np = subprocess.Popen(['sleep', '300'], start_new_session=True)\nprint(p.pid)",
        "import sys\nprint(sorted(m for m in ('debugpy', 'jedi', 'prompt_toolkit', 'IPython.terminal.embed') if m in sys.modules))\n"
        "import jedi, IPython\nfrom IPython.terminal.embed import InteractiveShellEmbed\n"
        "print(jedi.__name__, InteractiveShellEmbed.__name__, IPython.embed.__name__, 'prompt_toolkit' in sys.modules)",
    ], cell_timeout=15)
    by_index = {r.index: r for r in result.cells}
    assert by_index[0].stdout.split() == ["0.8444218515250481", "0.5488135039273248"]  # seeds fixed
    assert (by_index[1].status, by_index[1].ename) == ("error", "ZeroDivisionError")
    assert by_index[2].status == "timeout" and by_index[2].seconds < 25
    assert "shell command skipped: pip install something" in by_index[3].stdout and by_index[3].status == "ok"
    assert "(60000, 28, 28) (10000, 28, 28)" in by_index[4].stdout
    assert not any("sleep" in p for p in sleeping()), "a process the kernel started outlived the grading"
    # the kernel started without the debugger, the completion engine and IPython's terminal (grader.kernel.specs),
    # and the notebook may import them
    assert by_index[6].status == "ok", by_index[6]
    assert by_index[6].stdout.split() == ["[]", "jedi", "InteractiveShellEmbed", "embed", "True"]


def test_seeded_tensorflow_agg_backend_and_every_keras_mnist():
    cells = [
        "import matplotlib\nprint(matplotlib.get_backend())",
        "import tensorflow as tf\nprint(float(tf.random.uniform(())))",
        "import keras\n(a, b), _ = keras.datasets.mnist.load_data()\nprint('keras3', a.shape)",
        "import tf_keras\n(a, b), _ = tf_keras.datasets.mnist.load_data()\nprint('tf_keras', a.shape)",
    ]
    first, second = run(cells, cell_timeout=60), run(cells[:2], cell_timeout=60)
    out = [r.stdout.strip() for r in first.cells]
    assert out[0].lower() == "agg"
    assert out[1] == second.cells[1].stdout.strip()  # the same draw in two fresh kernels
    assert out[2] == "keras3 (60000, 28, 28)" and out[3] == "tf_keras (60000, 28, 28)"


def test_notebook_time_limit_stops_the_run():
    result = run(["import time\ntime.sleep(3)", "x = 1", "y = 2"], cell_timeout=10, notebook_timeout=2)
    statuses = [r.status for r in result.cells]
    assert statuses[0] == "timeout" and statuses[1:] == ["not_run", "not_run"]

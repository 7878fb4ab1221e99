"""Keras 3 on another backend (JAX): the notebook's choice is read before its kernel preloads anything, and JAX arrays come back as data.

The notebook graded on JAX in a kernel is tests/notebooks/published/third_edition_jax.ipynb (tests/test_published.py).
"""

import jax.numpy as jnp
import nbformat
import numpy as np
import pytest

from grader.kernel import agent
from grader.notebook import keras_backend, named_modules


def _nb(*sources: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    return nb


@pytest.mark.parametrize("source, backend", [
    ('import os\nos.environ["KERAS_BACKEND"] = "jax"', "jax"),
    ("os.environ['KERAS_BACKEND']='torch'", "torch"),
    ('os.environ.setdefault("KERAS_BACKEND", "jax")', "jax"),
    ("%env KERAS_BACKEND=jax", "jax"),
    ('os.environ.update(KERAS_BACKEND="numpy")', "numpy"),
    ('os.environ["KERAS_BACKEND"] = "tensorflow"', "tensorflow"),
    ("import keras", None),
    ("# KERAS_BACKEND is not set here\nimport keras", None),
])
def test_the_backend_a_notebook_chooses(source, backend):
    assert keras_backend(_nb(source)) == backend


def test_a_notebook_on_jax_does_not_get_tensorflow_preloaded():
    """Importing TensorFlow imports Keras 3 and fixes its backend: only a notebook that names TensorFlow itself gets it."""
    on_jax = ['import os\nos.environ["KERAS_BACKEND"] = "jax"', "import keras"]
    assert named_modules(_nb(*on_jax), ["tensorflow"]) == []
    assert named_modules(_nb(*on_jax, "import tensorflow as tf"), ["tensorflow"]) == ["tensorflow"]
    assert named_modules(_nb("import keras"), ["tensorflow"]) == ["tensorflow"]  # Keras 3 on TensorFlow, as before
    assert named_modules(_nb('os.environ["KERAS_BACKEND"] = "tensorflow"', "import keras"), ["tensorflow"]) == ["tensorflow"]


def test_jax_arrays_come_back_as_arrays():
    encoded = agent.encode(jnp.arange(6, dtype=jnp.float32).reshape(2, 3))
    assert set(encoded) == {"__npy__"}  # data, not an object's type and repr
    np.testing.assert_array_equal(agent.decode(encoded), np.arange(6, dtype=np.float32).reshape(2, 3))

"""Single-defect variants of the DLwP walkthrough, built from the real notebook.

The base is the walkthrough made quick (1 Keras epoch, 3 from-scratch
epochs) and completed with the two dot products it lacks, so that it earns
full marks; each variant then changes one cell.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

WALKTHROUGH = Path(__file__).parent / "notebooks" / "dlwp-ch2_walkthrough.ipynb"

MATRIX_VECTOR_DOT = '''def naive_matrix_vector_dot(x, y):
    z = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        z[i] = naive_vector_dot(x[i, :], y)
    return z'''

MATRIX_DOT = '''def naive_matrix_dot(x, y):
    z = np.zeros((x.shape[0], y.shape[1]))
    for i in range(x.shape[0]):
        for j in range(y.shape[1]):
            z[i, j] = naive_vector_dot(x[i, :], y[:, j])
    return z'''

# cell index in the walkthrough -> (old text, new text)
EDITS = {
    "relu_mutates_input": (20, "    x = x.copy()\n", ""),
    "add_overwrites": (21, "x[i, j] += y[i, j]", "x[i, j] = y[i, j]"),
    "vector_dot_wrong_index": (26, "z += x[i] * y[i]", "z += x[i] * y[0]"),
    "dense_bias_is_a_row": (33, "b_shape = (output_size,)", "b_shape = (1, output_size)"),
    "dense_activation_before_bias": (33, "return self.activation(tf.matmul(inputs, self.W) + self.b)",
                                     "return self.activation(tf.matmul(inputs, self.W)) + self.b"),
    "sequential_weights_reversed": (35, "for layer in self.layers:\n           weights", "for layer in reversed(self.layers):\n           weights"),
    "batches_floor_count": (38, "math.ceil(len(images) / batch_size)", "len(images) // batch_size"),
    "training_step_returns_sum": (40, "    return average_loss", "    return tf.reduce_sum(per_sample_losses)"),
    "update_gradient_ascent": (42, "optimizer.apply_gradients(zip(gradients, weights))",
                               "for g, w in zip(gradients, weights):\n        w.assign_add(g * 1e-3)"),
    "fit_skips_last_epoch": (43, "range(epochs)", "range(epochs - 1)"),
    "never_trained": (44, "fit(model, train_images, train_labels, epochs=3, batch_size=128)", "pass"),
}

# the items each variant must fail; a defect that ruins the notebook's own training
# (gradient ascent, a layer that adds the bias after its softmax) also fails trained_model,
# which judges the model the notebook trained
FAILS = {
    "relu_mutates_input": {"naive_relu"},
    "add_overwrites": {"naive_add"},
    "vector_dot_wrong_index": {"naive_vector_dot"},
    "matrix_vector_dot_transposed": {"naive_matrix_vector_dot"},
    "matrix_dot_wrong_column": {"naive_matrix_dot"},
    "dense_bias_is_a_row": {"naive_dense"},
    "dense_activation_before_bias": {"naive_dense", "trained_model"},
    "sequential_weights_reversed": {"naive_sequential"},
    "batches_floor_count": {"batch_generator"},
    "training_step_returns_sum": {"one_training_step"},
    "update_gradient_ascent": {"update_weights", "trained_model"},
    "fit_skips_last_epoch": {"fit"},
    "never_trained": {"trained_model"},
    "tampered_numpy": {"naive_relu", "naive_add"},
}

TAMPER = '''import numpy as np, numpy.testing
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
def naive_relu(x):
    return x
def naive_add(x, y):
    return x - y'''


def _edit(nb, index: int, old: str, new: str) -> None:
    source = nb.cells[index].source
    assert old in source, (index, old)
    nb.cells[index].source = source.replace(old, new)


def base() -> nbformat.NotebookNode:
    nb = nbformat.read(WALKTHROUGH, as_version=4)
    _edit(nb, 10, "epochs=5", "epochs=1")
    _edit(nb, 44, "epochs=10", "epochs=3")
    nb.cells.append(nbformat.v4.new_code_cell(MATRIX_VECTOR_DOT))
    nb.cells.append(nbformat.v4.new_code_cell(MATRIX_DOT))
    return nb


def variant(name: str) -> nbformat.NotebookNode:
    nb = base()
    if name in EDITS:
        _edit(nb, *EDITS[name])
    elif name == "matrix_vector_dot_transposed":
        _edit(nb, len(nb.cells) - 2, "x[i, :]", "x[:, i]")
    elif name == "matrix_dot_wrong_column":
        _edit(nb, len(nb.cells) - 1, "y[:, j]", "y[j, :]")
    elif name == "tampered_numpy":
        nb.cells.append(nbformat.v4.new_code_cell(TAMPER))
    else:
        raise KeyError(name)
    return nb


def write_all(directory: Path) -> dict[str, Path]:
    paths = {"base": directory / "base.ipynb"}
    nbformat.write(base(), paths["base"])
    for name in FAILS:
        paths[name] = directory / f"{name}.ipynb"
        nbformat.write(variant(name), paths[name])
    return paths

"""Single-defect variants of the TensorFlow samples (dnn-backprop, mit-lab1), built from the real notebooks.

Each base is the sample with its known defects fixed, so that it earns full
marks (the dnn-backprop base also runs only 2 epochs of the problem-1
example, which no item uses); each variant then changes one cell.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).parent / "notebooks"
DNN = NOTEBOOKS / "dnn_backprop_review.ipynb"
MIT = NOTEBOOKS / "mit_lab1_tensorflow.ipynb"

TANH_STABLE = ("self.last_o = (np.exp(x) - np.exp(-x))/(np.exp(x) + np.exp(-x))", "self.last_o = np.tanh(x)")
TRAINING_LOOP = ("    loss = MeanSquaredError()\n", "    loss = gradient_descent(dnn, x, y, loss_obj, 0.01)\n")
TEST_STEP_TRAINS = '''@tf.function
def test_step(model, images, labels, loss_object, test_loss, test_accuracy):
    with tf.GradientTape() as tape:
        predictions = model(images)
        loss = loss_object(labels, predictions)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    test_loss(loss)
    test_accuracy(labels, predictions)
'''


def _cell(nb, starts: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.lstrip().startswith(starts))


def _edit(nb, starts: str, old: str, new: str) -> None:
    index = _cell(nb, starts)
    assert old in nb.cells[index].source, (starts, old)
    nb.cells[index].source = nb.cells[index].source.replace(old, new)


def dnn_base() -> nbformat.NotebookNode:
    nb = nbformat.read(DNN, as_version=4)
    _edit(nb, "x = np.random.normal(0.0, 1.0, (10,))\ny = np.random.normal(0.0, 1.0, (2,))\n\ndnn = DNN(hidden_depth=10",
          "range(100)", "range(2)")
    _edit(nb, "# ## Activation Function", *TANH_STABLE)
    _edit(nb, "x = np.random.normal(0.0, 1.0, (10,))\ny = np.random.normal(0.0, 1.0, (2,))\n\ndnn = DNN(hidden_depth=5",
          "t = time.time()\n", "t = time.time()\nloss_obj = MeanSquaredError()\n")
    _edit(nb, "x = np.random.normal(0.0, 1.0, (10,))\ny = np.random.normal(0.0, 1.0, (2,))\n\ndnn = DNN(hidden_depth=5", *TRAINING_LOOP)
    _edit(nb, "train_ds = ", "(x_train, y_train-1)", "(x_train / 255.0, y_train-1)")
    _edit(nb, "train_ds = ", "(x_test, y_test-1)", "(x_test / 255.0, y_test-1)")
    return nb


def mit_base() -> nbformat.NotebookNode:
    nb = nbformat.read(MIT, as_version=4)
    _edit(nb, "sport = ", "tf.constnat", "tf.constant")
    _edit(nb, "class OutDenseLayer", "class OutDenseLayer(Tf.keras", "class OurDenseLayer(tf.keras")
    _edit(nb, "class OurDenseLayer", "tf.constnat", "tf.constant")
    _edit(nb, "class OurDenseLayer", "tf.random.set_seed(1)", "tf.keras.utils.set_random_seed(1)")  # the lab's own check needs it
    return nb


# name -> (base, cell start, old text, new text)
EDITS = {
    "tanh_grad_from_input": (dnn_base, "# ## Activation Function", "return (1 + self.last_o) * (1 - self.last_o)",
                             "return (1 + self.last_x) * (1 - self.last_x)"),
    "loop_without_update": (dnn_base, "x = np.random.normal(0.0, 1.0, (10,))\ny = np.random.normal(0.0, 1.0, (2,))\n\ndnn = DNN(hidden_depth=5",
                            "loss = gradient_descent(dnn, x, y, loss_obj, 0.01)", "loss = loss_obj(dnn(x), y)"),
    "train_step_without_apply": (dnn_base, "# 학습함수 구현", "    optimizer.apply_gradients(zip(gradients, model.trainable_variables))\n", ""),
    "test_step_trains": (dnn_base, "# 학습함수 구현", None, None),
    "model_outputs_logits": (dnn_base, "class Mymodel", "tf.keras.layers.Dense(10, activation = 'softmax')", "tf.keras.layers.Dense(10)"),
    "absurd_learning_rate": (dnn_base, "#  모델 생성", "tf.keras.optimizers.Adam()", "tf.keras.optimizers.Adam(1e3)"),
    "identity_ignores_flag": (mit_base, "# Suppose under some instances", "    if isidentity:\n      return inputs\n", ""),
}

# the items each variant must fail; svhn_training judges the model the notebook's own loop trained,
# so a defect that ruins that training (a train_step that applies nothing, a model whose outputs are
# not the probabilities its loss expects) fails it too; dnn_tanh_training takes a step of the network
# built with the notebook's Tanh, whose wrong gradient makes the step leave the loss's gradient
FAILS = {
    "tanh_grad_from_input": {"tanh", "dnn_tanh_training"},
    "loop_without_update": {"dnn_tanh_training"},
    "train_step_without_apply": {"train_step", "svhn_training"},
    "test_step_trains": {"test_step"},
    "model_outputs_logits": {"svhn_model", "svhn_training"},
    "absurd_learning_rate": {"svhn_training"},
    "identity_ignores_flag": {"identity_model"},
}


def variant(name: str) -> nbformat.NotebookNode:
    make, starts, old, new = EDITS[name]
    nb = make()
    if name == "tanh_grad_from_input":
        _edit(nb, starts, "self.last_o = np.tanh(x)", "self.last_x = x\n        self.last_o = np.tanh(x)")
    if name == "test_step_trains":
        index = _cell(nb, starts)
        source = nb.cells[index].source
        nb.cells[index].source = source[: source.index("@tf.function\ndef test_step")] + TEST_STEP_TRAINS
    else:
        _edit(nb, starts, old, new)
    return nb


def assignment_of(name: str) -> str:
    return "mit-lab1" if name.startswith("mit") or EDITS.get(name, (None,))[0] is mit_base else "dnn-backprop"


def write_all(directory: Path) -> dict[str, Path]:
    paths = {"dnn_base": directory / "dnn_base.ipynb", "mit_base": directory / "mit_base.ipynb"}
    nbformat.write(dnn_base(), paths["dnn_base"])
    nbformat.write(mit_base(), paths["mit_base"])
    for name in FAILS:
        paths[name] = directory / f"{name}.ipynb"
        nbformat.write(variant(name), paths[name])
    return paths

"""Write the notebooks of this folder: submissions in the styles people publish (see README.md).

They are written here, not copied: each imitates a style (a Colab lab that starts
with `%tensorflow_version`, a new year's lab that words its questions its own way,
a student's headings, a reworded and numbered question sheet, the third edition of
DLwP with its `%%backend` cells). Run `python make_notebooks.py` to write them again.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent


def notebook(*cells: tuple[str, str]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    for index, (kind, source) in enumerate(cells):
        make = nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell
        nb.cells.append(make(source.strip("\n"), id=f"cell-{index}"))
    return nb


def md(source: str) -> tuple[str, str]:
    return ("md", source)


def code(source: str) -> tuple[str, str]:
    return ("code", source)


# --- MIT 6.S191 lab 1 -------------------------------------------------------------------------

LAB1_TENSORS = code('''
sport = tf.constant("Tennis", tf.string)
numbers = tf.constant([3.141, 1.414, 2.718], tf.float64)
matrix = tf.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], tf.float64)
images = tf.zeros([10, 256, 256, 3])
print(tf.rank(sport).numpy(), tf.rank(numbers).numpy(), tf.rank(matrix).numpy(), tf.rank(images).numpy())
''')

LAB1_DENSE = code('''
class OurDenseLayer(tf.keras.layers.Layer):
  def __init__(self, n_output_nodes):
    super(OurDenseLayer, self).__init__()
    self.n_output_nodes = n_output_nodes

  def build(self, input_shape):
    d = int(input_shape[-1])
    self.W = self.add_weight("weight", shape=[d, self.n_output_nodes])
    self.b = self.add_weight("bias", shape=[1, self.n_output_nodes])

  def call(self, x):
    z = tf.matmul(x, self.W) + self.b
    return tf.sigmoid(z)
''')

LAB1_DENSE_TEST = code('''
tf.keras.utils.set_random_seed(1)
layer = OurDenseLayer(3)
layer.build((1, 2))
y = layer.call(tf.constant([[1, 2.]], shape=(1, 2)))
mdl.lab1.test_custom_dense_layer_output(y)
''')

LAB1_SUBCLASS = code('''
class SubclassModel(tf.keras.Model):
  def __init__(self, n_output_nodes):
    super(SubclassModel, self).__init__()
    self.dense_layer = tf.keras.layers.Dense(n_output_nodes, activation='sigmoid')

  def call(self, inputs):
    return self.dense_layer(inputs)

model = SubclassModel(3)
print(model.call(tf.constant([[1, 2.]])))
''')

LAB1_IDENTITY = code('''
class IdentityModel(tf.keras.Model):
  def __init__(self, n_output_nodes):
    super(IdentityModel, self).__init__()
    self.dense_layer = tf.keras.layers.Dense(n_output_nodes, activation='sigmoid')

  def call(self, inputs, isidentity=False):
    if isidentity:
      return inputs
    return self.dense_layer(inputs)

model = IdentityModel(3)
out_activate = model.call(tf.constant([[1, 2.]]), False)
out_identity = model.call(tf.constant([[1, 2.]]), True)
''')

LAB1_TAPE = code('''
x = tf.Variable(3.0)
with tf.GradientTape() as tape:
  y = x * x
dy_dx = tape.gradient(y, x)
assert dy_dx.numpy() == 6.0
''')

LAB1_SGD = code('''
x = tf.Variable([tf.random.normal([1])])
learning_rate = 1e-2
history = []
x_f = 4
for i in range(500):
  with tf.GradientTape() as tape:
    loss = (x - x_f) ** 2
  grad = tape.gradient(loss, x)
  x.assign(x - learning_rate * grad)
  history.append(x.numpy()[0])
print(history[-1])
''')


def colab_lab1() -> nbformat.NotebookNode:
    """A Colab copy of lab 1 from a year whose import cell starts with `%tensorflow_version`, worded as that year's text."""
    return notebook(
        md("# Lab 1, part 1: Intro to TensorFlow\n\n*Run in Colab* (runtime: GPU)"),
        code('''
%tensorflow_version 2.x
import tensorflow as tf

# the course's helper package
!pip install mitdeeplearning --quiet
import mitdeeplearning as mdl

import numpy as np
import matplotlib.pyplot as plt
'''),
        code("%load_ext tensorboard"),
        md("## 1.1 Tensors\n\nTensors are n-dimensional arrays of a base data type, flowing through the graph."),
        LAB1_TENSORS,
        md("## 1.2 Neural networks in TensorFlow\n\n### 1.2.1 A dense layer by hand\n\nWrite the layer y = σ(Wx + b) as a Keras `Layer`."),
        LAB1_DENSE,
        LAB1_DENSE_TEST,
        md("### 1.2.2 Using the Sequential API"),
        md("TensorFlow already provides the layers most networks need, a [`Dense`](https://www.tensorflow.org/api_docs/python/tf/keras/layers/Dense) "
           "layer among them. So instead of our hand-made layer, we now put our network together from the "
           "[`Sequential`](https://www.tensorflow.org/api_docs/python/tf/keras/Sequential) model of Keras and one `Dense` layer: "
           "the Sequential API stacks layers like building blocks."),
        code('''
### Defining a network with the Sequential API ###
from tensorflow.keras import Sequential
from tensorflow.keras.layers import Dense

n_output_nodes = 3
model = Sequential()
# TODO: one fully connected layer computing sigmoid(Wx + b)
dense_layer = Dense(n_output_nodes, activation='sigmoid')
model.add(dense_layer)
'''),
        md("Done! Let's feed it an example input:"),
        code('''
x_input = tf.constant([[1, 2.]], shape=(1, 2))
model_output = model(x_input).numpy()
print(model_output)
'''),
        md("### 1.2.3 Subclassing `Model`\n\nFor more flexibility, define the network as a subclass of `tf.keras.Model`."),
        LAB1_SUBCLASS,
        md("Sometimes the network should just pass its input through, unchanged."),
        LAB1_IDENTITY,
        md("## 1.3 Automatic differentiation\n\nRecord y = x² on a `tf.GradientTape` and ask it for dy/dx."),
        LAB1_TAPE,
        md("Minimise L = (x − x_f)² with gradient descent, computing the gradient with the tape."),
        LAB1_SGD,
        code("%tensorboard --logdir logs"),
    )


def lab1_own_headings() -> nbformat.NotebookNode:
    """A student's copy of lab 1 with headings and words of their own, and `model` rebound twice."""
    return notebook(
        md("# My notes on TensorFlow (lab 1)"),
        code('''
import tensorflow as tf
import mitdeeplearning as mdl
import numpy as np
import matplotlib.pyplot as plt
'''),
        md("## Part A. Tensors"),
        LAB1_TENSORS,
        md("## Part B. My own layer"),
        LAB1_DENSE,
        LAB1_DENSE_TEST,
        md("## Part C. The same thing with Keras building blocks"),
        code('''
from tensorflow.keras import Sequential

model = Sequential()
model.add(tf.keras.layers.Dense(3, activation="sigmoid"))
print(model(tf.constant([[1, 2.]])).numpy())
'''),
        md("## Part D. A model class"),
        LAB1_SUBCLASS,
        md("## Part E. Skip connection on demand"),
        LAB1_IDENTITY,
        md("## Part F. Gradients"),
        LAB1_TAPE,
        LAB1_SGD,
    )


def lab1_one_section() -> nbformat.NotebookNode:
    """Lab 1 copied as one section of code cells: the Sequential model has no question of its own, and `model` is rebound twice."""
    return notebook(
        md("# 6.S191 lab 1 — part 1"),
        code('''
import tensorflow as tf
import mitdeeplearning as mdl
import numpy as np
'''),
        md("## Tensors"),
        LAB1_TENSORS,
        md("## Layers and models"),
        LAB1_DENSE,
        LAB1_DENSE_TEST,
        code('''
n_output_nodes = 3
model = tf.keras.Sequential()
model.add(tf.keras.layers.Dense(n_output_nodes, activation="sigmoid"))
x_input = tf.constant([[1, 2.]], shape=(1, 2))
print(model(x_input).numpy())
'''),
        LAB1_SUBCLASS,
        LAB1_IDENTITY,
        md("## Gradients"),
        LAB1_TAPE,
        LAB1_SGD,
    )


def lab1_import_heading() -> nbformat.NotebookNode:
    """Lab 1 with `from tensorflow.keras import Sequential` under a heading of its own, the models after it in one section."""
    return notebook(
        md("# Intro to TensorFlow"),
        code("import tensorflow as tf\nimport mitdeeplearning as mdl"),
        md("### Tensors"),
        LAB1_TENSORS,
        md("### Dense layer from scratch"),
        LAB1_DENSE,
        LAB1_DENSE_TEST,
        md("### Imports for the Keras part"),
        code("from tensorflow.keras import Sequential\nfrom tensorflow.keras.layers import Dense"),
        code('''
model = Sequential()
model.add(Dense(3, activation="sigmoid"))
model.build((None, 2))
'''),
        code("model(tf.constant([[1, 2.]])).numpy()"),
        LAB1_SUBCLASS,
        LAB1_IDENTITY,
        md("### Automatic differentiation"),
        LAB1_TAPE,
        LAB1_SGD,
    )


# --- the week-3 question sheet, reworded and numbered -----------------------------------------

def week3_reworded() -> nbformat.NotebookNode:
    """The week-3 questions as another teacher numbered and reworded them (the calculus ones most)."""
    return notebook(
        md("# Week 3 — exercises"),
        code("import numpy as np\nimport tensorflow as tf"),
        md("**Q1.** Why do we use x.copy()?"),
        md("So that the caller's array is not modified in place: the function works on its own copy."),
        md("**Q2.** Why is the naive version of the code slower?"),
        md("Its loops run in the Python interpreter, one element at a time; NumPy's vectorised operations loop in C."),
        md("**Q3.** Try to use broadcasting with your own example!"),
        code("a = np.arange(6).reshape(2, 3)\nb = np.array([10, 20, 30])\na + b"),
        md("**Q4.** Try reshaping code and explain it to your teammates."),
        code("m = np.arange(6).reshape(3, 2)\nm.reshape(2, 3).shape"),
        md("**Q5.** Let x = 2 and y = 1. Compute ∂f/∂x and ∂f/∂y for f = x²·y + x·y + 3·y with a gradient tape."),
        code('''
x = tf.Variable(2.)
y = tf.Variable(1.)
with tf.GradientTape() as tape:
    f = x * x * y + x * y + 3 * y
tape.gradient(f, [x, y])
'''),
        md("Set up x, W and b:"),
        code('''
x = tf.constant(np.array([1., 4., 3.]).reshape(1, 3), dtype=tf.float32)
W = tf.Variable(tf.random.uniform((3, 2)), dtype=tf.float32)
b = tf.Variable(tf.zeros((2,)), dtype=tf.float32)
'''),
        md("**Q6.** Find derivatives of f(W, b) = xW + b with respect to W and b."),
        code('''
with tf.GradientTape() as tape:
    z = x @ W + b
grads_linear = tape.gradient(z, [W, b])
grads_linear
'''),
        md("**Q7.** And now cube it: the gradients of (xW + b)³, w.r.t. both parameters."),
        code('''
with tf.GradientTape() as tape:
    z = (tf.matmul(x, W) + b) ** 3
grads_cubed = tape.gradient(z, [W, b])
grads_cubed
'''),
    )


# --- Deep Learning with Python, third edition, chapter 2 ----------------------------------------

BACKEND_MAGIC = code('''
# @title Cells that need one backend
import os
from IPython.core.magic import register_cell_magic

@register_cell_magic
def backend(line, cell):
    wanted = line.split()[-1]
    if os.environ.get("KERAS_BACKEND", "") == wanted:
        get_ipython().run_cell(cell)
    else:
        print(f"This cell needs the {wanted} backend; set KERAS_BACKEND to {wanted!r} at the top and restart.")
''')

THIRD_TENSOR_OPS = [
    md("#### Element-wise operations"),
    code('''
def naive_relu(x):
    assert len(x.shape) == 2
    x = x.copy()
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            x[i, j] = max(x[i, j], 0)
    return x
'''),
    code('''
def naive_add(x, y):
    assert len(x.shape) == 2
    assert x.shape == y.shape
    x = x.copy()
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            x[i, j] += y[i, j]
    return x
'''),
    md("#### Tensor product"),
    code('''
def naive_vector_product(x, y):
    assert len(x.shape) == 1 and x.shape == y.shape
    z = 0.0
    for i in range(x.shape[0]):
        z += x[i] * y[i]
    return z
'''),
    code('''
def naive_matrix_vector_product(x, y):
    z = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        z[i] = naive_vector_product(x[i, :], y)
    return z
'''),
]

THIRD_MATRIX_PRODUCT = '''
def naive_matrix_product(x, y):
    assert len(x.shape) == 2 and len(y.shape) == 2
    assert x.shape[1] == y.shape[0]
    z = np.zeros((x.shape[0], y.shape[1]))
    for i in range(x.shape[0]):
        for j in range(y.shape[1]):
            z[i, j] = naive_vector_product(x[i, :], y[:, j])
    return z
'''

THIRD_BATCHES = code('''
import math

class BatchGenerator:
    def __init__(self, images, labels, batch_size=128):
        assert len(images) == len(labels)
        self.index = 0
        self.images = images
        self.labels = labels
        self.batch_size = batch_size
        self.num_batches = math.ceil(len(images) / batch_size)

    def next(self):
        images = self.images[self.index : self.index + self.batch_size]
        labels = self.labels[self.index : self.index + self.batch_size]
        self.index += self.batch_size
        return images, labels
''')


def third_edition_ch2() -> nbformat.NotebookNode:
    """Chapter 2 as the third edition writes it: Keras 3, `keras.Variable`s, the `*_product` names, `%%backend` cells."""
    return notebook(
        md("This notebook follows *Deep Learning with Python, Third Edition*, chapter 2."),
        code("!pip install keras keras-hub --upgrade -q"),
        code('import os\nos.environ["KERAS_BACKEND"] = "tensorflow"'),
        BACKEND_MAGIC,
        md("## The mathematical building blocks of neural networks"),
        code("import numpy as np"),
        *THIRD_TENSOR_OPS,
        code(THIRD_MATRIX_PRODUCT),
        md("#### Reimplementing our first example from scratch"),
        code('''
import keras
from keras import ops

class NaiveDense:
    def __init__(self, input_size, output_size, activation=None):
        self.activation = activation
        self.W = keras.Variable(shape=(input_size, output_size), initializer="uniform")
        self.b = keras.Variable(shape=(output_size,), initializer="zeros")

    def __call__(self, inputs):
        x = ops.matmul(inputs, self.W) + self.b
        return self.activation(x) if self.activation is not None else x

    @property
    def weights(self):
        return [self.W, self.b]
'''),
        code('''
class NaiveSequential:
    def __init__(self, layers):
        self.layers = layers

    def __call__(self, inputs):
        x = inputs
        for layer in self.layers:
            x = layer(x)
        return x

    @property
    def weights(self):
        weights = []
        for layer in self.layers:
            weights += layer.weights
        return weights
'''),
        code('''
model = NaiveSequential([
    NaiveDense(input_size=28 * 28, output_size=512, activation=ops.relu),
    NaiveDense(input_size=512, output_size=10, activation=ops.softmax),
])
assert len(model.weights) == 4
'''),
        THIRD_BATCHES,
        md("##### The weight update step"),
        code('''
from keras import optimizers

optimizer = optimizers.SGD(learning_rate=1e-3)

def update_weights(gradients, weights):
    optimizer.apply_gradients(zip(gradients, weights))
'''),
        code('''
%%backend jax
def update_weights(gradients, weights):  # never run here: the backend is TensorFlow
    for g, w in zip(gradients, weights):
        w.assign(w + g)
'''),
        md("##### Gradient computation"),
        code('''
%%backend tensorflow
import tensorflow as tf

def one_training_step(model, images_batch, labels_batch):
    with tf.GradientTape() as tape:
        predictions = model(images_batch)
        loss = ops.sparse_categorical_crossentropy(labels_batch, predictions)
        average_loss = ops.mean(loss)
    gradients = tape.gradient(average_loss, model.weights)
    update_weights(gradients, model.weights)
    return average_loss
'''),
        code('''
%%backend torch
def one_training_step(model, images_batch, labels_batch):  # never run here either
    return 0.0
'''),
        md("#### The full training loop"),
        code('''
def fit(model, images, labels, epochs, batch_size=128):
    for epoch_counter in range(epochs):
        print(f"Epoch {epoch_counter}")
        batch_generator = BatchGenerator(images, labels, batch_size)
        for batch_counter in range(batch_generator.num_batches):
            images_batch, labels_batch = batch_generator.next()
            loss = one_training_step(model, images_batch, labels_batch)
            if batch_counter % 100 == 0:
                print(f"loss at batch {batch_counter}: {float(loss):.2f}")
'''),
        code('''
%%backend tensorflow
from keras.datasets import mnist

(train_images, train_labels), (test_images, test_labels) = mnist.load_data()
train_images = train_images.reshape((60000, 28 * 28)).astype("float32") / 255
test_images = test_images.reshape((10000, 28 * 28)).astype("float32") / 255
fit(model, train_images, train_labels, epochs=2, batch_size=128)
'''),
        md("#### Evaluating the model"),
        code('''
%%backend tensorflow
predictions = model(test_images)
predicted_labels = ops.argmax(predictions, axis=1)
f"accuracy: {ops.mean(predicted_labels == test_labels):.2f}"
'''),
    )


def third_edition_jax() -> nbformat.NotebookNode:
    """Chapter 2 of the third edition run on JAX: the Keras listing's `model` first, then the from-scratch one, no TensorFlow call."""
    return notebook(
        md("Chapter 2 of *Deep Learning with Python, Third Edition*, with the JAX backend."),
        code('import os\nos.environ["KERAS_BACKEND"] = "jax"'),
        BACKEND_MAGIC,
        code('''
import keras
import numpy as np
assert keras.backend.backend() == "jax", keras.backend.backend()
'''),
        md("## A first look at a neural network"),
        code('''
from keras.datasets import mnist

(train_images, train_labels), (test_images, test_labels) = mnist.load_data()
train_images = train_images.reshape((60000, 28 * 28)).astype("float32") / 255
test_images = test_images.reshape((10000, 28 * 28)).astype("float32") / 255
'''),
        code('''
from keras import layers

model = keras.Sequential([
    layers.Dense(64, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(train_images[:2048], train_labels[:2048], epochs=1, batch_size=256, verbose=0)
'''),
        md("## The mathematical building blocks of neural networks"),
        *THIRD_TENSOR_OPS,
        code(THIRD_MATRIX_PRODUCT),
        md("#### Reimplementing our first example from scratch"),
        code('''
from keras import ops

class NaiveDense:
    def __init__(self, input_size, output_size, activation=None):
        self.activation = activation
        self.W = keras.Variable(shape=(input_size, output_size), initializer="uniform")
        self.b = keras.Variable(shape=(output_size,), initializer="zeros")

    def __call__(self, inputs):
        x = ops.matmul(inputs, self.W) + self.b
        return self.activation(x) if self.activation is not None else x

    @property
    def weights(self):
        return [self.W, self.b]
'''),
        code('''
class NaiveSequential:
    def __init__(self, layers):
        self.layers = layers

    def __call__(self, inputs):
        x = inputs
        for layer in self.layers:
            x = layer(x)
        return x

    @property
    def weights(self):
        weights = []
        for layer in self.layers:
            weights += layer.weights
        return weights
'''),
        code('''
model = NaiveSequential([
    NaiveDense(input_size=28 * 28, output_size=512, activation=ops.relu),
    NaiveDense(input_size=512, output_size=10, activation=ops.softmax),
])
assert len(model.weights) == 4
'''),
        THIRD_BATCHES,
        md("##### The weight update step"),
        code('''
learning_rate = 1e-3

def update_weights(gradients, weights):
    for g, w in zip(gradients, weights):
        w.assign(w - g * learning_rate)
'''),
        md("##### Gradient computation"),
        code('''
%%backend jax
import jax

def compute_loss(weight_values, model, images_batch, labels_batch):
    with keras.StatelessScope(state_mapping=list(zip(model.weights, weight_values))):
        predictions = model(images_batch)
    loss = ops.sparse_categorical_crossentropy(labels_batch, predictions)
    return ops.mean(loss)

loss_and_gradients = jax.jit(jax.value_and_grad(compute_loss), static_argnums=1)  # compiled once per model

def one_training_step(model, images_batch, labels_batch):
    weight_values = [ops.convert_to_tensor(w) for w in model.weights]
    average_loss, gradients = loss_and_gradients(weight_values, model, images_batch, labels_batch)
    update_weights(gradients, model.weights)
    return average_loss
'''),
        md("#### The full training loop"),
        code('''
def fit(model, images, labels, epochs, batch_size=128):
    for epoch_counter in range(epochs):
        print(f"Epoch {epoch_counter}")
        batch_generator = BatchGenerator(images, labels, batch_size)
        for batch_counter in range(batch_generator.num_batches):
            images_batch, labels_batch = batch_generator.next()
            loss = one_training_step(model, images_batch, labels_batch)
            if batch_counter % 100 == 0:
                print(f"loss at batch {batch_counter}: {float(loss):.2f}")
'''),
        code("fit(model, train_images, train_labels, epochs=2, batch_size=128)"),
        md("#### Evaluating the model"),
        code('''
predictions = model(test_images)
predicted_labels = ops.argmax(predictions, axis=1)
f"accuracy: {ops.mean(predicted_labels == test_labels):.2f}"
'''),
    )


def third_edition_student() -> nbformat.NotebookNode:
    """A student's third-edition notebook: numpy parts, the matrix product's result shaped like x, an SGD() left at Keras' default rate."""
    wrong_product = THIRD_MATRIX_PRODUCT.replace("np.zeros((x.shape[0], y.shape[1]))", "np.zeros((x.shape[0], x.shape[1]))")
    return notebook(
        md("# Chapter 2 (3rd edition) — my solutions"),
        code('import os\nos.environ["KERAS_BACKEND"] = "tensorflow"'),
        BACKEND_MAGIC,
        code("import numpy as np"),
        *THIRD_TENSOR_OPS,
        code(wrong_product),
        code('''
x = np.random.random((3, 4))
y = np.random.random((4, 2))
naive_matrix_product(x, y).shape
'''),
        THIRD_BATCHES,
        md("##### The weight update step"),
        code('''
%%backend tensorflow
from keras import optimizers

optimizer = optimizers.SGD()

def update_weights(gradients, weights):
    optimizer.apply_gradients(zip(gradients, weights))
'''),
    )


NOTEBOOKS = {
    "colab_lab1": colab_lab1,
    "lab1_own_headings": lab1_own_headings,
    "lab1_one_section": lab1_one_section,
    "lab1_import_heading": lab1_import_heading,
    "week3_reworded": week3_reworded,
    "third_edition_ch2": third_edition_ch2,
    "third_edition_student": third_edition_student,
    "third_edition_jax": third_edition_jax,
}


if __name__ == "__main__":
    for name, make in NOTEBOOKS.items():
        nbformat.write(make(), HERE / f"{name}.ipynb")
        print(f"wrote {name}.ipynb")

"""MIT 6.S191 lab 1, part 1 (Intro to TensorFlow): tensors, a dense layer, models, GradientTape."""

import numpy as np
import tensorflow as tf

sport = tf.constant("Tennis", tf.string)
numbers = tf.constant([3.141, 1.414, 2.718], tf.float64)
matrix = tf.constant([[1, 2, 3], [4, 5, 6]], tf.float64)
images = tf.zeros([10, 256, 256, 3])


class OurDenseLayer(tf.keras.layers.Layer):
    """y = sigmoid(xW + b), W of shape (d, n) and b of shape (1, n)."""

    def __init__(self, n_output_nodes):
        super().__init__()
        self.n_output_nodes = n_output_nodes

    def build(self, input_shape):
        d = int(input_shape[-1])
        self.W = self.add_weight(name="weight", shape=[d, self.n_output_nodes])
        self.b = self.add_weight(name="bias", shape=[1, self.n_output_nodes])

    def call(self, x):
        return tf.sigmoid(tf.matmul(x, self.W) + self.b)


def make_sequential(n_output_nodes=3):
    """The sheet's Sequential model: one Dense layer of sigmoid units, built for 2 inputs."""
    model = tf.keras.Sequential([tf.keras.layers.Dense(n_output_nodes, activation="sigmoid")])
    model(tf.zeros((1, 2)))
    return model


class SubclassModel(tf.keras.Model):
    def __init__(self, n_output_nodes):
        super().__init__()
        self.dense_layer = tf.keras.layers.Dense(n_output_nodes, activation="sigmoid")

    def call(self, inputs):
        return self.dense_layer(inputs)


class IdentityModel(tf.keras.Model):
    def __init__(self, n_output_nodes):
        super().__init__()
        self.dense_layer = tf.keras.layers.Dense(n_output_nodes, activation="sigmoid")

    def call(self, inputs, isidentity=False):
        if isidentity:
            return inputs
        return self.dense_layer(inputs)


def gradient_of_square(value=3.0):
    """dy/dx of y = x² at x = value, by GradientTape."""
    x = tf.Variable(value)
    with tf.GradientTape() as tape:
        y = x * x
    return tape.gradient(y, x)


dy_dx = gradient_of_square(3.0)


def sgd_minimize(x_f=4, learning_rate=1e-2, steps=500, seed=0):
    """Minimise (x − x_f)² by GradientTape and SGD from a random start: history, x, x_f."""
    x = tf.Variable([[float(np.random.default_rng(seed).normal())]])
    history = []
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = (x - x_f) ** 2
        x.assign(x - learning_rate * tape.gradient(loss, x))
        history.append(x.numpy()[0])
    return history, x, x_f

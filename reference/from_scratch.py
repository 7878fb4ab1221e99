"""The from-scratch MNIST model of DLwP ch. 2.5: layers, batches, training."""

import math

import numpy as np
import tensorflow as tf

learning_rate = 1e-3


class NaiveDense:
    def __init__(self, input_size, output_size, activation):
        self.activation = activation
        self.W = tf.Variable(tf.random.uniform((input_size, output_size), minval=0, maxval=1e-1))
        self.b = tf.Variable(tf.zeros((output_size,)))

    def __call__(self, inputs):
        return self.activation(tf.matmul(inputs, self.W) + self.b)

    @property
    def weights(self):
        return [self.W, self.b]


class OpsDense:
    """NaiveDense in Keras 3's own terms (keras.Variable, keras.ops): the probes' layers where Keras runs on another backend (JAX)."""

    def __init__(self, input_size, output_size, activation):
        import keras

        self.activation = activation
        self.W = keras.Variable(np.zeros((input_size, output_size), "float32"))
        self.b = keras.Variable(np.zeros((output_size,), "float32"))

    def __call__(self, inputs):
        from keras import ops

        return self.activation(ops.matmul(inputs, self.W) + self.b)

    @property
    def weights(self):
        return [self.W, self.b]


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
        return [w for layer in self.layers for w in layer.weights]


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


def update_weights(gradients, weights):
    for g, w in zip(gradients, weights):
        w.assign_sub(g * learning_rate)


def one_training_step(model, images_batch, labels_batch):
    with tf.GradientTape() as tape:
        predictions = model(images_batch)
        per_sample_losses = tf.keras.losses.sparse_categorical_crossentropy(labels_batch, predictions)
        average_loss = tf.reduce_mean(per_sample_losses)
    gradients = tape.gradient(average_loss, model.weights)
    update_weights(gradients, model.weights)
    return average_loss


def ops_one_training_step(model, images_batch, labels_batch):
    """one_training_step for Keras 3 on JAX (no GradientTape): the gradient by jax.grad through a stateless call of the model."""
    import jax
    import keras
    from keras import ops

    def average_loss(values):
        with keras.StatelessScope(state_mapping=list(zip(model.weights, values))):
            predictions = model(images_batch)
        return ops.mean(ops.sparse_categorical_crossentropy(labels_batch, predictions))

    loss, gradients = jax.value_and_grad(average_loss)([ops.convert_to_tensor(w) for w in model.weights])
    update_weights(gradients, model.weights)
    return loss


def fit(model, images, labels, epochs, batch_size=128):
    for _ in range(epochs):
        batch_generator = BatchGenerator(images, labels, batch_size)
        for _ in range(batch_generator.num_batches):
            images_batch, labels_batch = batch_generator.next()
            one_training_step(model, images_batch, labels_batch)


def compute_accuracy(model, images, labels):
    predictions = np.asarray(model(images))
    return float((np.argmax(predictions, axis=1) == labels).mean())


def make_model(sizes=(28 * 28, 512, 10)):
    """The sheet's model: ReLU hidden layers and a softmax output."""
    layers = [
        NaiveDense(n_in, n_out, tf.nn.relu if i < len(sizes) - 2 else tf.nn.softmax)
        for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]))
    ]
    return NaiveSequential(layers)


def make_trained_model(images, labels, epochs=10, batch_size=128):
    """The sheet's model trained the sheet's way, the yardstick for `trained_model`."""
    tf.keras.utils.set_random_seed(0)
    model = make_model()
    fit(model, images, labels, epochs=epochs, batch_size=batch_size)
    return model

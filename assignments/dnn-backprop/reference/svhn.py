"""The SVHN part of the "Deep learning 3 review" sheet: the model, the train and test steps, the loop."""

import numpy as np
import tensorflow as tf


class Mymodel(tf.keras.Model):
    """Flatten, Dense 32/64/128/256 with ReLU, Dense 10 with softmax."""

    def __init__(self):
        super().__init__()
        self.flatten = tf.keras.layers.Flatten()
        self.dense1 = tf.keras.layers.Dense(32, activation="relu")
        self.dense2 = tf.keras.layers.Dense(64, activation="relu")
        self.dense3 = tf.keras.layers.Dense(128, activation="relu")
        self.dense4 = tf.keras.layers.Dense(256, activation="relu")
        self.dense5 = tf.keras.layers.Dense(10, activation="softmax")

    def call(self, x, training=None, mask=None):
        x = self.flatten(x)
        for layer in (self.dense1, self.dense2, self.dense3, self.dense4):
            x = layer(x)
        return self.dense5(x)


def train_step(model, images, labels, loss_object, optimizer, train_loss, train_accuracy):
    with tf.GradientTape() as tape:
        predictions = model(images)
        loss = loss_object(labels, predictions)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    train_loss(loss)
    train_accuracy(labels, predictions)


def test_step(model, images, labels, loss_object, test_loss, test_accuracy):
    predictions = model(images)
    loss = loss_object(labels, predictions)
    test_loss(loss)
    test_accuracy(labels, predictions)


def load(split, data):
    """One split of the SVHN .mat layout as the sheet prepares it: (n, 32, 32, 3) in [0, 1], labels 0..9."""
    x = np.moveaxis(data[f"{split}_X"], -1, 0).astype("float32") / 255.0
    return x, (data[f"{split}_y"].astype("int64") - 1)


def train(data, epochs=10, batch_size=32):
    """The sheet's loop (Adam, shuffle 1024, batch 32) on scaled images; the trained model."""
    tf.keras.utils.set_random_seed(0)
    x_train, y_train = load("train", data)
    train_ds = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(1024).batch(batch_size)
    model, optimizer = Mymodel(), tf.keras.optimizers.Adam()
    loss_object = tf.keras.losses.SparseCategoricalCrossentropy()
    train_loss, train_accuracy = tf.keras.metrics.Mean(), tf.keras.metrics.SparseCategoricalAccuracy()
    step = tf.function(train_step)
    for _ in range(epochs):
        for images, labels in train_ds:
            step(model, images, labels, loss_object, optimizer, train_loss, train_accuracy)
    return model

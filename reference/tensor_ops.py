"""Element-wise operations and dot products (DLwP ch. 2.3), vectorised."""

import numpy as np


def naive_relu(x):
    return np.maximum(x, 0)


def naive_add(x, y):
    return x + y


def naive_vector_dot(x, y):
    return np.dot(x, y)


def naive_matrix_vector_dot(x, y):
    return x @ y


def naive_matrix_dot(x, y):
    return x @ y


relu_numpy = naive_relu
add_numpy = naive_add

# the third edition's names (Deep Learning with Python, 3rd ed., 2025)
naive_vector_product = naive_vector_dot
naive_matrix_vector_product = naive_matrix_vector_dot
naive_matrix_product = naive_matrix_dot

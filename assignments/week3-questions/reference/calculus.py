"""Derivatives asked for in the week-3 questions, in closed form (numpy).

Called in the grader's process with the values a submission had when it
answered (its own x, W and b), so a student's random W is no obstacle.
"""

import numpy as np


def grad_linear(x, W, b):
    """d/dW and d/db of sum(x @ W + b): the upstream gradient is all ones."""
    upstream = np.ones((np.shape(x)[0], np.shape(W)[1]))
    return [np.asarray(x, float).T @ upstream, upstream.sum(axis=0)]


def grad_cubic(x, W, b):
    """d/dW and d/db of sum((x @ W + b) ** 3)."""
    x, W, b = (np.asarray(v, float) for v in (x, W, b))
    upstream = 3 * (x @ W + b) ** 2
    return [x.T @ upstream, upstream.sum(axis=0)]

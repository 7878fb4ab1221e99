"""Lab 1's checks: the custom dense layer's output, and the music-batch function."""

import numpy as np

# OurDenseLayer(3) built on (1, 2), called on [[1, 2]] after tf.keras.utils.set_random_seed(1)
DENSE_LAYER_OUTPUT = np.array([[0.27064407, 0.1826951, 0.50374055]], dtype="float32")


def _array(y):
    return np.asarray(y.numpy() if hasattr(y, "numpy") else y)


def test_custom_dense_layer_output(y):
    y = _array(y)
    assert list(y.shape) == list(DENSE_LAYER_OUTPUT.shape), (
        f"[FAIL] output is of incorrect shape. expected {DENSE_LAYER_OUTPUT.shape} but got {y.shape}")
    np.testing.assert_almost_equal(y, DENSE_LAYER_OUTPUT, decimal=7,
                                   err_msg=f"[FAIL] output is of incorrect value. expected {DENSE_LAYER_OUTPUT} but got {y}")
    print("[PASS] test_custom_dense_layer_output")
    return True


def test_batch_func_types(func, args):
    x, y = func(*args)
    assert isinstance(x, np.ndarray), "[FAIL] test_batch_func_types: x is not np.array"
    assert isinstance(y, np.ndarray), "[FAIL] test_batch_func_types: y is not np.array"
    print("[PASS] test_batch_func_types")
    return True


def test_batch_func_shapes(func, args):
    _, seq_length, batch_size = args
    x, y = func(*args)
    want = (batch_size, seq_length)
    assert x.shape == want, f"[FAIL] test_batch_func_shapes: x {x.shape} is not correct shape {want}"
    assert y.shape == want, f"[FAIL] test_batch_func_shapes: y {y.shape} is not correct shape {want}"
    print("[PASS] test_batch_func_shapes")
    return True


def test_batch_func_next_step(func, args):
    x, y = func(*args)
    assert (x[:, 1:] == y[:, :-1]).all(), "[FAIL] test_batch_func_next_step: x_{t} must equal y_{t-1} for all t"
    print("[PASS] test_batch_func_next_step")
    return True

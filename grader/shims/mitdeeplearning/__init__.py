"""Stand-in for `mitdeeplearning` during grading: the lab-1 test helpers the notebooks call.

The real package cannot be installed here (it pulls in torch, gym, openai,
…, and imports every lab on import). These helpers behave as MIT 6.S191's
lab-1 ones do: they assert and print "[PASS] …". Nothing here imports
TensorFlow until a helper is called.
"""

from . import lab1
from .lab1 import (  # noqa: F401
    test_batch_func_next_step,
    test_batch_func_shapes,
    test_batch_func_types,
    test_custom_dense_layer_output,
)

"""Rules: small pure judgements of one observation, chosen by name in a rubric check.

Each rule takes the check's settings, what the submission's object did and
what the reference did, and returns an `Outcome` worded for the student.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..compare import Outcome, compare, describe, is_numeric
from ..rubric import CheckSpec, Item

Rule = Callable[[CheckSpec, dict, dict, Item], Outcome]
RULES: dict[str, Rule] = {}

_ORDINALS = ["first", "second", "third", "fourth", "fifth"]


def rule(fn: Rule) -> Rule:
    RULES[fn.__name__] = fn
    return fn


def _ordinal(n: int) -> str:
    return _ORDINALS[n - 1] if 0 < n <= len(_ORDINALS) else f"#{n}"


@rule
def equal(check: CheckSpec, observed: dict, expected: dict, item: Item) -> Outcome:
    """The observation equals the reference's, by the comparison ladder."""
    return compare(expected[check.observe], observed[check.observe], rtol=check.rtol, atol=check.atol, dtype=check.dtype)


@rule
def layers_applied(check: CheckSpec, observed: dict, expected: dict, item: Item) -> Outcome:
    """A chained model's output; an output as wide as a hidden layer means the chain stopped there."""
    outcome = equal(check, observed, expected, item)
    actual = observed[check.observe]
    sizes = item.params.get("sizes", [])
    if outcome.passed or not is_numeric(actual) or np.ndim(actual) < 1:
        return outcome
    width, want = np.shape(actual)[-1], np.shape(expected[check.observe])
    hidden = sizes[1:-1]
    if width in hidden and width != sizes[-1]:
        layer = hidden.index(width) + 1
        message = f"model(x) returned after the {_ordinal(layer)} layer: output shape {np.shape(actual)}, expected {want}"
        return Outcome(False, message, f"shape {want}", f"shape {np.shape(actual)}")
    return outcome


@rule
def sgd_step(check: CheckSpec, observed: dict, expected: dict, item: Item) -> Outcome:
    """Every weight moved by −learning_rate × its gradient, with one positive learning rate."""
    before, grads, after = (observed[k] for k in ("before", "gradients", check.observe))
    if not isinstance(after, list) or len(after) != len(before) or any(np.shape(a) != np.shape(b) for a, b in zip(after, before)):
        return Outcome(False, f"the weights changed shape or number: {describe(after)}")
    delta = np.concatenate([np.ravel(np.asarray(a, float) - np.asarray(b, float)) for a, b in zip(after, before)])
    g = np.concatenate([np.ravel(np.asarray(x, float)) for x in grads])
    if not np.any(delta):
        return Outcome(False, "no weight changed", "w − learning_rate × g", "w unchanged")
    lr = -float(delta @ g) / float(g @ g)
    residual = float(np.abs(delta + lr * g).max())
    if residual > max(check.atol, 1e-3 * np.abs(delta).max()):
        return Outcome(False, f"the weights did not move by a multiple of their gradients (largest mismatch {residual:.3g})",
                       "w − learning_rate × g", f"w + {describe(delta, 60)}")
    if lr <= 0:
        return Outcome(False, f"the weights moved *up* their gradients (w + {-lr:.3g} × g): that is gradient ascent",
                       "w − learning_rate × g", f"w + {-lr:.3g} × g")
    return Outcome(True, f"learning rate {lr:.3g}")


@rule
def all_changed(check: CheckSpec, observed: dict, expected: dict, item: Item) -> Outcome:
    """Every weight differs from its value before (a layer that gets no gradient stays put)."""
    before, after = observed["before"], observed[check.observe]
    if not isinstance(after, list) or len(after) != len(before):
        return Outcome(False, f"expected {len(before)} weights after the step, got {describe(after)}")
    still = [i for i, (a, b) in enumerate(zip(after, before)) if np.shape(a) == np.shape(b) and np.array_equal(a, b)]
    if still:
        which = ", ".join(f"weight {i + 1}" for i in still)
        return Outcome(False, f"{which} of {len(before)} did not change", "every weight updated", f"{len(still)} unchanged")
    return Outcome(True)


@rule
def batches(check: CheckSpec, observed: dict, expected: dict, item: Item) -> Outcome:
    """Successive next() calls give consecutive, aligned, non-overlapping slices."""
    got, want = observed[check.observe], expected[check.observe]
    for i, (g, w) in enumerate(zip(got, want)):
        if i and isinstance(g, list) and compare(got[i - 1], g).passed:
            return Outcome(False, f"next() call {i + 1} returned the same batch as call {i}: does next() advance its index?",
                           describe(w), describe(g))
        outcome = compare(w, g, where=f"in next() call {i + 1}")
        if not outcome.passed:
            return outcome
    return Outcome(True)


@rule
def decreasing(check: CheckSpec, observed: dict, expected: dict, item: Item) -> Outcome:
    """The mean loss of each epoch is lower than the epoch before."""
    losses = np.asarray(observed[check.observe], dtype=float)
    epochs = int(check.params.get("epochs", item.params.get("epochs", 1)))
    if losses.size == 0 or losses.size % epochs:
        return Outcome(False, f"expected the same number of steps in each of {epochs} epochs, got {losses.size} steps")
    means = losses.reshape(epochs, -1).mean(axis=1)
    shown = ", ".join(f"{m:.4f}" for m in means)
    if not np.all(np.isfinite(means)) or not np.all(np.diff(means) < 0):
        return Outcome(False, f"the loss did not fall from epoch to epoch (mean loss per epoch: {shown})", "falling", shown)
    return Outcome(True, shown)


@rule
def accuracy(check: CheckSpec, observed: dict, expected: dict, item: Item) -> Outcome:
    """Test accuracy clearly above chance, measured against the reference trained the same way."""
    labels = np.asarray(expected["labels"])
    want_shape = tuple(expected["output_shape"])
    shape = tuple(int(n) for n in observed.get("output_shape", ()))
    if shape != want_shape:
        return Outcome(False, f"the model's output on the {labels.size} test images has shape {shape}, expected {want_shape} (one score per class)",
                       f"shape {want_shape}", f"shape {shape}")
    reference = _accuracy(expected["predictions"], labels)
    chance = 1.0 / int(check.params.get("classes", 10))
    needed = chance + float(check.params.get("fraction", 0.5)) * (reference - chance)
    score = _accuracy(observed["predictions"], labels)
    text = f"test accuracy {score:.3f}"
    if score < needed:
        return Outcome(False, f"{text}, below the {needed:.3f} needed (chance is {chance:.2f}; the reference solution reaches {reference:.3f})",
                       f"≥ {needed:.3f}", f"{score:.3f}")
    return Outcome(True, f"{text} (reference {reference:.3f})", f"≥ {needed:.3f}", f"{score:.3f}")


def _accuracy(predictions, labels: np.ndarray) -> float:
    predictions = np.asarray(predictions, dtype=float)
    return float((np.argmax(predictions, axis=1) == labels).mean())

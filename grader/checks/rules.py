"""Rules: small pure judgements of one observation, chosen by name in a rubric check.

Each rule takes the check's settings, what the submission's object did and
what the reference did, and returns an `Outcome` worded for the student.
These are the generic ones; a rule only one sheet needs lives in that
assignment's `checks.py`, declared with the same `@rule` (see `rules_for`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import numpy as np

from .. import folders
from ..compare import Outcome, compare, describe, is_numeric
from ..probes.context import Kind
from ..values import Raised

if TYPE_CHECKING:
    from ..rubric import CheckSpec, Item

Rule = Callable[["CheckSpec", dict, dict, "Item"], Outcome]
ANY = frozenset(Kind) - {Kind.CASES}


@dataclass(frozen=True)
class Reads:
    """What a rule reads: the kinds its `observe` may be, other observations, and params naming observations."""

    kinds: frozenset
    needs: tuple[str, ...] = ()
    named_by: dict[str, str | None] = field(default_factory=dict)  # param -> its default, when the param names an observation

    def observations(self, params: dict) -> list[str]:
        named = [params.get(p, default) for p, default in self.named_by.items()]
        return [*self.needs, *(n for n in named if isinstance(n, str))]


def rule(kinds=ANY, needs: tuple[str, ...] = (), **named_by):
    """Declare a rule with what it reads (checked against the probe when a rubric is loaded)."""
    def register(fn: Rule) -> Rule:
        fn.reads = Reads(frozenset(kinds), tuple(needs), dict(named_by))
        return fn
    return register


@rule()
def equal(check: CheckSpec, observed: dict, expected: dict, item: Item) -> Outcome:
    """The observation equals the reference's, by the comparison ladder."""
    return compare(expected[check.observe], observed[check.observe], rtol=check.rtol, atol=check.atol, dtype=check.dtype)



def _rate(value: float) -> str:
    """A learning rate as a sheet writes it, to 3 digits: 0.01, 0.05, 1e-3."""
    value = float(f"{value:.3g}")
    exponent = np.log10(value) if value > 0 else 0.5
    if value < 0.01 and exponent == round(exponent):
        return f"1e{int(exponent)}"
    return f"{value:g}"


@rule({Kind.ARRAYS}, needs=("before", "gradients"))
def sgd_step(check: CheckSpec, observed: dict, expected: dict, item: Item) -> Outcome:
    """Every weight moved by −learning_rate × its gradient, with one positive learning rate (the sheet's, given `params.learning_rate`)."""
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
    sheet = check.params.get("learning_rate")
    if sheet is not None and not np.isclose(lr, float(sheet), rtol=float(check.params.get("rate_rtol", 0.01)), atol=0):
        default = " (0.01 is the default of Keras' SGD: was it built without learning_rate?)" if np.isclose(lr, 0.01, rtol=0.01) else ""
        return Outcome(False, f"the weights moved by −{_rate(lr)} × their gradients: a learning rate of {_rate(lr)}, "
                       f"not the sheet's {_rate(float(sheet))}{default}", f"w − {_rate(float(sheet))} × g", f"w − {_rate(lr)} × g")
    return Outcome(True, f"learning rate {_rate(lr)}")


@rule({Kind.ARRAYS}, needs=("before",))
def all_changed(check: CheckSpec, observed: dict, expected: dict, item: Item) -> Outcome:
    """Every weight differs from its value before (a layer that gets no gradient stays put)."""
    before, after = observed["before"], observed[check.observe]
    if not isinstance(after, list) or len(after) != len(before):
        return Outcome(False, f"expected {len(before)} weights after the step, got {describe(after)}")
    if not before:
        return Outcome(False, "no model whose weights could be followed was built", "a model with weights", "none")
    still = [i for i, (a, b) in enumerate(zip(after, before)) if np.shape(a) == np.shape(b) and np.array_equal(a, b)]
    if len(still) == len(before):
        return Outcome(False, f"none of the {len(before)} weights changed: the {check.params.get('what', 'model')} was never updated",
                       "every weight updated", "no weight changed")
    if still:
        which = ", ".join(f"weight {i + 1}" for i in still)
        return Outcome(False, f"{which} of {len(before)} did not change", "every weight updated", f"{len(still)} unchanged")
    return Outcome(True)



def _shape(shape) -> str:
    return "×".join(str(int(n)) for n in shape) or "scalar"


@rule({Kind.NUMBERS}, needs=("loss_along", "step_loss", "step_rate", "fd_step", "step_shapes", "step_missing"))
def follows_gradient(check: CheckSpec, observed: dict, expected: dict, item: Item) -> Outcome:
    """One step moved every weight down the loss's gradient: along a random direction per weight, the move equals
    −rate × c × the loss's slope there (by finite differences), with one positive c for all weights.

    c absorbs a loss whose gradient the step scales (the sheet's backward pass differentiates ½·sum, its loss is
    ½·mean): what differs between weights is a gradient wrong in some entries. Slopes within the finite
    differences' rounding (deep layers of a small network) are judged to that precision only.
    """
    step = {**item.params.get("step", {})} if hasattr(item, "params") else {}
    function = step.get("function", "gradient_descent")
    missing = observed.get("step_missing") or []
    if missing:
        names = " and ".join(f"`{n}`" for n in missing)
        return Outcome(False, f"no step could be taken on the grader's data: the notebook has no {names}",
                       f"{function}(network, x, y, loss, rate)", f"no {names}")
    along = observed.get(check.observe)
    if isinstance(along, Raised):
        return Outcome(False, along.sentence(), "a step", f"{along.ename}", raised=True)
    slopes, shapes = observed.get("loss_along"), observed.get("step_shapes") or []
    if not isinstance(along, list) or not isinstance(slopes, list) or len(along) != len(slopes) or not along:
        return Outcome(False, f"one step of `{function}` changed the number or the shapes of the network's weights",
                       "the same weights, moved", describe(along))
    rate, eps, loss = (float(observed[k]) for k in ("step_rate", "fd_step", "step_loss"))
    implied = -np.asarray(along, dtype=float) / rate  # the gradient's component along each direction that the step implies
    slope = np.asarray(slopes, dtype=float)
    if not (np.all(np.isfinite(implied)) and np.all(np.isfinite(slope)) and np.isfinite(loss)):
        return Outcome(False, f"one step of `{function}` on the grader's data gave weights or a loss that are not finite",
                       "finite values", "nan or inf")
    noise = float(check.params.get("noise", 1e-13)) * max(1.0, abs(loss)) / eps  # the slopes' rounding
    rtol = check.rtol
    judged = np.abs(slope) > noise
    if not judged.any():
        if np.all(np.abs(implied) <= noise * 10):
            return Outcome(True, "the loss is flat along every weight and the step moved none")
        return Outcome(False, f"one step of `{function}` moved the weights although the loss is flat along them",
                       "no move", "moved")

    def agreeing(factor: float) -> np.ndarray:
        tolerance = rtol * np.maximum(np.abs(implied), np.abs(factor * slope)) + abs(factor) * noise
        return np.abs(implied - factor * slope) <= tolerance

    # the common factor: the positive one most of the judged weights agree on (a gradient wrong in some entries changes
    # those weights' ratios; moving up the gradient is never right), on a tie the one of the steeper weights
    candidates = [float(implied[i] / slope[i]) for i in np.flatnonzero(judged) if implied[i] / slope[i] > 0]
    if not candidates:
        return Outcome(False, f"one step of `{function}` moved the weights *up* the loss's gradient: that is gradient ascent",
                       "w − rate × gradient", "w + rate × gradient")
    def support(factor: float) -> tuple[int, float]:
        agree = agreeing(factor) & judged
        return int(agree.sum()), float(np.abs(slope[agree]).sum())

    factor = max(candidates, key=support)
    agree = agreeing(factor)
    wrong = [i for i in range(len(implied)) if not agree[i]]
    if wrong:
        def label(i):
            return f"{i + 1}" + (f" ({_shape(shapes[i])})" if i < len(shapes) else "")

        shown = [label(i) for i in wrong[:4]]
        if len(wrong) == 1:
            listed = f"weight {shown[0]}"
        elif len(wrong) <= 4:
            listed = "weights " + ", ".join(shown[:-1]) + " and " + shown[-1]
        else:
            listed = "weights " + ", ".join(shown) + f" and {len(wrong) - 4} more"
        worst = max(wrong, key=lambda i: abs(implied[i] - factor * slope[i]))
        ratio = implied[worst] / (factor * slope[worst]) if slope[worst] else float("inf")
        named = f"weight {label(worst)}"
        how = (f"{named} did not move" if abs(ratio) < 1e-6 else f"{named} moved *up* its gradient" if ratio < 0
               else f"{named} moved {ratio:.3g}× as far as its gradient says")
        others = f", while the other {len(implied) - len(wrong)} moved by −{_rate(factor * rate)} × their gradient" if len(wrong) < len(implied) else ""
        return Outcome(False, f"one step of `{function}` on the grader's data does not move {listed} of the {len(implied)} "
                       f"down the loss's gradient ({how}{others}; the gradient measured by finite differences of the "
                       f"notebook's own loss): the back-propagated gradients are wrong in some entries",
                       "every weight moved by −rate × its gradient", f"{len(wrong)} of {len(implied)} off")
    return Outcome(True, f"every weight moved by −{_rate(factor * rate)} × its gradient")


@rule({Kind.NUMBERS}, needs=("train_batches",))
def epochs_trained(check: CheckSpec, observed: dict, expected: dict, item: Item) -> Outcome:
    """The loop trained at least the sheet's number of epochs (`params.epochs`): its optimizer took that many passes
    of steps over the training data. An optimizer step counts whichever function takes it, so more steps than
    that are not held against this item (a `test_step` that trains is its own item's mistake)."""
    epochs = int(check.params["epochs"])
    steps = [s for s in observed.get(check.observe) or [] if isinstance(s, (int, float)) and np.isfinite(s)]
    batches = observed.get("train_batches")
    if not steps:
        return Outcome(False, "no optimizer of the notebook took a step, so no epoch was trained", f"{epochs} epochs", "no step")
    if not isinstance(batches, (int, float)) or batches <= 0:
        return Outcome(False, "the number of batches in one pass over the training data could not be read "
                       "(is `train_ds` a batched tf.data.Dataset?), so the epochs cannot be counted", f"{epochs} epochs", "unknown")
    taken = int(max(steps))
    done = taken // int(batches)
    if done < epochs:
        return Outcome(False, f"the loop trained {done} epoch{'s' if done != 1 else ''} ({taken} optimizer steps, {int(batches)} "
                       f"batches per epoch), fewer than the sheet's {epochs}", f"{epochs} epochs", f"{done} epochs")
    return Outcome(True, f"{done} epochs of {int(batches)} steps")


@rule({Kind.NUMBERS})
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


@rule({Kind.SHAPES}, needs=("labels", "predictions"))
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


@rule({Kind.ARRAYS}, needs=("before",))
def none_changed(check: CheckSpec, observed: dict, expected: dict, item: Item) -> Outcome:
    """No weight differs from its value before (an evaluation must not train)."""
    before, after = observed["before"], observed[check.observe]
    if not isinstance(after, list) or len(after) != len(before):
        return Outcome(False, f"expected {len(before)} weights after the call, got {describe(after)}")
    moved = [i for i, (a, b) in enumerate(zip(after, before)) if np.shape(a) != np.shape(b) or not np.array_equal(a, b)]
    if moved:
        return Outcome(False, f"{len(moved)} of the {len(before)} weights changed", "no weight changed", f"{len(moved)} changed")
    return Outcome(True)


@rule({Kind.NUMBER}, than="before")
def lower(check: CheckSpec, observed: dict, expected: dict, item: Item) -> Outcome:
    """The observation is lower than another one (the loss after a step against the loss before)."""
    after, before = observed[check.observe], observed.get(check.params.get("than", "before"))
    if not (is_numeric(after) and is_numeric(before)):
        return Outcome(False, f"the loss could not be measured ({describe(after)})")
    after, before = float(np.asarray(after)), float(np.asarray(before))
    if not after < before:
        return Outcome(False, f"the loss on the batch went from {before:.4f} to {after:.4f}: the step did not lower it",
                       f"< {before:.4f}", f"{after:.4f}")
    return Outcome(True, f"{before:.4f} → {after:.4f}")


@rule({Kind.ARRAY})
def probabilities(check: CheckSpec, observed: dict, expected: dict, item: Item) -> Outcome:
    """An (n, classes) output whose rows are probabilities: non-negative, summing to 1."""
    actual = observed[check.observe]
    if not is_numeric(actual):
        return compare(expected.get(check.observe), actual) if check.observe in expected else Outcome(False, f"got {describe(actual)}")
    values = np.asarray(actual, dtype=float)
    want = tuple(np.shape(expected[check.observe])) if check.observe in expected else None
    if values.ndim != 2 or (want and values.shape != want):
        return Outcome(False, f"output shape {values.shape}, expected {want or '(n, classes)'}", f"shape {want}", f"shape {values.shape}")
    sums = values.sum(axis=1)
    if values.min() < -check.atol or not np.allclose(sums, 1, atol=max(check.atol, 1e-4)):
        shown = ", ".join(f"{v:.3g}" for v in sums[:3]) + (", …" if sums.size > 3 else "")
        return Outcome(False, f"the outputs are not class probabilities: the rows sum to {shown} (not 1) and the smallest value is {values.min():.3g}",
                       "rows of non-negative values summing to 1", f"row sums {shown}")
    return Outcome(True)


@rule({Kind.ARRAY}, inputs="inputs")
def finite(check: CheckSpec, observed: dict, expected: dict, item: Item) -> Outcome:
    """Values stay finite (and right) at large inputs; says from which abs(x) they do not."""
    actual = observed[check.observe]
    if not is_numeric(actual):
        return Outcome(False, f"got {describe(actual)}", raised=isinstance(actual, Raised))
    values = np.asarray(actual, dtype=float)
    inputs = np.abs(np.asarray(observed[check.params.get("inputs", "inputs")], dtype=float))
    bad = ~np.isfinite(values)
    if values.shape == inputs.shape and bad.any():
        kind = "nan" if np.isnan(values[bad]).any() else "infinite"
        ok = f" (finite up to abs(x) = {inputs[~bad].max():g})" if (~bad).any() else ""
        return Outcome(False, f"the output is {kind} for abs(x) ≥ {inputs[bad].min():g}{ok}", "finite values", f"{kind} from abs(x) = {inputs[bad].min():g}")
    if check.observe in expected:
        return compare(expected[check.observe], actual, rtol=check.rtol, atol=check.atol, where="at large abs(x)")
    return Outcome(True)


_OBJECT_REPR = re.compile(r"<[^<>]*? object at 0x[0-9a-fA-F]+>")
_NUMBER = re.compile(r"[\s:=,]*(?:tf\.Tensor\(|array\(|\[+)?\s*([-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf))", re.IGNORECASE)


def printed_values(text: str, label: str) -> list:
    """The value printed after `label` on each line that has it: a float, or the text printed instead."""
    values = []
    for line in (text or "").splitlines():
        found = re.search(re.escape(label), line, re.IGNORECASE)
        if not found:
            continue
        rest = line[found.end():]
        number = _NUMBER.match(rest)
        if number:
            values.append(float(number.group(1)))
            continue
        obj = _OBJECT_REPR.search(rest)
        shown = obj.group(0) if obj else rest.strip(" :=,")[:60]
        values.append(re.sub(r"0x[0-9a-fA-F]+", "0x…", shown))
    return values


@rule({Kind.TEXT})
def printed_numbers(check: CheckSpec, observed: dict, expected: dict, item: Item) -> Outcome:
    """What the cell printed after the label (`loss`) each epoch is a number, not an object's repr."""
    label = check.params.get("label", "loss")
    values = printed_values(observed.get(check.observe, ""), label)
    if not values:
        return Outcome(False, f"the cell printed no {label} value", f"a {label} per epoch", "nothing printed")
    wrong = [v for v in values if isinstance(v, str)]
    if wrong:
        if _OBJECT_REPR.search(wrong[0].replace("0x…", "0x0")):
            return Outcome(False, f"the printed {label} is an object, {wrong[0]}, not a number ({len(wrong)} of {len(values)} lines): "
                           f"the {label} was never computed", "a number", wrong[0])
        return Outcome(False, f"the printed {label} is “{wrong[0]}”, not a number ({len(wrong)} of {len(values)} lines)", "a number", wrong[0])
    return Outcome(True, f"{len(values)} values")


@rule({Kind.TEXT})
def printed_falling(check: CheckSpec, observed: dict, expected: dict, item: Item) -> Outcome:
    """The printed values after the label fall from the first to the last, and stay finite."""
    label = check.params.get("label", "loss")
    values = [v for v in printed_values(observed.get(check.observe, ""), label) if not isinstance(v, str)]
    if len(values) < 2:
        return Outcome(False, f"fewer than two {label} values were printed as numbers, so the {label} cannot be seen to fall",
                       "falling", f"{len(values)} numbers")
    first, last = values[0], values[-1]
    if not np.isfinite(values).all() or not last < first:
        return Outcome(False, f"the printed {label} did not fall: {first:.4g} first, {last:.4g} last", "falling", f"{first:.4g} → {last:.4g}")
    return Outcome(True, f"{first:.4g} → {last:.4g}")


@rule({Kind.NAMES})
def contains(check: CheckSpec, observed: dict, expected: dict, item: Item) -> Outcome:
    """A list of names (the classes a model is made of) includes the one the sheet asks for."""
    names, want = observed[check.observe], check.params["value"]
    if not isinstance(names, list) or want not in names:
        return Outcome(False, f"the model uses no `{want}`", want, describe(names))
    return Outcome(True)


@rule({Kind.VALUE, Kind.NUMBER, Kind.NUMBERS, Kind.ARRAY}, to=None)
def near(check: CheckSpec, observed: dict, expected: dict, item: Item) -> Outcome:
    """A value ends within `tol` of a target (another observation, or a number)."""
    to = check.params["to"]
    target = observed.get(to) if isinstance(to, str) else to
    value = observed[check.observe]
    if not (is_numeric(value) and is_numeric(target)) or np.size(value) != 1:
        return Outcome(False, f"`{check.observe}` is {describe(value)}, expected a number near {describe(target)}")
    value, target, tol = float(np.ravel(value)[0]), float(np.ravel(target)[0]), float(check.params.get("tol", 0.1))
    if not abs(value - target) <= tol:
        return Outcome(False, f"`{check.observe}` ended at {value:.4g}, not within {tol:g} of {target:g}", f"{target:g} ± {tol:g}", f"{value:.4g}")
    return Outcome(True, f"{value:.4g}")


@rule({Kind.MAPPING})
def tensors(check: CheckSpec, observed: dict, expected: dict, item: Item) -> Outcome:
    """Named tensors exist with the reference's rank (and, for those listed in `exact`, its shape)."""
    got, want = observed[check.observe], expected[check.observe]
    if not isinstance(got, dict):
        return Outcome(False, f"the tensors could not be read ({describe(got)})")
    undefined = [name for name in want if got.get(name) is None]
    if undefined:
        names = " and ".join(f"`{n}`" for n in undefined)
        return Outcome(False, f"{names} {'was' if len(undefined) == 1 else 'were'} never defined", "defined", "undefined")
    for name, shape in want.items():
        actual = list(got[name])
        if len(actual) != len(shape):
            return Outcome(False, f"`{name}` has rank {len(actual)}, expected rank {len(shape)}", f"rank {len(shape)}", f"rank {len(actual)}")
        if name in check.params.get("exact", []) and actual != list(shape):
            return Outcome(False, f"`{name}` has shape {tuple(actual)}, expected {tuple(shape)}", str(tuple(shape)), str(tuple(actual)))
    return Outcome(True)


RULES: dict[str, Rule] = {name: fn for name, fn in list(globals().items()) if callable(fn) and getattr(fn, "reads", None) is not None}


def rules_for(folder=None) -> dict[str, Rule]:
    """The rules an item in `folder` may name: the generic ones, and its assignment's `checks.py` declares."""
    return {**RULES, **folders.declared(folder, "reads")}


def rule_named(name: str, folder=None) -> Rule:
    return rules_for(folder)[name]

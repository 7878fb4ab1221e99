"""Code similarity across a batch: pure functions, no kernel, no notebooks run."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from grader.similarity import Basis, Behaviour, behaviour_pairs, CodeUnit, SimilarPair, fingerprints, normalise_tokens, similar_pairs, write_csv

ROOT = Path(__file__).resolve().parents[1]

TRAIN_LOOP = '''\
import numpy as np
import tensorflow as tf

def train(model, inputs, targets, epochs=10, learning_rate=1e-3):
    # plain gradient descent on a Keras model
    optimizer = tf.keras.optimizers.SGD(learning_rate=learning_rate)
    history = []
    for epoch in range(epochs):
        with tf.GradientTape() as tape:
            predictions = model(inputs, training=True)
            loss = tf.reduce_mean(tf.square(targets - predictions))
        gradients = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(gradients, model.trainable_weights))
        history.append(float(loss))
        if epoch % 5 == 0:
            print(f"epoch {epoch}: loss {loss:.4f}")
    return np.array(history)
'''

# The same loop, renamed, re-commented, other literals and another layout.
TRAIN_LOOP_DISGUISED = '''\
import numpy as np
import tensorflow as tf


def fit_model(net, X, y, n_epochs = 25, lr = 0.01):
    opt = tf.keras.optimizers.SGD(learning_rate = lr)   # the SGD optimiser
    losses = [ ]
    for e in range( n_epochs ):
        with tf.GradientTape() as g:
            y_hat = net(X, training = True)
            l = tf.reduce_mean( tf.square(y - y_hat) )

        grads = g.gradient(l, net.trainable_weights)
        opt.apply_gradients(zip(grads, net.trainable_weights))  # update step
        losses.append(float(l))
        if e % 10 == 0:
            print('e=%d l=%s')
    return np.array(losses)
'''

# The same item solved another way: linear regression by hand in numpy.
TRAIN_LOOP_OWN = '''\
import numpy as np

def train(inputs, targets, epochs=100, learning_rate=0.1):
    rng = np.random.default_rng(0)
    W = rng.normal(size=(inputs.shape[1], 1))
    b = np.zeros(1)
    history = []
    for _ in range(epochs):
        error = inputs @ W + b - targets
        grad_W = 2 * inputs.T @ error / len(inputs)
        grad_b = 2 * error.mean(axis=0)
        W -= learning_rate * grad_W
        b -= learning_rate * grad_b
        history.append(float((error ** 2).mean()))
    return W, b, history
'''

# Deep Learning with Python, chapter 2: what the reference solution and every textbook reader write.
NAIVE_RELU = '''\
def naive_relu(x):
    assert len(x.shape) == 2
    x = x.copy()
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            x[i, j] = max(x[i, j], 0)
    return x
'''

NAIVE_ADD = '''\
def naive_add(x, y):
    assert len(x.shape) == 2
    assert x.shape == y.shape
    x = x.copy()
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            x[i, j] += y[i, j]
    return x
'''

# An unusual helper two students share (and nobody else wrote).
ODD_HELPER = '''\
def batches_by_length(xs, ys, size=32, shuffle=True, seed=7):
    order = sorted(range(len(xs)), key=lambda i: (len(xs[i]), i))
    groups = [order[i:i + size] for i in range(0, len(order), size)]
    if shuffle:
        rng = np.random.default_rng(seed)
        rng.shuffle(groups)
    for group in groups:
        width = max(len(xs[i]) for i in group)
        batch = np.zeros((len(group), width), dtype="int32")
        for row, i in enumerate(group):
            batch[row, :len(xs[i])] = xs[i]
        labels = np.asarray([ys[i] for i in group])
        if labels.ndim == 1:
            labels = labels[:, None]
        yield batch, labels
'''


def unit(submission: str, item: str, source: str, cells: tuple[int, ...] = (3,)) -> CodeUnit:
    return CodeUnit(submission=submission, item=item, cells=cells, source=source)


def test_renamed_copy_is_paired_and_an_own_solution_is_not():
    units = [unit("alice", "train", TRAIN_LOOP, (4, 5)),
             unit("bob", "train", TRAIN_LOOP_DISGUISED, (7,)),
             unit("carol", "train", TRAIN_LOOP_OWN, (6,))]
    assert normalise_tokens(TRAIN_LOOP) == normalise_tokens(TRAIN_LOOP_DISGUISED)
    assert similar_pairs(units) == [SimilarPair("train", "alice", "bob", 1.0, (4, 5), (7,))]
    # carol is not close to either even with a permissive threshold
    assert all("carol" not in (p.a, p.b) for p in similar_pairs(units, threshold=0.3))


def test_items_are_compared_separately():
    units = [unit("alice", "train", TRAIN_LOOP), unit("bob", "evaluate", TRAIN_LOOP_DISGUISED)]
    assert similar_pairs(units) == []


def test_two_copiers_alone_are_reported():
    """With only two submissions for an item, the majority filter must not erase their match."""
    pairs = similar_pairs([unit("alice", "train", TRAIN_LOOP), unit("bob", "train", TRAIN_LOOP_DISGUISED)])
    assert [(p.a, p.b, p.score) for p in pairs] == [("alice", "bob", 1.0)]


def test_reference_code_is_not_evidence():
    own = "\nprint(naive_relu(np.ones((2, 2))))\n"
    units = [unit("alice", "relu", NAIVE_RELU + own),
             unit("bob", "relu", "# from the book\n" + NAIVE_RELU),
             unit("carol", "relu", TRAIN_LOOP_OWN)]
    assert similar_pairs(units, common=[NAIVE_RELU]) == []
    # what removed it is the reference, not chance
    assert [(p.a, p.b) for p in similar_pairs(units)] == [("alice", "bob")]


def test_code_the_whole_class_typed_is_not_evidence_but_a_shared_helper_is():
    others = {
        "s3": "z = naive_add(a, b)\nprint(z.shape, z.dtype)\n",
        "s4": "for k in range(3):\n    out = naive_add(out, out)\nassert out.sum() > 0\n",
        "s5": "result = [naive_add(m, m) for m in mats]\nresult = np.stack(result, axis=0)\n",
    }
    units = [unit("s1", "add", NAIVE_ADD + "\n" + ODD_HELPER, (2, 3)),
             unit("s2", "add", ODD_HELPER.replace("xs", "seqs").replace("32", "64") + "\n# copied?\n" + NAIVE_ADD,
                  (5,))]
    units += [unit(name, "add", NAIVE_ADD + "\n" + extra) for name, extra in others.items()]
    pairs = similar_pairs(units)
    assert [(p.item, p.a, p.b) for p in pairs] == [("add", "s1", "s2")]
    assert pairs[0].score >= 0.9 and pairs[0].cells_a == (2, 3) and pairs[0].cells_b == (5,)
    # without the helper nobody is paired: five identical naive_add are the textbook's
    plain = [unit(f"s{i}", "add", NAIVE_ADD + "\n" + extra) for i, extra in enumerate(["", "", *others.values()])]
    assert similar_pairs(plain) == []


def test_normalise_tokens_drops_comments_and_shell_escapes():
    source = "!pip install numpy\n%matplotlib inline\n  %time x = 1\nloss = 0.5 * len(name)  # half\nprint('hi')\n"
    assert normalise_tokens(source) == ["V", "=", "N", "*", "len", "(", "V", ")", "print", "(", "S", ")"]
    assert normalise_tokens("%%timeit\nfor i in range(3):\n    pass\n") == \
        ["for", "V", "in", "range", "(", "N", ")", ":", "pass"]
    assert normalise_tokens("# only a comment\n\n") == []


def test_code_that_does_not_tokenize_falls_back_to_the_regex_tokenizer():
    good = normalise_tokens(TRAIN_LOOP)
    broken = normalise_tokens(TRAIN_LOOP + "\nresult = train(model, (x, y\n")  # unclosed bracket
    assert broken[:len(good)] == good
    assert broken[len(good):] == ["V", "=", "V", "(", "V", ",", "(", "V", ",", "V"]
    assert normalise_tokens("if x:\n        a = 'unclosed\n    b\n") == ["if", "V", ":", "V", "=", "S", "V"]


def test_fingerprints_are_winnowed_and_stable_across_processes():
    tokens = normalise_tokens(TRAIN_LOOP)
    prints = fingerprints(tokens)
    assert 0 < len(prints) <= len(tokens) - 8 + 1
    assert fingerprints(["V", "=", "N"]) and len(fingerprints(["V", "=", "N"])) == 1
    assert fingerprints([]) == set()
    script = ("import sys; from grader.similarity import fingerprints, normalise_tokens; "
              "print(sorted(fingerprints(normalise_tokens(sys.stdin.read()))))")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script], input=TRAIN_LOOP, capture_output=True,
                         text=True, env=env, cwd=ROOT, check=True).stdout
    assert out.strip() == str(sorted(prints))


def test_write_csv_writes_header_and_rows(tmp_path):
    pairs = [SimilarPair("train", "alice", "bob", 1.0, (4, 5), (7,)),
             SimilarPair("add", "s1", "s2", 0.8333333, (2,), ())]
    written = write_csv(pairs, tmp_path / "similarity.csv")
    with written.open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["item", "submission_a", "submission_b", "score", "cells_a", "cells_b", "basis"],
                    ["train", "alice", "bob", "1.000", "4 5", "7", "code"],
                    ["add", "s1", "s2", "0.833", "2", "", "code"]]
    assert write_csv([], tmp_path) == tmp_path / "similarity.csv"
    assert (tmp_path / "similarity.csv").read_text().splitlines() == [",".join(rows[0])]


def test_submissions_that_fail_an_item_alike_are_a_pair_but_not_a_common_mistake_or_a_right_answer():
    """Behavioural similarity: identical wrong observations pair two submissions; a known mutant's or most of the class's do not."""
    fail = [Behaviour("alice", "relu", "d1", (3,), False), Behaviour("bob", "relu", "d1", (5,), False),  # the same wrong numbers
            Behaviour("carol", "relu", "d2", (3,), True), Behaviour("dan", "relu", "d2", (4,), True),  # like a known mutant
            Behaviour("erin", "add", "d3", (2,), False)]  # alone in its behaviour
    pairs = behaviour_pairs(fail, submissions=8)
    assert pairs == [SimilarPair("relu", "alice", "bob", 1.0, (3,), (5,), Basis.BEHAVIOUR)]
    everyone = [Behaviour(name, "add", "d4", (1,), False) for name in ("a", "b", "c", "d", "e")]
    assert behaviour_pairs(everyone, submissions=8) == []  # most of the class: a mistake made independently

"""The batch's count of kernels started ahead (grader/kernel/ahead.py): never more waiting than submissions left."""

import multiprocessing

from grader.kernel.ahead import AheadBudget


def budget(submissions: int) -> AheadBudget:
    made = AheadBudget(multiprocessing.get_context("spawn"))
    made.expect(submissions)
    return made


def test_kernels_start_ahead_only_for_submissions_no_waiting_kernel_is_for():
    shared = budget(3)
    assert shared.may_start() and shared.may_start()  # each of two workers primes one
    assert shared.begin() == 2  # the first submission begun: two left, two kernels waiting
    shared.taken()  # ... and it took its worker's kernel: one waits for the two left
    assert shared.may_start()  # so one more may start
    assert not shared.may_start()  # but not a third for two submissions
    assert shared.begin() == 1
    shared.taken()
    assert not shared.may_start()  # one waits, one left
    assert shared.begin() == 0
    shared.taken()
    assert not shared.may_start()  # nothing left: nothing starts


def test_a_batch_of_one_submission_on_two_workers_primes_one_kernel():
    shared = budget(1)
    assert shared.may_start()
    assert not shared.may_start()  # the second worker starts none: there is no submission for it
    assert shared.begin() == 0 and shared.begin() == 0  # never below nothing


def _claim(shared: AheadBudget, answers) -> None:
    answers.put(shared.may_start())


def test_the_count_is_one_for_every_worker_process():
    shared = budget(1)
    context = multiprocessing.get_context("fork")
    answers = context.SimpleQueue()
    worker = context.Process(target=_claim, args=(shared, answers))
    worker.start()
    worker.join(30)
    assert answers.get() is True  # the worker took the one place
    assert not shared.may_start()  # and this process sees it taken

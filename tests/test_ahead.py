"""The batch's count of kernels started ahead (grader/kernel/ahead.py): each worker keeps one ready while any
submission is left, a second only while there is a submission for every kernel waiting."""

import multiprocessing

from grader.kernel.ahead import AheadBudget


def budget(submissions: int) -> AheadBudget:
    made = AheadBudget(multiprocessing.get_context("spawn"))
    made.expect(submissions)
    return made


def test_every_worker_keeps_one_kernel_ready_while_a_submission_is_left_and_no_more_than_are_left():
    shared = budget(3)
    assert shared.may_start(own=0) and shared.may_start(own=0)  # each of two workers primes one
    assert shared.begin() == 2  # the first submission begun: two left...
    shared.taken()  # ... and it took its worker's kernel
    assert shared.may_start(own=0)  # that worker gets one ready again
    assert not shared.may_start(own=1)  # but no second: two wait for the two left
    assert shared.begin() == 1
    shared.taken()
    assert shared.may_start(own=0)  # the last submission may go to either worker: both have one ready
    assert shared.begin() == 0
    shared.taken()
    assert not shared.may_start(own=0)  # nothing left: nothing starts (the other worker's one kernel was for nothing)


def test_a_second_kernel_starts_only_while_there_are_submissions_for_all_that_wait():
    shared = budget(4)
    assert shared.may_start(own=0) and shared.may_start(own=0)
    assert shared.begin() == 3
    shared.taken()
    assert shared.may_start(own=0) and shared.may_start(own=1)  # three wait for three
    assert not shared.may_start(own=2)
    assert shared.begin() == 2 and shared.begin() == 1 and shared.begin() == 0 and shared.begin() == 0  # never below nothing


def _claim(shared: AheadBudget, answers) -> None:
    answers.put(shared.may_start(own=1))


def test_the_count_is_one_for_every_worker_process():
    shared = budget(1)
    assert shared.may_start(own=0)  # this process's first: one waits for the one left
    context = multiprocessing.get_context("fork")
    answers = context.SimpleQueue()
    worker = context.Process(target=_claim, args=(shared, answers))
    worker.start()
    worker.join(30)
    assert answers.get() is False  # the worker process sees it: no second kernel for one submission
    shared.taken()
    assert shared.may_start(own=1)  # and the place it freed is seen here

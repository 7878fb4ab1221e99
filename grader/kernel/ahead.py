"""How many kernels a local batch's workers start ahead of use: no more than there are submissions left for them.

Each worker starts the kernel for its next submission while it grades the
current one (`grader.kernel.pool`), two of them when a kernel takes longer to
start than a notebook to run. Which worker gets the next submission is the
process pool's choice (the first one free), so a worker cannot know how many
more will come its way. Counted by turns (submission i to worker i mod N),
a worker near the end of a batch could keep two kernels waiting for
submissions that went to the other. Here the workers count together: a
worker keeps one kernel ready while any submission is left that no worker
has begun (whichever worker is free first, none waits for a kernel to
start), and starts a second one only while fewer kernels wait, over all of
them, than there are such submissions. So at most one kernel per worker is
started for nothing, at the very end. One lock and two integers in shared
memory, made before the workers start (inherited when forked, handed over
when spawned).
"""

from __future__ import annotations


class AheadBudget:
    """Submissions not yet begun and kernels waiting for them, over every worker of one local batch."""

    def __init__(self, context) -> None:
        self._lock = context.Lock()
        self._left = context.RawValue("i", 0)  # submissions of the batch no worker has begun
        self._waiting = context.RawValue("i", 0)  # kernels started ahead and not yet taken, in any worker

    def expect(self, submissions: int) -> None:
        """The batch has `submissions` to grade (the main process, before the workers get their first)."""
        with self._lock:
            self._left.value = submissions

    def begin(self) -> int:
        """A worker begins a submission: how many are left after it (the `ahead` of the kernel pool)."""
        with self._lock:
            self._left.value = max(0, self._left.value - 1)
            return self._left.value

    def may_start(self, own: int) -> bool:
        """May a worker with `own` kernels waiting start one more? Its first while any submission is left, another
        while fewer wait than submissions are left. A yes is counted as a kernel waiting."""
        with self._lock:
            if self._left.value == 0 or (own > 0 and self._waiting.value >= self._left.value):
                return False
            self._waiting.value += 1
            return True

    def taken(self) -> None:
        """A kernel started ahead was taken (or found dead, or stopped): it waits no more."""
        with self._lock:
            self._waiting.value = max(0, self._waiting.value - 1)

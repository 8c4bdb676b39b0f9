"""The app's one background-job type and hand-back (``radioviz.app.jobs``), without a server: a
job's result, error or cancellation always reaches its ``on_done``; one run at a time."""

from __future__ import annotations

import threading

from radioviz.app.jobs import Job, on_session


def test_a_result_reaches_on_done_with_its_progress():
    job, seen, progress = Job("t", every=0.0), [], []

    def work(j):
        for k in (25, 50, 100):
            j.report(k)
        return "map"

    assert job.start(work, seen.append, progress.append)
    job.join(10)
    (out,) = seen
    assert out.result == "map" and out.error is None and not out.cancelled and out.seconds >= 0
    assert progress == [25, 50, 100]


def test_an_error_is_handed_back_never_lost_in_the_thread():
    job, seen = Job("t"), []
    job.start(lambda j: 1 / 0, seen.append)
    job.join(10)
    assert isinstance(seen[0].error, ZeroDivisionError) and seen[0].result is None


def test_one_run_at_a_time_and_cancel_is_seen_by_the_work():
    job, seen, go = Job("t"), [], threading.Event()

    def work(j):
        go.wait(10)
        return "stopped" if j.cancelled.is_set() else "done"

    assert job.start(work, seen.append)
    assert job.running and not job.start(work, seen.append)  # a second start is refused
    job.cancel()
    go.set()
    job.join(10)
    assert [o.result for o in seen] == ["stopped"] and seen[0].cancelled
    go.clear()
    go.set()
    assert job.start(work, seen.append)  # a new start clears the request
    job.join(10)
    assert seen[-1].result == "done" and not seen[-1].cancelled


def test_progress_is_handed_back_at_most_every_interval():
    job, progress = Job("t", every=3600.0), []
    job.run_here(lambda j: [j.report(k) for k in range(100)], lambda o: None)
    assert progress == []  # run_here reports no progress
    job.start(lambda j: [j.report(k) for k in range(100)], lambda o: None, progress.append)
    job.join(10)
    assert progress == [0]  # the first, then nothing for an hour


def test_on_session_without_a_served_page_runs_at_once():
    out = []
    on_session(lambda: out.append(1))
    assert out == [1]

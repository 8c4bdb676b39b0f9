"""A page's events are handled in the order sent; other pages are not held up."""

import functools
import threading

from bokeh.document import Document

from radioviz.app.ordered_events import SessionOrderedExecutor, order_session_events

WAIT = 60  # generous: we wait on states, never on timing


def test_one_documents_tasks_wait_for_each_other_and_others_do_not():
    pool = SessionOrderedExecutor(max_workers=4)
    page_a, page_b = Document(), Document()
    release, order = threading.Event(), []

    def slow(doc):
        release.wait(WAIT)
        order.append("a1")

    first = pool.submit(slow, page_a)
    second = pool.submit(lambda doc: order.append("a2"), page_a)
    other = pool.submit(functools.partial(lambda doc: order.append("b1"), page_b))
    other.result(WAIT)  # page B ran while page A's first task was still running
    assert not first.done() and not second.running() and not second.done()
    release.set()
    second.result(WAIT)
    assert order == ["b1", "a1", "a2"]
    pool.shutdown()


def test_an_error_is_handed_on_and_the_next_task_still_runs():
    pool = SessionOrderedExecutor(max_workers=2)
    page = Document()

    def boom(doc):
        raise ValueError("bad value")

    failed = pool.submit(boom, page)
    after = pool.submit(lambda doc: "ran", page)
    assert after.result(WAIT) == "ran"
    assert isinstance(failed.exception(WAIT), ValueError)
    pool.shutdown()


def test_the_app_installs_it_in_place_of_panels_pool():
    import panel as pn
    from panel.io.state import state

    pn.extension(nthreads=4)
    order_session_events(4)
    order_session_events(4)  # idempotent
    assert isinstance(state._thread_pool, SessionOrderedExecutor)
    pn.config.nthreads = None  # back to no pool for the other tests in this process

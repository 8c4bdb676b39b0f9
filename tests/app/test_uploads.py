"""The chunked upload box's server side (radioviz/app/uploads.py): chunks reassembled by index
whatever order the worker threads deliver them in, sizes refused by name as chunks arrive, and a
multi-file drop handed over once, as one batch."""

from __future__ import annotations

import time
from types import SimpleNamespace

from radioviz.app import uploads


def _chunks(name: str, content: bytes, size: int):
    n = -(-(len(content) + 1) // size)  # as FilePond's view counts them (+1 for empty files)
    return [
        SimpleNamespace(
            event_name="upload_event",
            data={
                "name": name,
                "chunk": i + 1,
                "total_chunks": n,
                "data": content[i * size : (i + 1) * size],
                "type": "",
            },
        )
        for i in range(n)
    ]


def _box(limit=1000, multiple=False):
    got, refused = [], []
    box = uploads.Dropper(lambda n, c: got.append((n, c)), refused.append, limit=limit, multiple=multiple)
    box.chunk_size = 100
    return box, got, refused


def test_chunks_out_of_order_are_reassembled():
    box, got, refused = _box()
    content = bytes(range(256)) * 3  # 768 bytes, 8 chunks
    events = _chunks("a.fits", content, 100)
    for e in [events[3], events[0], events[7], events[1], events[6], events[2], events[5], events[4]]:
        box._process_event(e)
    assert got == [(["a.fits"], [content])] and not refused


def test_over_the_limit_refused_by_name_on_the_first_chunk():
    box, got, refused = _box(limit=500)
    events = _chunks("big.fits", b"x" * 900, 100)
    box._process_event(events[0])  # 10 chunks: more than 500 bytes, known at once
    assert refused == ["big.fits: over the 500 bytes upload limit (RADIOVIZ_MAX_UPLOAD_BYTES)"]
    for e in events[1:]:
        box._process_event(e)  # the rest is dropped, not stored
    assert not got and not box._chunks and not box._refused
    small = b"y" * 50
    for e in _chunks("small.npy", small, 100):
        box._process_event(e)
    assert got == [(["small.npy"], [small])]  # the box still works


def test_several_files_make_one_batch():
    box, got, refused = _box(limit=10_000, multiple=True)
    a, b = b"a" * 250, b"b" * 120
    ea, eb = _chunks("a_Gleam72-103.fits", a, 100), _chunks("b_Gleam103-134.fits", b, 100)
    for e in [ea[0], eb[0], ea[1], eb[1], ea[2]]:  # interleaved, as two parallel uploads arrive
        box._process_event(e)
    assert not got  # waits for a quiet moment
    time.sleep(uploads.QUIET_S + 0.5)
    assert len(got) == 1 and dict(zip(*got[0], strict=True)) == {
        "a_Gleam72-103.fits": a,
        "b_Gleam103-134.fits": b,
    }
    assert not refused


def test_a_batch_over_the_total_limit_is_refused():
    box, got, refused = _box(limit=300, multiple=True)
    for e in _chunks("one.fits", b"1" * 200, 100):
        box._process_event(e)
    for e in _chunks("two.fits", b"2" * 200, 100):
        box._process_event(e)
    assert refused and refused[0].startswith("two.fits: over the")
    time.sleep(uploads.QUIET_S + 0.5)
    assert got == [(["one.fits"], [b"1" * 200])]


def test_a_file_removed_from_the_box_leaves_the_batch():
    box, got, _ = _box(limit=10_000, multiple=True)
    for e in _chunks("a.fits", b"a" * 50, 100) + _chunks("b.fits", b"b" * 50, 100):
        box._process_event(e)
    box._process_event(SimpleNamespace(event_name="delete_event", data={"name": "a.fits"}))
    time.sleep(uploads.QUIET_S + 0.5)
    assert got == [(["b.fits"], [b"b" * 50])]

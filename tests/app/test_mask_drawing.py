"""The mask canvas's state without a browser (issue #28, "every stroke counts"): every shape in
every class adds its pixels, Undo takes the last shape's away, Clear all of them."""

import numpy as np

from radioviz.app.mask_canvas import MaskCanvas, MaskDrawing

SQUARES = {  # three closed freehand loops that do not touch: (xs, ys)
    "compact": ([5, 15, 15, 5, 5], [5, 5, 15, 15, 5]),
    "extended": ([30, 40, 40, 30, 30], [5, 5, 15, 15, 5]),
    "diffuse": ([5, 15, 15, 5, 5], [30, 30, 40, 40, 30]),
}


def _columns(*classes):
    """A freehand source's columns as the browser sends them: every stroke so far, each time."""
    return {
        "xs": [SQUARES[c][0] for c in classes],
        "ys": [SQUARES[c][1] for c in classes],
        "cls": list(classes),
    }


def test_every_stroke_and_polygon_counts_undo_and_clear():
    d = MaskDrawing()
    seen = []
    for k in range(1, 4):
        assert d.replace("free", _columns(*list(SQUARES)[:k]))
        seen.append(dict(d.counts))
    c1, e1, f1 = seen[-1]["compact"], seen[-1]["extended"], seen[-1]["diffuse"]
    assert c1 > 0 and e1 > 0 and f1 > 0
    assert seen[0] == {"compact": c1, "extended": 0, "diffuse": 0}
    assert seen[1] == {"compact": c1, "extended": e1, "diffuse": 0}
    assert not d.replace("free", _columns(*SQUARES))  # the same shapes coming back change nothing
    d.add("poly", [40, 60, 60, 40], [40, 40, 60, 60], "compact")
    assert d.counts["compact"] > c1 and d.history == ["free", "free", "free", "poly"]
    assert d.undo() == "poly" and d.counts == {"compact": c1, "extended": e1, "diffuse": f1}
    assert d.undo() == "free" and d.counts == {"compact": c1, "extended": e1, "diffuse": 0}
    assert len(d.free["xs"]) == 2 and d.free["cls"] == ["compact", "extended"]
    d.base = np.full((64, 64), 2)
    d.clear()
    assert not d.mask.any() and d.history == [] and d.undo() is None
    assert d.replace("free", _columns("diffuse")) and d.counts["diffuse"] == f1  # and after Clear


def test_shapes_deleted_in_the_browser_leave_the_undo_history():
    d = MaskDrawing()
    d.replace("free", _columns("compact", "extended"))
    d.add("poly", [40, 60, 60, 40], [40, 40, 60, 60], "diffuse")
    d.replace("free", _columns("compact"))  # Backspace on a selected stroke
    assert d.history == ["free", "poly"]
    assert d.undo() == "poly" and d.undo() == "free" and not d.mask.any()


def test_canvas_tools_give_each_new_shape_the_chosen_class():
    """BokehJS pads a new shape's cls with default_overrides first and empty_value only when the
    column is empty (else the inferred ""): so the class has to be in default_overrides."""
    c = MaskCanvas()
    assert c.summary.object == "mask: no mask drawn (empty) · next stroke: diffuse"
    for cls in ("compact", "extended", "diffuse"):
        c.draw_class = cls
        assert c.free_tool.default_overrides == {"cls": cls} == c.poly_tool.default_overrides
        assert c.summary.object.endswith(f"next stroke: {cls}")
    for k in range(1, 4):  # the browser's source as it changes, stroke by stroke
        c.free.data = _columns(*list(SQUARES)[:k])
        assert c.drawing.counts[list(SQUARES)[k - 1]] > 0
    assert all(n > 0 for n in c.drawing.counts.values()) and (c.mask > 0).sum() == sum(
        c.drawing.counts.values()
    )
    assert "compact" in c.summary.object and " 0 px" not in c.summary.object
    c.param.trigger("undo")
    assert c.drawing.counts["diffuse"] == 0 and len(c.free.data["xs"]) == 2  # pixels and outline
    c.param.trigger("clear")
    assert not c.mask.any() and len(c.free.data["xs"]) == 0
    # walk: "compact 0 px · extended 0 px · diffuse 0 px" read like a drawing that came out empty
    assert c.summary.object.startswith("mask: no mask drawn (empty) · ") and "0 px" not in c.summary.object

"""The Fields tab's controls act on what is shown (walk 15): contours in RGB (of the blue channel's
band), the RGB pickers only in RGB, Cancel only while a score map is computed."""

from __future__ import annotations


def test_contours_in_rgb_pickers_in_rgb_and_cancel_only_while_scanning(tmp_path):
    from radioviz.app.fields import FieldsView
    from radioviz.app.state import AppSession

    view = FieldsView(app=AppSession(), labels_path=str(tmp_path / "labels.sqlite"))
    page = view.__panel__()
    shown = page[0][0].layout  # the first block of controls
    names = [w.name for w in shown.objects]
    assert "RGB red" not in names and "Band" in names
    view.contour_sigma = 3
    single = len(view.sky.contours.data["xs"])
    assert single > 0
    view.band = "RGB"
    names = [w.name for w in shown.objects]
    assert names.index("Band") < names.index("RGB red") < names.index("RGB blue") < names.index("Blink")
    assert len(view.sky.contours.data["xs"]) > 0  # were none in RGB
    view.blue = "72-103MHz"  # the blue channel's band is contoured
    assert view.contour_data() != {"xs": [], "ys": []}
    cancel = next(
        w
        for row in page[0].objects
        if hasattr(row, "objects")
        for w in row.objects
        if getattr(w, "name", "") == "Cancel"
    )
    assert cancel.disabled  # idle
    view.progress.visible = True  # what a scan shows while it runs
    assert not cancel.disabled
    view.progress.visible = False
    assert cancel.disabled

"""Unit tests of the app components (no browser)."""
import numpy as np
import panel as pn

from radioviz.app.fields import DEFAULT_DATA, FieldBrowser
from radioviz.display import stretch_image


def test_stretches_map_to_unit_interval():
    img = np.random.default_rng(0).lognormal(size=(32, 32))
    for s in ("linear", "sqrt", "log", "asinh"):
        out = stretch_image(img, s, 99)
        assert out.min() >= 0 and out.max() <= 1 and out.shape == img.shape


def test_field_browser_lists_bundled_fields_and_renders_bands():
    fb = FieldBrowser()
    assert len(fb.param.field.objects) == 6 and fb.field == "sim_0100"
    view = fb.bands_view()
    layout = view[1].object if hasattr(view[1], "object") else view[1]
    assert len(layout) == 4  # four bands
    fb.field = "sim_0104"
    fb.stretch = "log"
    assert "sim_0104" in fb.bands_view()[0].object and fb.message == ""


def test_bad_folder_shows_message_and_keeps_state(tmp_path):
    fb = FieldBrowser()
    before = fb.field
    fb.data_dir = str(tmp_path / "does-not-exist")
    assert "no such file or directory" in fb.message
    assert fb.field == before  # nothing lost
    fb.data_dir = str(DEFAULT_DATA)
    assert fb.message == ""


def test_broken_file_in_folder_is_reported_in_page(tmp_path):
    d = tmp_path / "f"
    d.mkdir()
    (d / "bad_Gleam72-103_clipped.fits").write_bytes(b"junk")
    fb = FieldBrowser(data_dir=str(d))
    assert fb.field == "bad"
    out = fb.bands_view()
    assert "Cannot show" in out.object and "not a FITS file" in fb.message
    assert isinstance(fb.__panel__(), pn.Row)

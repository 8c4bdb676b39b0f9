"""A page is sent only the scripts it uses (#27: MathJax and WebGL were 2 of the Fields page's
5.3 MB of scripts, and nothing in the app needs them)."""

from __future__ import annotations


def _scripts(obj) -> list[str]:
    import panel.io.server as srv
    from bokeh.document import Document
    from panel.io.resources import Resources

    doc = Document()
    obj.server_doc(doc)
    bundle = srv.bundle_resources(doc.roots, Resources(mode="server"))
    return [str(u) for u in bundle.js_files]


def test_mathjax_and_webgl_only_when_a_page_uses_them():
    import panel as pn
    from bokeh.plotting import figure

    from radioviz.app.page_scripts import send_only_used_scripts

    send_only_used_scripts()
    send_only_used_scripts()  # idempotent
    plain = _scripts(pn.Column(pn.pane.Markdown("x̂0 = (x_t − σ·ε̂) / α, in Unicode"), figure()))
    assert not any("mathjax" in s or "bokeh-gl" in s for s in plain), plain
    assert any("bokeh-widgets" in s for s in plain) or any("bokeh.min" in s for s in plain), plain
    tex = _scripts(pn.pane.Markdown(r"$$\hat{x}_0 = x_t$$"))
    assert any("mathjax" in s for s in tex), tex
    gl = _scripts(pn.pane.Bokeh(figure(output_backend="webgl")))
    assert any("bokeh-gl" in s for s in gl), gl


def test_the_served_fields_page_names_neither(tmp_path):
    import panel.io.server as srv
    from bokeh.document import Document
    from panel.io.resources import Resources

    from radioviz.app.main import create_app

    app = create_app(template=True, labels_path=str(tmp_path / "labels.sqlite"))
    doc = Document()
    app.server_doc(doc)
    files = [str(u) for u in srv.bundle_resources(doc.roots, Resources(mode="server")).js_files]
    assert not any("mathjax" in s or "bokeh-gl" in s for s in files), files
    assert any("tabulator" in s for s in files), files  # what the page does use is still named

"""Only the scripts a page uses are sent with it.

Why (issue #27, the first page ≤ 2 s): a first visitor's browser downloads and compiles every
script the page names — 5.3 MB on the Fields page, of which 1.8 MB is MathJax and 0.2 MB Bokeh's
WebGL renderer.  Panel names MathJax for any page holding a Markdown or HTML pane, whether or not
its text has TeX in it, and Bokeh's WebGL whatever the figures' backend; no text in this app is
TeX (formulas are written in Unicode) and no figure draws with WebGL.  Here both are named only
when a page's models need them: TeX found in an HTML pane's text (Bokeh's own test,
``contains_tex_string``), or a plot with ``output_backend="webgl"``.  Idempotent."""

from __future__ import annotations


def send_only_used_scripts() -> None:
    import panel.io.resources as res
    import panel.io.server as srv
    from bokeh.embed.util import contains_tex_string
    from bokeh.models import Plot
    from panel.models.markup import HTML

    if getattr(srv.bundle_resources, "_radioviz_lean", False):
        return

    def models(roots) -> list:
        """Every model of the page (Panel passes only the document's roots)."""
        docs = {id(r.document): r.document for r in roots if r.document is not None}
        if docs:
            return [m for d in docs.values() for m in d.models]
        return list({id(m): m for r in roots for m in r.references()}.values())

    def html_needs_mathjax(roots) -> bool:
        return any(
            isinstance(m, HTML) and isinstance(m.text, str) and contains_tex_string(m.text)
            for m in models(roots)
        )

    original = srv.bundle_resources

    def bundle_resources(roots, resources, *args, **kwargs):
        uses_gl = any(isinstance(m, Plot) and m.output_backend == "webgl" for m in models(roots))
        if not uses_gl and "bokeh-gl" in resources.components:
            resources = resources.clone(components=[c for c in resources.components if c != "bokeh-gl"])
        return original(roots, resources, *args, **kwargs)

    bundle_resources._radioviz_lean = True
    res._panel_use_mathjax = html_needs_mathjax
    srv.bundle_resources = bundle_resources

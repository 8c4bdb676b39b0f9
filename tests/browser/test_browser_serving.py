"""Served to a group (issue #29): pages open together ask nothing of any other server, and a
session builds only the tabs it shows."""

import logging
from pathlib import Path

import pytest

from radioviz.app.headless import ServerErrors as _Errors

CHROMIUM = Path("/usr/bin/chromium")
SLOW = 240000  # ms: the 2-core test machine is shared
TABS = ("Generate", "Trajectory", "Compare", "Models", "Survey", "Vet")


def test_a_session_builds_each_tab_when_it_is_first_shown(tmp_path):
    import panel as pn

    from radioviz.app.main import create_app, lazy_tabs

    calls = []

    def builder(name):
        return lambda: calls.append(name) or pn.pane.Markdown(f"built {name}")

    tabs = lazy_tabs(*[(n, builder(n)) for n in ("A", "B", "C")])
    assert calls == ["A"] and tabs[1].object.startswith("Opening the B tab")
    tabs.active = 2
    assert calls == ["A", "C"] and tabs[2].object == "built C" and tabs.active == 2
    tabs.active = 0
    tabs.active = 2
    assert calls == ["A", "C"]  # built once

    class Shown(pn.viewable.Viewer):  # told when shown again (its browser-drawn frames redrawn)
        times = 0

        def on_shown(self):
            Shown.times += 1

        def __panel__(self):
            return pn.pane.Markdown("x")

    tabs = lazy_tabs(("A", lambda: pn.pane.Markdown("a")), ("S", Shown))
    tabs.active = 1
    assert Shown.times == 0
    tabs.active = 0
    tabs.active = 1
    assert Shown.times == 1
    app = create_app(labels_path=str(tmp_path / "labels.sqlite"))
    tabs = app[1]
    assert list(tabs._names) == ["Fields", *TABS]
    assert isinstance(tabs[2], pn.pane.Markdown)  # the Trajectory tab waits to be shown
    tabs.active = 2
    assert not isinstance(tabs[2], pn.pane.Markdown) and tabs.active == 2


def test_no_stylesheet_is_pointed_at_the_cdn():
    """Under load, pages were given tabulator/filedropper CSS from cdn.holoviz.org (152 requests
    in 10 concurrent pages before): every rewrite now lands on this server."""
    from bokeh.models import ImportedStyleSheet
    from panel.io import resources as res

    from radioviz.app.main import serve_panel_css_locally

    serve_panel_css_locally()
    serve_panel_css_locally()  # idempotent
    cdn = "https://cdn.holoviz.org/panel/"
    sheet = ImportedStyleSheet(url=f"{res.CDN_DIST}bundled/datatabulator/x.css")
    res.patch_stylesheet(sheet, res.CDN_DIST)  # what Panel does for a model with no served document
    assert not sheet.url.startswith(cdn) and sheet.url.startswith(res.LOCAL_DIST), sheet.url
    import panel.reactive

    sheet = ImportedStyleSheet(url=f"{res.CDN_DIST}css/loading.css")
    panel.reactive.patch_stylesheet(sheet, res.CDN_DIST)
    assert not sheet.url.startswith(cdn), sheet.url


@pytest.mark.browser
def test_pages_open_together_request_nothing_from_another_server(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium")
    playwright = pytest.importorskip("playwright.sync_api")
    from radioviz.app.headless import served_app

    errors = _Errors()
    for name in ("tornado", "bokeh", "panel"):
        logging.getLogger(name).addHandler(errors)
    outside: list[str] = []
    try:
        store = str(tmp_path / "labels.sqlite")
        with served_app(labels_path=store) as url, playwright.sync_playwright() as p:
            local = (url.rsplit("/", 1)[0], "data:", "blob:")
            b = p.chromium.launch(
                executable_path=str(CHROMIUM),
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            try:
                pages = []
                for _ in range(3):  # three people at once: all navigate before any is waited on
                    page = b.new_context(viewport={"width": 1400, "height": 900}).new_page()
                    page.on(
                        "request",
                        lambda r: None if r.url.startswith(local) else outside.append(r.url),
                    )
                    page.goto(url, wait_until="commit", timeout=SLOW)
                    pages.append(page)
                for page in pages:
                    page.get_by_role("button", name="Compute score map").wait_for(timeout=SLOW)
                for page in pages:
                    for name in TABS:  # each tab shown, as a person would, before the next
                        page.get_by_text(name, exact=True).first.click()
                        page.get_by_text(f"Opening the {name} tab").wait_for(state="hidden", timeout=SLOW)
                    page.get_by_text("Fields", exact=True).first.click()
                    page.get_by_role("button", name="Compute score map").wait_for(timeout=SLOW)
            finally:
                b.close()
    finally:
        for name in ("tornado", "bokeh", "panel"):
            logging.getLogger(name).removeHandler(errors)
    assert outside == [], sorted(set(outside))[:5]
    assert not errors.records, errors.records


def test_the_bundled_sample_fields_open_under_a_data_root(tmp_path):
    """Survey → "Open in Fields tab" on the `sample` target handed Fields the folder's bare name,
    which Fields looked up under the data root (walk: StopIteration, wrong sky)."""
    from radioviz.app import resources

    folder = next(p for p in sorted(resources.SAMPLE_DATA.iterdir()) if p.is_dir())
    old = resources.data_root()
    resources.set_data_root(tmp_path)
    try:
        shown = resources.shown_path(folder)
        assert shown == f"sample/{folder.name}"
        assert resources.resolve_user_path(shown) == folder.resolve()
        assert resources.resolve_user_path("sample") == resources.SAMPLE_DATA.resolve()
        for bad in ("sample/../..", "sample/../../etc", "sample/nothing_here"):
            with pytest.raises(resources.PathPolicyError):
                resources.resolve_user_path(bad)
        assert str(tmp_path) not in resources.shown_path(folder)
    finally:
        resources.set_data_root(old)


def test_the_models_tab_shows_no_server_path_under_a_data_root(tmp_path):
    """Cards record training roots and commands with absolute paths (walk: '/work/shared/...',
    '--cache-dir /tmp/...' reached the page, even in the collapsed JSON)."""
    import json

    from radioviz.app import resources
    from radioviz.app.models_view import ModelsView

    old = resources.data_root()
    resources.set_data_root(tmp_path)
    try:
        view = ModelsView()
        shown = json.dumps([(md.object, js.object) for md, js, _ in view._entries.values()])
    finally:
        resources.set_data_root(old)
    assert view._entries
    for server in (str(resources.REPO), "/work/", "/tmp/", "/root"):
        assert server not in shown, server

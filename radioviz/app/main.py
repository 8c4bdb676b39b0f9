"""Assemble the app page, and read the operator's launch arguments (``panel serve app.py --args``)."""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  (the views' .opts need the bokeh backend registered)
import panel as pn

from .compare_view import CompareView
from .fields import FieldsView
from .generate_view import GenerateView
from .labeller_memory import remember_guest_in_browser, remembered_guest
from .models_view import ModelsView
from .ordered_events import order_session_events
from .page_scripts import send_only_used_scripts
from .state import AppSession
from .survey_view import SurveyView
from .trajectory_view import TrajectoryView
from .vet_view import VetView


def lazy_tabs(*builders: tuple[str, Callable[[], object]]) -> pn.Tabs:
    """Tabs whose content is built the first time each is shown (the first at once).

    Why: a page is built per browser session, and building all six tabs up front cost ~1 s of
    server CPU per session (the Trajectory tab alone holds 19 Bokeh figures), so first pages
    queued behind each other when a group opened the app together (issue #29)."""
    names = [name for name, _ in builders]
    first = builders[0][1]()
    placeholders = [
        pn.pane.Markdown(f"Opening the {name} tab…", name=name, sizing_mode="stretch_width")
        for name in names[1:]
    ]
    tabs = pn.Tabs((names[0], first), *zip(names[1:], placeholders, strict=True), dynamic=True)
    built = {0: first}

    def build(event) -> None:
        i = event.new
        if not 0 <= i < len(builders):
            return
        if i in built:  # shown again: its figures were built anew in the browser
            shown = getattr(built[i], "on_shown", None)
            if shown is not None:
                shown()
            return
        built[i] = builders[i][1]()
        tabs[i] = (names[i], built[i])

    tabs.param.watch(build, "active")
    return tabs


#: What a user set in the Fields tab, kept in the page's address (so a reload or a shared link opens
#: the same view), in the order it must be applied: the folder lists the fields, the model sets
#: its own threshold, and only then the user's threshold and the rest.
URL_STATE = (
    {"data_dir": "folder"},
    {"field": "field"},
    {"classifier": "model"},
    {
        "stride": "stride",
        "threshold": "threshold",
        "catalogue": "catalogue",
        "score_layer": "map",
        "band": "band",
    },
    {  # how the field is drawn
        "red": "red",
        "green": "green",
        "blue": "blue",
        "stretch": "stretch",
        "percentile": "pct",
        "cmap": "cmap",
        "contour_sigma": "contour",
    },
    {"candidate": "candidate", "scanned": "scanned"},  # the candidate first: the scan selects it
)


def remember_in_url(fields) -> None:
    """Keep the Fields tab's folder, field, model, stride, threshold, catalogue, map, band, how the
    field is drawn (RGB channels, stretch, percentile, colour map, contours), whether a score map is
    shown and the selected candidate in the URL."""
    loc = pn.state.location
    if loc is None:
        return
    for group in URL_STATE:
        # a value that no longer applies (a field gone, a model removed) is dropped, not fatal
        loc.sync(fields, dict(group), on_error=lambda bad: None)


def create_app(
    data_dir: str | None = None, labels_path: str | None = None, template: bool = False
) -> pn.viewable.Viewable:
    """The RadioViz page (a new one per browser session; models and fields are shared).

    ``template=True`` (what ``app.py`` serves) wraps it in Panel's Bootstrap template, whose
    resources Panel serves locally; without, it is a plain layout that displays inline in Jupyter.
    """
    pn.extension("tabulator", "filedropper", sizing_mode="stretch_width", nthreads=4, notifications=False)
    order_session_events(4)  # one page's events in the order sent; pages in parallel
    hv.extension("bokeh", logo=False)
    app = AppSession(guest=remembered_guest())  # what the tabs share; no tab is handed another tab
    remember_guest_in_browser(app.guest)  # a reload keeps the same guest labeller
    fields = FieldsView(labels_path=labels_path, app=app, **({"data_dir": data_dir} if data_dir else {}))
    remember_in_url(fields)
    # its latest result is published on the session, where Trajectory and Compare read it
    generate = functools.cache(lambda: _generate(data_dir, app))
    builders = (
        ("Fields", lambda: fields),
        ("Generate", generate),
        ("Trajectory", lambda: TrajectoryView(app, data_dir=data_dir)),
        ("Compare", lambda: CompareView(app)),
        ("Models", ModelsView),
        ("Survey", lambda: SurveyView(app)),
        ("Vet", lambda: VetView(app)),
    )
    tabs = lazy_tabs(*builders)
    names = [name for name, _ in builders]
    app.param.watch(lambda e: setattr(tabs, "active", names.index(e.new)), "show_tab")
    if pn.state.location is not None:  # a reload or a shared link opens the same tab (walk 15)
        pn.state.location.sync(tabs, {"active": "tab"}, on_error=lambda bad: None)
    if template:
        serve_panel_css_locally()
        send_only_used_scripts()
        return pn.template.BootstrapTemplate(
            title="RadioViz — MWA/GLEAM fields, halo classifiers and generative models",
            main=[tabs],
            header_background="#1f2a44",
            # no page-wide busy spinner: it toggled on every server event (each Play frame) and
            # re-laid out the page; long runs have their own progress bars
            busy_indicator=None,
        )
    header = pn.pane.Markdown(
        "# RadioViz\nMWA/GLEAM radio images: fields, halo classifiers and generative models."
    )
    return pn.Column(header, tabs, sizing_mode="stretch_width")


def _generate(data_dir: str | None, app: AppSession) -> GenerateView:
    """The Generate tab, its latest result published on the session (Compare and Trajectory)."""
    view = GenerateView(data_dir=data_dir, app=app)
    view.param.watch(lambda e: setattr(app, "generate_result", e.new), "result")
    view.param.watch(lambda e: setattr(app, "generator", e.new), "model")
    app.generator = view.model
    return view


def serve_panel_css_locally() -> None:
    """Served: Panel's own stylesheets (loading.css, markdown.css, the theme's) from this server,
    never its CDN.

    Panel points a component's stylesheets at the server only when the component is rendered
    into a document that carries the server's ``dist_url``; a component rendered with no such
    document (a tab shown again, a pane re-rendered from a callback on a worker thread — more of
    them the busier the server, so 13 of 20 concurrent pages once asked cdn.holoviz.org) falls
    back to the CDN, which fails offline.  Every path goes through ``patch_stylesheet(sheet,
    dist_url)``; wrapped here, a CDN ``dist_url`` becomes the server's own copy (a relative URL,
    so a served prefix still works).  Idempotent."""
    import panel.reactive
    from panel.io import resources as res

    panel.reactive.CDN_DIST = res.LOCAL_DIST
    if getattr(res.patch_stylesheet, "_radioviz_local", False):
        return
    original, cdn = res.patch_stylesheet, res.CDN_DIST

    def patch_stylesheet(stylesheet, dist_url):
        return original(stylesheet, res.LOCAL_DIST if dist_url == cdn else dist_url)

    patch_stylesheet._radioviz_local = True
    res.patch_stylesheet = panel.reactive.patch_stylesheet = patch_stylesheet


def launch_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="panel serve app.py --args",
        description="What browser users of this server may reach (README: Serving the dashboard to others).",
    )
    p.add_argument("--data-root", help="the only folder browser users may open (also RADIOVIZ_DATA_ROOT)")
    p.add_argument(
        "--dask-scheduler",
        metavar="tcp://HOST:PORT",
        help="the Dask scheduler the Survey tab runs on, shown in its scheduler box (also "
        "RADIOVIZ_DASK_SCHEDULER); without it or --allow-scheduler surveys run on an embedded "
        "cluster and the page has no scheduler box",
    )
    p.add_argument(
        "--allow-scheduler",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="a further scheduler a page may name (repeat for more; also RADIOVIZ_ALLOW_SCHEDULERS); "
        "any other address typed on a page is refused, never connected to",
    )
    return p


def configure(argv: list[str]) -> argparse.Namespace:
    """Apply the operator's launch arguments (``panel serve app.py --args ...``) to the process:
    the data root and the Dask schedulers a page may use.  A malformed scheduler address stops
    the launch with a usage error."""
    from . import resources, schedulers

    parser = launch_parser()
    args, _ = parser.parse_known_args(argv)
    if args.data_root:
        resources.set_data_root(args.data_root)
    try:
        schedulers.set_schedulers(args.dask_scheduler, args.allow_scheduler)
    except ValueError as exc:
        parser.error(str(exc))
    return args

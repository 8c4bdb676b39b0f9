"""Dashboard responsiveness, server side, in one run (median over repeats):

- a Trajectory step change (the frames view for a new step, rendered to Bokeh models) and the
  number of network calls it makes (must be 0: scrubbing indexes the recorded trajectory);
- a stretch change on a 300×300 field (Fields tab image element, rendered);
- re-rendering an 8000×8000 simulated mosaic when panning/zooming: datashader ``regrid`` to an
  800×800 viewport at several zoom levels (what HoloViews runs on each range change);
- with --browser: seconds from navigation until the first page is interactive in headless
  Chromium (/usr/bin/chromium); and in the served app (worker threads on, as ``panel serve``
  runs it) the Trajectory tab's frame change as the browser sees it — from setting the player's
  value to the new x_t data arriving and the next paint — and Play's frames per second from the
  cached trajectory (browser-side timer), beside the previous per-tick server round trip
  emulated in the same page;
- with --fields-browser: the Fields tab served and driven in headless Chromium — first page
  load, score-map time (click to status), and keypress-to-next-candidate for ``j`` (move) and
  ``h`` (label, save, move): from the key press until the next candidate's header is drawn;
  and Cancel of a running classifier-A scan until the page says it is cancelled.  Each key is
  timed three ways: Playwright's wall clock (press → header text found), and in the page from the
  key event to the header drawn and the next frame painted, and (labels) to the server's
  confirmation drawn; the "next (j)" button, which moves on the server, is timed the same way in
  the same page; and the server side of a move and a label commit is timed in-process.

Run:  python benchmarks/bench_app.py [--repeats 20] [--browser] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time

import holoviews as hv
import numpy as np
import panel as pn

from radioviz.app.headless import seconds_to_cancel_scan, served_app_in_chromium


def median_time(fn, repeats: int) -> float:
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def bench_trajectory(repeats: int) -> dict:
    from radioviz.app.trajectory_view import TrajectoryView

    t = TrajectoryView()
    t.steps = 50
    t.sample()
    calls = t.model_calls
    view = pn.panel(t)
    view.get_root()  # the page as a browser session holds it; a step change then updates it in place
    k = iter(range(1, 10**6))
    sec = median_time(lambda: setattr(t, "step", next(k) % len(t.trajectory)), repeats)
    return {
        "trajectory_step_change_ms": round(1000 * sec, 1),
        "model_calls_per_scrub": (t.model_calls - calls) / repeats,
        "recorded_steps": len(t.trajectory),
    }


def bench_stretch(repeats: int) -> dict:
    import tempfile

    from radioviz.app.fields import FieldsView

    v = FieldsView(labels_path=tempfile.mktemp(suffix=".sqlite"))
    names = ["linear", "sqrt", "log", "asinh"]
    k = iter(range(10**6))

    def change():  # the image source's new data and colorbar, as the served plot receives them
        v.stretch = names[next(k) % 4]

    return {
        "stretch_change_ms": round(1000 * median_time(change, repeats), 1),
        "field_shape": list(v.sky.image.data["level"][0].shape),
    }


def bench_mosaic(repeats: int, size: int = 8000) -> dict:
    from holoviews.operation.datashader import regrid

    rng = np.random.default_rng(0)
    img = rng.normal(0, 0.01, (size, size)).astype(np.float32)
    img[rng.integers(0, size, 4000), rng.integers(0, size, 4000)] = 1.0
    el = hv.Image(img, bounds=(0, 0, size, size))
    out = {}
    for frac in (1.0, 0.25, 0.02):
        w = size * frac
        x0 = (size - w) / 2
        sec = median_time(
            lambda x0=x0, w=w: regrid(
                el, x_range=(x0, x0 + w), y_range=(x0, x0 + w), width=800, height=800, dynamic=False
            ),
            max(3, repeats // 4),
        )
        out[f"regrid_{frac:g}_of_width_ms"] = round(1000 * sec, 1)
    out["mosaic_pixels"] = size * size
    return out


def bench_mosaic_field(size: int = 8000) -> dict:
    """The Fields tab on a simulated 4-band size×size mosaic: open, first image, a stretch change,
    and the viewport sent on pan/zoom, all through the app's own FieldsView."""
    import tempfile
    from pathlib import Path

    from radioviz.app.fields import FieldsView
    from radioviz.io.bands import GLEAM_BANDS
    from radioviz.io.fits import BandImage, write_image
    from radioviz.simulate.sky import band_wcs

    rng = np.random.default_rng(0)
    d = Path(tempfile.mkdtemp(prefix="rv_mosaic_"))
    from astropy.coordinates import SkyCoord

    centre = SkyCoord(150.0, -30.0, unit="deg")
    for band in GLEAM_BANDS:
        img = rng.normal(0, 0.01, (size, size)).astype(np.float32)
        img[np.abs(img) < 0.03] = 0  # the published dead band
        img[rng.integers(0, size, 20000), rng.integers(0, size, 20000)] = 1.0
        write_image(
            d / f"mosaic_GLEAM_{band.name}_clipped.fits", BandImage(img, band_wcs(centre, band, size), band)
        )
        del img
    out = {"mosaic_field_pixels_per_band": size * size}
    t0 = time.perf_counter()
    v = FieldsView(data_dir=str(d), labels_path=tempfile.mktemp(suffix=".sqlite"))
    v.band = "170-231MHz"
    out["mosaic_open_and_first_image_s"] = round(time.perf_counter() - t0, 2)
    names = iter(["linear", "sqrt", "asinh"] * 3)
    out["mosaic_stretch_change_s"] = round(median_time(lambda: setattr(v, "stretch", next(names)), 3), 2)
    for frac in (1.0, 0.1):  # what a pan/zoom sends: the viewport, decimated to the screen
        w = size * frac
        x0 = (size - w) / 2
        out[f"mosaic_field_viewport_{frac:g}_ms"] = round(
            1000 * median_time(lambda x0=x0, w=w: v.image_data((x0, x0 + w, x0, x0 + w)), 3), 1
        )
    for f in d.iterdir():
        f.unlink()
    d.rmdir()
    return out


def bench_first_page() -> dict:

    with served_app_in_chromium() as (url, b):
        times = []
        for _ in range(3):
            page = b.new_page(viewport={"width": 1600, "height": 1000})
            t0 = time.perf_counter()
            page.goto(url)
            page.get_by_role("button", name="Compute score map").wait_for(timeout=120000)
            page.locator("canvas").first.wait_for(timeout=120000)
            times.append(time.perf_counter() - t0)
            page.close()
    return {
        "first_page_interactive_s": round(statistics.median(times), 2),
        "first_page_runs_s": [round(t, 2) for t in times],
    }


_FRAME_JS = """async (k) => {
  const d = Bokeh.documents[0];
  const slider = d.get_model_by_name('traj_player_slider');
  const src = d.get_model_by_name('traj_xt');
  return await new Promise(resolve => {
    const t0 = performance.now();
    const cb = () => {
      src.properties.data.change.disconnect(cb);
      requestAnimationFrame(() => resolve(performance.now() - t0));
    };
    src.properties.data.change.connect(cb);
    slider.value = k;
  });
}"""

_IDLE_JS = """async () => {
  const t0 = performance.now();
  return await new Promise(resolve =>
    requestAnimationFrame(() => resolve(performance.now() - t0)));
}"""

_TIMER_JS = """async (seconds) => {
  let n = 0;
  const t0 = performance.now();
  const id = setInterval(() => n++, 100);
  await new Promise(r => setTimeout(r, seconds * 1000));
  clearInterval(id);
  return n / ((performance.now() - t0) / 1000);
}"""

#: Frames drawn (x_t data changes) per second while something advances the step.
_COUNT_JS = """() => {
  const d = Bokeh.documents[0];
  const src = d.get_model_by_name('traj_xt');
  const seen = [];
  const cb = () => seen.push(performance.now());
  src.properties.data.change.connect(cb);
  window._radioviz_count = {seen, stop: () => src.properties.data.change.disconnect(cb)};
}"""

_RATE_JS = """() => {
  const c = window._radioviz_count;
  c.stop();
  const s = c.seen;
  return {updates: s.length, seconds: s.length > 1 ? (s[s.length - 1] - s[0]) / 1000 : 0};
}"""

#: The previous design, emulated in the same page: a 100 ms setInterval moves the step, and the
#: step and every drawn model are synchronised to the server on each tick (Panel's Player).
_ROUND_TRIP_JS = """async (seconds) => {
  const d = Bokeh.documents[0];
  const slider = d.get_model_by_name('traj_player_slider');
  const synced = [...d.all_models].filter(m => !m.syncable);
  for (const m of synced) m.syncable = true;
  const id = setInterval(() => {
    if (slider.value < slider.end) slider.value = slider.value + 1;
    slider.value_throttled = slider.value;
  }, 100);
  await new Promise(r => setTimeout(r, seconds * 1000));
  clearInterval(id);
  for (const m of synced) m.syncable = false;
}"""


def _rate(page, run) -> float:
    page.evaluate("() => { Bokeh.documents[0].get_model_by_name('traj_player_slider').value = 1; }")
    time.sleep(0.5)  # the reset's own frame is not counted
    page.evaluate(_COUNT_JS)
    run()
    r = page.evaluate(_RATE_JS)
    return round((r["updates"] - 1) / r["seconds"], 1) if r["seconds"] else 0.0


def _play_once(page, timeout: float = 120.0) -> None:
    """Press Play and wait for the player to stop at the last step."""
    page.get_by_role("button", name="▶ Play").click()
    page.get_by_role("button", name="❚❚ Pause").wait_for(timeout=10000)
    page.get_by_role("button", name="▶ Play").wait_for(timeout=timeout * 1000)


def bench_browser_playback(steps: int = 50, repeats: int = 20) -> dict:
    """Frame change and Play in the served app's Trajectory tab, measured in headless Chromium:
    Play (browser-side timer, no round trip) against the previous per-tick round trip, emulated
    in the same page, and a bare 100 ms timer as the ceiling."""

    with served_app_in_chromium() as (url, b):
        page = b.new_page(viewport={"width": 1700, "height": 1100})
        page.goto(url)
        page.locator("canvas").first.wait_for(timeout=120000)
        page.get_by_text("Trajectory", exact=True).first.click()
        box = page.locator(".bk-input-group", has=page.get_by_text("Steps", exact=True)).locator("input")
        box.first.fill(str(steps))
        box.first.press("Enter")
        time.sleep(0.5)
        page.get_by_role("button", name="Sample", exact=True).click()
        page.get_by_text("recorded steps").wait_for(timeout=600000)
        ms, idle = [], []
        for i in range(repeats):
            idle.append(page.evaluate(_IDLE_JS))  # control: the next paint with no change at all
            ms.append(page.evaluate(_FRAME_JS, 2 + (i % (steps - 2))))
        bare = page.evaluate(_TIMER_JS, 5)  # control: a bare 100 ms timer, nothing playing
        play, trip = [], []
        for _ in range(2):  # alternated, so both see the same load
            play.append(_rate(page, lambda: _play_once(page)))
            trip.append(_rate(page, lambda: page.evaluate(_ROUND_TRIP_JS, (steps + 2) / 10)))
    return {
        "browser_frame_change_ms_median": round(statistics.median(ms), 1),
        "browser_frame_change_ms_max": round(max(ms), 1),
        "browser_idle_next_paint_ms_median": round(statistics.median(idle), 1),
        "browser_play_frames_per_s": play,
        "browser_round_trip_play_frames_per_s": trip,
        "browser_bare_100ms_timer_ticks_per_s": round(bare, 1),
        "browser_trajectory_steps": steps,
    }


#: In-page timing of a key press (or a click): from the event (a capture listener, before the app's
#: own) until the header shows the wanted candidate and the next frame is painted; for a label,
#: until the server's confirmation (the vetted count) is drawn.  The header is found by its text,
#: so the same probe times the previous (server-drawn Markdown) design.
_PROBE_JS = """() => {
  const deep = (n, out) => {
    if (n.nodeType === 1 && /^Candidate \\d+\\/\\d+/.test(n.textContent) && n.textContent.includes("vetted"))
      out.push(n);
    for (const c of n.children || []) deep(c, out);
    if (n.shadowRoot) deep(n.shadowRoot, out);
    return out;
  };
  const found = deep(document.documentElement, []);
  const head = found[found.length - 1];
  const box = head.parentNode;
  const st = window._rv = {t0: 0, header: null, drawn: null, confirmed: null, want: "", vetted: -1};
  const start = () => { st.t0 = performance.now(); st.header = st.drawn = st.confirmed = null; };
  document.addEventListener("keydown", start, true);
  document.addEventListener("click", start, true);
  const check = () => {
    const t = box.textContent, now = performance.now();
    if (st.header === null && st.want && t.includes(st.want)) {
      st.header = now - st.t0;
      requestAnimationFrame(() => setTimeout(() => { st.drawn = performance.now() - st.t0; }, 0));
    }
    if (st.confirmed === null && st.vetted >= 0 && t.includes(` ${st.vetted} of `))
      st.confirmed = now - st.t0;
  };
  new MutationObserver(check).observe(box, {childList: true, subtree: true, characterData: true});
}"""


def _stats(prefix: str, values: list[float]) -> dict:
    return {
        f"{prefix}_median": round(statistics.median(values), 1),
        f"{prefix}_max": round(max(values), 1),
    }


def _header(page) -> str:
    return page.get_by_text(re.compile(r"\d+ of \d+ vetted")).first.inner_text()


def _vetted(page) -> int:
    text = _header(page)
    return int(re.search(r"(\d+) of \d+ vetted", text).group(1))


def _current(page) -> int:
    text = _header(page)
    return int(re.search(r"Candidate (\d+)/", text).group(1))


def _time_presses(page, key: str, presses: int, n: int, click=None) -> dict:
    """Press ``key`` (or click the button ``click``) ``presses`` times: wall-clock (Playwright)
    and in-page times to the next candidate; for a label, to the server's confirmation too."""
    wall, header, drawn, confirmed = [], [], [], []
    for _ in range(presses):
        k, v = _current(page), _vetted(page)
        label = key in "hnu"
        page.evaluate(
            "([w, v]) => { window._rv.want = w; window._rv.vetted = v; }",
            [f"Candidate {k % n + 1}/", v + 1 if label else -1],
        )
        t0 = time.perf_counter()
        if click is not None:
            page.get_by_role("button", name=click).click()
        else:
            page.keyboard.press(key)
        page.get_by_text(f"Candidate {k % n + 1}/").wait_for(timeout=60000)
        wall.append(1000 * (time.perf_counter() - t0))
        page.wait_for_function(
            "() => window._rv.drawn !== null && (window._rv.vetted < 0 || window._rv.confirmed !== null)",
            timeout=60000,
        )
        r = page.evaluate("() => window._rv")
        header.append(r["header"])
        drawn.append(r["drawn"])
        if label:
            confirmed.append(r["confirmed"])
    name = f"fields_{'button_' + key if click else 'key_' + key}"
    out = {
        **_stats(f"{name}_to_next_ms", wall),
        **_stats(f"{name}_in_page_drawn_ms", drawn),
        **_stats(f"{name}_in_page_header_ms", header),
    }
    if confirmed:
        out.update(_stats(f"{name}_in_page_saved_shown_ms", confirmed))
    return out


def bench_fields_server(repeats: int = 20) -> dict:
    """Server-side cost of vetting, in-process (a FieldsView rendered to Bokeh models as a
    session holds it): a move the browser reports (``vetter.index``; the server only records it
    and sends cut-outs ahead), a move the server makes (``on_key('j')``), and a label commit."""
    import tempfile

    from radioviz.app.fields import FieldsView

    v = FieldsView(labels_path=tempfile.mktemp(suffix=".sqlite"))
    v.classifier = next(n for n in dict(v.param.classifier.objects).values() if n.startswith("classifier_L"))
    v.compute_scores()
    pn.panel(v).get_root()
    n = len(v.candidates)
    out = {"fields_server_candidates": n}
    if hasattr(v, "vetter"):
        k = iter(range(1, 10**6))
        ms = median_time(lambda: setattr(v.vetter, "index", next(k) % n), repeats)
        out["fields_server_move_from_browser_ms"] = round(1000 * ms, 1)
    out["fields_server_move_ms"] = round(1000 * median_time(lambda: v.on_key("j"), repeats), 1)
    label = getattr(v, "label_candidate", None)
    k = iter(range(10**6))
    if label is not None:
        ms = median_time(lambda: label(next(k) % n, "halo"), repeats)
    else:  # the previous design: label the selected one, then move
        ms = median_time(lambda: v.label_selected("halo", advance=False), repeats)
    out["fields_server_label_commit_ms"] = round(1000 * ms, 1)
    return out


def bench_fields_browser(presses: int = 20) -> dict:
    """The served Fields tab in headless Chromium: load, score map, keypress to next candidate."""
    import os
    import tempfile

    store = tempfile.mktemp(suffix=".sqlite")
    out = {"load_average_1min_at_start": round(os.getloadavg()[0], 2)}
    with served_app_in_chromium(labels_path=store) as (url, b):
        page = b.new_page(viewport={"width": 1600, "height": 1200})
        t0 = time.perf_counter()
        page.goto(url, timeout=300000)
        page.get_by_role("button", name="Compute score map").wait_for(timeout=300000)
        page.locator("canvas").first.wait_for(timeout=300000)
        out["fields_first_page_s"] = round(time.perf_counter() - t0, 2)
        sel = page.locator("select").filter(has_text="classifier_L")  # candidates on the bundled fields
        sel.select_option(
            label=next(o for o in sel.locator("option").all_inner_texts() if o.startswith("classifier_L"))
        )
        t0 = time.perf_counter()
        page.get_by_role("button", name="Compute score map").click()
        page.get_by_text("Score map:").wait_for(timeout=600000)
        page.get_by_text("Candidate 1/").wait_for(timeout=60000)
        out["fields_score_map_s"] = round(time.perf_counter() - t0, 2)
        out["fields_score_map_status"] = page.get_by_text("Score map:").inner_text()
        head = page.get_by_text("Candidate 1/").inner_text()
        n = int(head.split("/")[1].split("*")[0].split(" ")[0])
        time.sleep(2)  # the cut-outs sent ahead arrive
        page.evaluate(_PROBE_JS)
        page.locator("body").click(position={"x": 5, "y": 5})
        presses = min(presses, n - 1)
        for key in ("j", "h"):
            out.update(_time_presses(page, key, presses, n))
        out["fields_key_presses_each"] = presses
        # the server round trip in the same page: the "next (j)" button moves on the server
        out.update(_time_presses(page, "j", max(5, presses // 2), n, click="next (j) ▶"))
        out["load_average_1min_after_keys"] = round(os.getloadavg()[0], 2)
        sel = page.locator("select").filter(has_text="classifier_A")  # the slowest model: a long scan
        sel.select_option(
            label=next(o for o in sel.locator("option").all_inner_texts() if o.startswith("classifier_A"))
        )
        out["fields_cancel_to_cancelled_s"] = round(seconds_to_cancel_scan(page, 60.0, 3.0), 2)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--browser", action="store_true")
    ap.add_argument("--playback-only", action="store_true", help="only the browser playback figures")
    ap.add_argument("--fields-browser", action="store_true", help="only the served Fields tab in Chromium")
    ap.add_argument(
        "--mosaic-field",
        type=int,
        default=0,
        metavar="SIZE",
        help="also open a simulated SIZE×SIZE 4-band field in the Fields view "
        "(e.g. 8000; needs ~6 GB RAM, 1 GB disk)",
    )
    ap.add_argument("--json")
    a = ap.parse_args()
    pn.extension()
    hv.extension("bokeh")
    res = {}
    if a.playback_only or a.fields_browser:
        if a.playback_only:
            res.update(bench_browser_playback())
        if a.fields_browser:
            res.update(bench_fields_browser())
            res.update(bench_fields_server())
        print(json.dumps(res, indent=1))
        if a.json:
            with open(a.json, "w") as f:
                json.dump(res, f, indent=1)
        return
    for name, fn in (
        ("trajectory", lambda: bench_trajectory(a.repeats)),
        ("stretch", lambda: bench_stretch(a.repeats)),
        ("mosaic", lambda: bench_mosaic(a.repeats)),
    ):
        res.update(fn())
        print(name, res, flush=True)
    if a.mosaic_field:
        res.update(bench_mosaic_field(a.mosaic_field))
        print("mosaic field", res, flush=True)
    if a.browser:
        res.update(bench_browser_playback())
        print("playback", res, flush=True)
        res.update(bench_first_page())
        print("first page", res, flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()

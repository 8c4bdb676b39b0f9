"""The Vet tab's queue at the speed of the keyboard (#27), in a real headless browser.

A survey of the bundled sample fields (default detector, stride 8, threshold 0.3: ~235
candidates over 6 fields, so 100 labels never wrap) is served and driven in headless Chromium
(/usr/bin/chromium).  Timed in the page, from the key event (a capture listener, before the
app's own) until:

- **next candidate fully drawn**: the header names it, its four band cut-outs and its context
  cut-out hold its data (no "loading…" note) and the next frame is painted;
- **label committed**: the server's confirmation for that candidate (its ``mark`` in the
  browser's cache) has arrived — it is sent only after the row is committed to the store.

100 label presses (h / n / u; each also moves on) then 100 ``k`` presses back, one after the
other as a scripted user at full speed (each press once the previous one is drawn and, for a
label, committed).  Also: the first page (navigation until the Fields tab is interactive) of a
server started cold and of one started warm (``panel serve --warm``, what ``scripts/launch.sh``
runs: one page built before the server listens), each followed by a second visitor's page; and
the Vet tab's first draw (click on the tab until candidate 1 is fully drawn).  The machine's load
(``uptime``) is recorded before and after.

Run:  python benchmarks/bench_vet_queue.py [--presses 100] [--json docs/benchmarks/vet_queue.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: Installed once per page: a capture keydown listener starts the clock, then every frame checks
#: whether candidate ``want`` is fully drawn (and, for a label, whether its commit is back).
_PROBE_JS = """(tag) => {
  const doc = Bokeh.documents[0];
  const get = (n) => doc.get_model_by_name(`${n}-${tag}`);
  // want: the 0-based candidate to be drawn; a label press labels want - 1
  const st = window._rv = {t0: 0, want: -1, label: false, drawn: null, committed: null};
  const head = () => {
    const find = (n) => {
      if (n.nodeType === 1 && n.classList && n.classList.contains("rv-vet-head")) return n;
      for (const c of [...(n.children || []), ...(n.shadowRoot ? [n.shadowRoot] : [])]) {
        const f = find(c); if (f) return f;
      }
      return null;
    };
    return find(document.documentElement);
  };
  const full = (k) => {
    const h = head();
    if (!h || !h.textContent.startsWith(`Candidate ${k + 1}/`)) return false;
    for (let b = 0; b < 5; b++) {
      const src = get(`rv-cut-${b}`), note = get(`rv-cutnote-${b}`);
      if (!src || src.data.level.length !== 1 || (note && note.text !== "")) return false;
    }
    return true;
  };
  const frame = () => {
    const now = performance.now();
    if (st.drawn === null && full(st.want)) {
      requestAnimationFrame(() => setTimeout(() => { st.drawn = performance.now() - st.t0; }, 0));
      st.drawn = -1;
    }
    if (st.label && st.committed === null) {
      const mark = get("rv-cache").data.mark[st.want - 1];
      if (mark) st.committed = now - st.t0;
    }
    const waiting = st.drawn === null || st.drawn === -1 || (st.label && st.committed === null);
    if (waiting) requestAnimationFrame(frame);
  };
  st.arm = (want, label) => { st.want = want; st.label = label; };
  document.addEventListener("keydown", () => {
    st.t0 = performance.now(); st.drawn = null; st.committed = null; requestAnimationFrame(frame);
  }, true);
}"""


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _pct(values: list[float], q: float) -> float:
    return (
        round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 1)
        if len(values) > 1
        else values[0]
    )


def _survey(root: Path) -> Path:
    from dask.distributed import Client

    from radioviz.app import resources
    from radioviz.survey import run_survey

    out = root / "bench-run"
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as client:
        run_survey(
            resources.SAMPLE_DATA,
            resources.CHECKPOINTS / "segmenter.safetensors",
            out,
            stride=8,
            threshold=0.3,
            client=client,
        )
    return out


def _press(page, key: str, want: int, label: bool) -> tuple[float, float | None]:
    page.evaluate("([w, l]) => window._rv.arm(w, l)", [want, label])
    page.keyboard.press(key)
    page.wait_for_function(
        "() => window._rv.drawn > 0 && (!window._rv.label || window._rv.committed !== null)", timeout=60000
    )
    r = page.evaluate("() => ({drawn: window._rv.drawn, committed: window._rv.committed})")
    return r["drawn"], r["committed"]


def _first_pages(warm: bool, labels: str) -> tuple[float, float, float]:
    """(seconds to start the server, first visitor's page, second visitor's page) of a fresh server."""
    from radioviz.app.headless import served_app_in_chromium

    t0 = time.perf_counter()
    with served_app_in_chromium(warm=warm, labels_path=labels) as (url, b):
        start = time.perf_counter() - t0
        pages = []
        for _ in range(2):
            page = b.new_page(viewport={"width": 1700, "height": 1200})
            t0 = time.perf_counter()
            page.goto(url, timeout=300000)
            page.get_by_role("button", name="Compute score map").wait_for(timeout=300000)
            page.locator("canvas").first.wait_for(timeout=300000)
            pages.append(time.perf_counter() - t0)
            page.close()
    return round(start, 2), round(pages[0], 2), round(pages[1], 2)


def run(presses: int) -> dict:
    from radioviz.app.headless import served_app_in_chromium
    from radioviz.scan.queue import load_queue

    out: dict = {"uptime_before": _uptime()}
    with tempfile.TemporaryDirectory(prefix="radioviz-bench-vet-", ignore_cleanup_errors=True) as tmp:
        os.environ["RADIOVIZ_SURVEYS"] = tmp
        t0 = time.perf_counter()
        run_dir = _survey(Path(tmp))
        out["survey_s"] = round(time.perf_counter() - t0, 1)
        n = len(load_queue(run_dir).candidates)
        out["candidates"] = n
        presses = min(presses, n - 1)
        for mode in ("cold", "warm"):  # each in a fresh process: nothing imported or loaded yet
            cmd = [
                sys.executable,
                __file__,
                "--first-pages",
                mode,
                "--labels",
                str(Path(tmp) / f"{mode}.sqlite"),
            ]
            done = subprocess.run(cmd, capture_output=True, text=True, check=True)
            res = json.loads(done.stdout.strip().splitlines()[-1])  # after Panel's "Launching server" line
            out.update({f"{mode}_{k}": v for k, v in res.items()})
        with served_app_in_chromium(warm=True, labels_path=str(Path(tmp) / "labels.sqlite")) as (url, b):
            page = b.new_page(viewport={"width": 1700, "height": 1200})
            t0 = time.perf_counter()
            page.goto(url, timeout=300000)
            page.get_by_role("button", name="Compute score map").wait_for(timeout=300000)
            page.locator("canvas").first.wait_for(timeout=300000)
            out["first_page_s"] = round(time.perf_counter() - t0, 2)
            t0 = time.perf_counter()
            page.get_by_text("Vet", exact=True).first.click()
            page.locator(".rv-vet-head").filter(has_text="Candidate 1/").wait_for(timeout=300000)
            tag = page.evaluate(
                "() => { for (const m of Bokeh.documents[0]._all_models.values())"
                " if ((m.name || '').startsWith('rv-cache-vet')) return m.name.slice(9); return null; }"
            )
            page.wait_for_function(
                "(t) => { const d = Bokeh.documents[0]; for (let b = 0; b < 5; b++) {"
                " const s = d.get_model_by_name(`rv-cut-${b}-${t}`); if (!s || s.data.level.length !== 1)"
                " return false; } return true; }",
                arg=tag,
                timeout=300000,
            )
            out["vet_tab_first_draw_s"] = round(time.perf_counter() - t0, 2)
            page.evaluate(_PROBE_JS, tag)
            page.locator("body").click(position={"x": 5, "y": 5})
            moves, labels, commits = [], [], []
            t0 = time.perf_counter()
            for k in range(presses):
                drawn, committed = _press(page, "hnu"[k % 3], k + 1, True)  # label k, draw k + 1
                labels.append(drawn)
                commits.append(committed)
            out["vetted_100_wall_s"] = round(time.perf_counter() - t0, 1)
            for k in range(presses, 0, -1):
                drawn, _ = _press(page, "k", k - 1, False)
                moves.append(drawn)
            page.close()
    out["presses_each"] = presses
    for name, values in (("move_k", moves), ("label_then_next", labels), ("label_committed", commits)):
        out[f"{name}_ms_p50"] = _pct(values, 50)
        out[f"{name}_ms_p95"] = _pct(values, 95)
        out[f"{name}_ms_max"] = round(max(values), 1)
    out["uptime_after"] = _uptime()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presses", type=int, default=100)
    ap.add_argument("--json")
    ap.add_argument("--first-pages", choices=["cold", "warm"], help=argparse.SUPPRESS)  # one fresh process
    ap.add_argument("--labels", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.first_pages:
        start, first, second = _first_pages(a.first_pages == "warm", a.labels)
        print(json.dumps({"server_start_s": start, "first_page_s": first, "second_page_s": second}))
        return
    res = run(a.presses)
    print(json.dumps(res, indent=2))
    if a.json:  # one more run in the file's list (the runs before it are kept)
        path = Path(a.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = json.loads(path.read_text()) if path.exists() else {}
        record.setdefault("command", "python benchmarks/bench_vet_queue.py --presses 100")
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        record.setdefault("runs", []).append({**res, "commit": commit.stdout.strip()})
        path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

"""What an upload costs the server: memory and time, for the bombs of issue #29 and a field at
the upload budget.  Each case runs in a fresh Python process (its own RSS), through the views'
own upload methods (what the drop boxes call):

- ``cube``: Fields upload of a 4096×4096×4 float32 gzip cube (zeros below four noisy rows),
  exactly the default upload budget (RADIOVIZ_MAX_UPLOAD_PIXELS) — accepted;
- ``hdus30``: Fields upload of a gzip FITS of 30 image HDUs, each 16384×4096 (the per-HDU
  budget of the old check), 9.7 MB of gzip for 8 GB decoded;
- ``npz``: Compare upload of a samples .npz of 8192 zero images of 4×128×128 (4 MB of zip for
  2 × 2 GiB decoded);
- ``session``: three different cubes at the budget uploaded one after the other in one Fields
  view, then the session ends (the view's session-end hook, the views dropped, gc).

Reported per case: seconds to the answer, the answer, peak RSS during the upload over the
process's RSS before it (VmHWM after resetting it through /proc/self/clear_refs), RSS kept after
it, and RSS kept after the session ended — all from /proc/self/status, in MB.

Run:  python benchmarks/bench_upload_memory.py [--cases cube hdus30 npz session] [--json out.json]
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CASES = ("cube", "hdus30", "npz", "session")


def _status(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024  # kB -> MiB
    return float("nan")


def _reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _trim() -> None:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass


def _child(case: str, work: Path) -> dict:
    sys.path.insert(0, str(REPO))
    from radioviz.app.compare_view import CompareView
    from radioviz.app.fields import FieldsView
    from tests import bombs

    fv = FieldsView(labels_path=str(work / "labels.ecsv"))
    cv = CompareView()
    if case == "npz":
        files = [bombs.npz(work / "bomb.npz", 8192)]
    elif case == "hdus30":
        files = [bombs.fits_gz(work / "bomb_Gleam72-103_clipped.fits.gz", (16384, 4096), hdus=30)]
    else:
        n = 3 if case == "session" else 1
        files = [bombs.fits_gz(work / f"cube{k}.fits.gz", (4, 4096, 4096)) for k in range(n)]
    contents = [f.read_bytes() for f in files]
    _trim()
    out = {"case": case, "upload_bytes": [len(c) for c in contents], "rss_before_mb": _status("VmRSS")}
    steps = []
    for f, c in zip(files, contents, strict=True):
        _reset_peak()
        t0 = time.perf_counter()
        if case == "npz":
            ok = cv.upload(f.name, c)
            said = cv.status.object if ok else cv.alert.object
        else:
            ok = fv.upload([f.name], [c])
            said = fv.message or f"opened {fv.field}"
        seconds = time.perf_counter() - t0
        peak = _status("VmHWM")
        _trim()
        steps.append(
            {
                "file": f.name,
                "accepted": bool(ok),
                "seconds": round(seconds, 2),
                "answer": said[:300],
                "peak_over_before_mb": round(peak - out["rss_before_mb"], 1),
                "kept_after_mb": round(_status("VmRSS") - out["rss_before_mb"], 1),
            }
        )
    out["uploads"] = steps
    fv._session_ended()  # what the served session's end runs (Compare has no hook before #29)
    forget = getattr(cv, "_forget_upload", None)
    if forget is not None:
        forget()
    memory = sys.modules.get("radioviz.app.session_memory")
    if memory is not None:
        memory.session_memory().close()
    del fv, cv, forget
    _trim()
    out["kept_after_session_mb"] = round(_status("VmRSS") - out["rss_before_mb"], 1)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--child", choices=CASES, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        with tempfile.TemporaryDirectory(prefix="radioviz-bench-") as d:
            print(json.dumps(_child(args.child, Path(d))))
        return 0
    results = []
    for case in args.cases:
        t0 = time.perf_counter()
        run = subprocess.run(
            [sys.executable, __file__, "--child", case], capture_output=True, text=True, cwd=REPO
        )
        if run.returncode:
            print(run.stderr[-3000:], file=sys.stderr)
            results.append({"case": case, "error": run.stderr.strip().splitlines()[-1:]})
            continue
        r = json.loads(run.stdout.strip().splitlines()[-1])
        r["wall_s"] = round(time.perf_counter() - t0, 1)
        results.append(r)
        print(json.dumps(r, indent=1, ensure_ascii=False))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

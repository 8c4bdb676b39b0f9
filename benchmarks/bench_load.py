"""The app served to a group: first-page time and server memory for N concurrent sessions.

``panel serve app.py`` is started as an operator would (a subprocess, its own port), then N
headless-Chromium pages (each its own browser context, as N people) open /app at the same
instant.  Per page: seconds from navigation until the Fields tab is interactive (its "Compute
score map" button shown).  Every request a page makes to anything but this server is counted
(all JavaScript and CSS must be served locally at any load).  The server's RSS (all its
processes) is read after the pages are up, and the machine's load average is recorded.

Run:  python benchmarks/bench_load.py [--sessions 1 5 10 20] [--app app.py] [--num-procs 1]
                                      [--json out.json]
``--app`` may point at another checkout's app.py (e.g. a ``git worktree`` of an older commit)
so before and after are measured side by side in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _family(pid: int) -> list[int]:
    """``pid`` and its children (``--num-procs`` forks)."""
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    except OSError:
        return [pid]
    return [pid, *(int(p) for p in out.split())]


def _rss_mb(pid: int) -> float:
    """RSS of ``pid`` and its children, MB."""
    total = 0
    for p in _family(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its children."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in _family(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return total


def serve(app: Path, port: int, num_procs: int) -> subprocess.Popen:
    cmd = [
        sys.executable, "-m", "panel", "serve", str(app), "--port", str(port), "--address", "127.0.0.1",
        "--allow-websocket-origin", f"127.0.0.1:{port}", "--num-procs", str(num_procs),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=app.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"panel serve did not start: {proc.stderr.read()[-2000:]}")


async def _one(browser, url: str, origin: str, outside: list, timeout_ms: int) -> float:
    ctx = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await ctx.new_page()
    local = (origin, "data:", "blob:")
    page.on("request", lambda r: None if r.url.startswith(local) else outside.append(r.url))
    t0 = time.perf_counter()
    try:
        await page.goto(url, timeout=timeout_ms)
        await page.get_by_role("button", name="Compute score map").wait_for(timeout=timeout_ms)
        return time.perf_counter() - t0
    finally:
        await ctx.close()


async def _wave(url: str, origin: str, n: int, timeout_ms: int) -> tuple[list[float], list[str]]:
    from playwright.async_api import async_playwright

    outside: list[str] = []
    async with async_playwright() as p:
        b = await p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            times = await asyncio.gather(*[_one(b, url, origin, outside, timeout_ms) for _ in range(n)])
        finally:
            await b.close()
    return list(times), outside


def bench(app: Path, sessions: list[int], num_procs: int = 1, timeout_s: float = 300) -> list[dict]:
    port = _free_port()
    origin = f"http://127.0.0.1:{port}"
    proc = serve(app, port, num_procs)
    rows = []
    try:
        asyncio.run(_wave(f"{origin}/app", origin, 1, int(timeout_s * 1000)))  # warm: imports, models
        base = _rss_mb(proc.pid)
        for n in sessions:
            t0, cpu0 = time.perf_counter(), _cpu_s(proc.pid)
            times, outside = asyncio.run(_wave(f"{origin}/app", origin, n, int(timeout_s * 1000)))
            cpu = _cpu_s(proc.pid) - cpu0
            rows.append(
                {
                    "sessions": n,
                    "first_page_s_median": round(statistics.median(times), 2),
                    "first_page_s_max": round(max(times), 2),
                    "wall_s": round(time.perf_counter() - t0, 2),
                    # the server's own CPU per page: what the browsers (same 2 cores) cost is apart
                    "server_cpu_s_per_page": round(cpu / n, 2),
                    "outside_requests": len(outside),
                    "outside_examples": sorted(set(outside))[:3],
                    "rss_mb_after": round(_rss_mb(proc.pid)),
                    "rss_mb_warm": round(base),
                    "load_avg_1m": round(os.getloadavg()[0], 2),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, nargs="+", default=[1, 5, 10, 20])
    ap.add_argument("--app", type=Path, default=Path(__file__).resolve().parents[1] / "app.py")
    ap.add_argument("--num-procs", type=int, default=1)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rows = bench(args.app.resolve(), args.sessions, args.num_procs)
    out = {"app": str(args.app), "num_procs": args.num_procs, "cpus": os.cpu_count(), "rows": rows}
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    cols = ["sessions", "first_page_s_median", "first_page_s_max", "server_cpu_s_per_page"]
    cols += ["outside_requests", "rss_mb_after", "load_avg_1m"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r[c]) for c in cols) + " |")


if __name__ == "__main__":
    main()

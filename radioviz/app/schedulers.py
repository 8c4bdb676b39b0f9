"""Which Dask schedulers a page's survey may use: the operator's (``--dask-scheduler``) and any
others allowed at launch (``--allow-scheduler``); anything typed on a page is checked against them
before a connection is made, and refused in one line otherwise (issue #16)."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

from ..errors import InputError

_SCHEDULER: str | None = None  # the operator's scheduler (--dask-scheduler)
_ALLOWED: tuple[str, ...] = ()  # further schedulers the operator allows (--allow-scheduler)
SCHEDULER_SCHEMES = ("tcp", "tls")


class SchedulerPolicyError(InputError):
    """A Dask scheduler address a browser user typed that the operator did not allow."""


def set_schedulers(scheduler: str | None = None, allowed: list[str] | tuple[str, ...] = ()) -> None:
    """What the Survey tab may connect to (``panel serve app.py --args --dask-scheduler ADDR
    --allow-scheduler HOST:PORT``): the operator's scheduler, shown in the scheduler box, and
    any others allowed; with neither (nor ``RADIOVIZ_DASK_SCHEDULER`` /
    ``RADIOVIZ_ALLOW_SCHEDULERS``) surveys run on an embedded cluster only and the page has no
    scheduler box.  Addresses are checked when set: a bad one stops the launch."""
    global _SCHEDULER, _ALLOWED
    for a in ([scheduler] if scheduler else []) + list(allowed):
        _scheduler_key(a, strict=True)
    _SCHEDULER = scheduler or None
    _ALLOWED = tuple(allowed)


def dask_scheduler() -> str | None:
    """The operator's scheduler (set_schedulers, else ``RADIOVIZ_DASK_SCHEDULER``); None: none."""
    return _SCHEDULER or os.environ.get("RADIOVIZ_DASK_SCHEDULER") or None


def allowed_schedulers() -> list[str]:
    """Every scheduler a page may name: the operator's first, then the allow-list (also
    ``RADIOVIZ_ALLOW_SCHEDULERS``, comma- or space-separated)."""
    env = re.split(r"[,\s]+", os.environ.get("RADIOVIZ_ALLOW_SCHEDULERS", "").strip())
    found = [a for a in [dask_scheduler(), *_ALLOWED, *env] if a]
    return list(dict.fromkeys(found))


def _scheduler_key(text: str, strict: bool = False) -> tuple[str, str, int] | None:
    """(scheme, host, port) of ``[tcp://|tls://]HOST:PORT``; None (or, ``strict``, ValueError)
    for anything else."""
    t = str(text).strip()
    scheme, sep, rest = t.partition("://")
    if not sep:
        scheme, rest = "tcp", t
    try:
        u = urlsplit(f"{scheme.lower()}://{rest}")
        host, port = u.hostname, u.port
        ok = scheme.lower() in SCHEDULER_SCHEMES and host and port and not (u.path or u.query or u.fragment)
    except ValueError:
        ok = False
    if not ok:
        if strict:
            raise ValueError(f"{text!r}: not a Dask scheduler address (tcp://HOST:PORT)")
        return None
    return scheme.lower(), host.lower(), int(port)


def check_scheduler(text: str | None) -> str | None:
    """The scheduler a survey started from the page may use for what its box says: None (the
    embedded cluster) for an empty box, else the operator's own spelling of an allowed address.
    Anything else is refused before any connection is made."""
    t = (text or "").strip()
    if not t:
        return None
    key = _scheduler_key(t)
    for allowed in allowed_schedulers():
        try:
            if key is not None and _scheduler_key(allowed, strict=True) == key:
                return allowed
        except ValueError:
            continue  # a bad entry in the environment: it allows nothing
    shown = t if len(t) <= 80 and t.isprintable() else repr(t[:80])
    if not allowed_schedulers():
        raise SchedulerPolicyError(
            None,
            f"{shown}: this server runs surveys on its own embedded Dask cluster only "
            "(the operator allows a scheduler at launch: --dask-scheduler)",
        )
    raise SchedulerPolicyError(
        None,
        f"{shown}: not a Dask scheduler this server allows (the operator allows them at launch: "
        "--dask-scheduler, --allow-scheduler)",
    )

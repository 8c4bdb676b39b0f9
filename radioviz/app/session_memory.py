"""Memory a browser session's uploads take, owned by that session and given back when it ends.

* :class:`UploadFolder` — a session's temporary folder for one upload (Fields images, a
  catalogue).  What the app derives from it (the clipped field, display planes, sky grids, …)
  is cached *with the folder* (:class:`FolderCache`, a byte budget), not in the process-wide
  caches, and goes when the folder is cleaned up: on a new upload in the same box, a refusal,
  or when the session ends.
* :class:`Holding` — the decoded bytes one upload holds in its session; a new upload is
  refused when, with what the session's *other* boxes hold, it would pass the session budget
  (``RADIOVIZ_MAX_SESSION_PIXELS``; the same box's last upload is being replaced, so it does
  not count against its successor).
* :func:`folder_cached` — the decorator the field caches use: in the owning upload's cache for
  an upload folder, in a process-wide LRU (shared, read-only data) otherwise.

When a served session ends (``pn.state.on_session_destroyed``) every folder and holding it
still has is released and freed heap pages are returned to the system (``malloc_trim``).
"""

from __future__ import annotations

import ctypes
import functools
import gc
import os
import shutil
import tempfile
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from ..errors import TooLargeError
from .upload_budget import BYTES_PER_PIXEL, amount, max_upload_pixels

SESSION_ENV = "RADIOVIZ_MAX_SESSION_PIXELS"


def max_session_pixels() -> int:
    """What one session may hold decoded from its uploads at once, in float32 pixels:
    ``RADIOVIZ_MAX_SESSION_PIXELS``, else two uploads at the upload budget (a field and a
    samples file)."""
    env = os.environ.get(SESSION_ENV)
    return int(env) if env else 2 * max_upload_pixels()


def nbytes_of(obj, _depth: int = 0) -> int:
    """Array bytes held by ``obj`` (arrays, tuples/lists/dicts of them, a ClippedStack's bands)."""
    if _depth > 4 or obj is None:
        return 0
    n = getattr(obj, "nbytes", None)
    if isinstance(n, int):
        return n
    if isinstance(obj, dict):
        return sum(nbytes_of(v, _depth + 1) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(nbytes_of(v, _depth + 1) for v in obj)
    stack = getattr(obj, "stack", None)
    images = getattr(stack if stack is not None else obj, "images", None)
    if isinstance(images, (list, tuple)):
        return sum(nbytes_of(getattr(im, "data", None), _depth + 1) for im in images)
    return 0


class FolderCache:
    """Values derived from one upload folder, least recently used dropped past ``budget`` bytes
    (the newest entry always stays); nothing is kept once closed."""

    def __init__(self, budget: int):
        self.budget = budget
        self._items: OrderedDict[tuple, tuple[object, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.closed = False

    def get(self, key: tuple, make: Callable[[], object]):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key][0]
        value = make()  # outside the lock: a slow read must not hold up other keys
        with self._lock:
            if not self.closed:
                self._items[key] = (value, nbytes_of(value))
                self._items.move_to_end(key)
                while len(self._items) > 1 and self.nbytes > self.budget:
                    self._items.popitem(last=False)
        return value

    @property
    def nbytes(self) -> int:
        return sum(n for _, n in self._items.values())

    def close(self) -> None:
        with self._lock:
            self.closed = True
            self._items.clear()


_OWNED: dict[str, FolderCache] = {}  # upload folder (as given and resolved) -> its cache
_OWNED_LOCK = threading.Lock()


def owned_cache(root) -> FolderCache | None:
    """The cache of the upload folder ``root``, if it is one."""
    return _OWNED.get(str(root))


def folder_cached(maxsize: int):
    """Cache ``fn(root, *args)``: with the upload when ``root`` is an :class:`UploadFolder`
    (dropped with it), else in a process-wide LRU of ``maxsize`` entries (shared data)."""

    def deco(fn):
        shared = functools.lru_cache(maxsize)(fn)

        @functools.wraps(fn)
        def cached(root, *args):
            owned = owned_cache(root)
            if owned is None:
                return shared(root, *args)
            return owned.get((fn.__qualname__, *args), lambda: fn(root, *args))

        cached.cache_clear = shared.cache_clear
        cached.cache_info = shared.cache_info
        return cached

    return deco


class SessionMemory:
    """What one session holds decoded from its uploads (by box), and the folders it owns."""

    def __init__(self):
        # holding -> (box, bytes); a holding no one keeps any more (its view is gone) counts no more
        self._held: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._folders: weakref.WeakSet = weakref.WeakSet()
        self._lock = threading.Lock()

    def total(self) -> int:
        with self._lock:
            return sum(n for _, n in self._held.values())

    def admit(self, holding: Holding, nbytes: int, what: str) -> None:
        """Hold ``nbytes`` for ``holding``, or refuse them past the session budget."""
        pixels = max_session_pixels()
        limit = pixels * BYTES_PER_PIXEL
        with self._lock:
            others = sum(n for h, (b, n) in self._held.items() if b != holding.box and h is not holding)
            if others + nbytes > limit:
                raise TooLargeError(
                    None,
                    f"{what}: {amount(nbytes)} decoded ({nbytes:,} bytes), and this session already "
                    f"holds {amount(others)} ({others:,} bytes) from its other uploads: over the "
                    f"session budget of {pixels:,} pixels ({amount(limit)} decoded; {SESSION_ENV})",
                )
            self._held[holding] = (holding.box, nbytes)

    def release(self, holding: Holding) -> None:
        with self._lock:
            self._held.pop(holding, None)

    def adopt(self, folder: UploadFolder) -> None:
        self._folders.add(folder)

    def close(self) -> None:
        """The session ended: clean up every folder it still owns, release what it holds."""
        for folder in list(self._folders):
            folder.cleanup()
        with self._lock:
            self._held.clear()
        return_freed_memory()


_LOCAL = SessionMemory()  # no served session (tests, notebooks, scripts)
_SESSIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Bokeh document -> memory
_SESSIONS_LOCK = threading.Lock()


def session_memory() -> SessionMemory:
    """The current served session's memory (freed when it ends), else the process's own."""
    import panel as pn

    doc = pn.state.curdoc
    if doc is None or getattr(doc, "session_context", None) is None:
        return _LOCAL
    with _SESSIONS_LOCK:
        mem = _SESSIONS.get(doc)
        if mem is None:
            mem = _SESSIONS[doc] = SessionMemory()
            doc.on_session_destroyed(lambda ctx, m=mem: m.close())
    return mem


def return_freed_memory() -> None:
    """Collect garbage and hand freed heap pages back to the system (glibc ``malloc_trim``):
    arrays under glibc's mmap threshold otherwise stay in the process's RSS."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class Holding:
    """The decoded bytes of one upload in box ``box`` of the current session, until released."""

    def __init__(self, box: str, memory: SessionMemory | None = None):
        self.box = box
        self.memory = memory or session_memory()
        self.nbytes = 0

    def admit(self, nbytes: int, what: str) -> None:
        self.memory.admit(self, nbytes, what)
        self.nbytes = nbytes

    def release(self) -> None:
        self.memory.release(self)
        self.nbytes = 0


def _remove(name: str, keys: set[str], cache: FolderCache) -> None:
    shutil.rmtree(name, ignore_errors=True)  # first: a late reader finds nothing to cache
    with _OWNED_LOCK:
        for k in keys:
            if _OWNED.get(k) is cache:
                del _OWNED[k]
    cache.close()


class UploadFolder:
    """A session's temporary folder for one upload (``.name``, ``.cleanup()``, like
    ``tempfile.TemporaryDirectory``); what is derived from it is cached with it (a byte budget
    of ``cache_factor`` × the session budget) and goes at cleanup."""

    cache_factor = 1

    def __init__(self, box: str = "fields", prefix: str = "radioviz-upload-"):
        self.name = tempfile.mkdtemp(prefix=prefix)
        self.holding = Holding(box)
        self.cache = FolderCache(self.cache_factor * max_session_pixels() * BYTES_PER_PIXEL)
        keys = {self.name, str(Path(self.name).resolve())}
        with _OWNED_LOCK:
            for k in keys:
                _OWNED[k] = self.cache
        self.holding.memory.adopt(self)
        # dropped without cleanup (a view garbage-collected): the folder and its cache go anyway
        self._finalizer = weakref.finalize(self, _remove, self.name, keys, self.cache)

    def cleanup(self) -> None:
        self._finalizer()  # once only
        self.holding.release()

    def __repr__(self) -> str:
        return f"<UploadFolder {self.name!r}>"

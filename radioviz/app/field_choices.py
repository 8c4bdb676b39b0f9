"""The fields the Generate and Trajectory tabs offer (forward process, background reference, field
mask) and where each lies, resolved in one place: the folder open in the Fields tab first — real
GLEAM fields when it shows them — then the app's own folder (the bundled simulated fields).

Why: both tabs took the Fields tab's folder box as a path, but under a data root that box reads
relative to the root ("GLEAM-Data/TRAIN_DATA_1"), so it was looked up in the server's working
directory ("no such file or directory"); and Generate listed only the bundled folder.  The
folder the Fields tab resolved (``AppSession.folder``, from ``AppSession.resolve``) is the one
used here.  Each function takes the page's :class:`~.state.AppSession` (a view holding one as
``.app`` is accepted too, for callers not yet switched).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import InputError
from . import resources
from .state import AppSession, FieldRef

#: the forward process's choice that follows the Fields tab
FOLLOW = "(the field open in the Fields tab)"


def _session(app) -> AppSession | None:
    return getattr(app, "app", app)


def fields_tab_folder(app) -> str | None:
    """The server folder the Fields tab has open, as that tab resolved its folder box (inside
    the data root, an upload's temporary folder); None before it opened one."""
    app = _session(app)
    return str(app.folder) if app is not None and app.folder else None


def open_field(app) -> FieldRef | None:
    """(folder, name) of the field open in the Fields tab; None when none is."""
    app = _session(app)
    return app.open_field() if app is not None else None


def _names(folder: str) -> list[str]:
    try:
        return sorted(s.name for s in resources.sources(folder))
    except InputError:
        return []


def _same(a: str, b: str) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except (OSError, RuntimeError):
        return a == b


def _short(text: str) -> str:
    """The Fields tab's folder as a label: as its box shows it (relative to the data root, an
    upload's name), the last two parts of an absolute path."""
    p = Path(text)
    return str(Path(*p.parts[-2:])) if p.is_absolute() and len(p.parts) > 2 else text


def field_choices(data_dir: str, app=None) -> dict[str, FieldRef]:
    """label → (folder, name): the Fields tab's folder's fields (labelled "name · folder" when that
    folder is not ``data_dir``), then ``data_dir``'s (labelled by name)."""
    out: dict[str, FieldRef] = {}
    app = _session(app)
    folder = fields_tab_folder(app)
    if folder is not None and not _same(folder, data_dir):
        where = _short(str(app.data_dir))
        out.update({f"{n} · {where}": (folder, n) for n in _names(folder)})
    out.update({n: (str(data_dir), n) for n in _names(str(data_dir))})
    return out


def mask_choices(fields: dict[str, FieldRef]) -> dict[str, tuple[str, str, str]]:
    """label → (folder, name, "photutils" | "truth"): each field's mask derived with photutils,
    and the simulator's truth where the folder has it; the value carries what the label says."""
    out = {f"{label} (photutils)": (*ref, "photutils") for label, ref in fields.items()}
    out.update(
        {
            f"{label} (simulator truth)": (*ref, "truth")
            for label, ref in fields.items()
            if resources.truth_mask(*ref) is not None
        }
    )
    return out


def keep(value, objects, default):
    """``value`` if it is still among ``objects`` (a label → value dict), else ``default``."""
    return value if value in objects.values() else default


def offer(view, name: str, objects: dict, default) -> None:
    """Offer ``objects`` in ``view``'s picker ``name``; a value no longer offered becomes ``default``."""
    old = getattr(view, name)
    view.param[name].objects = objects
    if keep(old, objects, default) != old:
        setattr(view, name, default)


def follow_fields(app, refresh: Callable[[], None]) -> None:
    """Call ``refresh`` whenever the Fields tab opens another folder or field (once for both)."""
    app = _session(app)
    if app is not None:
        app.param.watch(lambda *events: refresh(), ["folder", "field"])

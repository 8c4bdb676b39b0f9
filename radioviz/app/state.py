"""What the tabs of one browser session share, in one place: :class:`AppSession`.

Why: tabs were wired by handing views to each other (the Survey tab set the Fields tab's threshold
and called its ``show_scoremap``, Trajectory watched the Fields view's params, Compare read
``generate_view.result``), and three modules resolved a folder box's text on their own.  Now each
view receives the page's ``AppSession`` and nothing else of another tab; a tab publishes what it
owns here (the open folder and field, the Generate result, a survey run) and the others watch it.
This module imports neither Panel nor Bokeh, so it is tested without a browser or a server.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import param

from . import resources

#: a field: (server folder, field name)
FieldRef = tuple[str, str]


@dataclass(frozen=True)
class ScoremapHandoff:
    """A field to open in the Fields tab with a score map made elsewhere (a survey run): the
    Fields tab opens ``field`` from ``folder`` (a server path), shows ``scoremap`` at
    ``threshold`` and selects the candidate at pixel ``at`` when given."""

    folder: str
    field: str
    scoremap: Any
    classifier: str
    threshold: float
    at: tuple[int, int] | None = None


class AppSession(param.Parameterized):
    """One browser session's shared state (one per page; every tab of the page gets the same one).

    Published by the Fields tab:
      ``data_dir`` (its folder box as the user sees it: relative to the data root under one),
      ``folder`` (that box resolved to a server path by :meth:`resolve`; never shown),
      ``field`` (the field open there), ``selected`` (its candidate selected),
      ``detector`` (the scoring checkpoint chosen).
    Published by the Generate tab: ``generator`` (checkpoint chosen), ``generate_result`` (the
      latest :class:`~radioviz.sampling.generate.Generated`, read by Compare and Trajectory).
    Published by the Survey tab: ``survey_run`` (the run shown there, a ``SurveyResult``).
    Requests, answered by whoever owns them:
      :meth:`open_scoremap` sets ``handoff`` (the Fields tab opens it) and asks for the Fields
      tab via ``show_tab``; ``show_tab`` is a tab's name, which the page brings forward.
    Shared objects: ``labels`` (the label store every tab writes to), ``labeller`` and ``guest``
    (who a label is by), ``uploads`` (folder-box label → temporary folder of an upload or fetch).

    Paths: :meth:`resolve` is the one place a folder box's text becomes a server folder (an
    upload's label, else the serving policy of :func:`resources.resolve_user_path`), and
    :meth:`shown` the one place a server path becomes what a page may show.
    """

    data_dir = param.String(default="", doc="The Fields tab's folder box, as shown to the user")
    folder = param.String(default=None, allow_None=True, doc="That folder as a server path (never shown)")
    field = param.String(default=None, allow_None=True, doc="The field open in the Fields tab")
    selected = param.Integer(default=-1, doc="The candidate selected there (an index; -1: none)")
    detector = param.String(default=None, allow_None=True, doc="The scoring checkpoint chosen")
    generator = param.String(default=None, allow_None=True, doc="The generator checkpoint chosen")
    generate_result = param.Parameter(default=None, doc="The latest Generate run (a Generated)")
    survey_run = param.Parameter(default=None, doc="The survey run shown in the Survey tab")
    labels = param.Parameter(default=None, doc="The label store (a LabelStore) shared by the tabs")
    labeller = param.String(default="", doc="The user's name, saved with each label")
    handoff = param.ClassSelector(class_=ScoremapHandoff, default=None, allow_None=True)
    show_tab = param.String(default="", doc="A tab the page should bring forward")

    def __init__(self, guest: str | None = None, **params):
        super().__init__(**params)
        self.id = uuid.uuid4().hex[:8]
        # who a label is by while the labeller box is empty: the guest name this browser was
        # given before (the page passes it: labeller_memory), else a new one
        self.guest = guest or f"guest-{self.id[:6]}"
        self.uploads: dict[str, Any] = {}  # folder-box label -> temporary folder (or its path)

    # -- paths -------------------------------------------------------------------------------------

    def resolve(self, text: str) -> str:
        """A folder box's text as a server folder: an upload's or SkyView fetch's label names its
        temporary folder; anything typed goes through the serving policy (inside the data root
        when one is set; raises ``PathPolicyError`` outside it)."""
        folder = self.uploads.get(text)
        if folder is not None:
            return str(getattr(folder, "name", folder))
        return str(resources.resolve_user_path(text))

    @staticmethod
    def shown(path: str | Path) -> str:
        """A server path as a page may show it (relative to the data root under one)."""
        return resources.shown_path(path)

    def public(self, text: str) -> str:
        """``text`` with server paths replaced by what the user knows them as (upload labels)."""
        return resources.public_message(text, {getattr(d, "name", d): k for k, d in self.uploads.items()})

    def open_field(self) -> FieldRef | None:
        """(server folder, name) of the field open in the Fields tab; None when none is."""
        return (self.folder, self.field) if self.folder and self.field else None

    def forget_uploads(self) -> None:
        """Remove the session's uploaded folders (on a new upload, and when the page closes)."""
        for tmp in self.uploads.values():
            if hasattr(tmp, "cleanup"):
                tmp.cleanup()
        self.uploads.clear()

    # -- who labels --------------------------------------------------------------------------------

    def who(self) -> str:
        """Who a label given now is by: the labeller's name, else this session's guest name."""
        return self.labeller.strip() or self.guest

    # -- requests between tabs ---------------------------------------------------------------------

    def open_scoremap(
        self,
        folder: str,
        field: str,
        scoremap,
        classifier: str,
        threshold: float,
        at: tuple[int, int] | None = None,
    ) -> None:
        """Ask the Fields tab to open ``field`` of ``folder`` (a server path) with ``scoremap``
        at ``threshold`` (selecting the candidate at ``at``), and bring that tab forward."""
        self.handoff = ScoremapHandoff(str(folder), field, scoremap, classifier, float(threshold), at)
        self.request_tab("Fields")

    def request_tab(self, name: str) -> None:
        """Ask the page to bring tab ``name`` forward (again, if it was asked before)."""
        if self.show_tab == name:
            self.param.trigger("show_tab")
        else:
            self.show_tab = name

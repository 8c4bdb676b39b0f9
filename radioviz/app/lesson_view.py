"""The Trajectory tab's Lesson card: the question of a :class:`~.lesson.LessonState`, where to
look, and its answer on Reveal, with Start, Back, Reveal, Next and Restart.  Draws the state only;
the Trajectory view moves the players to the step each question is about."""

from __future__ import annotations

from collections.abc import Callable

import panel as pn

from .lesson import TOY, LessonState

INTRO = (
    "Seven questions about the run on screen, one at a time. Each names what to look at and moves "
    "the player to the step it is about; **Reveal** gives the answer, read from this run's own "
    "frames (a new run gives new answers). Start, then follow the questions from top to bottom."
)


class LessonCard(pn.viewable.Viewer):
    """``start()`` makes sure an EDM run is on screen and starts ``state``; ``echo`` repeats the
    toy's question, to be laid out beside the toy."""

    def __init__(self, state: LessonState, why: str, start: Callable[[], None], **params):
        super().__init__(**params)
        self.state = state
        self.start_button = pn.widgets.Button(label="Start the lesson", color="primary")
        self.back_button = pn.widgets.Button(label="◀ Back")
        self.reveal_button = pn.widgets.Button(label="Reveal the answer", color="success")
        self.next_button = pn.widgets.Button(label="Next ▶")
        self.restart_button = pn.widgets.Button(label="Restart")
        self.start_button.on_click(lambda e: start())
        self.back_button.on_click(lambda e: state.back())
        self.reveal_button.on_click(lambda e: state.reveal())
        self.next_button.on_click(lambda e: state.next())
        self.restart_button.on_click(lambda e: state.restart())
        self.status = pn.pane.Markdown("", name="lesson_status", css_classes=["lesson-status"])
        self.text = pn.pane.Markdown("", sizing_mode="stretch_width", css_classes=["lesson-text"])
        self.why = pn.pane.Markdown(f"<small>{why}</small>")
        # the toy's question again beside the toy (far down the page from the card)
        self.echo = pn.pane.Markdown(
            "", visible=False, sizing_mode="stretch_width", styles={"border-left": "4px solid #1f77b4"}
        )
        state.param.watch(lambda *e: self._draw(), ["active", "index", "revealed", "run", "toy", "band"])
        self._draw()

    def _draw(self) -> None:
        s = self.state
        n = s.count()
        self.text.object = s.markdown()
        at_toy = s.active and n > 0 and s.current().player == TOY
        self.echo.object = f"**Lesson, question {s.index + 1} of {n}**\n\n" + s.markdown() if at_toy else ""
        self.echo.visible = at_toy
        self.status.object = s.status()  # last: the page's published state (tests wait on it)
        on = s.active and n > 0
        self.back_button.disabled = not on or s.index == 0
        self.next_button.disabled = not on or s.index >= n - 1
        self.reveal_button.disabled = not on or s.revealed
        # green only while it can be pressed (walk 18: a disabled green button read as enabled)
        self.reveal_button.color = "light" if self.reveal_button.disabled else "success"
        self.restart_button.disabled = not on
        self.start_button.visible = not on

    def __panel__(self):
        return pn.Card(
            pn.pane.Markdown(INTRO),
            self.why,
            pn.Row(
                self.start_button,
                self.back_button,
                self.reveal_button,
                self.next_button,
                self.restart_button,
            ),
            self.status,
            self.text,
            title="Lesson: diffusion in seven questions",
            collapsed=False,
            sizing_mode="stretch_width",
        )

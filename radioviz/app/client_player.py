"""A frame player that plays in the browser: Play/Pause, one step back/forward and a step slider,
whose timer runs in JavaScript, so playback needs no server round trip.

Panel's ``Player`` sends its value to the server on every tick; on a loaded machine each tick's
round trip (and the server's work on it) held Play to about 4 frames/s at a 100 ms interval.
Here, while playing, the slider is not synchronised (``syncable = false``) and the timer keeps
its own clock (a late tick is caught up, never dropped); when playback stops or the user drags
the slider, the step reaches the server through ``value_throttled`` and ``on_step`` is called.
Frames themselves are drawn by whatever ``js_on_change("value", ...)`` callbacks the caller
attaches to :attr:`slider`.  The speed (frames/s, default :data:`DEFAULT_FPS`, slow enough to
follow a 25-step run) is a second slider beside it (1–30), read on every tick, so it can change
mid-play.
"""

from __future__ import annotations

from collections.abc import Callable

from bokeh.models import Button, CustomJS, Slider

from .jobs import on_session

PLAY_LABEL, PAUSE_LABEL = "▶ Play", "❚❚ Pause"
#: Frames per second Play starts at; the user can pick 1…MAX_FPS.
DEFAULT_FPS, MAX_FPS = 4, 30

#: The Play/Pause button's click: start or stop the browser-side timer.
_TOGGLE_JS = """
const st = slider._radioviz_play || (slider._radioviz_play = {on: false, id: null});
const stop = () => {
  st.on = false;
  if (st.id !== null) { clearTimeout(st.id); st.id = null; }
  button.label = PLAY;
  slider.syncable = true;
  slider.value_throttled = slider.value;  // the step it stopped at reaches the server
};
st.stop = stop;
if (st.on) { stop(); return; }
if (slider.value >= slider.end) slider.value = slider.start;
st.on = true;
slider.syncable = false;  // ticks stay in the browser
button.label = PAUSE;
const interval = () => 1000 / Math.min(MAX, Math.max(1, speed.value || 1));  // read on every tick
let due = performance.now() + interval();
const tick = () => {
  st.id = null;
  if (!st.on) return;
  if (slider.value >= slider.end) { stop(); return; }
  slider.value = slider.value + 1;
  const now = performance.now();
  const iv = interval();
  due = Math.max(due + iv, now - iv);  // catch up one late tick, never a backlog
  st.id = setTimeout(tick, Math.max(0, due - now));
};
st.id = setTimeout(tick, interval());
"""

#: One step back or forward (``delta``), pausing first; the step reaches the server.
_STEP_JS = """
if (slider._radioviz_play && slider._radioviz_play.on) slider._radioviz_play.stop();
const v = Math.max(slider.start, Math.min(slider.end, slider.value + delta));
if (v !== slider.value) { slider.value = v; slider.value_throttled = v; }
"""

#: A new start/end (another trajectory): rebuild the slider's noUiSlider.  Bokeh only updates
#: its range in place, and noUiSlider's Home/End keys keep jumping to the range it was built with
#: (End stayed at the initial end of 2 whatever the trajectory's length).
_REBUILD_JS = """
const view = Bokeh.index.find_one(slider);
if (view != null && view.slider_el != null && view._noUiSlider != null) {
  view._noUiSlider.destroy();
  view.slider_el = null;
  view.rerender();
}
"""

#: Stop playing (a new set of frames arrived, or the server moved the step).
STOP_JS = "if (slider._radioviz_play && slider._radioviz_play.on) slider._radioviz_play.stop();"


class ClientPlayer:
    """Play/Pause plus a step slider (1…end), played in the browser; ``on_step(value)`` hears
    the step whenever playback stops or the user releases the slider."""

    def __init__(
        self, on_step: Callable[[int], None], fps: float = DEFAULT_FPS, width: int = 640, name="player"
    ):
        self.slider = Slider(
            start=1,
            end=2,
            value=1,
            step=1,
            title="step",
            show_value=False,
            width=width - 280,
            name=f"{name}_slider",
        )
        self.slider.js_on_change("start", CustomJS(args={"slider": self.slider}, code=_REBUILD_JS))
        self.slider.js_on_change("end", CustomJS(args={"slider": self.slider}, code=_REBUILD_JS))
        self.button = Button(label=PLAY_LABEL, width=100, name=f"{name}_button")
        self.back, self.forward = (
            Button(label=lab, width=40, name=f"{name}_{n}") for lab, n in (("◀", "back"), ("▶", "forward"))
        )
        for b, delta in ((self.back, -1), (self.forward, 1)):
            b.js_on_event(
                "button_click", CustomJS(args={"slider": self.slider, "delta": delta}, code=_STEP_JS)
            )
        # a slider, not a box: a typed 0 or 1000 stayed shown while the player kept its old speed
        self.speed = Slider(
            title="frames/s", start=1, end=MAX_FPS, step=1, value=fps, width=120, name=f"{name}_speed"
        )
        self.button.js_on_event(
            "button_click",
            CustomJS(
                args={"slider": self.slider, "button": self.button, "speed": self.speed},
                code=f"const PLAY = {PLAY_LABEL!r}, PAUSE = {PAUSE_LABEL!r}, MAX = {MAX_FPS};\n" + _TOGGLE_JS,
            ),
        )
        self._on_step = on_step
        self.slider.on_change("value_throttled", lambda attr, old, new: self._heard(new))

    def _heard(self, value):
        value = int(value)
        if self.slider.value != value:
            self.slider.value = value  # the server's copy, stale after a play
        self._on_step(value)

    @property
    def value(self) -> int:
        return int(self.slider.value)

    def show(self, value: int, end: int | None = None) -> None:
        """Move to ``value`` (and set the last step) from the server."""

        def push():
            if end is not None:
                self.slider.end = end
            self.slider.value = value

        on_session(push, self.slider)

    def controls(self) -> list:
        """The Bokeh widgets, in their order on the page."""
        return [self.button, self.back, self.forward, self.slider, self.speed]

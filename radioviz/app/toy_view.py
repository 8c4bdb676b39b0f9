"""The 2-D toy beside the real model (issue #28, item 6): many particles in a plane, the learnt
denoising direction at the current noise level, and the model's guess of each particle's clean
position — played with the same player as the image trajectory.

State (:class:`ToyState`: params and pure methods, no widget) is apart from the view
(:class:`ToyView`), which only draws the frames the state precomputes and swaps them in the
browser as the player moves.
"""

from __future__ import annotations

import threading

import numpy as np
import panel as pn
import param
from bokeh.layouts import row as bokeh_row
from bokeh.models import Arrow, ColumnDataSource, CustomJS, Div, VeeHead
from bokeh.plotting import figure

from ..toy.clouds import CLOUDS
from .client_player import ClientPlayer

TRACKED = 40  # particles whose paths are drawn
LIM = 3.5  # plot half-width (the clouds have unit standard deviation)


class ToyState(param.Parameterized):
    """One toy run: the cloud, its trained denoiser, and every recorded step of a sampling run."""

    cloud = param.Selector(default="halo + point sources", objects=list(CLOUDS), doc="What the toy learns")
    sampler = param.Selector(default="heun", objects=["heun", "euler"])
    steps = param.Integer(default=25, bounds=(2, 100))
    particles = param.Integer(default=1000, bounds=(10, 5000))
    seed = param.Integer(default=0, bounds=(0, 2**31 - 1))
    status = param.String(default="Press Train and sample: a few seconds on one CPU core.")
    version = param.Integer(default=0, precedence=-1, doc="Bumped when new frames are ready")

    def __init__(self, **params):
        super().__init__(**params)
        self.model = None
        self.frames: dict | None = None

    def train_and_sample(self) -> None:
        """Train on the chosen cloud (kept while the cloud stays the same), then sample."""
        from ..toy.model import train_toy

        if self.model is None or self.model.cloud != self.cloud:
            self.status = f"Training the toy denoiser on “{self.cloud}”…"
            self.model = train_toy(self.cloud)
        self.sample()

    def sample(self) -> None:
        from ..toy.model import one_torch_thread
        from ..toy.run import nearest_distance, sample_toy

        traj = sample_toy(self.model, self.particles, self.steps, self.sampler, self.seed)
        with one_torch_thread():
            self.frames = toy_frames(self.model, traj)
        final = nearest_distance(traj.samples, self.model.data)
        self.status = (
            f"{self.particles} particles, {self.sampler} {self.steps} steps on “{self.cloud}” (denoiser "
            f"trained in {self.model.seconds:.1f} s). At the end the median particle is {final:.3f} from the "
            "nearest training point — about the cloud's own spacing: the particles have landed on it."
        )
        self.version += 1


def toy_frames(model, traj) -> dict:
    """Everything the browser needs to play the run, per recorded step k: particle positions x_t
    scaled by 1/√(1+σ²) (to stay on screen while σ falls from 80 to 0), the model's guesses x̂0, the
    direction field D(x; σ) − x on a grid (scaled the same way, arrows normalised per frame), and
    one sentence computed from the frame."""
    from ..toy.model import direction_field
    from ..toy.run import nearest_distance

    out = {
        "xs": [],
        "ys": [],
        "gx": [],
        "gy": [],
        "x0": [],
        "y0": [],
        "fx": [],
        "fy": [],
        "fx1": [],
        "fy1": [],
    }
    out["sigma"], out["caption"] = [], []
    n = len(traj.xs)
    for k in range(n):
        s = float(traj.sigmas[k])
        scale = 1 / np.sqrt(1 + s**2)
        x, d = traj.xs[k], traj.denoised[k]
        out["xs"].append((x[:, 0] * scale).tolist())
        out["ys"].append((x[:, 1] * scale).tolist())
        out["x0"].append(d[:, 0].tolist())
        out["y0"].append(d[:, 1].tolist())
        f = direction_field(model, s, lim=LIM / scale, n=15)
        fx, fy = f["x"] * scale, f["y"] * scale
        dx, dy = f["dx"] * scale, f["dy"] * scale
        norm = 0.35 / max(float(np.hypot(dx, dy).max()), 1e-9)
        out["fx"].append(fx.tolist())
        out["fy"].append(fy.tolist())
        out["fx1"].append((fx + dx * norm).tolist())
        out["fy1"].append((fy + dy * norm).tolist())
        out["sigma"].append(s)
        spread = float(d.std(0).mean() / model.data.std(0).mean())  # 0: all at one point; 1: like the data
        if spread < 0.3:
            guess = (
                f"all sit near the middle of the cloud (spread {spread:.0%} of its width): with this much "
                "noise the best guess for any particle is the average picture"
            )
        else:
            near = nearest_distance(d, model.data)
            # "like the cloud" only once they are nearly as wide as it (walk 16: said at 32 %)
            how = "spread like the cloud" if spread >= 0.8 else "spread out towards the cloud's shape"
            guess = f"{how} ({spread:.0%} of its width) and lie a median {near:.3f} from it" + (
                ": each particle's end is already decided" if near < 0.05 else ""
            )
        out["caption"].append(
            f"Step {k + 1} of {n}, noise σ = {s:.3g}. The particles (left, shrunk by √(1+σ²) to fit) are "
            f"{'mostly noise' if s > 1 else 'close to their final places'}; the model's guesses of where "
            f"each will end (right) {guess}. Arrows: where the model pushes a particle at this noise level."
        )
    pick = np.linspace(0, traj.xs[0].shape[0] - 1, TRACKED).astype(int)
    paths_x = np.stack([np.asarray(v)[pick] for v in out["xs"]], 1)  # (TRACKED, n)
    paths_y = np.stack([np.asarray(v)[pick] for v in out["ys"]], 1)
    out["paths_x"], out["paths_y"] = paths_x.tolist(), paths_y.tolist()
    out["n"] = n
    return out


_FRAME_JS = """
const k = Math.max(0, Math.min(frames.n - 1, slider.value - 1));
parts.data = {x: frames.xs[k], y: frames.ys[k]};
guesses.data = {x: frames.x0[k], y: frames.y0[k]};
field.data = {x0: frames.fx[k], y0: frames.fy[k], x1: frames.fx1[k], y1: frames.fy1[k]};
paths.data = {xs: frames.paths_x.map((p) => p.slice(0, k + 1)),
              ys: frames.paths_y.map((p) => p.slice(0, k + 1))};
caption.text = frames.caption[k];
"""


class ToyView(pn.viewable.Viewer):
    """Controls, two planes (particles with arrows and paths; the model's guesses over the data)
    and the player."""

    def __init__(self, state: ToyState | None = None, **params):
        super().__init__(**params)
        self.state = state or ToyState()
        self.parts = ColumnDataSource({"x": [], "y": []})
        self.guesses = ColumnDataSource({"x": [], "y": []})
        self.data = ColumnDataSource({"x": [], "y": []})
        self.field = ColumnDataSource({"x0": [], "y0": [], "x1": [], "y1": []})
        self.paths = ColumnDataSource({"xs": [], "ys": []})
        self.frames_src = ColumnDataSource({"n": [0]}, name="toy_frames")
        self.caption = Div(text="", width=700, name="toy_caption")  # written in the browser, per frame
        self.player = ClientPlayer(lambda v: None, name="toy_player", width=560)
        self.left, self.right = self._planes()
        self._running = threading.Lock()  # one toy run at a time (the button, the lesson)
        self.state.param.watch(lambda e: self._push(), "version")

    def _planes(self):
        left = figure(width=340, height=340, x_range=(-LIM, LIM), y_range=(-LIM, LIM), title="particles x_t")
        left.multi_line("xs", "ys", source=self.paths, line_color="#9aa5b1", line_alpha=0.6)
        head = VeeHead(size=5, line_color="#d9822b", line_width=1.2)  # a push has a direction
        left.add_layout(
            Arrow(
                x_start="x0",
                y_start="y0",
                x_end="x1",
                y_end="y1",
                source=self.field,
                end=head,
                line_color="#d9822b",
                line_width=1.2,
            )
        )
        left.scatter("x", "y", source=self.parts, size=3, color="#1f77b4", alpha=0.5)
        right = figure(
            width=340, height=340, x_range=left.x_range, y_range=left.y_range, title="model's guesses x̂0"
        )
        right.scatter(
            "x", "y", source=self.data, size=2, color="#bbbbbb", alpha=0.5, legend_label="training cloud"
        )
        right.scatter("x", "y", source=self.guesses, size=3, color="#2ca02c", alpha=0.5, legend_label="x̂0")
        right.legend.location = "top_left"
        right.legend.label_text_font_size = "8pt"
        return left, right

    def _push(self) -> None:
        """New frames: the data cloud, the frame cache, and the player set to the last step."""
        from .jobs import on_session

        f = self.state.frames
        model = self.state.model

        def push():
            self.data.data = {"x": model.data[:, 0].tolist(), "y": model.data[:, 1].tolist()}
            self.frames_src.data = {k: [v] for k, v in f.items()}
            self.player.slider.end = max(2, f["n"])
            self.player.slider.value = f["n"]

        on_session(push, self.data)

    def __panel__(self):
        go = pn.widgets.Button(label="Train and sample", color="primary")
        go.on_click(lambda e: self.run())
        js = CustomJS(
            args={
                "slider": self.player.slider,
                "parts": self.parts,
                "guesses": self.guesses,
                "field": self.field,
                "paths": self.paths,
                "caption": self.caption,
                "frames_src": self.frames_src,
            },
            code="const frames = {}; for (const k in frames_src.data) frames[k] = frames_src.data[k][0];\n"
            "if (!frames.n) return;\n" + _FRAME_JS,
        )
        self.player.slider.js_on_change("value", js)
        self.frames_src.js_on_change("data", js)
        return pn.Column(
            pn.pane.Markdown(
                "### A toy beside the real model: diffusion in 2-D\n"
                "The same sampler and player as the image above, on points in a plane: each particle is "
                "a whole “image” with two pixels.  Watch them start as a wide cloud of noise and slide, step "
                "by step, along the arrows onto the shape the toy learnt."
            ),
            pn.Row(
                pn.Param(
                    self.state.param,
                    parameters=["cloud", "sampler", "steps", "particles", "seed"],
                    widgets={"seed": pn.widgets.IntInput},
                    show_name=False,
                    width=220,
                ),
                pn.Column(go, pn.pane.Markdown(self.state.param.status, width=260)),
            ),
            pn.pane.Bokeh(bokeh_row(*self.player.controls())),
            pn.Row(pn.pane.Bokeh(self.left), pn.pane.Bokeh(self.right)),
            pn.pane.Bokeh(self.caption),
            sizing_mode="stretch_width",
        )

    def run(self) -> None:
        """Train and sample (the button; the lesson's toy question when revealed before a run);
        a press while a run goes on is dropped."""
        if not self._running.acquire(blocking=False):
            return
        try:
            self.state.train_and_sample()
        except Exception as exc:  # shown, never a server traceback
            self.state.status = f"Toy run failed — {type(exc).__name__}: {exc}"
        finally:
            self._running.release()

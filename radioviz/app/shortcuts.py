"""Page-wide keyboard shortcuts as a tiny JS component: key presses become a Python param."""

from __future__ import annotations

import param
from panel.custom import JSComponent


class KeyboardShortcuts(JSComponent):
    """Reports presses of ``keys`` (ignored while typing in a text field; Enter or Escape leaves
    the field) as ``key``/``presses``."""

    keys = param.List(default=["h", "n", "u", "j", "k"])
    key = param.String(default="")
    presses = param.Integer(default=0)

    _esm = """
    export function render({ model }) {
      const handler = (e) => {
        const origin = (e.composedPath && e.composedPath()[0]) || e.target;
        const tag = (origin && origin.tagName) || "";
        if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") {
          // typing in a box never labels; Enter or Escape leaves a one-line box for the keys
          const leave = (e.key === "Enter" || e.key === "Escape") && tag === "INPUT";
          if (leave) setTimeout(() => origin.blur(), 0);
          return;
        }
        if (e.ctrlKey || e.metaKey || e.altKey || origin.isContentEditable) return;
        if (model.keys.includes(e.key)) {
          model.key = e.key;
          model.presses = model.presses + 1;
        }
      };
      document.addEventListener("keydown", handler);
      model.on("remove", () => document.removeEventListener("keydown", handler));
      const el = document.createElement("span");
      el.className = "rv-shortcuts";
      el.textContent = "Keys: h halo · n not halo · u unsure · j next · k previous";
      return el;
    }
    """

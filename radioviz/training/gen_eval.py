"""A quick look at a generator while it trains: a few class-H samples compared with the real
halo cut-outs, so a learning curve (histogram error, zero fraction, domain FID, NN SSIM against
step and CPU hours) is in every card and a stalled run shows early.

Cheap on purpose (16 samples, Heun-25 for the EDM / DDIM-50 for the DDPM, ~15 s on one thread):
the numbers are noisy; the final evaluation uses 64 samples (docs/generators.md).
"""

from __future__ import annotations

from pathlib import Path

from ..data.preprocess import Preprocessing
from ..metrics.compare import compare_images, real_cutouts
from ..metrics.evaluate import load_classifier
from ..metrics.structure import structure_report

DEFAULT_CLASSIFIER = Path(__file__).resolve().parents[2] / "checkpoints" / "classifier_A.safetensors"


class QuickEval:
    """Holds the real reference set and the judge; ``__call__(model, card)`` -> one curve point."""

    def __init__(
        self, real_root, split: str, pre: Preprocessing, n: int = 16, label: str = "H", classifier=None
    ):
        self.real = real_cutouts(real_root, split, pre, label)
        self.n, self.label = n, label
        path = Path(classifier) if classifier else DEFAULT_CLASSIFIER
        self.classifier = load_classifier(path) if path.exists() else None
        if self.classifier is not None and self.classifier[1].cutout_size != pre.cutout_size:
            self.classifier = None  # it judges another image size: histogram and NN SSIM only

    def __call__(self, model, card: dict, seed: int = 0) -> dict:
        from ..sampling.generate import generate

        sampler = "heun" if card["kind"] == "edm" else "ddim"
        g = generate(
            None, self.n, label=self.label, sampler=sampler, seed=seed, model_and_card=(model.eval(), card)
        )
        model.train()
        pre = Preprocessing.from_dict(card["preprocessing"])
        r = compare_images(self.real, g.physical, pre.normalization, classifier_model=self.classifier).report
        out = {
            "sampler": f"{sampler}-{g.meta['steps']}",
            "n": self.n,
            "hist_err": round(r["hist_mean_abs_rel_err"], 4),
            "zero_fraction_gen": round(r["zero_fraction_gen"], 4),
            "zero_fraction_real": round(r["zero_fraction_real"], 4),
            "nn_ssim_max": round(r["nn_ssim_max"], 4),
            "nn_ssim_median": round(r["nn_ssim_median"], 4),
        }
        st = structure_report(self.real, g.physical)
        out["power_ratio_high"] = st["power_ratio_high_median"]  # 0.2–0.5 cycles/px, per band
        out["power_ratio_max_dev"] = round(st["power_ratio_max_dev"], 3)  # max |ln ratio|, any bin
        out["peak_ratio"] = st["peak_ratio"]
        if r.get("fid_domain") is not None:
            out["fid_domain"] = round(float(r["fid_domain"]), 3)
        if r.get("classifier_pass_rate_0.5") is not None:
            out["pass_0.5"] = round(float(r["classifier_pass_rate_0.5"]), 3)
        return out

"""``radioviz train classifier|ddpm|edm|wgan``: resumable trainers writing a checkpoint and its card."""

from __future__ import annotations

import sys
from pathlib import Path

from .. import validate as V
from . import options
from .train_segmenter import register_train as register_train_segmenter


def register(sub) -> None:
    p = sub.add_parser("train", help="train models (resumable)")
    tsub = p.add_subparsers(dest="train_cmd", required=True)
    _register_classifier(tsub)
    _register_diffusion(
        tsub, "ddpm", "train a class-conditional discrete DDPM (resumable; EMA weights saved)"
    )
    _register_wgan(tsub)
    register_train_segmenter(tsub)
    _register_diffusion(
        tsub, "edm", "train a continuous-time EDM model with class (and --flux) conditioning (resumable)"
    )


def _register_classifier(tsub) -> None:
    c = tsub.add_parser(
        "classifier",
        parents=[options.dataset(), options.classifier_training(), options.seed(), options.device()],
        help="train a halo classifier (L, A or D) on a split of the published layout",
    )
    c.add_argument("--val-fraction", type=V.open_unit_interval, default=0.2)
    c.add_argument("--batch-size", type=V.int_range(1, 4096), default=128)
    c.add_argument("--lr", type=V.float_range(0.0, 1.0, lo_open=True), default=1e-3)
    c.add_argument(
        "--out",
        type=Path,
        required=True,
        help="checkpoint path (.safetensors; the card is written beside it)",
    )
    c.add_argument(
        "--resume", action="store_true", help="continue from the training state saved beside --out"
    )
    c.set_defaults(func=cmd_train_classifier)


def cmd_train_classifier(args) -> int:
    from ..data.dataset import DatasetConfig, build_dataset
    from ..training.classifier import TrainConfig, load_generated, train_classifier

    dcfg = DatasetConfig(
        str(args.data),
        args.split,
        args.convention,
        val_fraction=args.val_fraction,
        seed=args.seed,
        offcentre_per_halo=args.offcentre,
    )
    ds, _, _ = build_dataset(dcfg, args.cache_dir, progress=True)
    generated = load_generated(args.generated, ds.images) if args.generated else None
    tcfg = options.config_from(
        TrainConfig, args, generated_ratio=args.ratio if generated is not None else 0.0
    )
    extra = None
    if generated is not None:
        extra = {
            "generated": {
                "files": [str(p) for p in args.generated],
                "n": int(len(generated)),
                "ratio": args.ratio,
            }
        }
    _, card = train_classifier(ds, tcfg, args.out, resume=args.resume, generated=generated, extra_card=extra)
    m = card.metric("validation_per_image")
    print(
        f"wrote {Path(args.out).with_suffix('.safetensors')}: {card.parameters} parameters, "
        f"validation accuracy {m.get('accuracy', float('nan')):.4f}, F1 {m.get('f1', float('nan')):.4f}"
    )
    return 0


def _generator_parents(save_every: int) -> list:
    return [
        options.dataset(options.GENERATOR_CONVENTIONS),
        options.generator_training(save_every),
        options.seed(),
        options.device(),
    ]


def _generator_training_set(args):
    from ..data.dataset import DatasetConfig, build_dataset

    return build_dataset(
        DatasetConfig(str(args.data), args.split, args.convention, seed=args.seed), args.cache_dir
    )[0]


def _report_trained(args, card, what: str = "parameters") -> int:
    print(
        f"wrote {Path(args.out).with_suffix('.safetensors')}: {card.parameters} {what}, "
        f"{card.training.steps} iterations, {card.training.wall_seconds} s"
    )
    return 0


def _register_diffusion(tsub, kind: str, help: str) -> None:
    d = tsub.add_parser(kind, parents=_generator_parents(save_every=500), help=help)
    d.add_argument("--steps", type=V.int_range(1, V.MAX_TRAIN_STEPS), default=20000)
    d.add_argument("--batch-size", type=V.int_range(1, 4096), default=32)
    d.add_argument("--lr", type=V.float_range(0.0, 1.0, lo_open=True), default=3e-4)
    d.add_argument("--base", type=V.int_range(1, 256), default=16, help="U-Net base width")
    d.add_argument("--unconditional", action="store_true", help="no class label")
    d.add_argument("--flux", action="store_true", help="also condition on peak flux (Box-Cox, standardised)")
    d.add_argument(
        "--mask",
        action="store_true",
        help="also condition on a segmentation mask derived with photutils (RADiff)",
    )
    d.add_argument(
        "--background",
        action="store_true",
        help="also condition on a background reference image (RADiff; dropped 50 %%)",
    )
    d.add_argument("--no-crops", action="store_true", help="central cut-outs × 160 augmentations, not crops")
    d.add_argument(
        "--per-field", type=V.int_range(1, 10_000), default=20, help="random crops per non-halo field"
    )
    d.add_argument(
        "--halo-share",
        type=V.unit_interval,
        default=0.5,
        help="share of each batch drawn from the halo classes (crops only; default 0.5)",
    )
    d.add_argument("--stretch", choices=["asinh", "log"], default="asinh", help="generator pixel scale")
    d.add_argument(
        "--eval-every",
        type=V.int_range(0, V.MAX_TRAIN_STEPS),
        default=0,
        help="steps between quick evaluations",
    )
    if kind == "ddpm":
        d.add_argument(
            "--t-sampling",
            choices=["uniform", "lognormal"],
            default="uniform",
            help="how training timesteps are drawn: uniform (Ho et al.) or lognormal (σ_t as EDM's "
            "ln σ ~ N(P_mean, P_std²): more steps at the low noise levels where faint emission is decided)",
        )
        d.add_argument(
            "--prediction",
            choices=["epsilon", "v"],
            default="epsilon",
            help="what the network outputs: the noise ε (Ho et al.) or v = √ᾱ·ε − √(1−ᾱ)·x0 (Salimans & Ho), "
            "whose clean-image estimate never amplifies the network's error",
        )
    if kind in ("edm", "ddpm"):
        d.add_argument(
            "--beam",
            action="store_true",
            help="pass the clean-image estimate through each band's beam (beam-limited samples)",
        )
    d.add_argument("--init", help="start from this checkpoint's weights (same network): a fine-tune")
    d.add_argument(
        "--keep-evals",
        action="store_true",
        help="keep the weights of every quick evaluation (<out>.evals/step<N>.safetensors, each with its "
        "card) so the step the learning curve favours can be shipped",
    )
    d.set_defaults(func=cmd_train_diffusion, kind=kind)


def cmd_train_diffusion(args) -> int:
    from ..training.diffusion import DiffusionConfig, train_diffusion

    cfg = options.config_from(
        DiffusionConfig, args, conditional=not args.unconditional, crops=not args.no_crops
    )
    return _report_trained(
        args, train_diffusion(_generator_training_set(args), cfg, args.out, resume=args.resume)
    )


def _register_wgan(tsub) -> None:
    w = tsub.add_parser(
        "wgan",
        parents=_generator_parents(save_every=100),
        help="train the conditional WGAN-GP (Mishra et al. Tables A1/A2; resumable)",
    )
    w.add_argument(
        "--iterations",
        type=V.int_range(1, V.MAX_TRAIN_STEPS),
        default=2000,
        help="generator steps (each after n_critic = 5 critic steps)",
    )
    w.add_argument("--batch-size", type=V.int_range(1, 4096), default=32)
    w.add_argument(
        "--width", type=V.int_range(1, 1024), default=128, help="generator width (the paper's is 256)"
    )
    w.add_argument(
        "--head",
        type=V.int_range(0, 1024),
        default=16,
        help="channels before the final 3x3 conv (0: one per band, the shipped 4-band model's layout)",
    )
    w.set_defaults(func=cmd_train_wgan)


def cmd_train_wgan(args) -> int:
    from ..training.wgan import WGANConfig, train_wgan

    cfg = options.config_from(WGANConfig, args)
    card = train_wgan(_generator_training_set(args), cfg, args.out, resume=args.resume)
    if card.extra["output_std_over_samples"] < 1e-4:
        print(
            f"warning: {args.out}: the generator's output no longer depends on its input "
            "(collapsed to one image); restart with another --seed or --head",
            file=sys.stderr,
        )
    return _report_trained(args, card, "generator parameters")

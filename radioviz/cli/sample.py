"""``radioviz sample``: images from a generator checkpoint (DDPM, EDM, WGAN) into an .npz."""

from __future__ import annotations

from pathlib import Path

from .. import validate as V
from ..sampling.registry import DEFAULT_SAMPLER, SAMPLERS, steps_help
from . import options


def register(sub) -> None:
    p = sub.add_parser(
        "sample",
        parents=[
            options.checkpoint(
                default=options.DEFAULT_GENERATOR,
                help="a generator .safetensors (default: the best measured committed one, "
                "see `radioviz.models.quality.default_generator`)",
            ),
            options.seed(),
            options.device(),
        ],
        help="generate images from a generator checkpoint (DDPM, EDM, WGAN)",
    )
    p.add_argument(
        "--n",
        type=V.int_range(1, V.MAX_SAMPLES),
        default=8,
        help=f"images (1 to {V.MAX_SAMPLES}, one batch; more: run again with another --seed)",
    )
    p.add_argument("--label", help="class label (see the model card: non-halo, H, cH, mH)")
    own = ", ".join(f"{kind.upper()}: {name}" for kind, name in DEFAULT_SAMPLER.items())
    p.add_argument("--sampler", choices=list(SAMPLERS), help=f"default: the model's own ({own})")
    p.add_argument(
        "--steps",
        type=V.int_range(1, V.MAX_SAMPLER_STEPS),
        help=f"default: {steps_help()}; ddpm (ancestral) runs exactly the schedule's T steps",
    )
    p.add_argument("--eta", type=V.unit_interval, default=0.0, help="DDIM η in [0, 1]")
    p.add_argument(
        "--guidance",
        type=V.float_range(*V.GUIDANCE_RANGE),
        help="classifier-free guidance ω: D = (1+ω)·D_cond − ω·D_uncond; default with --label: the ω "
        "the model's quality was measured at (its card), else 0",
    )
    p.add_argument(
        "--flux",
        type=V.float_range(0.0, 1e4, lo_open=True),
        help="peak flux in Jy/beam (models trained with --flux)",
    )
    p.add_argument(
        "--mask",
        type=Path,
        help="segmentation mask: .fits or .npy, 64×64 class indices (mask-conditioned models)",
    )
    p.add_argument(
        "--background",
        type=Path,
        help="background reference FITS (one file per band cube, or any band file of a source)",
    )
    p.add_argument("--out", type=Path, required=True, help=".npz with images, physical and meta")
    p.set_defaults(func=cmd_sample)


def cmd_sample(args) -> int:
    from tqdm.auto import tqdm

    from ..data.conditions import read_background, read_mask
    from ..sampling.generate import generate, save_samples

    bars = []  # created at the first step, so a rejected option prints only its one-line error

    def progress(info):
        if not bars:
            bars.append(tqdm(total=info["n"], desc="sampling", unit="step"))
        bars[0].update(1)

    if args.checkpoint is options.DEFAULT_GENERATOR:
        args.checkpoint = options.default_generator_path()
        print(f"using {args.checkpoint} (the best measured committed generator)")
    if args.guidance is None:
        args.guidance = _measured_guidance(args.checkpoint) if args.label is not None else 0.0
        if args.guidance:
            print(f"guidance ω = {args.guidance:g} (the setting the model's quality was measured at)")
    mask = read_mask(args.mask) if args.mask else None
    background = read_background(args.background) if args.background else None
    g = generate(
        args.checkpoint,
        args.n,
        label=args.label,
        sampler=args.sampler,
        steps=args.steps,
        eta=args.eta,
        seed=args.seed,
        guidance=args.guidance,
        flux=args.flux,
        mask=mask,
        background=background,
        callback=progress,
        device=args.device,
    )
    for b in bars:
        b.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_samples(g, args.out)
    print(
        f"wrote {args.out}: {g.images.shape}, {g.meta['nfe']} network evaluations, {g.meta['wall_seconds']} s"
    )
    return 0


def _measured_guidance(checkpoint) -> float:
    from ..models.card import ModelCard
    from ..models.quality import default_guidance

    return default_guidance(ModelCard.read(checkpoint))

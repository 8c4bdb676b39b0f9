"""``radioviz train segmenter``: the diffuse-emission detector (parser and handler; registered from
the ``train`` subcommand's parser in :mod:`radioviz.cli.train`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .. import validate as V
from . import options


def register_train(tsub) -> None:
    p = tsub.add_parser(
        "segmenter",
        parents=[options.device()],
        help="train the diffuse-emission detector on real fields with injected halos/relics (resumable)",
    )
    p.add_argument("--data", type=Path, required=True, help="published-layout root (its TRAIN split)")
    p.add_argument("--out", type=Path, required=True, help="checkpoint path without suffix")
    p.add_argument(
        "--steps",
        type=V.int_range(1, V.MAX_TRAIN_STEPS),
        default=None,
        help="training steps (default 400; a --labels fine-tune: 300)",
    )
    p.add_argument("--batch-size", type=V.int_range(1, 4096), default=16)
    p.add_argument("--crop", type=V.int_range(16, 1024), default=48)
    p.add_argument("--base", type=V.int_range(1, 256), default=8, help="channels of the first U-Net level")
    p.add_argument("--seed", type=V.seed_int, default=0)
    p.add_argument("--cv", type=Path, help="cv_detector.json: calibration and CV figures for the card")
    p.add_argument(
        "--classes",
        action="store_true",
        help="one output per class (halo, mini-halo, relic, radio galaxy, background); the cluster "
        "score is the halo probability",
    )
    p.add_argument(
        "--class-weight",
        type=V.float_range(0.01, 100),
        default=1.0,
        help="loss weight of mini-halo, relic and radio-galaxy pixels (with --classes; the shipped: 3)",
    )
    p.add_argument(
        "--labels",
        type=Path,
        help="label store (sqlite): fine-tune on its 'halo' / 'not halo' labels given on the fields under "
        "--data, starting from --init (default: the checkpoint at --out)",
    )
    p.add_argument(
        "--spectral-index",
        action="store_true",
        help="also read each pixel's spectral index across the four bands (an extra input channel)",
    )
    p.add_argument(
        "--residual",
        action="store_true",
        help="also read each band with its compact (beam-sized) sources fitted and subtracted (four "
        "extra input channels)",
    )
    p.add_argument("--init", type=Path, help="detector checkpoint a --labels fine-tune starts from")
    p.add_argument("--resume", action="store_true")
    p.set_defaults(func=cmd_train_segmenter)


def cmd_train_segmenter(args) -> int:
    if args.labels is not None:
        return _finetune_on_labels(args)
    from ..training.segmenter import SegTrainConfig, train_segmenter

    cfg = SegTrainConfig(
        steps=args.steps or 400,
        batch_size=args.batch_size,
        crop=args.crop,
        base=args.base,
        seed=args.seed,
        classes=args.classes,
        class_weight=args.class_weight,
        device=args.device,
        spectral_index=args.spectral_index,
        residual=args.residual,
    )
    cv = json.loads(args.cv.read_text()) if args.cv else None
    out, card = train_segmenter(
        args.data, args.out, cfg, args.resume, cv, command="radioviz " + " ".join(sys.argv[1:])
    )
    print(
        f"wrote {out}: {card.get('parameters', '?')} parameters, "
        f"{card['cost']['seconds']:.0f} s on {card['cost']['device']}"
    )
    return 0


def _finetune_on_labels(args) -> int:
    from ..errors import InputError
    from ..training.from_labels import finetune_on_labels

    init = args.init or args.out.with_suffix(".safetensors")
    if not Path(init).with_suffix(".safetensors").exists():
        raise InputError(init, "no detector checkpoint to fine-tune (give --init)")
    steps = args.steps or 300
    out, card, skipped = finetune_on_labels(
        args.data,
        Path(init).with_suffix(".safetensors"),
        args.labels,
        args.out,
        steps=steps,
        resume=args.resume,
        device=args.device,
        command="radioviz " + " ".join(sys.argv[1:]),
        progress=True,
    )
    rec = card["vetting_labels"]
    print(
        f"wrote {out}: fine-tuned on {rec['n_used']} labels ({rec['halo']} halo, {rec['not_halo']} not halo) "
        f"on {len(rec['fields'])} field(s); {len(skipped)} left out"
    )
    for line in skipped[:10]:
        print(f"  left out: {line}")
    return 0

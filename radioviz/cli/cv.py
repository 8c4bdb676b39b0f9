"""``radioviz cv``: cross-validate a classifier by source over seeds (library: training.crossval);
``--arch segmenter``: the detector's evaluation table on the same sky-group folds, with the window
classifiers and the peak-flux baseline beside it (library: training.detector_cv_run)."""

from __future__ import annotations

import sys
from pathlib import Path

from .. import validate as V
from . import options


def register(sub) -> None:
    p = sub.add_parser(
        "cv",
        parents=[options.dataset(), options.classifier_training(dense=True), options.device()],
        help="cross-validate a classifier by source over several seeds; writes JSON and plots",
    )
    p.set_defaults(arch="L", epochs=15)
    p.add_argument("--k", type=V.int_range(2, 100), default=4, help="folds (by sky group)")
    p.add_argument("--seeds", type=V.int_range(1, 1000), default=10)
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        help="directory for cv_<arch>.json and the plots (segmenter: cv_detector.json, tables, plots)",
    )
    p.add_argument(
        "--update-card", type=Path, help="also record the CV summary in this checkpoint's model card"
    )
    _detector_options(p.add_argument_group("--arch segmenter (the detector's CV; resumable)"))
    p.set_defaults(func=cmd_cv)


def _detector_options(g) -> None:
    from ..training.detector_cv_run import STAGES, VARIANTS

    g.add_argument("--steps", type=V.int_range(1, V.MAX_TRAIN_STEPS), default=300, help="detector steps")
    g.add_argument("--crop", type=V.int_range(8, 512), default=48, help="detector training crop (px)")
    g.add_argument("--base", type=V.int_range(1, 256), default=8, help="detector width")
    g.add_argument("--depth", type=V.int_range(1, 8), default=3, help="detector depth")
    g.add_argument("--detector-batch", type=V.int_range(1, 4096), default=16, help="detector batch size")
    g.add_argument("--stride", type=V.int_range(1, 64), default=8, help="window classifiers' map stride")
    g.add_argument("--work", type=Path, default=Path("work/cv"), help="one file per fit (resumes)")
    g.add_argument("--checkpoint-out", default="checkpoints/segmenter", help="the final detector")
    g.add_argument("--stages", nargs="+", choices=STAGES, default=["detector", "final", "window", "ablation"])
    g.add_argument("--window-archs", nargs="+", default=["D", "flux", "L"])
    g.add_argument("--l-seeds", type=int, default=5, help="seeds for L")
    g.add_argument("--a-seeds", type=int, default=1, help="seeds for A")
    g.add_argument("--ablation-seeds", type=int, default=1)
    g.add_argument("--screen-base", default="full", choices=["full", "full400"])
    g.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    g.add_argument("--screen-seeds", type=int, default=2)
    g.add_argument("--inject-seeds", type=int, default=5, help="detector seeds that run the injections")
    g.add_argument("--inject-archs", nargs="+", default=["L"])
    g.add_argument(
        "--final-variant",
        default="clsw",
        choices=[v for v, (change, _) in VARIANTS.items() if change.get("classes")],
        help="the recipe the shipped class detector is trained with (a class-detector variant)",
    )
    g.add_argument("--labeller-seeds", type=int, default=2)
    g.add_argument("--labeller-one-class", dest="labeller_classes", action="store_false")


def cmd_detector_cv(args) -> int:
    import torch

    from ..training.detector_cv_run import DetectorCV, run
    from ..training.segmenter import SegTrainConfig

    torch.set_num_threads(1)  # the recorded CPU seconds per fit are one thread's
    cfg = SegTrainConfig(
        steps=args.steps, crop=args.crop, base=args.base, depth=args.depth, batch_size=args.detector_batch
    )
    run(
        DetectorCV(
            data=args.data,
            k=args.k,
            seeds=args.seeds,
            config=cfg,
            stride=args.stride,
            work=args.work,
            docs=args.out,
            out=args.checkpoint_out,
            stages=tuple(args.stages),
            window_archs=tuple(args.window_archs),
            l_seeds=args.l_seeds,
            a_seeds=args.a_seeds,
            ablation_seeds=args.ablation_seeds,
            screen_base=args.screen_base,
            variants=tuple(args.variants),
            screen_seeds=args.screen_seeds,
            inject_seeds=args.inject_seeds,
            inject_archs=tuple(args.inject_archs),
            final_variant=args.final_variant,
            labeller_seeds=args.labeller_seeds,
            labeller_classes=args.labeller_classes,
            command="radioviz " + " ".join(sys.argv[1:]),
        )
    )
    return 0


def cmd_cv(args) -> int:
    import time

    from ..models import registry

    if registry.find("classifier", args.arch).scores == registry.DENSE:
        return cmd_detector_cv(args)

    from ..data.dataset import DatasetConfig, build_dataset
    from ..training.classifier import TrainConfig, load_generated
    from ..training.crossval import attach_cv_to_card, cross_validate, cv_tag, write_cv_report

    ds, _, _ = build_dataset(
        DatasetConfig(str(args.data), args.split, args.convention, offcentre_per_halo=args.offcentre),
        args.cache_dir,
    )
    generated = load_generated(args.generated, ds.images) if args.generated else None
    cfg = options.config_from(TrainConfig, args, generated_ratio=args.ratio if generated is not None else 0.0)
    tag = cv_tag(args.arch, generated is not None)
    t0 = time.time()
    result = cross_validate(ds, cfg, args.k, range(args.seeds), generated=generated)
    if generated is not None:
        result["generated"]["files"] = [str(p) for p in args.generated]
    result["wall_seconds"] = round(time.time() - t0, 1)
    result["command"] = "radioviz " + " ".join(sys.argv[1:])
    result["data_hash"] = ds.meta["data_hash"]
    path = write_cv_report(result, args.out, tag)
    for level in ("per_image", "per_source"):
        m = result[level]
        print(f"{tag} {level:<10s} " + "  ".join(f"{k} {v['mean']:.4f}±{v['std']:.4f}" for k, v in m.items()))
    print(f"{result['wall_seconds']:.0f} s; wrote {path} and plots")
    if args.update_card:
        attach_cv_to_card(args.update_card, result)
    return 0

"""``radioviz evaluate-classifier``: a classifier checkpoint's metrics on a split."""

from __future__ import annotations

from . import options


def register(sub) -> None:
    p = sub.add_parser(
        "evaluate-classifier",
        parents=[options.checkpoint(), options.dataset(conventions=None, split="TEST"), options.device()],
        help="evaluate a classifier checkpoint on a split of the published layout",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object (the stable contract)")
    p.set_defaults(func=cmd_evaluate_classifier)


def cmd_evaluate_classifier(args) -> int:
    import json

    from ..metrics.evaluate import evaluate_classifier

    result = evaluate_classifier(
        args.checkpoint, args.data, args.split, args.cache_dir, progress=not args.json, device=args.device
    )
    if args.json:
        print(json.dumps(result))
        return 0
    for level in ("per_image", "per_source"):
        m = result[level]
        n = m.get("n_images", m.get("n_sources"))
        print(
            f"{level:<10s} n={n:<5d} accuracy {m['accuracy']:.4f}  precision {m['precision']:.4f}  "
            f"recall {m['recall']:.4f}  F1 {m['f1']:.4f}  ROC AUC {m['roc_auc']:.4f}"
        )
    for name, score in sorted(result["per_source"]["scores"].items()):
        print(f"  {name:<28s} label {result['per_source']['labels'][name]}  score {score:.4f}")
    return 0

"""``radioviz similar``: "More like this" — the candidates of a survey nearest one of them in the
detector's own feature space (:mod:`radioviz.scan.similar`)."""

from __future__ import annotations

from pathlib import Path

from . import options


def register(sub) -> None:
    p = sub.add_parser(
        "similar",
        parents=[options.device()],
        help="list the candidates of a survey most like one of them (the detector's feature space)",
    )
    p.add_argument("survey", type=Path, help="a survey output folder (radioviz survey --out)")
    p.add_argument("candidate", help="a candidate id, <field>@<x>,<y> (the queue's and the label store's id)")
    p.add_argument("-k", type=int, default=20, help="how many to list (default 20)")
    p.add_argument("--checkpoint", type=Path, help="a detector checkpoint (default: the one the survey ran)")
    p.add_argument("--out", type=Path, help="also write the list as a table (.ecsv or .csv)")
    p.set_defaults(func=cmd_similar)


def cmd_similar(args) -> int:
    from tqdm.auto import tqdm

    from ..errors import InputError
    from ..scan.queue import load_queue
    from ..scan.similar import most_similar, survey_embeddings

    if args.k < 1:
        raise InputError(None, f"-k must be at least 1, not {args.k}")
    queue = load_queue(args.survey)
    bar = tqdm(desc="embedding fields", unit="field", disable=None)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    emb = survey_embeddings(queue, args.checkpoint, progress=progress, device=args.device)
    bar.close()
    by_id = queue.by_id()
    rows = [(by_id[cid], sim) for cid, sim in most_similar(emb, args.candidate, args.k)]
    print(f"{len(rows)} candidates most like {args.candidate} ({emb.checkpoint}, cosine similarity):")
    for c, sim in rows:
        cls = f"  {c.cls}" if c.cls else ""
        print(f"  {sim:+.3f}  {c.id:<32s} score {c.score:.3f}{cls}")
    if emb.skipped:
        print(f"({len(emb.skipped)} candidates have no embedding: {next(iter(emb.skipped.values()))})")
    if args.out:
        from astropy.table import Table

        t = Table(
            rows=[(c.id, c.field, c.ra, c.dec, c.score, c.cls, sim) for c, sim in rows],
            names=("id", "field", "ra", "dec", "score", "class", "similarity"),
        )
        t.meta.update(survey=str(queue.name), query=args.candidate, checkpoint=emb.checkpoint)
        t.write(args.out, overwrite=True, format="ascii.ecsv" if args.out.suffix == ".ecsv" else "ascii.csv")
        print(f"-> {args.out}")
    return 0

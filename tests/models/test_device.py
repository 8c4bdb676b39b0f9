"""``--device auto|cpu|cuda`` on every command that runs a network (issue #26 item 3).

Tiny checkpoints are trained here through the command line itself (no --device), then every
trainer and every inference command is run again with ``--device cpu`` and ``--device auto``:
the result must be the one without the option (exactly, on a CPU-only machine; to float
tolerance where auto means a GPU).  ``--device cuda`` without CUDA is one line, no traceback.
The help test holds every present and future subcommand to the option unless it is listed as
running no network.  Tests needing CUDA are skipped without it and run unchanged on a GPU machine.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from astropy.io import fits
from astropy.table import Table
from safetensors.torch import load_file

from radioviz.cli import main
from radioviz.models.device import device_name, model_device, place, resolve_device
from radioviz.simulate import SimConfig, simulate_field, write_field

CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not CUDA, reason="needs a CUDA device")
without_cuda = pytest.mark.skipif(CUDA, reason="this machine has CUDA")
AUTO = device_name(resolve_device("auto"))  # what a card records for auto (and for no --device)

#: Subcommands that build no network; every other one must list --device (a new command too).
NETWORK_FREE = {
    "simulate",
    "data inspect",
    "data build",
    "fetch",
    "measure seed-spread",
    "measure clip-levels",
}


def same(a, b, atol: float = 1e-4) -> None:
    """Equal on a CPU-only machine (auto is the CPU); within float tolerance where auto is a GPU."""
    a, b = np.asarray(a), np.asarray(b)
    if CUDA:
        np.testing.assert_allclose(a, b, rtol=0, atol=atol)
    else:
        np.testing.assert_array_equal(a, b)


def close(a, b) -> None:
    """For what a training run gives: training is not bit-reproducible over threads, even on one
    device, so a float tolerance everywhere (wider where auto is a GPU)."""
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=1e-3 if CUDA else 1e-5)


def run(*argv) -> None:
    assert main([str(a) for a in argv]) == 0, argv


def with_devices(argv_for) -> list:
    """``argv_for(tag, extra)`` run without --device, with --device cpu and with --device auto."""
    out = []
    for tag, extra in (("none", []), ("cpu", ["--device", "cpu"]), ("auto", ["--device", "auto"])):
        run(*argv_for(tag), *extra)
        out.append(tag)
    return out


# -- tiny data and checkpoints, made through the command line ---------------------------------------


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """A published layout: 4 TRAIN fields (2 with halos) and 2 TEST fields, 96 px."""
    root = tmp_path_factory.mktemp("devices") / "root"
    for seed in range(4):
        cfg = SimConfig(
            seed=seed,
            halo="halo" if seed % 2 == 0 else None,
            halo_flux_jy=3.0,
            n_extended=0,
            point_density_per_deg2=3,
            size=96,
        )
        write_field(simulate_field(cfg), root, "TRAIN")
    for seed, halo in ((11, "halo"), (12, None)):
        cfg = SimConfig(seed=seed, halo=halo, size=96, n_extended=0, point_density_per_deg2=3)
        write_field(simulate_field(cfg), root, "TEST")
    return root


def _data(root):
    return ["--data", root, "--cache-dir", root.parent / "cache"]


TRAINERS = {
    "classifier": lambda root, out: [
        "train", "classifier", *_data(root), "--arch", "L", "--epochs", "1", "--images-per-epoch", "32",
        "--batch-size", "16", "--out", out,
    ],
    "wgan": lambda root, out: [
        "train", "wgan", *_data(root), "--iterations", "1", "--batch-size", "4", "--width", "8", "--out", out,
    ],
    "edm": lambda root, out: [
        "train", "edm", *_data(root), "--steps", "1", "--batch-size", "2", "--base", "4", "--out", out,
    ],
    "ddpm": lambda root, out: [
        "train", "ddpm", *_data(root), "--steps", "1", "--batch-size", "2", "--base", "4", "--out", out,
    ],
    "segmenter": lambda root, out: [
        "train", "segmenter", "--data", root, "--steps", "2", "--batch-size", "2", "--crop", "32", "--base",
        "4", "--out", out,
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def trained(root):
    """``{kind: checkpoint}`` trained without --device (the reference every device must match)."""
    out = {}
    for kind, argv in TRAINERS.items():
        run(*argv(root, root.parent / kind))
        out[kind] = root.parent / f"{kind}.safetensors"
    return out


def _card(path) -> dict:
    return json.loads(path.with_suffix(".json").read_text())


def _ran_on(card: dict) -> str:
    return card["cost"]["device"] if "cost" in card else card["training"]["ran_on"]


# -- the option itself --------------------------------------------------------------------------------


def _subcommands(argv: list[str]) -> list[list[str]]:
    """Every leaf subcommand under ``argv``, read from the ``{a,b,c}`` choice list of its --help."""
    found = re.search(r"positional arguments:\n\s+\{([\w,-]+)\}", _help(argv))  # the subcommands
    if found is None:
        return [argv]
    return [leaf for name in found.group(1).split(",") for leaf in _subcommands([*argv, name])]


def _help(argv: list[str]) -> str:
    """``radioviz <argv> --help`` as the user sees it (in this process: one start of torch)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    return out.getvalue()


def test_every_subcommand_that_builds_a_network_lists_device():
    leaves = [" ".join(leaf) for leaf in _subcommands([])]
    assert NETWORK_FREE <= set(leaves), "a network-free command was renamed or removed: update NETWORK_FREE"
    with_net = [leaf for leaf in leaves if leaf not in NETWORK_FREE]
    # every command this issue names is among them (the list above cannot silently shrink)
    for cmd in ("train classifier", "train wgan", "train edm", "train ddpm", "train segmenter", "sample",
                "scan", "survey", "inject", "evaluate-classifier", "cv", "measure structure", "compare",
                "compose"):  # fmt: skip
        assert cmd in with_net
    for leaf in with_net:
        text = _help(leaf.split())
        assert "--device {auto,cpu,cuda}" in text, f"radioviz {leaf} --help lists no --device"


def test_device_values_are_argparse_choices(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["sample", "--device", "tpu", "--out", "x.npz"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid choice: 'tpu'" in err and "'auto', 'cpu', 'cuda'" in err


#: minimal arguments that parse, for each command (no file is read: cuda is refused first)
PARSES = {
    "train classifier": ["--data", "d", "--out", "o"],
    "train wgan": ["--data", "d", "--out", "o"],
    "train edm": ["--data", "d", "--out", "o"],
    "train ddpm": ["--data", "d", "--out", "o"],
    "train segmenter": ["--data", "d", "--out", "o"],
    "cv": ["--data", "d", "--out", "o"],
    "evaluate-classifier": ["--data", "d", "--checkpoint", "c"],
    "scan": ["p", "--checkpoint", "c", "--out", "o"],
    "survey": ["p", "--checkpoint", "c", "--out", "o"],
    "inject": ["--data", "d", "--checkpoint", "c", "--out", "o"],
    "sample": ["--checkpoint", "c", "--out", "o.npz"],
    "measure structure": ["--checkpoint", "c"],
    "compare": ["--real", "r", "--generated", "g.npz"],
    "compose": ["--masks", "m.npy", "--background", "b.fits", "--out", "o.fits"],
}


@without_cuda
@pytest.mark.parametrize("cmd", sorted(PARSES))
def test_cuda_without_cuda_is_one_line_before_any_work(cmd, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main([*cmd.split(), *PARSES[cmd], "--device", "cuda"]) == 2
    cap = capsys.readouterr()
    assert cap.err == "radioviz: error: --device cuda: no CUDA device on this machine (use auto or cpu)\n"
    assert list(tmp_path.iterdir()) == []  # refused before anything was read or written


@without_cuda
def test_cuda_without_cuda_from_the_shell_has_no_traceback(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "radioviz.cli", "sample", "--device", "cuda", "--out", tmp_path / "x.npz"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr == "radioviz: error: --device cuda: no CUDA device on this machine (use auto or cpu)\n"


def test_place_and_model_device():
    net = place(torch.nn.Linear(2, 2), "auto")
    assert model_device(net) == resolve_device("auto")
    assert model_device(torch.nn.ReLU()) == torch.device("cpu")  # no weights: the CPU
    assert device_name("cpu") == "cpu"


# -- trainers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(TRAINERS))
def test_trainers_give_the_same_weights_on_every_device_and_record_it(kind, trained, root, tmp_path):
    ref = load_file(str(trained[kind]))
    assert _ran_on(_card(trained[kind])) == AUTO  # the default is auto
    for dev in ("cpu", "auto"):
        out = tmp_path / f"{kind}-{dev}"
        run(*TRAINERS[kind](root, out), "--device", dev)
        got = load_file(str(out.with_suffix(".safetensors")))
        assert set(got) == set(ref) and all(v.device.type == "cpu" for v in got.values())  # from the CPU
        for k in ref:
            close(got[k], ref[k])
        card = _card(out.with_suffix(".safetensors"))
        assert _ran_on(card) == ("cpu" if dev == "cpu" else AUTO)
        assert card["training"]["device"] == dev  # what was asked, beside where it ran


def test_resumed_training_reads_its_state_on_the_cpu(root, tmp_path):
    """The saved state is read on the CPU and moved (map_location): resuming after a run on another
    device (here: the same, on a CPU-only machine; the CUDA test below crosses devices)."""
    out = tmp_path / "clf"
    run(*TRAINERS["classifier"](root, out), "--device", "auto")
    run(*TRAINERS["classifier"](root, out), "--epochs", "2", "--resume", "--device", "cpu")
    card = _card(out.with_suffix(".safetensors"))
    assert [h["epoch"] for h in card["training"]["history"]] == [0, 1] and card["training"]["ran_on"] == "cpu"
    state = load_file(str(out.with_name("clf.train-state.safetensors")))
    assert all(v.device.type == "cpu" for v in state.values())


# -- inference commands -------------------------------------------------------------------------------


def _npz(path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in ("images", "physical")}


@pytest.mark.parametrize(
    "kind, extra",
    [
        ("edm", ["--label", "H", "--steps", "2"]),
        ("edm", ["--label", "H", "--steps", "2", "--sampler", "euler", "--guidance", "1"]),
        ("ddpm", ["--steps", "2"]),
        ("ddpm", ["--steps", "2", "--sampler", "heun"]),
        ("ddpm", ["--steps", "2", "--eta", "1"]),
        ("wgan", []),
    ],
)
def test_sample(kind, extra, trained, tmp_path):
    def argv(tag):
        return ["sample", "--checkpoint", trained[kind], "--n", "2", *extra, "--out", tmp_path / f"{tag}.npz"]

    tags = with_devices(argv)
    ref = _npz(tmp_path / "none.npz")
    for tag in tags[1:]:
        got = _npz(tmp_path / f"{tag}.npz")
        for k in ref:
            same(got[k], ref[k], atol=1e-3)


def _fits_data(path) -> np.ndarray:
    with fits.open(path) as h:
        return np.asarray(h[0].data)


@pytest.mark.parametrize("kind", ["classifier", "segmenter"])
def test_scan(kind, trained, root, tmp_path):
    tags = with_devices(
        lambda tag: ["scan", root, "--checkpoint", trained[kind], "--stride", "16", "--out", tmp_path / tag]
    )
    maps = sorted(p.name for p in (tmp_path / "none").glob("*map.fits"))
    assert maps
    for tag in tags[1:]:
        for name in maps:
            same(_fits_data(tmp_path / tag / name), _fits_data(tmp_path / "none" / name))


@pytest.mark.parametrize("kind", ["classifier", "segmenter"])
def test_evaluate_classifier(kind, trained, root, tmp_path, capsys):
    results = {}
    for tag, extra in (("none", []), ("cpu", ["--device", "cpu"]), ("auto", ["--device", "auto"])):
        capsys.readouterr()
        run("evaluate-classifier", "--checkpoint", trained[kind], *_data(root), "--json", *extra)
        results[tag] = json.loads(capsys.readouterr().out)
    ref = results["none"]["per_source"]["scores"]
    for tag in ("cpu", "auto"):
        got = results[tag]["per_source"]["scores"]
        assert set(got) == set(ref)
        same([got[k] for k in sorted(ref)], [ref[k] for k in sorted(ref)])


@pytest.mark.parametrize("kind", ["classifier", "segmenter"])
def test_inject(kind, trained, root, tmp_path):
    arch = _card(trained[kind])["arch"]
    tags = with_devices(
        lambda tag: ["inject", "--checkpoint", trained[kind], "--data", root, "--out", tmp_path / tag]
    )
    ref = Table.read(tmp_path / "none" / f"injection_{arch}_all.ecsv")
    for tag in tags[1:]:
        got = Table.read(tmp_path / tag / f"injection_{arch}_all.ecsv")
        same(got["score"], ref["score"])


@pytest.fixture
def scheduler():
    """An in-process Dask cluster for ``survey --scheduler`` (no worker processes to start)."""
    import distributed

    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None, protocol="tcp"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client.scheduler.address


@pytest.mark.parametrize("kind", ["classifier", "segmenter"])
def test_survey(kind, trained, root, tmp_path, scheduler):
    tags = with_devices(
        lambda tag: [
            "survey", root / "TEST_DATA_1", "--checkpoint", trained[kind], "--stride", "16",
            "--scheduler", scheduler, "--out", tmp_path / tag,
        ]
    )  # fmt: skip
    maps = sorted(p.relative_to(tmp_path / "none") for p in (tmp_path / "none").rglob("*.fits"))
    assert maps
    for tag in tags[1:]:
        for m in maps:
            same(_fits_data(tmp_path / tag / m), _fits_data(tmp_path / "none" / m))


def test_cv(root, tmp_path):
    tags = with_devices(
        lambda tag: [
            "cv", *_data(root), "--arch", "L", "--epochs", "1", "--images-per-epoch", "32", "--k", "2",
            "--seeds", "1", "--out", tmp_path / tag,
        ]
    )  # fmt: skip

    def scores(tag):
        (report,) = (tmp_path / tag).glob("cv_*.json")
        return json.loads(report.read_text())["runs"][0]["source_scores"]

    for tag in tags[1:]:
        close(scores(tag), scores("none"))


def test_measure_structure(trained, root, tmp_path, capsys):
    entries = []
    for extra in ([], ["--device", "cpu"], ["--device", "auto"]):
        capsys.readouterr()
        run(
            "measure", "structure", "--checkpoint", trained["edm"], "--n", "2", "--steps", "2",
            "--real", root, "--no-two-sample", "--json", *extra,
        )  # fmt: skip
        entries.append(json.loads(capsys.readouterr().out))
    for e in entries[1:]:
        same(e["peak_ratio"], entries[0]["peak_ratio"], atol=1e-3)


def test_compare(trained, root, tmp_path, capsys):
    samples = tmp_path / "s.npz"
    run("sample", "--checkpoint", trained["edm"], "--n", "4", "--label", "H", "--out", samples)
    reports = []
    for extra in ([], ["--device", "cpu"], ["--device", "auto"]):
        capsys.readouterr()
        run(
            "compare", "--real", root, "--generated", samples, "--classifier", trained["classifier"],
            "--no-two-sample", "--json", *extra,
        )  # fmt: skip
        reports.append(json.loads(capsys.readouterr().out))
    for r in reports[1:]:
        same(r["classifier_pass_rate_0.5"], reports[0]["classifier_pass_rate_0.5"])


@pytest.fixture(scope="module")
def mask_edm(root):
    """A mask-conditioned EDM (what compose needs)."""
    out = root.parent / "edm_mask"
    run(*TRAINERS["edm"](root, out), "--mask", "--per-field", "2")
    return out.with_suffix(".safetensors")


def test_compose(mask_edm, root, tmp_path):
    mask = np.zeros((64, 64), np.int64)
    mask[28:36, 28:36] = 3
    np.save(tmp_path / "m.npy", mask)
    (background,) = sorted((root / "TEST_DATA_0").glob("*170-231*"))
    tags = with_devices(
        lambda tag: [
            "compose", "--checkpoint", mask_edm, "--masks", tmp_path / "m.npy", "--background", background,
            "--out", tmp_path / f"{tag}.fits",
        ]
    )  # fmt: skip
    for tag in tags[1:]:
        with fits.open(tmp_path / f"{tag}.fits") as got, fits.open(tmp_path / "none.fits") as ref:
            assert len(got) == len(ref)
            for a, b in zip(got, ref, strict=True):
                if a.data is not None:
                    same(a.data, b.data, atol=1e-3)


# -- the app ------------------------------------------------------------------------------------------


def test_the_app_loads_models_on_the_cpu_unless_radioviz_device_says(trained, monkeypatch):
    from radioviz.app import resources

    assert resources.DEVICE == "cpu" or "RADIOVIZ_DEVICE" in os.environ
    monkeypatch.setattr(resources, "DEVICE", "cpu")
    resources._load.cache_clear()
    model, _, _ = resources.classifier(trained["classifier"])
    gen, _ = resources.generator(trained["edm"])
    assert model_device(model).type == "cpu" and model_device(gen).type == "cpu"
    monkeypatch.setattr(resources, "DEVICE", "auto")
    resources._load.cache_clear()
    try:
        model, _, _ = resources.classifier(trained["classifier"])
        assert model_device(model) == resolve_device("auto")
    finally:
        resources._load.cache_clear()


# -- with CUDA (skipped without it; the same file runs unchanged on a GPU machine) ----------------------


@needs_cuda
@pytest.mark.parametrize("first, then", [("cuda", "cpu"), ("cpu", "cuda")])
def test_training_resumes_across_devices(first, then, root, tmp_path):
    for kind in ("classifier", "wgan"):
        out = tmp_path / f"{kind}-{first}"
        run(*TRAINERS[kind](root, out), "--device", first)
        assert _ran_on(_card(out.with_suffix(".safetensors"))) == device_name(first)
        more = ["--epochs", "2"] if kind == "classifier" else ["--iterations", "2"]
        run(*TRAINERS[kind](root, out), *more, "--resume", "--device", then)
        card = _card(out.with_suffix(".safetensors"))
        assert _ran_on(card) == device_name(then)
        assert card["training"].get("epochs_run", card["training"].get("iterations")) == 2


@needs_cuda
def test_cuda_matches_the_cpu(trained, root, tmp_path):
    for kind in ("edm", "ddpm", "wgan"):
        steps = [] if kind == "wgan" else ["--steps", "2"]
        for dev in ("cpu", "cuda"):
            run("sample", "--checkpoint", trained[kind], "--n", "2", *steps, "--device", dev,
                "--out", tmp_path / f"{kind}-{dev}.npz")  # fmt: skip
        a, b = _npz(tmp_path / f"{kind}-cpu.npz"), _npz(tmp_path / f"{kind}-cuda.npz")
        np.testing.assert_allclose(a["images"], b["images"], atol=1e-3)
    for kind in ("classifier", "segmenter"):
        for dev in ("cpu", "cuda"):
            run("scan", root, "--checkpoint", trained[kind], "--stride", "16", "--device", dev,
                "--out", tmp_path / f"scan-{kind}-{dev}")  # fmt: skip
        for m in sorted((tmp_path / f"scan-{kind}-cpu").glob("*map.fits")):
            np.testing.assert_allclose(
                _fits_data(m), _fits_data(tmp_path / f"scan-{kind}-cuda" / m.name), atol=1e-4
            )

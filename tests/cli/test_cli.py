import subprocess
import sys

from radioviz.cli import main

from ..conftest import REPO, celestial_header, noisy_image, write_fits


def test_help_for_every_subcommand():
    for args in (
        ["--help"],
        ["simulate", "--help"],
        ["data", "--help"],
        ["data", "inspect", "--help"],
        ["data", "build", "--help"],
    ):
        r = subprocess.run([sys.executable, "-m", "radioviz.cli", *args], capture_output=True, text=True)
        assert r.returncode == 0 and "usage" in r.stdout


def test_simulate_then_inspect_then_build(tmp_path, capsys):
    assert main(["simulate", "--out", str(tmp_path / "sim"), "--n", "2", "--seed", "7"]) == 0
    assert main(["data", "inspect", str(tmp_path / "sim")]) == 0
    out = capsys.readouterr().out
    assert "sim_0007" in out and "halo" in out and "2 sources" in out
    assert (
        main(
            [
                "data",
                "build",
                "--data",
                str(tmp_path / "sim"),
                "--split",
                "SIM",
                "--cache-dir",
                str(tmp_path / "c"),
                "--no-augment",
                "--val-fraction",
                "0.5",
            ]
        )
        == 0
    )
    assert "built" in capsys.readouterr().out


def test_inspect_reports_bad_files_and_exits_nonzero(tmp_path, gleam_like_source, capsys):
    gleam_like_source("abell_0001")
    gleam_like_source("abell_0002", bands=("72-103", "103-134", "139-170"))
    (tmp_path / "abell_0003_Gleam72-103_clipped.fits").write_bytes(b"garbage")
    assert main(["data", "inspect", str(tmp_path)]) == 1
    cap = capsys.readouterr()
    assert "abell_0001" in cap.out and "incomplete band set: missing 170-231MHz" in cap.out
    assert "error" not in cap.out
    bad = [ln for ln in cap.err.splitlines() if "abell_0003" in ln]
    assert len(bad) == 1 and bad[0].startswith("radioviz: error: ")
    assert bad[0].endswith(
        "abell_0003_Gleam72-103_clipped.fits: not a FITS file (no SIMPLE card at the start)"
    )


def test_inspect_of_a_lone_bad_file_gives_the_cli_error_line(tmp_path, capsys):
    lone = tmp_path / "abell_0009_Gleam170-231_clipped.fits"
    lone.write_bytes(b"garbage")
    assert main(["data", "inspect", str(lone)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"radioviz: error: {lone}: not a FITS file (no SIMPLE card at the start)"]


def test_errors_are_one_line_without_traceback(tmp_path):
    write_fits(tmp_path / "x_Gleam72-103_clipped.fits", noisy_image(16), celestial_header(16))
    r = subprocess.run(
        [sys.executable, "-m", "radioviz.cli", "data", "build", "--data", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "Traceback" not in r.stderr
    assert "no TRAIN_DATA_0/ or TRAIN_DATA_1/" in r.stderr


def test_readme_commands_are_the_ones_ci_runs():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    assert "panel serve app.py" in readme
    test_cmd = next(
        line.strip() for line in readme.splitlines() if line.strip().startswith("bash scripts/test.sh")
    )
    assert test_cmd in ci


def test_every_command_module_registers_and_shared_defaults_stay_apart():
    """Each module in COMMANDS adds its parser; a subcommand's overridden default (cv: --arch L,
    --epochs 15) does not leak into another one built from the same shared options."""
    import importlib

    from radioviz.cli import COMMANDS, build_parser

    for name in COMMANDS:
        assert callable(importlib.import_module(f"radioviz.cli.{name}").register)
    p = build_parser()
    cv = p.parse_args(["cv", "--data", "d", "--out", "o"])
    tc = p.parse_args(["train", "classifier", "--data", "d", "--out", "o"])
    ev = p.parse_args(["evaluate-classifier", "--data", "d", "--checkpoint", "c"])
    assert (cv.arch, cv.epochs, tc.arch, tc.epochs) == ("L", 15, "A", 20)
    assert (tc.split, ev.split, tc.convention) == ("TRAIN", "TEST", "native")
    assert cv.func.__module__ == "radioviz.cli.cv" and tc.func.__module__ == "radioviz.cli.train"


def test_trainer_options_reach_their_configs():
    from radioviz.cli import build_parser
    from radioviz.cli.options import config_from
    from radioviz.training.diffusion import DiffusionConfig
    from radioviz.training.wgan import WGANConfig

    p = build_parser()
    a = p.parse_args(
        "train edm --data d --out o --steps 7 --lr 0.1 --unconditional --flux --save-every 2".split()
    )
    d = config_from(DiffusionConfig, a, conditional=not a.unconditional)
    assert (d.kind, d.steps, d.lr, d.conditional, d.flux, d.mask, d.save_every) == (
        "edm",
        7,
        0.1,
        False,
        True,
        False,
        2,
    )
    w = config_from(WGANConfig, p.parse_args("train wgan --data d --out o --head 0 --seed 4".split()))
    assert (w.head, w.seed, w.iterations, w.save_every) == (0, 4, 2000, 100)


def test_sample_defaults_to_the_best_measured_committed_generator(tmp_path, monkeypatch):
    """`radioviz sample` without --checkpoint uses what the app opens on, not a required flag."""
    from radioviz.cli import options
    from radioviz.errors import InputError
    from radioviz.models.card import cards_in
    from radioviz.models.quality import default_generator

    best = options.default_generator_path()
    assert best.parent == options.CHECKPOINTS
    assert best.name == default_generator(cards_in(options.CHECKPOINTS))
    # nothing usable in a directory: one clear message naming it
    try:
        options.default_generator_path(tmp_path)
    except InputError as e:
        assert str(tmp_path) in str(e) and "--checkpoint" in str(e)
    else:
        raise AssertionError("an empty checkpoint directory must be refused")
    # the parser no longer requires --checkpoint for sample
    seen = {}
    import radioviz.sampling.generate as gen

    def fake_generate(path, n, **kw):
        seen["path"] = path
        raise SystemExit(0)

    monkeypatch.setattr(gen, "generate", fake_generate)
    try:
        main(["sample", "--n", "1", "--out", str(tmp_path / "x.npz")])
    except SystemExit:
        pass
    assert seen["path"] == best

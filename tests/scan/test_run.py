"""The Run helper every trainer uses: paths, seeding, resumption with time carried over, the card's
common training entries."""

import numpy as np
import torch

from radioviz.training.run import Run


def test_paths_seeding_resume_and_card_entries(tmp_path):
    run = Run(tmp_path / "m", seed=3)
    assert run.out == tmp_path / "m.safetensors" and run.state_path.name == "m.train-state.safetensors"
    assert run.side_path("-critic.safetensors").name == "m.train-state-critic.safetensors"
    a = Run(None, seed=3).rng.integers(0, 1000, 5)
    assert np.array_equal(a, Run(tmp_path / "x", seed=3).rng.integers(0, 1000, 5))
    assert run.state_path is not None and Run(None, 0).state_path is None

    net = torch.nn.Linear(2, 1)
    opt = torch.optim.Adam(net.parameters())
    net(torch.ones(1, 2)).sum().backward()
    opt.step()
    assert run.restore(opt) is None  # not resuming
    run.step = 7
    run.save_state({"model": net.state_dict()}, opt, step=7, losses=[0.5])
    Run(None, 0).save_state({"model": net.state_dict()}, opt, step=1)  # a run without out saves nothing

    again = Run(tmp_path / "m", seed=3, resume=True)
    opt2 = torch.optim.Adam(torch.nn.Linear(2, 1).parameters())
    parts = again.restore(opt2)
    assert again.step == 7 and again.meta["losses"] == [0.5] and set(parts) == {"model"}
    # the clocks carry over the resumption (never asserted non-zero: a fast machine may read 0)
    assert again.wall_seconds >= again.meta["wall_seconds"] >= 0
    assert again.cpu_seconds >= again.meta["cpu_seconds"] >= 0
    # resumed runs reseed at seed + step, so they do not replay the first batches
    assert np.array_equal(again.rng.integers(0, 1000, 5), np.random.default_rng(10).integers(0, 1000, 5))

    rec = again.training_record(None, iterations=7)
    assert rec["iterations"] == 7 and rec["torch_threads"] >= 1
    assert {"wall_seconds", "cpu_hours", "command"} <= set(rec)

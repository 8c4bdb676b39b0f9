import torch

from radioviz.models.unet import UNet, timestep_embedding


def test_unet_shapes_null_class_and_learning_signal():
    torch.manual_seed(0)
    m = UNet(in_channels=4, base=8, mults=(1, 2), num_res=1, attn_resolutions=(8,), num_classes=3, size=16)
    x, t = torch.randn(2, 4, 16, 16), torch.tensor([3, 900])
    out = m(x, t, torch.tensor([0, 2]))
    assert out.shape == x.shape and torch.count_nonzero(out) == 0  # zero-initialised output layer
    for name, p in m.named_parameters():  # as after some training: residual branches no longer zero
        if name.endswith("conv2.weight") or name == "out.2.weight":
            torch.nn.init.normal_(p, std=0.1)
    assert torch.allclose(m(x, t, None), m(x, t, torch.tensor([3, 3])))  # no label = the null class
    assert not torch.allclose(m(x, t, torch.tensor([0, 0])), m(x, t, torch.tensor([1, 1])))
    loss = m(x, t, torch.tensor([0, 1])).pow(2).mean()
    loss.backward()
    assert all(p.grad is not None for p in m.parameters() if p.requires_grad)


def test_timestep_embedding_distinguishes_steps():
    e = timestep_embedding(torch.tensor([0, 1, 500.5]), 16)
    assert e.shape == (3, 16) and not torch.allclose(e[0], e[1]) and torch.isfinite(e).all()

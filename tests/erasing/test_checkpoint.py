import torch

from bierase.erasing.checkpoint import Checkpoint, latest_checkpoint, load_checkpoint, save_checkpoint


def test_round_trip_keeps_only_the_latest(tmp_path):
    g = torch.Generator().manual_seed(3)
    p = torch.nn.Parameter(torch.randn(3))
    opt = torch.optim.Adam([p])
    p.grad = torch.ones(3)
    opt.step()
    save_checkpoint(tmp_path, Checkpoint(1, {"p": p}, opt.state_dict(), g.get_state(), [{"loss": 1.0}], []))
    torch.randn(2, generator=g)
    segments = [{"from_step": 0, "to_step": 2, "learning_rate": 1e-3}]
    save_checkpoint(
        tmp_path, Checkpoint(2, {"p": p}, opt.state_dict(), g.get_state(), [{"loss": 1.0}, {"loss": 0.5}], segments)
    )
    folder = latest_checkpoint(tmp_path)
    assert folder.name == "step-000002" and len(list((tmp_path / "checkpoints").iterdir())) == 1
    saved = load_checkpoint(folder)
    assert saved.step == 2 and torch.equal(saved.trainable["p"], p.detach()) and saved.segments == segments
    assert torch.equal(saved.optimizer["state"][0]["exp_avg"], opt.state_dict()["state"][0]["exp_avg"])
    again = torch.Generator()
    again.set_state(saved.rng_state)
    assert torch.equal(torch.randn(4, generator=again), torch.randn(4, generator=g))

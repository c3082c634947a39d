"""The networks as plain `torch.nn.Module`s (no Lightning): `rnn`, `drafter`, `reviser`, `model`."""

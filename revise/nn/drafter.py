"""The drafter: a causal (forward-only) residual RNN that writes frames left to right."""

from __future__ import annotations

import torch
from torch import nn

from revise.config import ModelConfig
from revise.nn.rnn import LayerState, ResidualRNN


class Drafter(nn.Module):
    """Predicts the features of frame t + 1 from the features of frames 0..t.

    Causal by construction: a single-direction RNN and per-frame linear maps only.
    """

    def __init__(self, feature_size: int, config: ModelConfig):
        super().__init__()
        self.feature_size = feature_size
        self.input = nn.Linear(feature_size, config.hidden_size)
        self.rnn = ResidualRNN(config.rnn, config.hidden_size, config.drafter_layers, False, config.dropout)
        self.output = nn.Sequential(nn.LayerNorm(config.hidden_size), nn.Linear(config.hidden_size, feature_size))
        # the first input when there is no prompt: a learned "silence before the music" frame
        self.start = nn.Parameter(torch.zeros(feature_size))

    def forward(
        self, features: torch.Tensor, state: list[LayerState] | None = None
    ) -> tuple[torch.Tensor, list[LayerState]]:
        """Teacher forcing. features: [B, T, F] -> (predictions [B, T, F], state); output t predicts frame t + 1."""
        hidden, state = self.rnn(self.input(features), state)
        return self.output(hidden), state

    def step(
        self, features: torch.Tensor, state: list[LayerState] | None = None
    ) -> tuple[torch.Tensor, list[LayerState]]:
        """One frame with carried state. features: [B, F] -> (prediction of the next frame [B, F], state)."""
        prediction, state = self(features.unsqueeze(1), state)
        return prediction.squeeze(1), state

    def start_frame(self, batch: int) -> torch.Tensor:
        """The learned start input for generation without a prompt. [B, F]"""
        return self.start.expand(batch, -1)

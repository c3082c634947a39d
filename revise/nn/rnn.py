"""A stack of single-layer RNNs joined by residual (skip) connections, shared by both models."""

from __future__ import annotations

import torch
from torch import nn

from revise.config import RnnKind


class ResidualRNN(nn.Module):
    """`layers` RNN layers of width `hidden_size`; each adds its output to its input.

    Skip connections let a deep stack start close to the identity, which keeps gradients healthy
    and lets each layer learn a refinement rather than a whole new representation.
    """

    def __init__(self, kind: RnnKind, hidden_size: int, layers: int, bidirectional: bool, dropout: float):
        super().__init__()
        if bidirectional and hidden_size % 2:
            raise ValueError(f"a bidirectional hidden size must be even, got {hidden_size}.")
        rnn_class = {"gru": nn.GRU, "lstm": nn.LSTM}[kind]
        width = hidden_size // 2 if bidirectional else hidden_size
        self.layers = nn.ModuleList(
            rnn_class(hidden_size, width, batch_first=True, bidirectional=bidirectional) for _ in range(layers)
        )
        self.norms = nn.ModuleList(nn.LayerNorm(hidden_size) for _ in range(layers))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [B, T, hidden] -> [B, T, hidden]."""
        for layer, norm in zip(self.layers, self.norms):
            out, _ = layer(norm(x))
            x = x + self.dropout(out)
        return x

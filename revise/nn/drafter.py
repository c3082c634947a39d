"""The drafter: a causal (forward-only) residual RNN that drafts masked frames left to right."""

from __future__ import annotations

import torch
from torch import nn

from revise.config import ModelConfig
from revise.nn.rnn import ResidualRNN


class Drafter(nn.Module):
    """Drafts the masked frames of a sequence from what the audio before them tells.

    Each frame's input is two causal fills of it (`revise.hints.build.causal_hints`: the one-sided
    AR extrapolation and the continuation of the best-matching earlier stretch; the known audio
    where the frame is known) and its mask bit. The masked output is

        hint * (1 + g) + match * m + level * correction,

    with per-frame gates g, m and a per-sample correction from zero-initialised heads, so an
    untrained drafter drafts the one-sided AR fill exactly and training starts at its quality
    (the reviser's form, made causal). Causal by construction: a single-direction RNN, per-frame
    maps and a running level, so frame t's output reads frames 0..t only.
    """

    def __init__(self, feature_size: int, config: ModelConfig):
        super().__init__()
        self.feature_size = feature_size
        self.input = nn.Linear(2 * feature_size + 1, config.hidden_size)
        self.rnn = ResidualRNN(config.rnn, config.hidden_size, config.drafter_layers, False, config.dropout)
        self.correction = nn.Sequential(nn.LayerNorm(config.hidden_size), nn.Linear(config.hidden_size, feature_size))
        self.gates = nn.Sequential(nn.LayerNorm(config.hidden_size), nn.Linear(config.hidden_size, 2))
        for head in (self.correction, self.gates):
            nn.init.zeros_(head[1].weight)
            nn.init.zeros_(head[1].bias)

    def forward(self, hint: torch.Tensor, match: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """hint, match: [B, T, F] (the known frames where unmasked); mask: bool [B, T] -> [B, T, F].

        Unmasked frames come back as `hint`'s.
        """
        level = self.level(hint)
        flag = mask.unsqueeze(-1).to(hint.dtype)
        hidden = self.rnn(self.input(torch.cat([hint / level, match / level, flag], dim=-1)))
        hint_gate, match_gate = self.gates(hidden).unsqueeze(-1).unbind(dim=-2)  # [B, T, 1] each
        drafted = hint * (1 + hint_gate) + match * match_gate + level * self.correction(hidden)
        return torch.where(mask.unsqueeze(-1), drafted, hint)

    @staticmethod
    def level(hint: torch.Tensor) -> torch.Tensor:
        """Running RMS of the hint up to each frame. [B, T, F] -> [B, T, 1]

        The reviser's reason for a level (corrections in units of the music's own loudness), kept
        causal: frame t's level reads frames 0..t only.
        """
        energy = hint.detach().pow(2).mean(dim=-1).cumsum(dim=-1)  # [B, T]
        count = torch.arange(1, hint.shape[1] + 1, device=hint.device, dtype=hint.dtype)
        return (energy / count).sqrt().unsqueeze(-1) + 1e-4

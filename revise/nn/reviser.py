"""The reviser: a bidirectional residual RNN that re-predicts masked frames from both sides."""

from __future__ import annotations

import torch
from torch import nn

from revise.config import ModelConfig
from revise.nn.rnn import ResidualRNN


class Reviser(nn.Module):
    """Re-predicts the masked frames of a sequence from the frames on both sides.

    Each frame's input is its current features (truth where known; where masked, silence at the
    first pass, `revise.revision.loops.first_estimate`, then the previous pass's output), two hints
    and its mask bit. The hints are the two-sided AR fill (refined by gap-wise Janssen iterations
    where the model's `ARConfig` asks for them) and the similarity fill
    (`revise.hints.similarity`: the best-matching stretch of the same recording, written with its
    matched sides, so the network can see how well it fits next to the true audio); without them
    the current features serve as both. The masked output is

        hint * (1 + g) + match * m + estimate * e + level * correction,

    with per-frame scalars g, m and e and a per-sample correction, all from zero-initialised
    heads, so an untrained reviser reproduces the AR hint rather than noise, which is what lets
    training start at the classical fill's quality. The scalar gates are what the RNN
    can learn quickly: how far to trust each hint or the estimate in each frame (an uncertain
    prediction deep inside a long gap scores a better SNR when shrunk, and the AR fill is best
    near the gap's edges where the match is best in its middle), which an additive correction
    through the RNN's hidden state could only express by re-encoding the waveform.
    """

    def __init__(self, feature_size: int, config: ModelConfig):
        super().__init__()
        self.feature_size = feature_size
        self.input = nn.Linear(3 * feature_size + 1, config.hidden_size)
        self.rnn = ResidualRNN(config.rnn, config.hidden_size, config.reviser_layers, True, config.dropout)
        self.correction = nn.Sequential(nn.LayerNorm(config.hidden_size), nn.Linear(config.hidden_size, feature_size))
        self.gates = nn.Sequential(nn.LayerNorm(config.hidden_size), nn.Linear(config.hidden_size, 3))
        for head in (self.correction, self.gates):
            nn.init.zeros_(head[1].weight)
            nn.init.zeros_(head[1].bias)

    def forward(
        self,
        features: torch.Tensor,
        mask: torch.Tensor,
        hint: torch.Tensor | None = None,
        match: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """features, hint, match: [B, T, F]; mask: bool [B, T] -> [B, T, F], unmasked frames unchanged.

        Without a hint the current features serve as one; without a match, the hint.
        """
        hint = features if hint is None else hint
        match = hint if match is None else match
        flag = mask.unsqueeze(-1).to(features.dtype)
        level = self.level(hint)
        inputs = torch.cat([features / level, hint / level, match / level, flag], dim=-1)
        hidden = self.rnn(self.input(inputs))
        hint_gate, match_gate, estimate_gate = self.gates(hidden).unsqueeze(-1).unbind(dim=-2)  # [B, T, 1] each
        revised = (hint * (1 + hint_gate) + match * match_gate + features * estimate_gate
                   + level * self.correction(hidden))
        return torch.where(mask.unsqueeze(-1), revised, features)

    @staticmethod
    def level(hint: torch.Tensor) -> torch.Tensor:
        """RMS of each sequence's hint. [B, T, F] -> [B, 1, 1]

        The network sees and corrects the audio in units of its own level: without this, one
        optimiser step on the correction head moved the output by about the music's whole
        amplitude, and the reviser fell below its AR hint early in training (MODEL_CARD.md).
        """
        return hint.detach().pow(2).mean(dim=(1, 2), keepdim=True).sqrt() + 1e-4

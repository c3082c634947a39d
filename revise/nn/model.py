"""`RevisionModel`: the drafter and the reviser with the settings they were trained under."""

from __future__ import annotations

from torch import nn

from revise.config import ARConfig, FrameConfig, MatchConfig, ModelConfig, RevisionConfig
from revise.nn.drafter import Drafter
from revise.nn.reviser import Reviser


class RevisionModel(nn.Module):
    """A drafter and a reviser sharing one frame layout; what `export` writes and `load_model` reads."""

    def __init__(
        self,
        frame: FrameConfig,
        model: ModelConfig,
        revision: RevisionConfig | None = None,
        ar: ARConfig | None = None,
        match: MatchConfig | None = None,
    ):
        super().__init__()
        self.frame = frame
        self.model = model
        self.revision = revision or RevisionConfig()
        self.ar = ar or ARConfig()
        self.match = match or MatchConfig()
        self.drafter = Drafter(frame.feature_size, model)
        self.reviser = Reviser(frame.feature_size, model)

    @property
    def sample_rate(self) -> int:
        return self.frame.sample_rate

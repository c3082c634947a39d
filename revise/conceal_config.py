"""The streaming concealer's settings (`revise.conceal.Concealer`), apart from the model's run config.

Frozen and torch-free (no numpy either), so the CLI can state the limits without loading anything.
"""

from __future__ import annotations

from dataclasses import dataclass

# Limits of the streaming concealer (`revise.conceal`), here so the CLI states them without imports.
CONCEAL_MIN_PACKET_MS = 2.5
CONCEAL_MAX_PACKET_MS = 40.0
CONCEAL_MAX_LOOKAHEAD = 8
CONCEAL_RATES = (8000, 192000)  # the sample rates a concealer accepts, inclusive
CONCEAL_PACKET_MS: tuple[float, ...] = (10.0, 20.0)  # what `revise evaluate --conceal` measures by default
CONCEAL_LOOKAHEADS: tuple[int, ...] = (0, 1, 2, 3, 4)
CONCEAL_LOSS_RATE = 0.1
CONCEAL_BURST = 3  # the bursty pattern loses runs of 2 to 3 packets
CONCEAL_SECONDS = 5.0  # of each clip: offline inpainting, the ceiling, costs about 0.3 s a lost run


@dataclass(frozen=True)
class ConcealConfig:
    """The streaming packet-loss concealer (`revise.conceal.Concealer`); README "Concealing packet loss".

    A lost packet is predicted by an AR model of `order_ms` (at most `max_order` samples, so a fit
    stays within the CPU budget at 48 kHz) fitted once per lost run, by the autocorrelation method
    on the last `history_ms` of output; with `lookahead` packets of the future it is filled from both
    sides. A causal prediction keeps full level for `fade_start_ms` of a run, then fades to silence
    over `fade_ms`; it joins the next arrived packet through a `crossfade_ms` raised cosine.
    """

    packet_ms: float = 10.0
    lookahead: int = 2
    history_ms: float = 128.0
    order_ms: float = 16.0
    max_order: int = 512
    crossfade_ms: float = 2.0
    fade_start_ms: float = 40.0
    fade_ms: float = 80.0

    def __post_init__(self) -> None:
        if not CONCEAL_MIN_PACKET_MS <= self.packet_ms <= CONCEAL_MAX_PACKET_MS:
            raise ValueError(f"packet_ms must be from {CONCEAL_MIN_PACKET_MS:g} to {CONCEAL_MAX_PACKET_MS:g} ms, "
                             f"got {self.packet_ms:g}.")
        if not (isinstance(self.lookahead, int) and 0 <= self.lookahead <= CONCEAL_MAX_LOOKAHEAD):
            raise ValueError(f"lookahead must be a whole number of packets from 0 to {CONCEAL_MAX_LOOKAHEAD}, "
                             f"got {self.lookahead!r}.")
        if not (0 < self.order_ms < self.history_ms / 2 and self.max_order >= 1):
            raise ValueError("conceal.order_ms must be positive and below half of conceal.history_ms.")
        if not (0 < self.crossfade_ms <= CONCEAL_MIN_PACKET_MS and self.fade_start_ms >= 0 and self.fade_ms > 0):
            raise ValueError(f"conceal.crossfade_ms must be in (0, {CONCEAL_MIN_PACKET_MS:g}] and the fade times "
                             "non-negative.")

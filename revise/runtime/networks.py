"""The drafter's and the reviser's forward pass in numpy, from the weights of `revise.nn`'s modules.

Each function mirrors one module (names of the state dict, equations of torch's GRU, LSTM and
LayerNorm), in float32, so a model runs without torch; `tests/test_runtime.py` holds each to the
torch module's output. Shapes as in `revise.nn`: features [B, T, F], masks bool [B, T].
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from revise.config import ModelConfig

Weights = Mapping[str, np.ndarray]
_LAYER_NORM_EPS = 1e-5  # torch.nn.LayerNorm's default


def linear(w: Weights, name: str, x: np.ndarray) -> np.ndarray:
    """[..., in] -> [..., out]."""
    return x @ w[f"{name}.weight"].T + w[f"{name}.bias"]


def layer_norm(w: Weights, name: str, x: np.ndarray) -> np.ndarray:
    """Normalise the last axis, then scale and shift. [..., H] -> [..., H]"""
    mean = x.mean(axis=-1, keepdims=True)
    variance = np.square(x - mean).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + _LAYER_NORM_EPS) * w[f"{name}.weight"] + w[f"{name}.bias"]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow warning for large |x|


def _gru_direction(w: Weights, prefix: str, suffix: str, x: np.ndarray, backward: bool) -> np.ndarray:
    """One direction of a single-layer torch GRU. [B, T, in] -> [B, T, H]"""
    w_hh, b_hh = w[f"{prefix}.weight_hh_l0{suffix}"], w[f"{prefix}.bias_hh_l0{suffix}"]
    inputs = x @ w[f"{prefix}.weight_ih_l0{suffix}"].T + w[f"{prefix}.bias_ih_l0{suffix}"]  # [B, T, 3H]
    size = w_hh.shape[1]
    h = np.zeros((x.shape[0], size), dtype=x.dtype)
    out = np.empty((x.shape[0], x.shape[1], size), dtype=x.dtype)
    steps = range(x.shape[1] - 1, -1, -1) if backward else range(x.shape[1])
    for t in steps:
        gi, gh = inputs[:, t], h @ w_hh.T + b_hh
        r = _sigmoid(gi[:, :size] + gh[:, :size])
        z = _sigmoid(gi[:, size : 2 * size] + gh[:, size : 2 * size])
        n = np.tanh(gi[:, 2 * size :] + r * gh[:, 2 * size :])
        h = (1.0 - z) * n + z * h
        out[:, t] = h
    return out


def _lstm_direction(w: Weights, prefix: str, suffix: str, x: np.ndarray, backward: bool) -> np.ndarray:
    """One direction of a single-layer torch LSTM (gates i, f, g, o). [B, T, in] -> [B, T, H]"""
    w_hh = w[f"{prefix}.weight_hh_l0{suffix}"]
    inputs = (x @ w[f"{prefix}.weight_ih_l0{suffix}"].T + w[f"{prefix}.bias_ih_l0{suffix}"]
              + w[f"{prefix}.bias_hh_l0{suffix}"])  # [B, T, 4H]
    size = w_hh.shape[1]
    h = np.zeros((x.shape[0], size), dtype=x.dtype)
    c = np.zeros_like(h)
    out = np.empty((x.shape[0], x.shape[1], size), dtype=x.dtype)
    steps = range(x.shape[1] - 1, -1, -1) if backward else range(x.shape[1])
    for t in steps:
        gates = inputs[:, t] + h @ w_hh.T
        i, f, o = (_sigmoid(gates[:, k * size : (k + 1) * size]) for k in (0, 1, 3))
        c = f * c + i * np.tanh(gates[:, 2 * size : 3 * size])
        h = o * np.tanh(c)
        out[:, t] = h
    return out


def residual_rnn(w: Weights, prefix: str, config: ModelConfig, layers: int, bidirectional: bool,
                 x: np.ndarray) -> np.ndarray:
    """`revise.nn.rnn.ResidualRNN` (no dropout: inference). [B, T, hidden] -> [B, T, hidden]"""
    direction = {"gru": _gru_direction, "lstm": _lstm_direction}[config.rnn]
    for k in range(layers):
        normed = layer_norm(w, f"{prefix}.norms.{k}", x)
        name = f"{prefix}.layers.{k}"
        out = direction(w, name, "", normed, backward=False)
        if bidirectional:
            out = np.concatenate([out, direction(w, name, "_reverse", normed, backward=True)], axis=-1)
        x = x + out
    return x


def _heads(w: Weights, prefix: str, hidden: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The correction [B, T, F] and the gates [B, T, G] of a network's hidden states."""
    correction = linear(w, f"{prefix}.correction.1", layer_norm(w, f"{prefix}.correction.0", hidden))
    gates = linear(w, f"{prefix}.gates.1", layer_norm(w, f"{prefix}.gates.0", hidden))
    return correction, gates


def reviser(w: Weights, config: ModelConfig, features: np.ndarray, mask: np.ndarray, hint: np.ndarray,
            match: np.ndarray) -> np.ndarray:
    """`revise.nn.reviser.Reviser.forward`: the masked frames revised, the others unchanged. [B, T, F]"""
    flag = mask[..., None].astype(features.dtype)
    level = np.sqrt(np.square(hint).mean(axis=(1, 2), keepdims=True)) + np.float32(1e-4)  # [B, 1, 1]
    inputs = np.concatenate([features / level, hint / level, match / level, flag], axis=-1)
    hidden = residual_rnn(w, "reviser.rnn", config, config.reviser_layers, True, linear(w, "reviser.input", inputs))
    correction, gates = _heads(w, "reviser", hidden)
    revised = (hint * (1 + gates[..., 0:1]) + match * gates[..., 1:2] + features * gates[..., 2:3]
               + level * correction)
    return np.where(mask[..., None], revised, features)


def drafter(w: Weights, config: ModelConfig, hint: np.ndarray, match: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`revise.nn.drafter.Drafter.forward`: the masked frames drafted, the others `hint`'s. [B, T, F]"""
    flag = mask[..., None].astype(hint.dtype)
    energy = np.cumsum(np.square(hint).mean(axis=-1), axis=-1)  # [B, T]
    count = np.arange(1, hint.shape[1] + 1, dtype=hint.dtype)
    level = (np.sqrt(energy / count) + np.float32(1e-4))[..., None]  # [B, T, 1]: causal running level
    inputs = np.concatenate([hint / level, match / level, flag], axis=-1)
    hidden = residual_rnn(w, "drafter.rnn", config, config.drafter_layers, False, linear(w, "drafter.input", inputs))
    correction, gates = _heads(w, "drafter", hidden)
    drafted = hint * (1 + gates[..., 0:1]) + match * gates[..., 1:2] + level * correction
    return np.where(mask[..., None], drafted, hint)

"""The networks' inference path in numpy: no torch, so `revise inpaint` starts in about a second.

`InferenceModel` holds an exported model's settings and weights as numpy arrays (loaded from its
safetensors file without torch, or taken from a `RevisionModel`); `networks` runs the drafter and
the reviser as the torch modules in `revise.nn` do, to float tolerance (tests prove it); `framing`
cuts audio into model features and joins them back as `revise.dsp.framing` does. Training keeps the
torch modules: they are the definition, this is their forward pass for users.
"""

"""Pure DSP: `framing` (torch: windows, frame/overlap-add, encodings, frame masks; its inference
half in numpy is `revise.runtime.framing`) and `splice` (numpy:
fades, splicing a fill into the original, edge anchoring, band limiting)."""

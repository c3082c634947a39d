"""Pure tensor DSP: `framing` (windows, frame/overlap-add, encodings, frame masks) and `splice`
(fades, splicing a fill into the original, edge anchoring, band limiting)."""

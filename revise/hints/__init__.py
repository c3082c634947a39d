"""The classical fills: two-sided Burg AR, the similarity fill, and `build.window_hints`, the one
function that turns a window with gaps into the hints for inference, training and the baselines.
Pure numpy/scipy: no torch."""

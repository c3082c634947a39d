"""Revision: `schedules` (which frames each pass re-masks) and `loops` (the one draft loop and the
one revision loop, shared by inpainting, generation and training)."""

"""revise: generate and repair audio with a draft-then-revise pair of recurrent networks."""

from revise.checkpoint import export_model, load_model
from revise.generation import generate
from revise.inference import MAX_GAP_SECONDS, inpaint

__all__ = ["MAX_GAP_SECONDS", "export_model", "generate", "inpaint", "load_model"]
__version__ = "0.1.0"

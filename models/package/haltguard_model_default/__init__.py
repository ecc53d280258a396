"""haltguard's default NLI model (int8 ONNX, tokenizer, manifest) as an installable distribution.

``haltguard.kernel.resources.locate_model`` finds this folder when no model is configured
explicitly or through ``HALTGUARD_MODEL``. The files are those of ``models/default`` in the
source repository; see README.md here for the model card.
"""

from pathlib import Path

MODEL_DIR = Path(__file__).resolve().parent

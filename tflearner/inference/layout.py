"""The export folder's layout: its format name and version and its two file names.

Standard library only, so the ``tflearner`` command checks an ``EXPORT`` argument without
importing TensorFlow; :mod:`tflearner.inference.export` writes and reads the folder.
"""

__all__ = ["EXPORT_FORMAT", "EXPORT_VERSION", "META_FILE", "MODEL_FILE"]

#: The newest format this tflearner reads and writes (2: binary / multi-label exports add a
#: threshold; the others are still written as format 1).
EXPORT_FORMAT, EXPORT_VERSION = "tflearner-export", 2
META_FILE, MODEL_FILE = "tflearner.json", "model.keras"

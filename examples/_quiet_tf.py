"""Imports TensorFlow without its start-up notices, for the examples: `import _quiet_tf` first.

`TF_CPP_MIN_LOG_LEVEL=3` (set here unless it is set already) hides
TensorFlow's C++ log, but TensorFlow 2.21 prints its oneDNN notice ("oneDNN
custom operations are on ...") through absl before that setting applies.
`TF_ENABLE_ONEDNN_OPTS=0` would hide it too, but makes the CNN examples
about twice as slow on a CPU, so instead this module drops those lines from
what `import tensorflow` writes to stderr and passes on everything else.
TensorFlow's and absl's Python loggers are set to show errors only.
"""

import os
import sys
import tempfile

from absl import logging as absl_logging  # Installed with TensorFlow.

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Lines of TensorFlow's import that say nothing a user needs.
_NOTICES = (
    "All log messages before absl::InitializeLog() is called",
    "oneDNN custom operations are on",
    "This TensorFlow binary is optimized to use",
    "To enable the following instructions",
)


def _import_tensorflow():
    """Imports TensorFlow with file descriptor 2 captured, then writes the captured lines
    that are not `_NOTICES` to stderr."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode("utf-8", "replace").splitlines(keepends=True)
            sys.stderr.write("".join(line for line in lines if not any(n in line for n in _NOTICES)))
    return tf


_import_tensorflow().get_logger().setLevel("ERROR")
absl_logging.set_verbosity(absl_logging.ERROR)

"""The error of a summary that exists but cannot be read (damaged or malformed).

TensorBoard 2.21's `errors` module has no `FailedPreconditionError`; this
`PublicError` answers such requests with HTTP 422 (the request is valid, the
data it names is not) and a message naming the run and the tag.
"""

from tensorboard import errors


class CorruptDataError(errors.PublicError):
    """A damaged or malformed nnviz summary: HTTP 422, naming the run and tag.

    Args:
      run: The run's name.
      tag: The summary's tag (or a short description of what was read).
      details: What is wrong, e.g. the decoder's message.

    Example:
      >>> raise CorruptDataError("mnist/train", "nnviz/probe", "labels are 2-D")
    """

    http_code = 422

    def __init__(self, run, tag, details):
        super().__init__("Corrupt data: the summary %r of run %r cannot be read: %s" % (tag, run, details))
        self.run = run
        self.tag = tag

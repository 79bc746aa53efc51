"""nnviz_tb: see the hidden activity of a Keras network in TensorBoard.

The callbacks need TensorFlow; the TensorBoard plugin (`nnviz_tb.plugin`)
does not, so importing them is deferred until first use.
"""

__version__ = "0.1.0"
__all__ = ["ActivationLogger"]


def __getattr__(name):
    if name == "ActivationLogger":
        from nnviz_tb.callbacks import ActivationLogger

        return ActivationLogger
    raise AttributeError("module 'nnviz_tb' has no attribute %r" % name)

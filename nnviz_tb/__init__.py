"""nnviz_tb: see the hidden activity of a Keras network in TensorBoard.

The callbacks need TensorFlow; the TensorBoard plugin (`nnviz_tb.plugin`)
does not, so importing them is deferred until first use.
"""

__version__ = "0.1.0"
__all__ = [
    "ActivationLogger", "ConfusionMatrixLogger", "CorrelationLogger", "EmbeddingLogger", "FeatureMapLogger",
    "GradientStatsLogger", "SaliencyLogger", "TensorBoard",
]


def __getattr__(name):
    if name in __all__:
        from nnviz_tb import callbacks

        return getattr(callbacks, name)
    raise AttributeError("module 'nnviz_tb' has no attribute %r" % name)

"""Keras callbacks that write nnviz summaries."""

from nnviz_tb.callbacks.activation_logger import ActivationLogger
from nnviz_tb.callbacks.confusion_matrix_logger import ConfusionMatrixLogger
from nnviz_tb.callbacks.correlation_logger import CorrelationLogger
from nnviz_tb.callbacks.embedding_logger import EmbeddingLogger
from nnviz_tb.callbacks.feature_map_logger import FeatureMapLogger
from nnviz_tb.callbacks.gradient_stats_logger import GradientStatsLogger
from nnviz_tb.callbacks.saliency_logger import SaliencyLogger
from nnviz_tb.callbacks.tensorboard import TensorBoard

__all__ = [
    "ActivationLogger", "ConfusionMatrixLogger", "CorrelationLogger", "EmbeddingLogger", "FeatureMapLogger",
    "GradientStatsLogger", "SaliencyLogger", "TensorBoard",
]

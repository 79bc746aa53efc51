"""Keras callbacks that write nnviz summaries."""

from nnviz_tb.callbacks.activation_logger import ActivationLogger
from nnviz_tb.callbacks.correlation_logger import CorrelationLogger

__all__ = ["ActivationLogger", "CorrelationLogger"]

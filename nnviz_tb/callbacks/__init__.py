"""Keras callbacks that write nnviz summaries."""

from nnviz_tb.callbacks.activation_logger import ActivationLogger

__all__ = ["ActivationLogger"]

"""NumPy / scikit-learn analyses of recorded activations (no TensorFlow)."""

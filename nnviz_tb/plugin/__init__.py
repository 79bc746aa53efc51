"""The nnviz TensorBoard plugin: HTTP routes, data reading and background projections.

Imports no TensorFlow and reads only through TensorBoard's data provider.
"""

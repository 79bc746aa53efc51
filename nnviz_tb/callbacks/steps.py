"""The step convention every nnviz callback follows (see docs/steps.md).

A summary's step is the number of epochs of training the model has had when
it was written: step 0 is before training, step `e` after `e` epochs. Epoch
statistics (losses, gradients) of the e-th epoch are written at step `e`.
"""

import warnings
import weakref

from keras import ops

# Model -> its optimizer steps when warned: every callback of one fit calls the check.
_warned = weakref.WeakKeyDictionary()


def warn_if_trained_before(model, epoch):
    """Warns (once for all callbacks) when a `fit` starts at epoch 0 although the model has been trained.

    Its steps then restart at 0 and repeat those of the earlier `fit`: two
    points of each chart have the same x for two moments of training.

    Args:
      model: The model being fitted (read at the start of an epoch).
      epoch: The first epoch of the `fit` (Keras' `initial_epoch`).
    """
    iterations = getattr(getattr(model, "optimizer", None), "iterations", None)
    if epoch != 0 or iterations is None:
        return
    done = int(ops.convert_to_numpy(iterations))
    if done and _warned.get(model) != done:
        _warned[model] = done
        warnings.warn(
            "nnviz_tb: this fit starts at epoch 0, but the model has been trained already (%d "
            "optimizer steps): its step 0 is not the untrained network, and in a log directory "
            "that holds the earlier training its steps repeat those. Pass initial_epoch=<epochs "
            "trained so far> to fit() to continue the steps." % done
        )

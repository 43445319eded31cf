"""Analytic forward-pass FLOP count of a built Keras model, for throughput benchmarks.

Counts 2 FLOPs (one multiply, one add) per multiply-accumulate of the dense and
convolution layers, which dominate a GAN's compute. Biases, activations, normalization,
resizing and reshapes are left out: they are elementwise, a few percent of the total,
and memory-bound rather than compute-bound, so they would only blur a FLOP/s figure.
"""

import math

import keras

_CONV = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)
_CONV_TRANSPOSE = (keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose, keras.layers.Conv3DTranspose)


def _spatial(shape):
    """Product of the non-batch, non-channel sizes of a channels-last shape."""
    return math.prod(shape[1:-1])


def layer_macs(layer):
    """Multiply-accumulates of one forward pass of ``layer`` for ONE example.

    Dense on [B, ..., F_in]: (positions) * F_in * F_out. Convolution: each output position
    applies the whole kernel (kh * kw * C_in/groups * C_out). Transposed convolution: each
    input position scatters the whole kernel (kh * kw * C_out * C_in). A wrapper
    (``keras.layers.Wrapper``, such as spectral normalization, a constraint that wraps the
    critic's layers) counts as the layer it wraps, on the wrapper's own input and output;
    its own work on the weights (a power iteration) does not grow with the batch and is left
    out. Layers without weights count 0; any other layer with a kernel raises ``ValueError``
    rather than be silently left out.
    """
    inner = layer.layer if isinstance(layer, keras.layers.Wrapper) else layer
    if isinstance(inner, keras.layers.Dense):
        return _spatial(layer.output.shape) * math.prod(inner.kernel.shape)
    if isinstance(inner, _CONV):
        if inner.data_format != "channels_last":
            raise ValueError(f"layer {layer.name!r}: only channels_last convolutions are counted")
        return _spatial(layer.output.shape) * math.prod(inner.kernel.shape)
    if isinstance(inner, _CONV_TRANSPOSE):
        if inner.data_format != "channels_last":
            raise ValueError(f"layer {layer.name!r}: only channels_last convolutions are counted")
        return _spatial(layer.input.shape) * math.prod(inner.kernel.shape)
    if hasattr(layer, "kernel"):
        raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}) has a kernel but no FLOP formula")
    return 0


def _layers(model):
    """All leaf layers of ``model``, descending into nested models."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _layers(layer)
        else:
            yield layer


def count_flops(model, batch_size=1):
    """Forward-pass FLOPs (2 x multiply-accumulates) of a built functional/Sequential model
    for a batch of ``batch_size`` examples, as a Python int."""
    return 2 * batch_size * sum(layer_macs(layer) for layer in _layers(model))

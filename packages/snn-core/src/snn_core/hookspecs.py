"""The plugin API of snn: every hook a plugin may implement, in pipeline order.

A plugin is a module or object with functions decorated by :data:`hookimpl` whose
names match the hooks below. Installed distributions announce plugins through the
entry-point group ``snn``::

    [project.entry-points.snn]
    my_plugin = "my_package.plugin"

Every hook here is a *contribution hook*: it takes no arguments and returns a list of
objects, each with a unique ``name``. The plugin manager calls each hook once per
plugin, the first time the matching registry is needed, and gathers the results
into a :class:`~snn_core.registry.Registry`. Returning an empty list (or ``None``)
contributes nothing. Two plugins that contribute the same name in one registry are
an error naming both plugins.

A plugin may rely only on the public names exported by :mod:`snn_core`; the
converter's and simulator's internals may change between minor versions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from snn_core.datasets import DatasetSpec
    from snn_core.encoders import InputEncoder
    from snn_core.layer_converters import LayerConverter
    from snn_core.model_specs import ModelSpec
    from snn_core.neurons import NeuronModel
    from snn_core.normalization import NormalizationMethod

PROJECT_NAME = "snn"
"""The pluggy project name, which is also the entry-point group."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# --- Datasets ---------------------------------------------------------------------


@hookspec
def snn_datasets() -> list[DatasetSpec]:
    """Contribute named datasets.

    Called once, the first time any step looks a dataset up by name.

    Returns:
        :class:`~snn_core.datasets.DatasetSpec` objects. Each one declares its
        name, number of classes, image shape and splits, and loads a split as a
        ``tf.data.Dataset`` of ``(image, label)`` pairs: images float32 in the
        dataset's raw pixel range (0..255 for 8-bit images), shape ``(H, W, C)``;
        labels int32 class indices. Preprocessing (scaling, mean subtraction) belongs
        to the model, not to the dataset.

    Since: 0.1.0
    """


# --- Models -----------------------------------------------------------------------


@hookspec
def snn_models() -> list[ModelSpec]:
    """Contribute named architectures with the recipe that trains them.

    Called once, the first time a model is looked up by name (``snn train``,
    ``snn run --model``).

    Returns:
        :class:`~snn_core.model_specs.ModelSpec` objects. ``build(input_shape,
        num_classes)`` must return an unbuilt-weights Keras functional model whose
        first layers hold its preprocessing and whose last layer produces logits
        or softmax probabilities.

    Since: 0.1.0
    """


# --- Normalization ----------------------------------------------------------------


@hookspec
def snn_normalizers() -> list[NormalizationMethod]:
    """Contribute weight-normalization methods.

    Called once, before the first conversion that names a method.

    Returns:
        :class:`~snn_core.normalization.NormalizationMethod` objects. A method turns
        the activation statistics of the fused model into one scale per neuron layer
        (a scalar, or one value per channel); the converter uses the scale as the
        layer's firing threshold and spike amplitude. A method whose name ends in a
        number slot (``accepts_argument``) is also found under its name followed by a
        number, for example ``p`` as ``p99.99``. A method with ``needs_simulation``
        also receives a :class:`~snn_core.normalization.NormalizationContext` (the
        spiking topology, the neuron model and training images) to run the network.

    Since: 0.1.0
    """


# --- Conversion -------------------------------------------------------------------


@hookspec
def snn_layer_converters() -> list[LayerConverter]:
    """Contribute the spiking counterpart of Keras layer types.

    Called once, the first time a model is converted.

    Returns:
        :class:`~snn_core.layer_converters.LayerConverter` objects keyed by Keras
        class name (``"Conv2D"``). The converter calls the entry for a layer's class
        to translate each layer instance into synapse and neuron stages; a class with
        no entry makes conversion fail with the layer named.

    Since: 0.1.0
    """


# --- Simulation -------------------------------------------------------------------


@hookspec
def snn_neuron_models() -> list[NeuronModel]:
    """Contribute neuron models.

    Called once, the first time a simulation or conversion names a neuron model.

    Returns:
        Objects satisfying the :class:`~snn_core.neurons.NeuronModel` protocol: a
        ``name``, a parameter container with at least ``v_threshold``, an initial
        state, and a pure ``step(current, state, params) -> (spikes, state)``
        function that TensorFlow can trace into a graph.

    Since: 0.1.0
    """


@hookspec
def snn_input_encoders() -> list[InputEncoder]:
    """Contribute input encoders.

    Called once, the first time a simulation names an encoder.

    Returns:
        :class:`~snn_core.encoders.InputEncoder` objects, which turn a batch of
        images in raw pixel units (before the model's preprocessing layers) into
        the input of each time step (a constant current, or spikes).

    Since: 0.1.0
    """

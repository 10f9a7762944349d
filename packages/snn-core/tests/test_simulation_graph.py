"""What the simulator's compiled graph computes per time step, read from the graph itself.

These tests time nothing. They inspect the traced graph. A batch is one loop over
chunks of images around one ``tf.while_loop`` over time steps. Layers whose only
input is constant run once before the step loop, and nothing per step is kept
beyond one row of figures. The last tests check that chunking and the fused
neuron update compute what one whole batch and the plain TensorFlow update do.
"""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from snn_core import InputEncoder, Plugins, Simulator, SnnError, collect_activation_stats, convert, hookimpl

WHILE_OPS = ("While", "StatelessWhile")


class _VaryingEncoder:
    """A test encoder that is the analog one declared non-constant."""

    @hookimpl
    def snn_input_encoders(self):
        return [InputEncoder("analog_varying", lambda inputs, step, seed: inputs, constant=False)]


@pytest.fixture(scope="module")
def network():
    """Return a converted two-convolution CNN for the embedded digits (untrained, fixed seed)."""
    from snn_core.digits import load_arrays

    keras.utils.set_random_seed(0)
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Rescaling(1 / 255.0, name="rescale")(inputs)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv1")(x)
    x = keras.layers.AveragePooling2D(2, name="pool1")(x)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    outputs = keras.layers.Dense(10, name="logits")(x)
    model = keras.Model(inputs, outputs)

    images, labels = load_arrays("train")
    data = tf.data.Dataset.from_tensor_slices((images[:256].astype(np.float32), labels[:256])).batch(128)
    return convert(model, collect_activation_stats(model, data), normalization="p99.9")


@pytest.fixture(scope="module")
def digits():
    from snn_core.digits import load_arrays

    images, labels = load_arrays("test")
    return images[:96].astype(np.float32), labels[:96].astype(np.int32)


def _step_loop(simulator: Simulator):
    """Return the traced graph of one chunk's simulation, its loop over time steps, and that loop's body."""
    images = tf.TensorSpec([None, 28, 28, 1], tf.float32)
    labels = tf.TensorSpec([None], tf.int32)
    scalar = tf.TensorSpec([], tf.int32)
    graph = tf.function(simulator._run_chunk).get_concrete_function(images, labels, scalar, scalar).graph
    loops = [op for op in graph.get_operations() if op.type in WHILE_OPS]
    assert len(loops) == 1, f"expected one while loop, found {len(loops)}"
    library = {function.signature.name: function for function in graph.as_graph_def().library.function}
    return graph, loops[0], library[loops[0].get_attr("body").name]


def _op_count(nodes, op_type: str) -> int:
    return sum(1 for node in nodes if node.op == op_type)


def test_chunk_loop_wraps_step_loop(network):
    simulator = Simulator(network, chunk_size=32)
    graph = simulator._run.get_concrete_function().graph
    library = {function.signature.name: function for function in graph.as_graph_def().library.function}

    chunk_loops = [op for op in graph.get_operations() if op.type in WHILE_OPS]
    assert len(chunk_loops) == 1
    chunk_body = library[chunk_loops[0].get_attr("body").name]
    step_loops = [node for node in chunk_body.node_def if node.op in WHILE_OPS]
    assert len(step_loops) == 1
    assert _op_count(library[step_loops[0].attr["body"].func.name].node_def, "Conv2D") == 1


def test_constant_prefix_runs_before_loop(network):
    graph, _loop_op, body = _step_loop(Simulator(network))

    # conv1's only input is the analog image, so it runs once per chunk, outside the loop.
    assert _op_count(body.node_def, "Conv2D") == 1
    assert _op_count(graph.as_graph_def().node, "Conv2D") == 1


def test_varying_encoder_runs_prefix_per_step(network):
    plugins = Plugins()
    plugins.register(_VaryingEncoder(), name="varying-encoder")
    graph, _loop_op, body = _step_loop(Simulator(network, encoder="analog_varying", plugins=plugins))

    assert _op_count(body.node_def, "Conv2D") == 2
    assert _op_count(graph.as_graph_def().node, "Conv2D") == 0


def test_loop_state_does_not_grow_with_timesteps(network):
    simulator = Simulator(network)
    graph, loop_op, _body = _step_loop(simulator)

    for tensor in loop_op.inputs:
        if tensor.dtype == tf.variant:
            continue
        # Scalars (the step counter) or one chunk of a layer's state: every axis
        # but the batch axis is fixed, so nothing depends on T.
        assert tensor.shape.rank == 0 or tensor.shape[1:].is_fully_defined(), tensor

    # The only list grown per step contains one fixed-size row of figures per step
    # (correct predictions, spike and operation counts), never a step's activations.
    stacks = [op for op in graph.get_operations() if op.type == "TensorListStack"]
    assert len(stacks) == 1
    assert stacks[0].outputs[0].shape[1:].as_list() == [len(simulator._columns)]


@pytest.mark.parametrize("chunk_size", [1, 7, 32, 96])
def test_chunk_size_does_not_change_results(network, digits, chunk_size):
    data = tf.data.Dataset.from_tensor_slices(digits).batch(96)
    whole = Simulator(network, chunk_size=96).run(data, 12)
    chunked = Simulator(network, chunk_size=chunk_size).run(data, 12)

    np.testing.assert_array_equal(chunked.accuracy_per_step, whole.accuracy_per_step)
    assert chunked.spike_counts == whole.spike_counts
    assert chunked.synaptic_operations == whole.synaptic_operations
    np.testing.assert_array_equal(chunked.synaptic_operations_per_step, whole.synaptic_operations_per_step)
    assert sum(whole.spike_counts.values()) > 0


@pytest.mark.parametrize(("batch", "chunk_size"), [(96, 7), (32, 96), (40, 13)])
def test_poisson_independent_of_batching(network, digits, batch, chunk_size):
    reference = Simulator(network, encoder="poisson", seed=3, chunk_size=96).run(
        tf.data.Dataset.from_tensor_slices(digits).batch(96), 10
    )
    other = Simulator(network, encoder="poisson", seed=3, chunk_size=chunk_size).run(
        tf.data.Dataset.from_tensor_slices(digits).batch(batch), 10
    )

    np.testing.assert_array_equal(other.accuracy_per_step, reference.accuracy_per_step)
    assert other.spike_counts == reference.spike_counts
    assert other.synaptic_operations == reference.synaptic_operations


@pytest.mark.parametrize("chunk_size", [2**31 - 1, 10**20])
def test_huge_chunk_size_simulates_whole_batch(network, digits, chunk_size):
    from snn_core.simulation import WHOLE_BATCH

    data = tf.data.Dataset.from_tensor_slices(digits).batch(96)
    huge = Simulator(network, chunk_size=chunk_size)
    whole = Simulator(network, chunk_size=96).run(data, 6)

    result = huge.run(data, 6)

    assert huge.chunk_size == WHOLE_BATCH
    np.testing.assert_array_equal(result.accuracy_per_step, whole.accuracy_per_step)
    assert result.spike_counts == whole.spike_counts
    assert sum(result.spike_counts.values()) > 0


@pytest.mark.parametrize("chunk_size", [0, -3, 1.5, True, "abc"])
def test_chunk_size_must_be_positive_integer(network, chunk_size):
    expected = f"chunk size must be a whole number of images, at least 1, got {chunk_size!r}"
    with pytest.raises(SnnError, match=re.escape(expected)):
        Simulator(network, chunk_size=chunk_size)


@pytest.mark.parametrize("neuron", ["if", "if_signed"])
def test_fused_neuron_update_matches_unfused(network, digits, neuron):
    import dataclasses

    from snn_core import get_plugins

    plugins = get_plugins()
    if neuron not in plugins.neuron_models:
        pytest.skip(f"neuron model {neuron!r} is not registered")
    model = plugins.neuron_models.get(neuron)
    variant = dataclasses.replace(network, neuron_model=model, neuron_parameters=model.parameters)
    data = tf.data.Dataset.from_tensor_slices(digits).batch(48)

    fused = Simulator(variant, fuse_neurons=True).run(data, 24)
    plain = Simulator(variant, fuse_neurons=False).run(data, 24)

    np.testing.assert_array_equal(fused.accuracy_per_step, plain.accuracy_per_step)
    assert fused.spike_counts == plain.spike_counts
    assert sum(fused.spike_counts.values()) > 0


@pytest.mark.parametrize("encoder", ["analog", "poisson"])
def test_compiled_kernels_match_tensorflow(network, digits, encoder):
    from snn_core import kernels

    if kernels.load_library() is None:
        pytest.skip("the compiled kernels are not available here")
    data = tf.data.Dataset.from_tensor_slices(digits).batch(48)
    compiled_simulator = Simulator(network, encoder=encoder, chunk_size=20)
    plain_simulator = Simulator(network, encoder=encoder, chunk_size=20, compiled_kernels=False)

    compiled = compiled_simulator.run(data, 24)
    plain = plain_simulator.run(data, 24)

    assert compiled_simulator.compiled_kernels
    assert compiled.compiled_kernels
    assert not plain_simulator.compiled_kernels
    assert plain.compiled_kernels is False
    np.testing.assert_array_equal(compiled.accuracy_per_step, plain.accuracy_per_step)
    assert compiled.spike_counts == plain.spike_counts
    assert compiled.synaptic_operations == plain.synaptic_operations
    assert sum(compiled.spike_counts.values()) > 0


@pytest.mark.parametrize("value", ["false", 1, "yes"])
def test_compiled_kernels_must_be_boolean(network, value):
    with pytest.raises(SnnError, match=f"must be None, True or False, got {value!r}"):
        Simulator(network, compiled_kernels=value)


def test_compiled_kernels_rejected_under_xla(network):
    with pytest.raises(SnnError, match="cannot run under XLA"):
        Simulator(network, jit_compile=True, compiled_kernels=True)
    with pytest.raises(SnnError, match="cannot run under XLA"):
        Simulator(network, fuse_neurons=True, compiled_kernels=True)

    assert not Simulator(network, fuse_neurons=True).compiled_kernels


def test_compiled_kernels_need_fused_update(network):
    import dataclasses

    from snn_core.neurons import SIGNED_IF

    signed = dataclasses.replace(network, neuron_model=SIGNED_IF, neuron_parameters=SIGNED_IF.parameters)

    with pytest.raises(SnnError, match="'if_signed' has no fused update"):
        Simulator(signed, compiled_kernels=True)
    with pytest.raises(SnnError, match="'if_signed' has no fused update"):
        Simulator(signed, compiled_kernels=np.True_)
    assert not Simulator(signed).compiled_kernels


def test_default_chunk_fits_cache_budget():
    from snn_core.simulation import MIN_CHUNK, WHOLE_BATCH, default_chunk_size

    # The demo CNN's 18,944 neurons take 12 bytes each per image.
    budget = 16 << 20
    chunk = default_chunk_size(12544 + 6272 + 128, budget)

    assert chunk * 12 * 18944 <= budget
    assert (chunk + 1) * 12 * 18944 > budget
    assert default_chunk_size(budget // (12 * MIN_CHUNK), budget) == MIN_CHUNK
    assert default_chunk_size(budget // (12 * (MIN_CHUNK - 1)), budget) == WHOLE_BATCH


@pytest.mark.parametrize(
    ("cache", "budget"),
    [(None, 16 << 20), (8 << 20, 16 << 20), (32 << 20, 16 << 20), (64 << 20, 32 << 20), (480 << 20, 48 << 20)],
)
def test_chunk_budget_halves_cache(cache, budget, monkeypatch):
    from snn_core import simulation

    monkeypatch.setattr(simulation, "_level3_cache_bytes", lambda: cache)

    assert simulation.chunk_budget() == budget


@pytest.mark.parametrize(("batch", "sizes"), [(10, [4, 3, 3]), (9, [3, 3, 3]), (2, [1, 1])])
def test_chunks_are_balanced(network, digits, batch, sizes):
    simulator = Simulator(network, chunk_size=4 if batch != 2 else 1)
    seen = []
    simulate_chunk = simulator._run_chunk

    def recording(images, labels, timesteps, first_index):
        seen.append((int(first_index), int(tf.shape(images)[0])))
        return simulate_chunk(images, labels, timesteps, first_index)

    simulator._run_chunk = recording
    images, labels = digits
    tf.config.run_functions_eagerly(True)
    try:
        simulator._run(tf.constant(images[:batch], tf.float32), tf.constant(labels[:batch], tf.int32), tf.constant(2), tf.constant(5))
    finally:
        tf.config.run_functions_eagerly(False)

    assert [size for _, size in seen] == sizes
    assert [first for first, _ in seen] == [5 + sum(sizes[:index]) for index in range(len(sizes))]

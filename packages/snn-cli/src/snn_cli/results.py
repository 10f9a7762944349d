"""The results document (``results.json``) and the accuracy table printed from it."""

from __future__ import annotations

from typing import Any

import numpy as np

RESULTS_FORMAT_VERSION = 1


def results_document(result, dnn_accuracy: float | None, fused_accuracy: float | None, extra: dict[str, Any]) -> dict[str, Any]:
    """Assemble ``results.json``: accuracies as fractions, entry ``t - 1`` after ``t`` steps."""
    from snn_core import provenance

    reference = dnn_accuracy if dnn_accuracy is not None else fused_accuracy
    document: dict[str, Any] = {
        "format_version": RESULTS_FORMAT_VERSION,
        "dnn_accuracy": dnn_accuracy,
        "fused_accuracy": fused_accuracy,
        "timesteps": result.timesteps,
        "samples": result.samples,
        "snn_accuracy_per_step": [float(value) for value in result.accuracy_per_step],
        "snn_accuracy": float(result.accuracy_per_step[-1]),
    }
    if reference is not None:
        document["first_t_within_1_point"] = result.first_step_within(reference, 0.01)
        document["first_t_within_0.1_point"] = result.first_step_within(reference, 0.001)
    document["chunk_size"] = result.chunk_size
    document["seed"] = result.seed
    document["compiled_kernels"] = result.compiled_kernels
    document["spike_counts"] = result.spike_counts
    document["neurons_per_image"] = result.neurons
    document["firing_rates"] = result.firing_rates()
    document.update(operations_document(result))
    document.update(extra)
    document["provenance"] = provenance(**{key: value for key, value in extra.items() if isinstance(value, (str, int, float))})
    return document


def check_decoder(decoder: str) -> None:
    """Raise :class:`~snn_core.SnnError` unless ``decoder`` is a valid ``--decoder`` value."""
    from snn_core import SnnError
    from snn_core.simulation import DECODERS

    if decoder not in DECODERS:
        raise SnnError(f"unknown --decoder value {decoder!r}; valid decoders: {', '.join(DECODERS)}")


def operations_document(result, energy=None) -> dict[str, Any]:
    """Return the operation counts and the energy estimate of ``result`` for ``results.json``."""
    from snn_core.metrics import energy_estimate

    per_image = result.operations_per_image()
    per_step = result.synaptic_operations_per_step
    return {
        "synaptic_operations_per_image": per_image["synaptic_operations"],
        "snn_multiply_accumulates_per_image": per_image["multiply_accumulates"],
        "ann_multiply_accumulates_per_image": per_image["ann_multiply_accumulates"],
        "synaptic_operations_to_ann_macs": per_image["synaptic_operations"] / per_image["ann_multiply_accumulates"]
        if per_image["ann_multiply_accumulates"]
        else None,
        "synaptic_operations_per_layer": {name: value / result.samples for name, value in result.synaptic_operations.items()},
        "ann_multiply_accumulates_per_layer": result.ann_multiply_accumulates,
        "cumulative_synaptic_operations_per_image_per_step": (np.cumsum(per_step) / result.samples).tolist()
        if per_step is not None
        else None,
        "energy": energy_estimate(
            per_image["synaptic_operations"], per_image["multiply_accumulates"], per_image["ann_multiply_accumulates"], energy
        ),
    }


def accuracy_table(document: dict[str, Any]) -> str:
    """Format the DNN, fused DNN and SNN accuracies at T = 1, 2, 4, ... as a text table."""
    rows = []
    if document.get("dnn_accuracy") is not None:
        rows.append(("DNN", document["dnn_accuracy"]))
    if document.get("fused_accuracy") is not None:
        rows.append(("DNN, batch norm fused", document["fused_accuracy"]))

    per_step = document["snn_accuracy_per_step"]
    steps = []
    t = 1
    while t <= len(per_step):
        steps.append(t)
        t *= 2
    if steps[-1] != len(per_step):
        steps.append(len(per_step))
    rows += [(f"SNN, T = {t}", per_step[t - 1]) for t in steps]

    width = max(len(label) for label, _ in rows)
    lines = [f"{'':{width}}  accuracy", *(f"{label:{width}}  {100 * value:7.2f}%" for label, value in rows)]

    for key, label in (("first_t_within_1_point", "1 point"), ("first_t_within_0.1_point", "0.1 point")):
        if key in document:
            first = document[key]
            reached = str(first) if first is not None else f"not reached in {len(per_step)} steps"
            lines.append(f"first T within {label} of the DNN: {reached}")
    return "\n".join(lines)

"""The five pipeline steps, each writing its artifact, and the whole run.

The step commands and ``snn run`` share these functions, so an artifact written by
``snn run`` is the same as one written by the step's own command.
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from snn_cli.progress import Reporter
from snn_cli.results import check_decoder, results_document

# Images compared when checking fused against unfused outputs.
FUSION_CHECK_IMAGES = 1000


@dataclass(frozen=True)
class RunConfig:
    """Everything ``snn run`` needs; the defaults are the embedded demo."""

    dataset: str = "digits"
    model: str = "demo_cnn"
    model_path: Path | None = None
    output: Path | None = None
    timesteps: int = 128
    normalization: str = "p99.9"
    neuron: str = "if"
    encoder: str = "analog"
    decoder: str = "potential"
    chunk_size: int | None = None
    epochs: int | None = None
    batch_size: int = 250
    data_dir: Path | None = None
    seed: int = 0
    strategy: str = "default"
    precision: str = "float32"


def default_run_directory(config: RunConfig, root: Path = Path("runs")) -> Path:
    """Return a new directory name ``runs/<time>-<model>-<dataset>`` that does not exist yet."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    model = config.model_path.stem if config.model_path else config.model
    base = root / f"{stamp}-{model}-{config.dataset}"
    candidate, suffix = base, 1
    while candidate.exists():
        suffix += 1
        candidate = Path(f"{base}-{suffix}")
    return candidate


def train_step(
    config: RunConfig,
    directory: Path,
    reporter: Reporter,
    recipe=None,
    weights: Path | None = None,
    resume: bool | None = None,
):
    """Train ``config.model`` into ``directory`` and return the model.

    ``recipe`` replaces the model's default recipe (``config.epochs`` and
    ``config.seed`` still apply when it is ``None``). ``resume=None`` continues an
    interrupted run when ``directory`` contains its checkpoint and removes the
    checkpoint after success, as ``snn run`` needs; ``True`` or ``False`` keeps it.
    """
    from snn_core import get_dataset
    from snn_core.distribute import make_strategy
    from snn_models import get_model_spec, train
    from snn_models.training import has_checkpoint

    dataset = get_dataset(config.dataset)
    spec = get_model_spec(config.model)
    if recipe is None:
        recipe = spec.recipe.replace(seed=config.seed)
        if config.epochs is not None:
            recipe = recipe.replace(epochs=config.epochs)
    keep_checkpoint = resume is not None
    if resume is None:
        resume = has_checkpoint(directory)

    action = "resume training" if resume else "train"
    reporter.start(f"1/5 {action} {spec.name} on {dataset.name} for {recipe.epochs} epochs")
    model = train(
        spec,
        dataset,
        directory,
        recipe,
        data_dir=config.data_dir,
        progress=lambda epoch, logs: reporter.note(
            f"epoch {epoch}/{recipe.epochs}: loss {logs['loss']:.4f}, accuracy {logs['accuracy']:.4f}"
        ),
        weights=weights,
        resume=resume,
        keep_checkpoint=keep_checkpoint,
        strategy=make_strategy(config.strategy),
        precision=config.precision,
    )
    reporter.done(f"wrote {directory / 'model.keras'}")
    return model


def evaluate_step(
    model,
    dataset_name: str,
    output: Path,
    reporter: Reporter,
    batch_size: int = 250,
    data_dir=None,
    title="2/5 evaluate the DNN",
    artifact_name="dnn",
    strategy: str = "default",
    precision: str = "float32",
) -> float:
    from snn_core import batched, evaluate, get_dataset, provenance, write_json
    from snn_core.datasets import check_input_shape
    from snn_core.distribute import is_chief, make_strategy
    from snn_core.precision import with_precision

    dataset = get_dataset(dataset_name)
    check_input_shape(model, dataset)
    total = dataset.num_examples.get(dataset.test_split)
    distribution = make_strategy(strategy)
    reporter.start(title)
    accuracy = evaluate(
        with_precision(model, precision),
        batched(dataset.load(dataset.test_split, data_dir), batch_size),
        reporter.counter(total),
        strategy=distribution,
    )
    if is_chief(distribution):
        write_json(
            output,
            {
                "accuracy": accuracy,
                "dataset": dataset_name,
                "split": dataset.test_split,
                "model": model.name,
                "strategy": strategy,
                "replicas": distribution.num_replicas_in_sync,
                "precision": precision,
                "provenance": provenance(model=model.name, dataset=dataset_name),
                "artifact": artifact_name,
            },
        )
    reporter.done(f"accuracy {100 * accuracy:.2f}%")
    return accuracy


def fuse_step(model, dataset_name: str, output: Path, reporter: Reporter, data_dir=None, batch_size: int = 250):
    """Fuse batch norm, check the outputs on real test images, and save the fused model.

    The fused model is written only after the check passes.
    """
    from snn_core import batched, check_fusion, fuse_batch_norm, get_dataset, provenance, save_model, write_json
    from snn_core.datasets import check_input_shape

    dataset = get_dataset(dataset_name)
    check_input_shape(model, dataset)
    reporter.start("3/5 fuse batch norm into the kernels")
    fused, report = fuse_batch_norm(model)
    images = batched(dataset.load(dataset.test_split, data_dir).take(FUSION_CHECK_IMAGES), batch_size)
    check = check_fusion(model, fused, images)
    save_model(fused, output)
    write_json(
        output.with_name("fusion.json"),
        {
            "folded": [list(pair) for pair in report.folded],
            "kept": [list(pair) for pair in report.kept],
            "max_abs_difference": check.max_abs_difference,
            "max_relative_difference": check.max_relative_difference,
            "images_compared": check.samples,
            "provenance": provenance(model=model.name, dataset=dataset_name),
        },
    )
    reporter.done(
        f"{len(report.folded)} batch norms folded, {len(report.kept)} kept; largest output difference "
        f"{check.max_abs_difference:.3g} ({check.max_relative_difference:.3g} relative) on {check.samples} test images"
    )
    return fused, report, check


def stats_step(
    fused, dataset_name: str, output: Path, reporter: Reporter, data_dir=None, batch_size: int = 250,
    channel_histograms: bool = True, strategy: str = "default",
):
    from snn_core import batched, collect_activation_stats, get_dataset, provenance
    from snn_core.datasets import check_input_shape
    from snn_core.distribute import is_chief, make_strategy

    dataset = get_dataset(dataset_name)
    check_input_shape(fused, dataset)
    total = dataset.num_examples.get(dataset.train_split)
    distribution = make_strategy(strategy)
    reporter.start(f"4/5 collect activation statistics on the {dataset.train_split!r} split")
    stats = collect_activation_stats(
        fused,
        batched(dataset.load(dataset.train_split, data_dir), batch_size),
        reporter.counter(total),
        channel_histograms=channel_histograms,
        strategy=distribution,
    )
    stats.provenance = provenance(model=fused.name, dataset=dataset_name, split=dataset.train_split, strategy=strategy)
    if is_chief(distribution):
        stats.save(output)
    reporter.done(f"{len(stats.layers)} neuron layers, wrote {output}")
    return stats


# Training images that normalization methods with a simulation pass (threshold
# balancing) run; their cost grows with images x time steps x neuron layers.
CALIBRATION_IMAGES = 256


def calibration_images(dataset_name: str, data_dir=None, count: int = CALIBRATION_IMAGES) -> np.ndarray:
    """Return ``count`` images from the training split, spread over it (it may be sorted by class)."""
    from snn_core import get_dataset

    dataset = get_dataset(dataset_name)
    total = dataset.num_examples.get(dataset.train_split)
    stride = max(1, total // count) if total else 1
    split = dataset.load(dataset.train_split, data_dir).shard(stride, 0).take(count)
    return np.stack([image.numpy() for image, _ in split]).astype(np.float32)


def convert_step(
    fused, stats, normalization: str, neuron: str, output: Path, reporter: Reporter,
    dataset_name: str | None = None, data_dir=None, timesteps: int = 128,
):
    """Normalize and convert; methods that simulate get training images of ``dataset_name`` and ``timesteps``."""
    from snn_core import convert, resolve_normalizer

    images = None
    if resolve_normalizer(normalization).method.needs_simulation and dataset_name is not None:
        images = calibration_images(dataset_name, data_dir)
    reporter.start(f"5/5 convert with {normalization} normalization and {neuron!r} neurons")
    network = convert(
        fused, stats, normalization=normalization, neuron=neuron, calibration_images=images,
        calibration_timesteps=timesteps,
    )
    network.save(output)
    reporter.done(f"wrote {output}")
    return network


def simulate_step(
    network,
    dataset_name: str,
    timesteps: int,
    encoder: str,
    reporter: Reporter,
    data_dir=None,
    batch_size: int = 250,
    seed: int = 0,
    decoder: str = "potential",
    strategy: str = "default",
    chunk_size: int | None = None,
):
    from snn_core import Simulator, batched, get_dataset
    from snn_core.datasets import check_input_shape
    from snn_core.distribute import make_strategy
    from snn_core.simulation import output_threshold_from_data

    dataset = get_dataset(dataset_name)
    check_input_shape(network.topology, dataset)
    total = dataset.num_examples.get(dataset.test_split)
    output_threshold = None
    if decoder == "spikes":
        reporter.start(f"5/5 find the output threshold on the {dataset.train_split!r} split")
        train_images = batched(dataset.load(dataset.train_split, data_dir), batch_size)
        output_threshold = output_threshold_from_data(network, train_images)
        reporter.done(f"largest ANN output {output_threshold:.4g}")
    reporter.start(f"5/5 simulate {timesteps} time steps with {encoder} input and the {decoder} decoder")
    simulator = Simulator(
        network, encoder=encoder, seed=seed, decoder=decoder, output_threshold=output_threshold, chunk_size=chunk_size
    )
    result = simulator.run(
        batched(dataset.load(dataset.test_split, data_dir), batch_size),
        timesteps,
        reporter.counter(total),
        strategy=make_strategy(strategy),
    )
    reporter.done(f"accuracy after {timesteps} steps {100 * result.accuracy_per_step[-1]:.2f}%")
    return result








def run_pipeline(config: RunConfig, reporter: Reporter) -> dict[str, Any]:
    """Run the five steps into ``config.output`` and return the ``results.json`` document."""
    from snn_core import get_dataset, get_plugins, load_model, prepare_for_conversion, resolve_normalizer
    from snn_core.datasets import check_input_shape

    # Check every name before the first step, so a typo fails at once, not after training.
    plugins = get_plugins()
    get_dataset(config.dataset)
    if config.model_path is None:
        plugins.models.get(config.model)
    plugins.neuron_models.get(config.neuron)
    plugins.input_encoders.get(config.encoder)
    check_decoder(config.decoder)
    resolve_normalizer(config.normalization)

    model = None
    if config.model_path is not None:
        model = load_model(config.model_path)
        check_input_shape(model, get_dataset(config.dataset))
        prepare_for_conversion(model)  # an unconvertible model fails here, before any work

    directory = config.output
    created = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    reporter.note(f"run directory: {directory}")
    try:
        return _run_steps(config, directory, model, reporter)
    except BaseException:
        # A run that fails before its first artifact leaves no empty directory behind.
        if created and directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
        raise


def _run_steps(config: RunConfig, directory: Path, model, reporter: Reporter) -> dict[str, Any]:
    from snn_core import write_json
    from snn_core.distribute import is_chief, make_strategy

    if model is None:
        model = train_step(config, directory, reporter)

    common = {"reporter": reporter, "data_dir": config.data_dir, "batch_size": config.batch_size}
    inference = {"strategy": config.strategy, "precision": config.precision}
    dnn_accuracy = evaluate_step(model, config.dataset, directory / "dnn.json", **common, **inference)
    fused, _report, check = fuse_step(model, config.dataset, directory / "fused.keras", **common)
    fused_accuracy = evaluate_step(
        fused, config.dataset, directory / "fused.json", title="3/5 evaluate the fused DNN", artifact_name="fused",
        **common, **inference,
    )
    stats = stats_step(fused, config.dataset, directory / "activations.npz", strategy=config.strategy, **common)
    network = convert_step(
        fused, stats, config.normalization, config.neuron, directory / "snn", reporter,
        dataset_name=config.dataset, data_dir=config.data_dir, timesteps=config.timesteps,
    )
    result = simulate_step(
        network, config.dataset, config.timesteps, config.encoder, seed=config.seed, decoder=config.decoder,
        strategy=config.strategy, chunk_size=config.chunk_size, **common,
    )

    document = results_document(
        result,
        dnn_accuracy,
        fused_accuracy,
        {
            "dataset": config.dataset,
            "model": str(config.model_path) if config.model_path else config.model,
            "normalization": config.normalization,
            "neuron": config.neuron,
            "encoder": config.encoder,
            "decoder": config.decoder,
            "fusion_max_abs_difference": check.max_abs_difference,
            "fusion_max_relative_difference": check.max_relative_difference,
            "thresholds": {name: np.asarray(value).tolist() for name, value in network.thresholds.items()},
            "config": {key: str(value) if isinstance(value, Path) else value for key, value in dataclasses.asdict(config).items()},
        },
    )
    if is_chief(make_strategy(config.strategy)):
        write_json(directory / "results.json", document)
    return document


"""``snn train``: build a zoo model and train it under a recipe built from the options."""

from __future__ import annotations

from pathlib import Path

import click

from snn_cli.commands import options
from snn_cli.pipeline import RunConfig, train_step
from snn_cli.progress import Reporter


@click.command()
@click.option("--model", default="demo_cnn", show_default=True, help="Zoo model name; `snn plugins` lists them.")
@options.dataset
@click.option("--epochs", type=click.IntRange(min=0), default=None, help="Training epochs; 0 only saves the model (with --weights).")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="Images per optimizer step.")
@click.option("--optimizer", type=click.Choice(["sgd", "adam", "adamw"]), default=None, help="Optimizer [default: the model's recipe].")
@click.option("--lr", "learning_rate", type=click.FloatRange(min=0, min_open=True), default=None, help="Peak learning rate.")
@click.option("--momentum", type=click.FloatRange(0, 1), default=None, help="SGD momentum.")
@click.option("--nesterov/--no-nesterov", default=None, help="Nesterov momentum with SGD.")
@click.option("--weight-decay", type=click.FloatRange(min=0), default=None, help="Decoupled weight decay factor.")
@click.option(
    "--schedule", type=click.Choice(["constant", "step", "cosine"]), default=None,
    help="Learning-rate schedule: step divides by 10 at 50% and 75% of the steps; cosine decays to 0.",
)
@click.option("--warmup-epochs", type=click.IntRange(min=0), default=None, help="Epochs of linear learning-rate warm-up.")
@click.option("--random-crop/--no-random-crop", default=None, help="Pad by 4 pixels and crop at a random offset.")
@click.option("--random-flip/--no-random-flip", default=None, help="Flip images left-right at random.")
@click.option("--cutmix", type=click.FloatRange(min=0), default=None, help="CutMix Beta parameter; 0 turns it off.")
@click.option("--mixup", type=click.FloatRange(min=0), default=None, help="mixup Beta parameter; 0 turns it off.")
@click.option(
    "--steps-per-epoch", type=click.IntRange(min=1), default=None,
    help="Optimizer steps per epoch [default: one pass over the training split].",
)
@click.option(
    "--weights", type=click.Path(path_type=Path, dir_okay=False), default=None,
    help="A .keras, .h5 or .weights.h5 file loaded into the model by layer name before training.",
)
@click.option("--resume", is_flag=True, help="Continue the interrupted run with the same options from its last checkpoint.")
@click.option(
    "--output", "-o", type=click.Path(path_type=Path, file_okay=False), default=Path("runs"), show_default=True,
    help="Parent directory; the run goes to OUTPUT/MODEL-DATASET/<conditions>.",
)
@options.data_dir
@options.seed
@options.strategy
@options.precision
def train(model: str, dataset: str, weights: Path | None, resume: bool, output: Path, data_dir: Path | None, seed: int,
          strategy: str, precision: str, **recipe_options) -> None:
    """Step 1: build a zoo model and train it; write model.keras, training.json and a checkpoint per epoch.

    Options left out take the model's default recipe. The run directory is named
    from the training conditions, such as ep-200_bat-128_opt-SGD-NESTEROV_lr-STEP-1E-01_lmb-1E-04_crop_flip,
    so `--resume` with the same options finds the run again.
    """
    from snn_core import get_dataset, get_plugins

    spec = get_plugins().models.get(model)
    get_dataset(dataset)
    changes = {name: value for name, value in recipe_options.items() if value is not None}
    if "epochs" in changes and "warmup_epochs" not in changes:
        # A short run keeps its default warm-up only as long as it lasts.
        changes["warmup_epochs"] = min(spec.recipe.warmup_epochs, changes["epochs"])
    recipe = spec.recipe.replace(seed=seed, **changes)

    directory = output / f"{model}-{dataset}" / recipe.run_name()
    click.echo(f"run directory: {directory}")
    config = RunConfig(
        dataset=dataset, model=model, epochs=recipe.epochs, data_dir=data_dir, seed=seed, strategy=strategy,
        precision=precision,
    )
    train_step(config, directory, Reporter(), recipe=recipe, weights=weights, resume=resume)

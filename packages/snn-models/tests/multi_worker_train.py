"""One worker of a two-worker training run; started twice by test_multi_worker.py.

Arguments: the run directory and a file for this worker's final weights. The
cluster and this worker's index come from ``TF_CONFIG``.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from snn_core import get_dataset  # noqa: E402
from snn_core.distribute import make_strategy  # noqa: E402
from snn_models import get_model_spec, train  # noqa: E402


def main(output_dir: str, weights_file: str) -> None:
    strategy = make_strategy("multi-worker")
    spec = get_model_spec("demo_cnn")
    recipe = spec.recipe.replace(epochs=1, batch_size=100)

    model = train(spec, get_dataset("digits"), output_dir, recipe, strategy=strategy)

    np.savez(weights_file, *model.get_weights())
    print(f"replicas {strategy.num_replicas_in_sync}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

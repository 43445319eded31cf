"""Print a markdown table of the networks that hyperparameter files build: parameters and forward FLOPs.

    python tools/model_table.py hyperparameter/wgan-gp-cifar10-resnet.json hyperparameter/wgan-gp-celeba-resnet.json

One row per network of each file: its architecture and image side, ``c_norm`` for the critic,
the trainable parameters, all parameters (batch-norm moving statistics included, as Keras'
``count_params``) and the forward GFLOPs per example (``wgan.models.flops.count_flops``: 2 per
multiply-accumulate of the dense and convolution layers). The docs' size tables are this
command's output.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def rows(path):
    import numpy as np

    from wgan import config, models
    from wgan.models.flops import count_flops

    hp = config.load(path)
    arch = hp.architecture
    where = f"{arch.name} {hp.data.resize}x{hp.data.resize}, base_width {arch.base_width}, z_dim {hp.z_dim}"
    for network, build, norm in (("generator", models.make_generator, f"g_norm {arch.g_norm}"),
                                 ("critic", models.make_critic, f"c_norm {arch.c_norm}")):
        model = build(hp)
        trainable = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
        yield (f"| {os.path.basename(path)} | {where} | {network}, {norm} | {trainable:,} | {model.count_params():,} | "
               f"{count_flops(model) / 1e9:.3f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", help="hyperparameter JSON files")
    args = parser.parse_args()
    print("| file | network | | trainable parameters | all parameters | forward GFLOPs / example |\n"
          "|---|---|---|---:|---:|---:|")
    from wgan.errors import ConfigError

    try:
        for path in args.files:
            for row in rows(path):
                print(row, flush=True)
    except ConfigError as err:  # a missing or invalid file: one line, no traceback
        sys.exit(f"model_table.py: {err}")


if __name__ == "__main__":
    main()

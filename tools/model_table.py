"""Print a markdown table of the networks that hyperparameter files build: parameters and forward FLOPs.

    python tools/model_table.py hyperparameter/wgan-gp-cifar10-resnet.json hyperparameter/wgan-gp-celeba-resnet.json
    python tools/model_table.py --check docs/models.md FILE...   # exit 1 unless the doc holds this exact table

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
from wgan.util import quiet  # noqa: E402

quiet.install()  # before TensorFlow is imported: its own console lines stay hidden, as in bin/


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
    parser.add_argument("--check", metavar="DOC", help="print nothing; exit 1 unless DOC contains the table verbatim")
    args = parser.parse_args()
    from wgan.errors import ConfigError

    lines = ["| file | network | | trainable parameters | all parameters | forward GFLOPs / example |",
             "|---|---|---|---:|---:|---:|"]
    try:
        for path in args.files:
            lines.extend(rows(path))
    except ConfigError as err:  # a missing or invalid file: one line, no traceback
        sys.exit(f"model_table.py: {err}")
    table = "\n".join(lines) + "\n"
    if args.check:
        with open(args.check, encoding="utf-8") as handle:
            if table not in handle.read():
                sys.exit(f"model_table.py: {args.check} does not hold the current table; rerun the command it prints")
        return
    print(table, end="")


if __name__ == "__main__":
    main()

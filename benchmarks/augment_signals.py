"""The two adaptive-p signals side by side on a critic that memorises: r_t and the held-out gap.

    python benchmarks/augment_signals.py [--out /tmp/augment_signals] [--steps 100]

The setup of tests/test_health.py's critic_overfit test: 96 images drawn from a frozen
generator (learning rate 0), half held out, a critic trained hard (learning rate 1e-3, 5
steps per iteration) on the other 48. Real and fake then come from one distribution, so
everything the critic learns is memorisation. Four runs from the same weights: the policy
``color,translation,cutout`` at p = 0 (no augmentation, r_t still logged), adaptive p from
r_t, adaptive p from the held-out gap, and fixed p = 1. Prints, every 10 steps, r_t of the
last critic step, p and the probe's gap ratio (measured without augmentation), and which
health detectors tripped. A few minutes on 2 cores.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout
from wgan.util import quiet

quiet.install()  # before TensorFlow is imported

POLICY = "color,translation,cutout"
VARIANTS = {"p=0": {"policy": POLICY, "p": 0.0},
            "adaptive-rt": {"policy": POLICY, "adaptive": True, "interval": 1, "speed_images": 4000},
            "adaptive-gap": {"policy": POLICY, "adaptive": True, "signal": "heldout_gap", "speed_images": 4000},
            "p=1": {"policy": POLICY, "p": 1.0}}


def base(folder):
    return {"model": "wgan-gp", "data": {"name": folder, "crop": None, "resize": 16, "channels": 3,
                                         "shuffle_buffer": 64},
            "architecture": {"name": "dcgan", "base_width": 16, "g_norm": "none", "initializer": "he_normal"},
            "g_optimizer": {"learning_rate": 0.0}, "c_optimizer": {"learning_rate": 1e-3, "beta_1": 0.0},
            "batch_size": 16, "z_dim": 8, "n_critic": 5, "seed": 2, "log_every": 10, "eval_every": 10,
            "sample_every": 1000, "histogram_every": 1000, "checkpoint_every": 1000, "snapshot_every": 1000}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="/tmp/augment_signals")
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()

    import tensorflow as tf
    from PIL import Image

    from wgan import config, data, runs, visualize
    from wgan.gan.model import GAN
    from wgan.generate import latent
    from wgan.train import loop

    folder, records = os.path.join(args.out, "fixedgen"), os.path.join(args.out, "records")
    frozen_hp = config.from_dict(base(folder))
    loop.seed_everything(frozen_hp.seed)
    frozen = GAN(frozen_hp)
    if not os.path.isdir(folder):
        os.makedirs(folder)
        for i, picture in enumerate(data.float_to_uint8(visualize.generate(frozen.generator,
                                                                           latent(frozen_hp, 96, 123)))):
            Image.fromarray(picture).save(os.path.join(folder, f"{i:03d}.png"))
        data.build_records(folder, resize=16, crop=None, output_dir=records, workers=1, progress=False,
                           heldout_per_mille=500)
    for name, augment in VARIANTS.items():
        hp = config.from_dict({**base(folder), "augment": augment})
        _, vdir, hp, lock, _ = runs.open_run(os.path.join(args.out, f"checkpoint-{name}"), hp)
        lock.release()
        loop.seed_everything(hp.seed)
        gan = GAN(hp)
        for mine, theirs in zip(gan.generator.variables, frozen.generator.variables):
            mine.assign(theirs)
        tf.train.CheckpointManager(gan.checkpoint(), os.path.join(vdir, loop.CKPT_DIR), 1).save(checkpoint_number=0)
        loop.train(hp, vdir, args.steps, records_root=records, progress=False)
        by_step = {}
        for row in runs.read_jsonl(os.path.join(vdir, runs.METRICS_FILE)):
            by_step.setdefault(row["step"], {}).update(row)
        print(f"{name}: step r_t p gap_ratio")
        for step, row in sorted(by_step.items()):
            if "health/gap_ratio" in row:
                print(f"  {step:4d} {row.get('augment/rt', float('nan')):6.2f} {row.get('augment/p', float('nan')):5.2f} "
                      f"{row['health/gap_ratio']:6.2f}")
        trips = [r["detector"] for r in runs.read_jsonl(os.path.join(vdir, runs.HEALTH_FILE)) if r["event"] == "trip"]
        print(f"  tripped: {', '.join(trips) or 'nothing'}")


if __name__ == "__main__":
    main()

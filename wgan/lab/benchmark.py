"""Throughput measurements: training iterations, achieved FLOP/s, matmul peak, input pipeline.

Everything here measures, nothing asserts: ``wgan.cli.benchmark`` runs the measurements,
prints a table and writes JSON so that figures can be compared across commits.

* ``benchmark_model``: generator iterations/s, real images/s through the critic, time to
  the first iteration (tracing and graph optimization included) and achieved GFLOP/s
  from the analytic FLOP count ``iteration_flops``, on a batch already in memory so the
  input pipeline does not enter;
* ``matmul_gflops``: GFLOP/s of a large square matrix product in one dtype, the practical
  peak the model figures are compared against;
* ``input_throughput``: the records pipeline alone (records -> float batches per second);
* ``input_overhead``: the share of iteration time the real input pipeline costs, from the
  same model fed alternately by the pipeline and from memory.
"""

import json
import os
import platform
import statistics
import subprocess
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from wgan import config, data, models
from wgan.models import prior
from wgan.util import files
from wgan.gan import objectives
from wgan.util.cpus import available_cpus
from wgan.gan.model import GAN
from wgan.models.flops import count_flops

# The dtype in which each precision policy runs its matrix products.
COMPUTE_DTYPES = {"float32": tf.float32, "mixed_bfloat16": tf.bfloat16, "mixed_float16": tf.float16}


# ----- analytic FLOPs -------------------------------------------------------------------
def update_flops(hp, generator_flops, critic_flops):
    """``(critic update, generator update)`` FLOPs per example, from forward FLOPs G and C.

    Conventions (dense and convolution layers only, see ``models.flops``): a backward pass
    costs 2x its forward (input and weight gradients; the first layer's unneeded input
    gradient is counted, a small overestimate), a pass that needs input gradients only
    costs 1x.

    * critic update: G (fakes, no gradient) + 2C (real and fake scores) + 4C (their
      backward), plus what the run's constraint adds (its entry's ``update_flops``,
      ``wgan.gan.constraints``): 6C for the gradient penalty (forward at x_hat C, input
      gradient C, the second-order backward through both 2C + 2C), 0 for weight clipping;
      Lazy regularization (``hp.constraint_every`` k) divides a penalty's share by k;
    * generator update: G + C forward, C for the input gradient through the critic, 2G
      for the generator's backward, plus C for the real scores of a relativistic loss
      (``generator_needs_real``, rpgan).
    """
    objective = objectives.of_run(hp)
    critic = generator_flops + 6 * critic_flops + objective.constraint_entry.update_flops(critic_flops,
                                                                                         hp.constraint_every)
    generator = 3 * generator_flops + (3 if objective.generator_needs_real else 2) * critic_flops
    return critic, generator


def iteration_flops(hp, generator_flops, critic_flops, n_critic=None):
    """FLOPs of one generator iteration on the global batch: ``n_critic`` critic updates
    (``hp.n_critic`` by default) and ``hp.g_steps`` generator updates."""
    critic, generator = update_flops(hp, generator_flops, critic_flops)
    n_critic = hp.n_critic if n_critic is None else n_critic
    return hp.batch_size * (n_critic * critic + hp.g_steps * generator)


# ----- peak reference -------------------------------------------------------------------
def matmul_gflops(dtype=tf.float32, n=2048, min_seconds=1.0, repeats=3):
    """GFLOP/s (2 n^3 per product) of chained n x n products in ``dtype``; best of ``repeats``.

    Each timed call runs enough products to last about ``min_seconds``, so the Python call
    overhead is negligible; the best repeat is the least disturbed by other processes.
    """
    a = tf.random.normal([n, n], dtype=tf.float32)
    a = tf.cast(a / tf.sqrt(float(n)), dtype)  # keeps the chained products' magnitude near 1

    @tf.function
    def chain(x, count):
        for _ in tf.range(count):
            x = tf.matmul(x, a)
        return x

    chain(a, tf.constant(2)).numpy()  # trace and warm up
    start = time.perf_counter()
    chain(a, tf.constant(2)).numpy()
    per_product = max((time.perf_counter() - start) / 2, 1e-6)
    count = tf.constant(max(2, int(min_seconds / per_product)))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        chain(a, count).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 * int(count) / best / 1e9


# ----- training iterations --------------------------------------------------------------
def shipped_hparams(model, data_name, side=None, precision="float32", jit_compile=False, architecture=None,
                    setup=None):
    """A shipped hyperparameter file (``hyperparameter/<model>-<data>[-<architecture>][-<setup>].json``,
    ``config.default_path``) resized to ``side`` (no crop: the benchmark feeds images of that
    side directly)."""
    hp = config.load(config.default_path(model, data_name, architecture=architecture, setup=setup))
    overrides = [("precision", precision), ("jit_compile", jit_compile)]
    if side is not None:
        overrides += [("data.resize", side), ("data.crop", None)]
    return config.apply_overrides(hp, overrides, source="benchmark")


def in_memory_batches(hp, seed=0):
    """One fixed real-shaped batch [batch_size, ...] in [-1, 1], repeated forever; for a class-conditional
    run paired with int32 [batch_size] labels drawn at its class frequencies (as the records would be)."""
    batch = np.random.default_rng(seed).uniform(-1, 1, (hp.batch_size, *hp.data.sample_shape)).astype(np.float32)
    if models.takes_labels(hp):
        return tf.data.Dataset.from_tensors((batch, prior.labels(hp, hp.batch_size, seed))).repeat()
    return tf.data.Dataset.from_tensors(batch).repeat()


def _run(gan, iterator, n_critic):
    """One iteration, waited for (the float() pulls the result back to Python)."""
    float(gan.train_iteration(iterator, n_critic)["critic_loss"])


def _run_call(gan, iterator, n_critic):
    """One compiled call of ``hp.steps_per_call`` iterations, waited for: what the training loop
    runs between two reads (``GAN.train_block``); with 1 the single iteration of ``_run``."""
    steps = gan.hp.steps_per_call
    if steps == 1:
        _run(gan, iterator, n_critic)
    else:
        float(gan.train_block(iterator, steps, n_critic)["critic_loss"])


def block_seconds(hp, batches=None, calls=3, steps=64):
    """Seconds per iteration of the compiled graph alone: a GAN of ``hp`` (Keras seeded with
    ``hp.seed``) runs one ``train_block`` call of ``steps`` iterations that traces, then ``calls``
    more, each waited for; the median of those. ``batches``: the input as a ``tf.data.Dataset``
    of training batches (default ``in_memory_batches(hp)``, which costs nothing to read)."""
    keras.utils.set_random_seed(hp.seed)
    gan = GAN(hp)
    iterator = iter(in_memory_batches(hp) if batches is None else batches)
    float(gan.train_block(iterator, steps, hp.n_critic)["critic_loss"])
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        float(gan.train_block(iterator, steps, hp.n_critic)["critic_loss"])
        times.append((time.perf_counter() - start) / steps)
    return statistics.median(times)


def in_memory_gan(hp):
    """``(gan, iterator, first_s)``: a GAN of ``hp`` (Keras seeded with ``hp.seed`` first), its
    iterator over ``in_memory_batches`` and the seconds of its first iteration (tracing, graph
    optimization and XLA compilation included).

    Several can be built side by side in one process and timed alternately (``alternate``);
    a script comparing variants of one network builds each inside its own change of the
    network's module (``unittest.mock.patch.object``, ``benchmarks/remapper.py``).
    """
    keras.utils.set_random_seed(hp.seed)
    gan = GAN(hp)
    iterator = iter(in_memory_batches(hp))
    start = time.perf_counter()
    _run(gan, iterator, hp.n_critic)
    return gan, iterator, time.perf_counter() - start


def alternate(variants, hp, rounds):
    """Time ``rounds`` iterations of each variant in turn (A B A B ...), so a change of load hits all alike.

    ``variants``: {name: (gan, iterator, first_s)} from ``in_memory_gan``. Returns
    {name: {"times": [s per iteration, ...], "first": first_s}}.
    """
    times = {name: [] for name in variants}
    for _ in range(rounds):
        for name, (gan, iterator, _) in variants.items():
            start = time.perf_counter()
            _run(gan, iterator, hp.n_critic)
            times[name].append(time.perf_counter() - start)
    return {name: {"times": times[name], "first": first} for name, (_, _, first) in variants.items()}


def benchmark_model(hp, iterations=3, label=None):
    """Time ``iterations`` compiled calls of ``hp.steps_per_call`` generator iterations of ``hp``
    each (after one untimed first call), each waited for as the training loop waits at a log.

    Returns a dict: ``iterations_per_s`` and ``real_images_per_s`` (critic inputs, i.e.
    n_critic x batch per iteration) from the median call; ``first_iteration_s`` from
    the built model to the first result (tracing, graph optimization, XLA compilation and
    one call); ``gflop_per_iteration`` and ``gflops`` (achieved, analytic FLOPs over
    the median time); ``source`` and ``train_steps``, the data and length of the file timed, so
    that a table can say how long one of its runs takes; ``steps_per_call``; ``iteration_s``:
    every call's seconds per iteration.
    """
    keras.utils.set_random_seed(hp.seed)
    gan = GAN(hp)
    iterator = iter(in_memory_batches(hp))
    start = time.perf_counter()
    _run_call(gan, iterator, hp.n_critic)
    first = time.perf_counter() - start
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        _run_call(gan, iterator, hp.n_critic)
        times.append((time.perf_counter() - start) / hp.steps_per_call)
    per_iteration = statistics.median(times)
    flops = iteration_flops(hp, count_flops(gan.generator), count_flops(gan.critic))
    return {
        "label": label or hp.run_name,
        "model": hp.model,
        "architecture": hp.architecture.name,
        "side": hp.data.resize,
        "precision": hp.precision,
        "jit_compile": hp.jit_compile,
        "batch_size": hp.batch_size,
        "n_critic": hp.n_critic,
        "steps_per_call": hp.steps_per_call,
        "source": hp.data.name,
        "train_steps": hp.train_steps,
        "iterations": iterations,
        "iteration_s": times,
        "iterations_per_s": 1.0 / per_iteration,
        "real_images_per_s": hp.n_critic * hp.batch_size / per_iteration,
        "first_iteration_s": first,
        "gflop_per_iteration": flops / 1e9,
        "gflops": flops / per_iteration / 1e9,
    }


# ----- input pipeline -------------------------------------------------------------------
def make_jpegs(folder, count, width=178, height=218, seed=0):
    """``count`` photo-like JPEGs (CelebA's 178 x 218) in ``folder``: smooth random colour
    fields with fine noise, so they compress and decode like photographs, not like noise."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    for index in range(count):
        coarse = rng.uniform(0, 255, (height // 16 + 1, width // 16 + 1, 3))
        smooth = np.kron(coarse, np.ones((16, 16, 1)))[:height, :width]
        pixels = np.clip(smooth + rng.normal(0, 8, smooth.shape), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(os.path.join(folder, f"{index:06d}.jpg"), quality=90)


def build_benchmark_records(work_dir, count=1024, side=64, crop=108):
    """Records of ``count`` generated JPEGs, center-cropped to ``crop`` and resized to ``side``,
    under ``work_dir``; returns the records folder (nothing is downloaded)."""
    raw = os.path.join(work_dir, "raw")
    make_jpegs(raw, count)
    return data.build_records(raw, resize=side, crop=crop, output_dir=os.path.join(work_dir, "records"),
                              progress=False)


def input_throughput(folder, batch_size=64, batches=200, warmup=10):
    """The records pipeline alone (``data.make_dataset`` as training uses it): batches/s and images/s."""
    iterator = iter(data.make_dataset(folder, batch_size, seed=0))
    for _ in range(warmup):  # open shards, fill the shuffle buffer, trace the decode
        next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    seconds = time.perf_counter() - start
    return {"batch_size": batch_size, "batches_per_s": batches / seconds, "images_per_s": batches * batch_size / seconds}


def input_overhead(hp, dataset, rounds=3, iterations=2):
    """Share of the training iteration that feeding it from ``dataset`` costs.

    The same model runs alternately on ``dataset`` (the real pipeline) and on one batch
    held in memory, ``iterations`` iterations at a time for ``rounds`` rounds (the order
    alternates so that a change in machine load hits both alike). Returns the median
    seconds per iteration of each (``records_s``, ``memory_s``) with every round's figure,
    and ``fraction`` = 1 - memory_s / records_s: the time the iteration waits for input or
    loses to the pipeline's own CPU use. Around 0 it is noise; it can come out negative.

    Timestamps around ``next(iterator)`` inside the graph would not measure this: the
    iterator op is issued while the previous update still computes and mostly waits for
    a free thread, not for data.
    """
    keras.utils.set_random_seed(hp.seed)
    gan = GAN(hp)
    feeds = {"records": iter(dataset), "memory": iter(in_memory_batches(hp))}
    for iterator in feeds.values():  # trace once, fill the prefetch buffers
        _run(gan, iterator, hp.n_critic)
    times = {name: [] for name in feeds}
    for round_index in range(rounds):
        order = list(feeds) if round_index % 2 == 0 else list(reversed(list(feeds)))
        for name in order:
            start = time.perf_counter()
            for _ in range(iterations):
                _run(gan, feeds[name], hp.n_critic)
            times[name].append((time.perf_counter() - start) / iterations)
    records, memory = statistics.median(times["records"]), statistics.median(times["memory"])
    return {"records_s": records, "memory_s": memory, "fraction": 1.0 - memory / records,
            "rounds": times, "precision": hp.precision, "side": hp.data.resize, "model": hp.model}


# ----- the machine ----------------------------------------------------------------------
def _cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_commit():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # the checkout
    try:
        out = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             timeout=10)
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "") if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def machine_info():
    """What the figures depend on: CPU, cores, devices, versions, commit and load average."""
    return {
        "cpu": _cpu_model(),
        "cores": available_cpus(),
        "gpus": [d.name for d in tf.config.list_logical_devices("GPU")],
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)"),
        "commit": _git_commit(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "load_average": list(os.getloadavg()),
    }


def note_load_after(results):
    """Note the load average at the end of the run in ``results["machine"]``, beside the one at its start; once:
    a later call keeps the first note, so a table printed after it and the JSON written later agree."""
    results["machine"].setdefault("load_average_after", list(os.getloadavg()))
    return results


def publish(results, render, json_path=None):
    """A benchmark script's last steps: note the load at the end, print ``render(results)`` (a
    ``wgan.lab.benchmark_report`` table) and, with ``json_path``, write ``results`` there atomically.
    The load is noted once, before either, so the printed table and the JSON agree."""
    note_load_after(results)
    print(render(results))
    if json_path:
        write_results(json_path, results)
        print(f"wrote {json_path}", file=sys.stderr)


def write_results(path, results):
    """Write a benchmark's ``results`` (with ``machine_info()`` under "machine") as JSON to ``path``, atomically,
    with the load average at the end of the run (``note_load_after``)."""
    files.write_atomic(path, json.dumps(note_load_after(results), indent=1) + "\n")

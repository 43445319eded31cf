"""tf.distribute: MirroredStrategy on 2 logical CPUs against one device, 2 local multi-worker processes.

Logical CPU devices must be configured before TensorFlow starts, and a process can host
one multi-worker cluster task, so those checks run in subprocesses that print one
``RESULT <json>`` line for the assertions here.

Tolerance: mirrored and single-device losses agree to rtol 1e-4 (atol 1e-6) over three
iterations. They are not bit-identical because the replicas sum half batches and then
all-reduce, a different float32 summation order than one device summing the whole batch.
"""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from wgan import config
from wgan.gan import distribute
from wgan.errors import ConfigError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2")
RTOL, ATOL = 1e-4, 1e-6
COMPARED = ("critic_loss", "generator_loss", "wasserstein", "gradient_penalty", "d_real", "d_fake", "c_grad_norm",
            "g_grad_norm", "gp_grad_norm")

# Runs in a fresh process: 2 logical CPUs, then the same training with and without MirroredStrategy.
MIRRORED_SCRIPT = r'''
import json, sys
from wgan.gan import distribute
distribute.split_cpu(2)
import keras, numpy as np, tensorflow as tf
from wgan import config
from wgan.data import inputs
from wgan.errors import ConfigError
from wgan.gan.model import GAN

def hparams(model, **arch):
    return config.from_dict({
        "model": model, "batch_size": 8, "z_dim": 8, "n_critic": 2, "seed": 1, "ema_decay": 0.5,
        "data": {"name": "mnist", "crop": None, "resize": 16, "channels": 1},
        "architecture": {"name": "dcgan", "base_width": 4, "g_norm": "batch", **arch}})

images = np.random.default_rng(0).uniform(-1, 1, (32, 16, 16, 1)).astype(np.float32)
source = inputs.TrainingData(tf.data.Dataset.from_tensor_slices(images).batch(8).repeat(), 32)
strategies = {"one": distribute.make_strategy("default"), "two": distribute.make_strategy("mirrored")}

def train(hp, name):
    keras.utils.set_random_seed(0)
    gan = GAN(hp, strategies[name])
    iterator = iter(inputs.distribute(strategies[name], source))
    losses = [{k: float(v) for k, v in gan.train_iteration(iterator, hp.n_critic).items()} for _ in range(3)]
    return gan, losses

def copies_agree(gan, strategy):
    """Every mirrored variable holds one value on both replicas."""
    models = [gan.generator, gan.critic, gan.ema_generator]
    for v in [v for m in models for v in m.variables]:
        local = [t.numpy() for t in strategy.experimental_local_results(v.value)]
        if len(local) != 2 or not np.array_equal(local[0], local[1]):
            return v.path
    return True

out = {}
cases = {"wgan-gp sync": hparams("wgan-gp", c_norm="none", sync_batch_norm=True),
         "wgan sync": hparams("wgan", c_norm="batch", sync_batch_norm=True),
         # SGD, unlike Adam, is not scale-invariant: gradients summed twice would show.
         "dcgan sync": config.apply_overrides(hparams("dcgan", c_norm="batch", sync_batch_norm=True), [
             ("c_optimizer.name", "sgd"), ("g_optimizer.name", "sgd"), ("c_optimizer.learning_rate", 0.05),
             ("g_optimizer.learning_rate", 0.05)]),
         "wgan-gp local bn": hparams("wgan-gp", c_norm="none"),
         # Spectral norm updates its power-iteration vectors per replica; rpgan's generator draws real
         # batches and its R1 + R2 run lazily; log_every 1 runs the input-gradient probe every iteration.
         "hinge sn sync": config.apply_overrides(hparams("hinge", c_norm="none", sync_batch_norm=True), [
             ("constraint", "spectral_norm")]),
         "rpgan sync": config.apply_overrides(hparams("rpgan", c_norm="none", sync_batch_norm=True), [
             ("constraint_every", 2), ("log_every", 1)])}
for case, hp in cases.items():
    _, one = train(hp, "one")
    gan, two = train(hp, "two")
    clip = max(float(np.abs(v.numpy()).max()) for v in gan.critic.trainable_variables)
    out[case] = {"one": one, "two": two, "copies_agree": copies_agree(gan, strategies["two"]), "max_critic_weight": clip}

# Each replica draws its own rows of one global latent batch.
gan = GAN(cases["wgan-gp sync"], strategies["two"])
seed = tf.constant([3, 4], tf.int64)
rows = strategies["two"].run(tf.function(lambda: gan._replica_rows(gan.stateless_latent(8, seed))))
out["z"] = [t.numpy().tolist() for t in strategies["two"].experimental_local_results(rows)]
out["z_global"] = gan.stateless_latent(8, seed).numpy().tolist()

refused = {}
for name, hp in {"odd batch": config.apply_overrides(cases["wgan sync"], [("batch_size", 7)]),
                 "jit sync bn": config.apply_overrides(cases["wgan sync"], [("jit_compile", True)])}.items():
    try:
        GAN(hp, strategies["two"])
        refused[name] = None
    except ConfigError as err:
        refused[name] = str(err)
out["refused"] = refused
print("RESULT " + json.dumps(out))
'''

# One task of a 2-worker MultiWorkerMirroredStrategy cluster (TF_CONFIG comes from the test).
WORKER_SCRIPT = r'''
import json, sys
records_root, checkpoint_dir = sys.argv[1], sys.argv[2]
from wgan.gan import distribute
strategy = distribute.make_strategy("multi_worker", communication="ring")
import numpy as np
from wgan import config
from wgan.data import inputs
from wgan.train import launch, loop
from wgan.errors import TrainingError

hp = config.from_dict({
    "model": "wgan-gp", "batch_size": 8, "z_dim": 8, "n_critic": 2, "seed": 3,
    "data": {"name": "mnist", "crop": None, "resize": 16, "channels": 1, "shuffle_buffer": 8},
    "architecture": {"name": "dcgan", "base_width": 4, "c_norm": "none"},
    "checkpoint_every": 2, "log_every": 1})
# Which images this worker reads: image i was built with every pixel 4 * i.
iterator = iter(inputs.distribute(strategy, inputs.training_data(hp, records_root, seed=0)))
ids = []
for _ in range(3):
    for local in strategy.experimental_local_results(next(iterator)):
        ids += np.rint((local.numpy().reshape(len(local), -1).mean(axis=1) + 1) * 127.5 / 4).astype(int).tolist()
_, vdir, hp, lock, resumed = launch.open_run(strategy, hp, checkpoint_dir)
with lock:
    result = loop.train(hp, vdir, 3, records_root=records_root, progress=False, strategy=strategy)
# A resume where the worker cannot see the chief's checkpoint (as without a shared file system).
elsewhere = vdir if distribute.is_chief(strategy) else checkpoint_dir + "-not-shared"
try:
    loop.train(hp, elsewhere, 1, records_root=records_root, progress=False, strategy=strategy)
    refused = None
except TrainingError as err:
    refused = str(err)
print("RESULT " + json.dumps({"chief": distribute.is_chief(strategy), "ids": ids, "vdir": vdir, "refused": refused,
                              "metrics": result["metrics"], "checkpoint": result["checkpoint"]}))
'''


def result_of(stdout):
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, stdout[-3000:]
    return json.loads(lines[-1][len("RESULT "):])


@pytest.fixture(scope="module")
def mirrored():
    proc = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT], capture_output=True, text=True, env=ENV,
                          cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return result_of(proc.stdout)


@pytest.mark.parametrize("case", ["wgan-gp sync", "wgan sync", "dcgan sync", "hinge sn sync", "rpgan sync"])
def test_mirrored_two_replicas_give_the_one_device_losses(mirrored, case):
    one, two = mirrored[case]["one"], mirrored[case]["two"]
    assert len(one) == len(two) == 3
    for a, b in zip(one, two):
        for key in COMPARED:
            assert b[key] == pytest.approx(a[key], rel=RTOL, abs=ATOL), (case, key, a[key], b[key])
    assert one[0]["critic_loss"] != one[-1]["critic_loss"]  # the models did train


def test_mirrored_replica_copies_stay_identical(mirrored):
    # Clipping and the EMA run per replica; batch-norm statistics (local or synchronized) are kept mirrored.
    for case in ("wgan-gp sync", "wgan sync", "dcgan sync", "wgan-gp local bn", "hinge sn sync", "rpgan sync"):
        assert mirrored[case]["copies_agree"] is True, (case, mirrored[case]["copies_agree"])
    assert mirrored["wgan sync"]["max_critic_weight"] <= 0.01 + 1e-7


def test_local_batch_norm_uses_each_replicas_own_statistics(mirrored):
    # Without synchronization the generator normalizes half batches, so the losses move away from one device's.
    one, two = mirrored["wgan-gp local bn"]["one"], mirrored["wgan-gp local bn"]["two"]
    assert any(abs(a["generator_loss"] - b["generator_loss"]) > 1e-6 for a, b in zip(one, two))


def test_replicas_draw_different_rows_of_one_global_latent_batch(mirrored):
    first, second = np.array(mirrored["z"][0]), np.array(mirrored["z"][1])
    assert first.shape == second.shape == (4, 8)
    assert not np.allclose(first, second)
    np.testing.assert_array_equal(np.concatenate([first, second]), np.array(mirrored["z_global"]))


def test_mirrored_refuses_what_it_cannot_run(mirrored):
    assert "does not split evenly over 2 replicas" in mirrored["refused"]["odd batch"]
    assert "needs GPU replicas" in mirrored["refused"]["jit sync bn"]


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_multi_worker_two_local_processes_train_agree_and_share_checkpoints(tmp_path):
    from wgan import data

    images = np.repeat(np.repeat((4 * np.arange(64)).astype(np.uint8)[:, None, None], 28, 1), 28, 2)
    data.build_records("mnist", resize=16, crop=None, output_dir=str(tmp_path / "records"), shards=4, workers=1,
                       progress=False, arrays=(images, np.arange(64) % 10))
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    procs = [subprocess.Popen([sys.executable, "-c", WORKER_SCRIPT, str(tmp_path / "records"), str(tmp_path / "ck")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                              env=dict(ENV, TF_CONFIG=distribute.tf_config(workers, index)))
             for index in range(2)]
    outputs = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=240)
            assert proc.returncode == 0, err[-3000:]
            outputs.append(result_of(out))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    chief, worker = outputs
    assert chief["chief"] and not worker["chief"]
    for key in COMPARED:
        assert chief["metrics"][key] == worker["metrics"][key], key  # all-reduced: the same numbers
    assert np.isfinite(chief["metrics"]["critic_loss"])
    # Each worker read its own two of the four shards (images 16k ... 16k + 15 are shard k).
    shards = [{i // 16 for i in outputs[t]["ids"]} for t in range(2)]
    assert len(shards[0]) == len(shards[1]) == 2 and not shards[0] & shards[1], shards
    # One run version, written by the chief only; the worker's private folder is gone.
    assert chief["vdir"] == worker["vdir"] and chief["vdir"].endswith("v1")
    assert os.listdir(os.path.dirname(chief["vdir"])) == ["v1"]
    assert chief["checkpoint"].startswith(chief["vdir"]) and os.path.exists(chief["checkpoint"] + ".index")
    assert not worker["checkpoint"].startswith(chief["vdir"])
    assert not os.path.exists(os.path.dirname(os.path.dirname(worker["checkpoint"])))
    # Resuming without a shared checkpoint folder stops every worker instead of training apart.
    for task in outputs:
        assert "start at different steps ([0, 3])" in task["refused"], task["refused"]


def test_train_command_runs_mirrored_on_split_cpu(tmp_path):
    proc = subprocess.run(
        [sys.executable, os.path.join(REPO, "bin", "train.py"), "--noprogress", "-m", "wgan", "--data", "8gaussians",
         "--steps", "2", "--strategy", "mirrored", "--cpu_replicas", "2", "--set", "batch_size=16",
         "--set", "architecture.base_width=8", "--set", "warmup=false", "--checkpoint_dir", str(tmp_path)],
        capture_output=True, text=True, env=ENV, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "MirroredStrategy with 2 replica(s)" in proc.stderr
    assert (tmp_path / "wgan-8gaussians" / "v1" / "ckpt" / "ckpt-2.index").exists()


def test_strategy_names_and_cluster_configuration():
    with pytest.raises(ConfigError, match="valid values: default, mirrored, multi_worker, tpu"):
        distribute.make_strategy("horovod")
    default = distribute.make_strategy("default")
    assert distribute.is_chief(default) and distribute.task(default) == (None, None)
    assert distribute.write_dir(default, "/runs/v1") == "/runs/v1"
    assert distribute.chief_value(default, 7) == 7
    spec = json.loads(distribute.tf_config(["a:1", "b:2", "c:3"], 2, chief=True))
    assert spec == {"cluster": {"chief": ["a:1"], "worker": ["b:2", "c:3"]}, "task": {"type": "worker", "index": 1}}
    assert json.loads(distribute.tf_config(["a:1", "b:2"], 0))["task"] == {"type": "worker", "index": 0}


def test_multi_worker_without_tf_config_is_a_config_error(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="TF_CONFIG"):
        distribute.make_strategy("multi_worker")


def test_sync_batch_norm_is_a_hyperparameter():
    hp = config.from_dict({"architecture": {"sync_batch_norm": True}})
    assert hp.architecture.sync_batch_norm and not config.HParams().architecture.sync_batch_norm

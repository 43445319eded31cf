"""Fault injection before a release: damage builds and runs the ways a user's machine does, count what survives.

    python tools/inject_faults.py --json docs/benchmarks/faults.json   # every fault 3 times (minutes on 2 cores)
    python tools/inject_faults.py --repeats 5 --seed 1 --only shard,checkpoint

Not a test: it runs real trainings and builds (tiny ones: toy 8gaussians with a small MLP,
and 16x16 records of generated digits-like images), SIGKILLs processes at random moments,
flips and truncates bytes at random offsets, simulates full disks, and races processes.
For every fault it checks the goal of issue 13:

* the fault ends in a completed run or ONE clear line (a ``WganError`` in-process, or
  exit 1 with one ``error:`` line and no traceback from a command);
* no run or records folder is left in a state that a later command accepts silently;
* at most one checkpoint interval of training is lost.

It prints a table: fault, times injected, survived, data lost (the worst case over the
repeats, in generator iterations, or snapshots missing from the listing), and one line
for every failure. ``--json`` keeps them with the machine; docs/faults.md shows that file in
a ``faults-table`` block (``wgan.lab.benchmark_report.faults_table``, which prints the table here
too). A full disk is simulated by making the write raise ENOSPC (Python) or TensorFlow's
``ResourceExhaustedError`` (what its file writer raises for ENOSPC).
"""

import argparse
import contextlib
import dataclasses
import errno
import glob
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)  # run from a checkout
from wgan.util import quiet  # noqa: E402

quiet.install()  # before TensorFlow is imported: its own console lines stay hidden, as in bin/
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ENV = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2")

CHECKPOINT_EVERY = 10
TOY_ARGS = ["-m", "wgan-gp", "--data", "8gaussians", "--set", "batch_size=32", "--set", "architecture.base_width=16",
            "--set", "architecture.depth=2", "--set", "n_critic=1", "--set", "log_every=1",
            "--set", f"checkpoint_every={CHECKPOINT_EVERY}", "--set", "snapshot_every=20", "--set", "sample_every=1000",
            "--set", "histogram_every=1000", "--noprogress"]


@dataclasses.dataclass
class Outcome:
    survived: bool
    lost: int = 0  # generator iterations (or snapshots) lost
    note: str = ""


# ----- helpers -------------------------------------------------------------------------------------------
def flip_random_byte(path, rng):
    size = os.path.getsize(path)
    offset = rng.randrange(size)
    with open(path, "r+b") as handle:
        handle.seek(offset)
        value = handle.read(1)[0]
        handle.seek(offset)
        handle.write(bytes([value ^ (1 << rng.randrange(8))]))
    return f"flipped a bit of byte {offset}/{size}"


def truncate_random(path, rng):
    size = os.path.getsize(path)
    keep = rng.randrange(size)
    with open(path, "r+b") as handle:
        handle.truncate(keep)
    return f"truncated to {keep}/{size} bytes"


DAMAGES = {"flip": flip_random_byte, "truncate": truncate_random}


def one_line(err):
    from wgan.errors import WganError

    return isinstance(err, WganError) and "\n" not in str(err) and bool(str(err))


def command_outcome(proc):
    """(clean, text): exit 0, or exit 1 with exactly one ``error:`` line and no traceback."""
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    if proc.returncode == 0:
        return True, "completed"
    clean = proc.returncode == 1 and len(errors) == 1 and "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1:] or ["no output"]
    return clean, (errors[0] if errors else last[0])[:160]


def toy_hp(**values):
    from wgan import config

    base = {"model": "wgan-gp", "batch_size": 32, "z_dim": 2, "n_critic": 1, "seed": 1,
            "data": {"name": "8gaussians", "crop": None, "resize": None, "channels": 0},
            "architecture": {"name": "mlp", "base_width": 16, "depth": 2},
            "log_every": 1, "sample_every": 1000, "histogram_every": 1000, "checkpoint_every": CHECKPOINT_EVERY,
            "snapshot_every": 20, "keep_checkpoints": 3}
    base.update(values)
    return config.from_dict(base)


def image_hp():
    return toy_hp(data={"name": "mnist", "crop": None, "resize": 16, "channels": 1, "shuffle_buffer": 64},
                  architecture={"name": "dcgan", "base_width": 4, "depth": 2}, batch_size=8)


def build_images(root, shards=4, count=256):
    """mnist-r16 records from ``count`` generated 28x28 images (no download)."""
    import numpy as np

    from wgan import data

    rng = np.random.default_rng(0)
    images = (rng.random((count, 28, 28)) * 255).astype(np.uint8)
    return data.build_records("mnist", resize=16, crop=None, output_dir=root, workers=1, progress=False,
                              shards=shards, arrays=(images, np.arange(count) % 10), overwrite=True)


def train(hp, vdir, steps, records_root=None):
    from wgan.train import loop as training

    return training.train(hp, vdir, steps, records_root=records_root or "unused", progress=False)


def new_run(base, hp, steps, records_root=None):
    from wgan import runs

    _, vdir, hp, lock, _ = runs.open_run(os.path.join(base, "checkpoint"), hp)
    with lock:
        train(hp, vdir, steps, records_root)
    return vdir


def last_logged_step(vdir):
    from wgan import runs

    records = runs.read_jsonl(os.path.join(vdir, runs.METRICS_FILE))
    return max((r["step"] for r in records if isinstance(r.get("step"), int)), default=0)


def resume_and_measure(hp, vdir, reached, records_root=None, steps=2, fault=""):
    """Resume ``vdir`` for ``steps``; returns (Outcome) with the iterations lost since ``reached``.

    ``fault`` (what was done to the run) starts the outcome's note.
    """
    from wgan.runs import checkpoints

    try:
        found = checkpoints.newest_readable(vdir)  # where the resume restores from
        resumed_at = found.step if found else 0
        result = train(hp, vdir, steps, records_root)
    except Exception as err:  # noqa: BLE001 - any failure is what we count
        return Outcome(one_line(err), 0, f"{fault}resume: {type(err).__name__}: {str(err)[:150]}")
    lost = max(0, reached - resumed_at)
    # Permanent snapshots must not be skipped by a resume past their step.
    from wgan import runs

    listed = {s["step"] for s in runs.list_snapshots(vdir)}
    missing = sorted(set(range(hp.snapshot_every, result["step"] + 1, hp.snapshot_every)) - listed)
    note = f"{fault}resumed at step {resumed_at}, fault at {reached}" + (f"; snapshots missing: {missing}" if missing else "")
    return Outcome(lost <= CHECKPOINT_EVERY and not missing, lost, note)


# ----- faults --------------------------------------------------------------------------------------------
_BUILD_CHILD = """
import sys
import numpy as np
from wgan.data import build_records
if __name__ == "__main__":
    rng = np.random.default_rng(0)
    images = (rng.random((40000, 28, 28)) * 255).astype(np.uint8)
    print("start", flush=True)
    build_records("mnist", resize=28, crop=None, output_dir=sys.argv[1], workers=1, progress=False, shards=40,
                  arrays=(images, np.arange(40000) % 10))
    print("done", flush=True)
"""


def fault_sigkill_build(base, rng):
    from wgan.data import integrity, manifest

    script = os.path.join(base, "child_build.py")
    with open(script, "w") as handle:
        handle.write(_BUILD_CHILD)
    out = os.path.join(base, "records")
    child = subprocess.Popen([sys.executable, script, out], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, env=ENV)
    child.stdout.readline()  # "start": TensorFlow is imported, the build begins
    time.sleep(rng.uniform(0.0, 3.0))
    child.send_signal(signal.SIGKILL)
    child.wait()
    folder = os.path.join(out, "mnist-r28")
    if os.path.exists(os.path.join(folder, manifest.MANIFEST_NAME)):
        try:
            integrity.verify(folder)  # a finished build must verify
            return Outcome(True, 0, "killed after the build finished")
        except Exception as err:  # noqa: BLE001
            return Outcome(False, 0, f"killed build left a manifest that does not verify: {err}")
    try:
        from wgan import data

        data.make_dataset(folder, 8)
        return Outcome(False, 0, "a killed build's folder was accepted by the reader")
    except Exception as err:  # noqa: BLE001
        if not one_line(err):
            return Outcome(False, 0, f"reader: {type(err).__name__}: {err}")
    rerun = subprocess.run([sys.executable, script, out], capture_output=True, text=True, env=ENV, timeout=600)
    if rerun.returncode != 0:
        return Outcome(False, 0, f"rerun failed: {rerun.stderr.strip()[-200:]}")
    integrity.verify(folder)
    return Outcome(True, 0, "killed mid-build; reader refused; rerun completed")


def fault_sigkill_train(base, rng):
    from wgan import runs

    ckpt = os.path.join(base, "checkpoint")
    child = subprocess.Popen([sys.executable, os.path.join(REPO, "bin", "train.py"), *TOY_ARGS, "--steps", "100000",
                              "--checkpoint_dir", ckpt], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=ENV, cwd=base)
    vdir = os.path.join(ckpt, "wgan-gp-8gaussians", "v1")
    target = rng.randrange(3, 60)
    deadline = time.time() + 240
    while time.time() < deadline and last_logged_step(vdir) < target:
        time.sleep(0.05)
    time.sleep(rng.uniform(0.0, 0.5))
    child.send_signal(signal.SIGKILL)
    child.wait()
    reached = last_logged_step(vdir)
    hp = runs.load_hparams(vdir)
    return resume_and_measure(hp, vdir, reached, fault=f"killed near step {reached}; ")


def _damage_shard(base, rng, damage):
    root = os.path.join(base, "records")
    folder = build_images(root)
    hp = image_hp()
    vdir = new_run(base, hp, 4, root)
    before = {p: open(p, "rb").read() for p in glob.glob(os.path.join(vdir, "ckpt", "*"))}
    shard = rng.choice(sorted(glob.glob(os.path.join(folder, "shard-*"))))
    how = DAMAGES[damage](shard, rng)
    try:
        train(hp, vdir, 30, root)
        return Outcome(False, 0, f"{how}: training went on with a damaged shard")
    except Exception as err:  # noqa: BLE001
        if not one_line(err) or os.path.basename(shard) not in str(err) or "--overwrite" not in str(err):
            return Outcome(False, 0, f"{how}: {type(err).__name__}: {str(err)[:200]}")
    after = {p: open(p, "rb").read() for p in glob.glob(os.path.join(vdir, "ckpt", "*"))}
    if after != before:
        return Outcome(False, 0, f"{how}: the checkpoints changed")
    build_images(root)  # the remedy the message names
    return resume_and_measure(hp, vdir, 4, root, fault=f"{how}; ")


def _toy_run(base, steps=24):
    hp = toy_hp()
    return hp, new_run(base, hp, steps)


def _damage_checkpoint(base, rng, damage):
    from wgan import generate
    from wgan.runs import checkpoints

    hp, vdir = _toy_run(base, 30)  # ckpt-10, ckpt-20, ckpt-30; snapshot-20
    newest = os.path.join(vdir, "ckpt", "ckpt-30")
    target = rng.choice(glob.glob(newest + ".*"))
    how = f"{os.path.basename(target)}: " + DAMAGES[damage](target, rng)
    if checkpoints.problem(newest) is None:
        return Outcome(True, 0, f"{how}: still reads back (the damaged bytes were unused)")
    try:
        restored = generate.find_checkpoint(os.path.dirname(vdir), "1")
        if restored.step != 20:
            return Outcome(False, 0, f"{how}: generate picked step {restored.step}")
        listing = generate.describe_runs(os.path.dirname(vdir))
        if "UNREADABLE" not in listing:
            return Outcome(False, 0, f"{how}: --list does not mark it")
    except Exception as err:  # noqa: BLE001
        return Outcome(one_line(err), 0, f"{how}: generate: {type(err).__name__}: {str(err)[:150]}")
    return resume_and_measure(hp, vdir, 30, fault=f"{how}; ")


def _damage_hparams(base, rng, damage):
    from wgan import runs

    hp, vdir = _toy_run(base, 10)
    path = os.path.join(vdir, runs.HPARAMS_FILE)
    how = DAMAGES[damage](path, rng)
    try:
        stored = runs.load_hparams(vdir)
    except Exception as err:  # noqa: BLE001
        if not one_line(err):
            return Outcome(False, 0, f"{how}: {type(err).__name__}: {err}")
        # Without -v the damaged run is skipped (with a warning) for a new version: nothing is overwritten.
        number, other, _, lock, resumed = runs.open_run(os.path.join(base, "checkpoint"), hp)
        lock.release()
        if resumed or other == vdir:
            return Outcome(False, 0, f"{how}: a damaged run was resumed")
        return Outcome(True, 0, f"{how}: one line with -v ({str(err)[:90]}); new version without")
    if stored.to_dict() != hp.to_dict():
        old, new = hp.to_dict(), stored.to_dict()
        changed = [key for key in set(old) | set(new) if old.get(key) != new.get(key)]
        return Outcome(False, 0, f"{how}: still valid JSON with other values ({changed}); accepted silently")
    return Outcome(True, 0, f"{how}: harmless (whitespace)")


def _damage_snapshots(base, rng, damage):
    from wgan import runs

    hp, vdir = _toy_run(base, 40)  # snapshots at 20, 40
    path = os.path.join(vdir, runs.SNAPSHOTS_FILE)
    before = [(s["step"], s["path"]) for s in runs.list_snapshots(vdir)]
    how = DAMAGES[damage](path, rng)
    try:
        after = [(s["step"], s["path"]) for s in runs.list_snapshots(vdir)]
    except Exception as err:  # noqa: BLE001
        return Outcome(False, len(before), f"{how}: {type(err).__name__}: {err}")
    lost = len(set(before) - set(after))
    extra = set(after) - set(before)
    if extra:
        return Outcome(False, lost, f"{how}: listing changed to {sorted(extra)}")
    outcome = resume_and_measure(hp, vdir, 40, fault=f"{how}; {len(after)}/{len(before)} snapshots listed; ")
    outcome.lost = max(outcome.lost, lost)
    outcome.survived = outcome.survived and lost == 0
    return outcome


def _damage_manifest(base, rng, damage):
    from wgan.data import manifest

    root = os.path.join(base, "records")
    folder = build_images(root)
    hp = image_hp()
    vdir = new_run(base, hp, 2, root)
    path = os.path.join(folder, manifest.MANIFEST_NAME)
    original = manifest.read_manifest(folder)
    how = DAMAGES[damage](path, rng)
    try:
        damaged = manifest.read_manifest(folder)
    except Exception as err:  # noqa: BLE001
        return Outcome(one_line(err), 0, f"{how}: {str(err)[:120]}")
    try:
        train(hp, vdir, 2, root)
    except Exception as err:  # noqa: BLE001
        return Outcome(one_line(err), 0, f"{how}: training: {str(err)[:120]}")
    # Training went on: only acceptable when nothing training uses changed.
    used = ("count", "height", "width", "channels", "compression", "labels", "shards")
    changed = [key for key in used if damaged.get(key) != original.get(key)]
    return Outcome(not changed, 0, f"{how}: accepted; changed fields used by training: {changed or 'none'}")


def fault_enospc_shard(base, rng):
    from wgan import data
    from wgan.data import build

    root = os.path.join(base, "records")
    folder = build_images(root)
    original = build.ShardWriter.write
    fail_at = rng.randrange(1, 256)
    written = [0]

    def write(self, record):
        written[0] += 1
        if written[0] == fail_at:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        original(self, record)

    build.ShardWriter.write = write
    try:
        build_images(root)
        return Outcome(False, 0, "the build ignored the full disk")
    except Exception as err:  # noqa: BLE001
        if not one_line(err):
            return Outcome(False, 0, f"{type(err).__name__}: {err}")
    finally:
        build.ShardWriter.write = original
    try:
        data.make_dataset(folder, 8)
        return Outcome(False, 0, "a half-written folder was accepted")
    except Exception as err:  # noqa: BLE001
        if not one_line(err):
            return Outcome(False, 0, f"reader: {err}")
    build_images(root)
    from wgan.data import integrity

    integrity.verify(folder)
    return Outcome(True, 0, f"ENOSPC at record {fail_at}; reader refused; rerun completed")


def fault_enospc_checkpoint(base, rng):
    import tensorflow as tf

    hp = toy_hp()
    from wgan import runs

    _, vdir, hp, lock, _ = runs.open_run(os.path.join(base, "checkpoint"), hp)
    lock.release()
    original = tf.train.Checkpoint.write
    fail_on = rng.randrange(1, 4)  # the first, second or third save
    saves = [0]

    def write(self, prefix, options=None):
        saves[0] += 1
        if saves[0] == fail_on:
            original(self, prefix, options)
            data_file = glob.glob(prefix + ".data-*")[0]
            with open(data_file, "r+b") as handle:
                handle.truncate(os.path.getsize(data_file) // 3)
            raise tf.errors.ResourceExhaustedError(None, None, f"{data_file}; No space left on device")
        return original(self, prefix, options)

    tf.train.Checkpoint.write = write
    try:
        train(hp, vdir, 40)
        return Outcome(False, 0, "training ignored the full disk")
    except Exception as err:  # noqa: BLE001
        if not one_line(err):
            return Outcome(False, 0, f"{type(err).__name__}: {err}")
        message = str(err)
    finally:
        tf.train.Checkpoint.write = original
    reached = last_logged_step(vdir)
    return resume_and_measure(hp, vdir, reached, fault=f"ENOSPC on save {fail_on}: {message[:80]}...; ")


def fault_enospc_metrics(base, rng):
    from wgan import runs

    hp = toy_hp()
    _, vdir, hp, lock, _ = runs.open_run(os.path.join(base, "checkpoint"), hp)
    lock.release()
    fail_at = rng.randrange(2, 35)
    appends = [0]

    class FullFile:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def tell(self):
            return self.handle.tell()

        def write(self, payload):
            self.handle.write(payload[: len(payload) // 2])  # half the line reaches the disk
            self.handle.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def flush(self):
            self.handle.flush()

    def fake_open(path, mode="r", *args, **kwargs):
        handle = open(path, mode, *args, **kwargs)
        if "a" in mode and path.endswith(runs.METRICS_FILE):
            appends[0] += 1
            if appends[0] == fail_at:
                return FullFile(handle)
        return handle

    runs.open = fake_open
    try:
        train(hp, vdir, 40)
        return Outcome(False, 0, "training ignored the full disk")
    except Exception as err:  # noqa: BLE001
        if not one_line(err):
            return Outcome(False, 0, f"{type(err).__name__}: {err}")
    finally:
        del runs.open
    reached = last_logged_step(vdir)
    fault = f"ENOSPC at append {fail_at} (step {reached}); "
    outcome = resume_and_measure(hp, vdir, fail_at, fault=fault)
    steps = [r["step"] for r in runs.read_jsonl(os.path.join(vdir, runs.METRICS_FILE))]
    if steps[-2:] != [steps[-2], steps[-2] + 1]:
        outcome.survived, outcome.note = False, f"{fault}metrics after resume: {steps[-4:]}"
    return outcome


def fault_two_trainings(base, rng):
    ckpt = os.path.join(base, "checkpoint")
    command = [sys.executable, os.path.join(REPO, "bin", "train.py"), *TOY_ARGS, "--checkpoint_dir", ckpt]
    same_version = rng.random() < 0.5
    if same_version:
        first = subprocess.run(command + ["--steps", "2"], capture_output=True, text=True, env=ENV, timeout=300)
        if first.returncode != 0:
            return Outcome(False, 0, f"setup failed: {first.stderr[-200:]}")
        command = command + ["-v", "1"]
    procs = [subprocess.Popen(command + ["--steps", "20"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=ENV) for _ in range(2)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        results.append(command_outcome(subprocess.CompletedProcess(proc.args, proc.returncode, out, err)))
    root = os.path.join(ckpt, "wgan-gp-8gaussians")
    versions = sorted(os.listdir(root))
    clean = all(ok for ok, _ in results)
    completed = [text for _, text in results if text == "completed"]
    if same_version:
        ok = clean and len(completed) == 1 and any("being trained by another process" in t for _, t in results)
        return Outcome(ok, 0, f"-v 1 twice: {[t[:70] for _, t in results]}")
    ok = clean and len(completed) == 2 and versions == ["v1", "v2"]
    return Outcome(ok, 0, f"same arguments twice: {[t[:40] for _, t in results]}, versions {versions}")


def fault_rebuild_while_reading(base, rng):
    from wgan.data import integrity

    root = os.path.join(base, "records")
    folder = build_images(root)
    ckpt = os.path.join(base, "checkpoint")
    command = [sys.executable, os.path.join(REPO, "bin", "train.py"), "-m", "wgan-gp", "--data", "mnist", "-r", "16",
               "--records_dir", root, "--checkpoint_dir", ckpt, "--steps", "60", "--noprogress",
               "--set", "batch_size=8", "--set", "architecture.base_width=4", "--set", "architecture.depth=2",
               "--set", "n_critic=1", "--set", "log_every=1", "--set", "data.shuffle_buffer=64",
               # No evaluation: the mnist classifier refuses these generated images (below 90% accuracy)
               # and the training would stop before the rebuild it is here to meet.
               "--set", "eval_every=0", "--set", f"checkpoint_every={CHECKPOINT_EVERY}"]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    vdir = os.path.join(ckpt, "wgan-gp-mnist-r16", "v1")
    deadline = time.time() + 240
    while time.time() < deadline and last_logged_step(vdir) < rng.randrange(2, 20) and child.poll() is None:
        time.sleep(0.05)
    refused = ""
    try:
        build_images(root)
    except Exception as err:  # noqa: BLE001
        refused = str(err) if one_line(err) else f"{type(err).__name__}: {err}"
    out, err = child.communicate(timeout=600)
    trained, text = command_outcome(subprocess.CompletedProcess(command, child.returncode, out, err))
    if child.returncode == 0 and not refused:
        return Outcome(False, 0, "the records were rebuilt under a running training")
    integrity.verify(folder)
    return Outcome(trained and "being read by a training" in refused, 0,
                   f"rebuild: {refused[:70]}; training: {text[:60]}")


FAULTS = [
    ("SIGKILL during a build, then rerun", "build", fault_sigkill_build),
    ("SIGKILL during training, then resume", "train", fault_sigkill_train),
]
for _damage in ("flip", "truncate"):
    FAULTS += [
        (f"{_damage}: a shard", "shard", lambda b, r, d=_damage: _damage_shard(b, r, d)),
        (f"{_damage}: newest checkpoint", "checkpoint", lambda b, r, d=_damage: _damage_checkpoint(b, r, d)),
        (f"{_damage}: hyperparameters.json", "hparams", lambda b, r, d=_damage: _damage_hparams(b, r, d)),
        (f"{_damage}: snapshots.jsonl", "snapshots", lambda b, r, d=_damage: _damage_snapshots(b, r, d)),
        (f"{_damage}: dataset_info.json", "manifest", lambda b, r, d=_damage: _damage_manifest(b, r, d)),
    ]
FAULTS += [
    ("full disk: shard write", "enospc", fault_enospc_shard),
    ("full disk: checkpoint save", "enospc", fault_enospc_checkpoint),
    ("full disk: metrics append", "enospc", fault_enospc_metrics),
    ("two trainings on one version", "concurrent", fault_two_trainings),
    ("records rebuilt while a run reads", "concurrent", fault_rebuild_while_reading),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="injections per fault")
    parser.add_argument("--seed", type=int, default=0, help="seed of offsets, kill times and choices")
    parser.add_argument("--only", default="", help="comma-separated groups: build, train, shard, checkpoint, "
                        "hparams, snapshots, manifest, enospc, concurrent")
    parser.add_argument("--keep", default=None, help="keep every trial's folder under this path")
    parser.add_argument("--json", default="inject_faults.json", help="where to write the results")
    args = parser.parse_args()
    import tensorflow as tf
    from absl import logging

    from wgan.lab import benchmark, benchmark_report

    logging.set_verbosity(logging.ERROR)  # the expected warnings would drown the table
    tf.get_logger().setLevel("ERROR")
    only = {group for group in args.only.split(",") if group}
    rng = random.Random(args.seed)
    command, machine = benchmark_report.command_line("tools/inject_faults.py"), benchmark.machine_info()
    rows, failures = [], []
    started = time.time()
    for name, group, function in FAULTS:
        if only and group not in only:
            continue
        survived, worst = 0, 0
        for trial in range(args.repeats):
            base = tempfile.mkdtemp(prefix="fault-", dir=args.keep)
            with contextlib.ExitStack() as stack:
                previous = os.getcwd()
                os.chdir(base)
                stack.callback(os.chdir, previous)
                try:
                    outcome = function(base, rng)
                except Exception as err:  # noqa: BLE001 - a crash of the scenario is a failure too
                    outcome = Outcome(False, 0, f"unexpected {type(err).__name__}: {str(err)[:200]}")
            survived += outcome.survived
            worst = max(worst, outcome.lost)
            print(f"  {name} #{trial + 1}: {'ok  ' if outcome.survived else 'FAIL'} {outcome.note}", flush=True)
            if not outcome.survived:
                failures.append(f"{name} #{trial + 1}: {outcome.note}")
            if args.keep is None:
                shutil.rmtree(base, ignore_errors=True)
        unit = "snapshots" if group == "snapshots" else "iterations"
        rows.append({"fault": name, "injected": args.repeats, "survived": survived,
                     "lost": f"{worst} {unit}" if worst else "none"})
    results = {"command": command, "machine": machine, "repeats": args.repeats, "seed": args.seed,
               "seconds": time.time() - started, "checkpoint_every": CHECKPOINT_EVERY, "rows": rows,
               "failures": failures}
    benchmark.write_results(args.json, results)
    print()
    print(benchmark_report.faults_table(results))
    print(f"\nwrote {args.json}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

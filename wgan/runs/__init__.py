"""Run folders: versions, locking and snapshots, shared by train, generate and evaluate.

Layout of one run version::

    checkpoint/<model>-<data>[-<architecture>][-c<crop>]-r<resize>/v<N>/
        hyperparameters.json   resolved HParams; alone enough to rebuild the models
        ckpt/                  newest few checkpoints (tf.train.CheckpointManager)
        snapshots/             permanent snapshots, one every ``snapshot_every`` iterations
        snapshots.jsonl        one line per snapshot: index, step, epoch, time, path, metrics
        evaluations.jsonl      metrics computed later for a checkpoint step (bin/evaluate.py)
        best/, best.json       the checkpoint of the evaluated step that scored best on the primary metric
        health.jsonl           one line per health-detector trip or clear (wgan.train.health)
        metrics.jsonl          scalars as JSON lines, readable without TensorBoard
        events.out.tfevents.*  TensorBoard
        .lock                  held (flock) by the process training this version

Versions are created with ``os.mkdir``, which is atomic, so two trainings started at the
same moment never get the same version.
"""

import contextlib
import fcntl
import glob
import json
import os
import re
import shutil
import time

from absl import logging

from wgan import config
from wgan.util.files import file_digest, write_atomic
from wgan.errors import ConfigError, RunError

CKPT_DIR = "ckpt"
SNAPSHOT_DIR = "snapshots"
HPARAMS_FILE = "hyperparameters.json"
HPARAMS_DIGEST = ".hyperparameters.sha256"  # written with it: load_hparams refuses a changed file
SNAPSHOTS_FILE = "snapshots.jsonl"
METRICS_FILE = "metrics.jsonl"
EVALUATIONS_FILE = "evaluations.jsonl"
HEALTH_FILE = "health.jsonl"
BEST_FILE = "best.json"
BEST_DIR = "best"
# ``-v 2.best``: the snapshot name of a run's best evaluated checkpoint.
BEST = "best"
_VERSION_DIR = re.compile(r"^v(\d+)$")
# Snapshot checkpoints as training saves them (wgan.runs.checkpoints.SNAPSHOT_DIR, name "snapshot").
_SNAPSHOT_FILES = os.path.join(SNAPSHOT_DIR, "snapshot-*.index")


def run_root(checkpoint_dir, hp):
    """``<checkpoint_dir>/<model>-<data>[-<architecture>][-c<crop>]-r<resize>`` (``config.run_name``)."""
    return os.path.join(checkpoint_dir, hp.run_name)


def find_run_roots(checkpoint_dir, model, data, crop=None, resize=None, architecture=None):
    """Run roots under ``checkpoint_dir`` of ``model`` on ``data``, whatever hyperparameter file made them.

    A root is ``<model>-<data>[-<architecture>][-c<crop>][-r<resize>]`` holding at least one
    complete version; ``crop`` (0: none) and ``resize`` narrow the match when given, and so
    does ``architecture`` (dcgan, infogan and mlp runs have no architecture part); None
    matches any. Sorted paths.
    """
    from wgan.models import ARCHITECTURES  # the registry alone, no TensorFlow

    if not os.path.isdir(checkpoint_dir):
        return []
    stem = re.escape(config.run_name(model, data, architecture=architecture))
    if architecture is None:
        named = [re.escape(name) for name, entry in ARCHITECTURES.items() if entry.named]
        stem += f"(-(?:{'|'.join(named)}))?" if named else ""
    crop_part = "" if crop == 0 else (rf"-c{crop}" if crop else r"(-c\d+)?")
    resize_part = rf"-r{resize}" if resize else r"(-r\d+)?"
    pattern = re.compile(f"^{stem}{crop_part}{resize_part}$")
    return sorted(os.path.join(checkpoint_dir, name) for name in os.listdir(checkpoint_dir)
                  if pattern.match(name) and list_versions(os.path.join(checkpoint_dir, name)))


def existing_root(checkpoint_dir, model, data, crop=None, resize=None, hparams=None, architecture=None):
    """The run root of an existing run of ``model`` on ``data``, without needing its hyperparameter file.

    A run folder describes itself (its hyperparameters.json), so reopening it needs no file:
    the root that the hyperparameter file gives (``hparams``, else
    ``hyperparameter/<model>-<data>[-<architecture>].json``, with ``crop``/``resize``/``architecture``
    applied) is used when it exists or when ``hparams`` was given; otherwise the one root of
    this model, data and architecture in ``checkpoint_dir`` (``find_run_roots``, narrowed by
    ``crop``/``resize``).

    Raises:
        RunError: several candidate roots (listed; choose with crop/resize).
        ConfigError: no candidate root and the hyperparameter file is missing or invalid.
    """
    try:
        hp = config.resolve(model, data, crop, resize, hparams, architecture=architecture)
        root, problem = run_root(checkpoint_dir, hp), None
    except ConfigError as err:  # no default file for this data, for instance
        if hparams:
            raise
        root, problem = None, err
    if root is not None and (os.path.isdir(root) or hparams):
        return root
    found = find_run_roots(checkpoint_dir, model, data, crop, resize, architecture)
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        names = ", ".join(os.path.basename(p) for p in found)
        raise RunError(f"several runs of {model} on {data} in {checkpoint_dir}: {names}; "
                       "choose one with -c/-r or --architecture (or --hparams)")
    if problem is not None:
        raise problem
    return root


def version_dir(root, version):
    return os.path.join(root, f"v{version}")


def version_number(vdir):
    """``.../v3`` -> 3."""
    return int(_VERSION_DIR.match(os.path.basename(os.path.normpath(vdir))).group(1))


def list_versions(root, complete_only=True):
    """Sorted version numbers under ``root``.

    ``complete_only`` skips folders without a hyperparameters file: ones another process
    has created this instant and not yet filled.
    """
    if not os.path.isdir(root):
        return []
    found = []
    for name in os.listdir(root):
        match = _VERSION_DIR.match(name)
        if match and (not complete_only or os.path.isfile(os.path.join(root, name, HPARAMS_FILE))):
            found.append(int(match.group(1)))
    return sorted(found)


def checkpoint_step(path):
    """The generator step in a checkpoint prefix's name (``.../ckpt-1500`` -> 1500)."""
    return int(path.rsplit("-", 1)[1])


def latest_step(vdir):
    """The step of the newest checkpoint in ``vdir/ckpt`` (0 for a run that never saved).

    Read from the checkpoints' ``.index`` file names, without TensorFlow (and without
    trusting TensorFlow's ``checkpoint`` state file, which a crash can damage). Whether
    that checkpoint can be read is ``wgan.runs.checkpoints``' business: training falls back
    past an unreadable one and still ends at the step planned from this one.
    """
    steps = [checkpoint_step(path[: -len(".index")])
             for path in glob.glob(os.path.join(glob.escape(os.path.join(vdir, CKPT_DIR)), "*-*.index"))
             if re.search(r"-\d+\.index$", path)]
    return max(steps, default=0)


def load_hparams(vdir):
    """The run's stored hyperparameters.

    Raises:
        ConfigError: the file is invalid, or differs from the sha256 written beside it when
            the run was created (a damaged byte can leave valid JSON with other values).
    """
    path = os.path.join(vdir, HPARAMS_FILE)
    digest_path = os.path.join(vdir, HPARAMS_DIGEST)
    if os.path.exists(digest_path) and os.path.exists(path):
        actual = file_digest(path)[1]
        with open(digest_path, encoding="utf-8", errors="replace") as f:
            expected = f.read().strip()
        if actual != expected:
            raise ConfigError(f"{path} differs from the sha256 written with it ({digest_path}): it was damaged or "
                              f"edited. Restore it, or delete {HPARAMS_DIGEST} if you changed it on purpose")
    return config.load(path)


class RunLock:
    """An exclusive, non-blocking ``flock`` on ``<version>/.lock``; released when the process dies."""

    def __init__(self, vdir):
        self.path = os.path.join(vdir, ".lock")
        self._fd = None

    def acquire(self):
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return True

    def release(self):
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def _create_version(root, hp):
    os.makedirs(root, exist_ok=True)
    number = max(list_versions(root, complete_only=False), default=0) + 1
    while True:
        vdir = version_dir(root, number)
        try:
            os.mkdir(vdir)  # atomic: exactly one process wins each number
        except FileExistsError:
            number += 1
            continue
        # Lock before the hyperparameters appear, so no other process can match and take it.
        lock = RunLock(vdir)
        lock.acquire()
        path = os.path.join(vdir, HPARAMS_FILE)
        write_atomic(path, hp.to_json())
        write_atomic(os.path.join(vdir, HPARAMS_DIGEST), file_digest(path)[1] + "\n")
        return number, vdir, lock


def matching_versions(root, hp, ignore=()):
    """The versions under run root ``root`` whose stored hyperparameters equal ``hp``, newest first.

    ``ignore``: top-level keys left out of the comparison (a budget run's ``train_steps``,
    which the budget fixed by timing: ``wgan.train.budget``). Keys that change only how fast
    a run goes, never what it computes (``config.SPEED_ONLY_KEYS``: ``steps_per_call``), are
    always left out, so a run started with another value of them, or before their default
    changed, is resumed. Stored files go through the schema, so a run stored before a key
    existed matches with that key's default; an unreadable one is passed over with a warning.
    """
    ignore = set(ignore) | set(config.SPEED_ONLY_KEYS)

    def comparable(values):
        return {k: v for k, v in values.items() if k not in ignore}

    wanted = comparable(hp.to_dict())
    found = []
    for number in reversed(list_versions(root)):
        path = os.path.join(version_dir(root, number), HPARAMS_FILE)
        try:
            stored = config.from_dict(config.read_json(path)).to_dict()
        except Exception as err:  # an unreadable old run is not ours to resume
            logging.warning("not resuming v%d: %s cannot be read (%s)", number, path,
                            str(err).splitlines()[0] if str(err) else err)
            continue
        if comparable(stored) == wanted:
            found.append(number)
    return found


def open_run(checkpoint_dir, hp, version=None):
    """Pick the version folder a training writes to, and lock it.

    Without ``version``: the newest version whose stored hyperparameters equal ``hp`` is
    resumed; when none matches (or every match is being trained by another process) the next
    ``v<N>`` is created. With ``version``: that version resumes with its stored
    hyperparameters and ``hp`` is ignored.

    Returns ``(number, folder, hparams, lock, resumed)``; the caller releases ``lock``.
    """
    root = run_root(checkpoint_dir, hp)
    if version is not None:
        vdir = version_dir(root, version)
        if version not in list_versions(root):
            raise RunError(f"no run v{version} in {root}; {describe_versions(root)}")
        lock = RunLock(vdir)
        if not lock.acquire():
            raise RunError(f"{vdir} is being trained by another process (see {lock.path})")
        return version, vdir, load_hparams(vdir), lock, True

    for number in matching_versions(root, hp):
        lock = RunLock(version_dir(root, number))
        if lock.acquire():
            return number, version_dir(root, number), hp, lock, True
    number, vdir, lock = _create_version(root, hp)
    return number, vdir, hp, lock, False


@contextlib.contextmanager
def removed_if_unsaved(vdir, created):
    """Delete version folder ``vdir`` when the block fails before anything was saved in it.

    ``created``: this process made ``vdir`` (``open_run`` did not resume it); a resumed
    version is never touched. "Saved" is any subfolder (``ckpt/``, ``snapshots/``): a run
    stopped by bad input before its first checkpoint holds only hyperparameters.json, the
    lock and perhaps empty logs, and would otherwise be matched and resumed as if it had trained.
    """
    try:
        yield
    except BaseException:
        if created and os.path.isdir(vdir) and not any(e.is_dir() for e in os.scandir(vdir)):
            shutil.rmtree(vdir, ignore_errors=True)
            with contextlib.suppress(OSError):  # and the run root, when this was its only version
                os.rmdir(os.path.dirname(vdir))
            logging.info("removed %s: it stopped before saving anything", vdir)
        raise


def describe_versions(root):
    versions = list_versions(root)
    if not versions:
        return f"there are no runs under {root} yet"
    return "existing: " + ", ".join(f"v{v}" for v in versions)


def _same_data(stored, wanted):
    return stored == wanted or os.path.basename(os.path.normpath(stored)) == os.path.basename(os.path.normpath(wanted))


def find_runs(checkpoint_dir, model=None, data=None, crop=None, resize=None, version=None, architecture=None):
    """Run roots (``<checkpoint_dir>/<run name>``, sorted) whose runs match every field given.

    ``model``, ``data`` (a source name or folder), ``crop`` (0: none), ``resize`` and
    ``architecture`` are compared with the newest version's stored hyperparameters; ``version`` (int) keeps the
    roots that hold that ``v<N>``. None matches anything. Unreadable runs are skipped.
    """
    if not os.path.isdir(checkpoint_dir):
        return []
    found = []
    for name in sorted(os.listdir(checkpoint_dir)):
        root = os.path.join(checkpoint_dir, name)
        versions = list_versions(root)
        if not versions or (version is not None and version not in versions):
            continue
        try:
            hp = load_hparams(version_dir(root, versions[-1]))
        except Exception:  # a run another version of the toolkit wrote, or a torn file: not a candidate
            continue
        if ((model is None or hp.model == model) and (data is None or _same_data(hp.data.name, data))
                and (crop is None or (hp.data.crop or 0) == crop) and (resize is None or hp.data.resize == resize)
                and (architecture is None or hp.architecture.name == architecture)):
            found.append(root)
    return found


# ----- snapshots -------------------------------------------------------------------------
def read_jsonl(path):
    """The JSON objects of a JSON-lines file, one per line.

    A line that is not a JSON object (a torn last line after a crash, a flipped byte, even
    one that breaks UTF-8) is skipped with a warning naming the file and line; the other
    lines are still read.
    """
    if not os.path.exists(path):
        return []
    records = []
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            try:
                record = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                record = None
            if isinstance(record, dict):
                records.append(record)
            elif line.strip():
                logging.warning("%s line %d is damaged and was skipped", path, number)
    return records


def append_jsonl(path, record):
    """Append ``record`` as one JSON line.

    A line torn by an earlier crash is ended first, so the new record never fuses with it.

    Raises:
        RunError: the write failed (for example a full disk); the file keeps its earlier lines.
    """
    try:
        with open(path, "ab") as f:
            if f.tell() > 0:
                with open(path, "rb") as existing:
                    existing.seek(-1, os.SEEK_END)
                    if existing.read(1) != b"\n":
                        f.write(b"\n")
            f.write((json.dumps(record, sort_keys=True) + "\n").encode("utf-8"))
            f.flush()
    except OSError as err:
        raise RunError(f"cannot append to {path}: {err.strerror or err}; its earlier lines are kept. "
                       "Free disk space and rerun the same command to resume from the last checkpoint") from None


def list_snapshots(vdir):
    """Snapshots of a version in the order saved: dicts with index, step, epoch, time, path, metrics.

    ``metrics`` merges those stored at training time with later evaluations of the same step
    (``record_evaluation``); a later value of one metric replaces an earlier one. A snapshot
    whose line in snapshots.jsonl was lost (a truncated or damaged file) is still listed,
    from its files in ``snapshots/``, with epoch NaN and ``"recovered": True``.
    """
    evaluated = evaluations(vdir)
    found = []
    for record in read_jsonl(os.path.join(vdir, SNAPSHOTS_FILE)):
        if not _is_snapshot_record(record):
            logging.warning("%s: skipping a damaged snapshot record %.80s", os.path.join(vdir, SNAPSHOTS_FILE), record)
            continue
        if os.path.exists(os.path.join(vdir, record["path"]) + ".index") and all(
                os.path.normpath(record["path"]) != os.path.normpath(r["path"]) for r in found):
            found.append(record)
    listed = {os.path.normpath(record["path"]) for record in found}
    for index_file in glob.glob(os.path.join(glob.escape(vdir), _SNAPSHOT_FILES)):
        path = os.path.relpath(index_file[: -len(".index")], vdir)
        match = re.search(r"-(\d+)$", path)
        if match and os.path.normpath(path) not in listed:
            found.append({"path": path, "step": int(match.group(1)), "epoch": float("nan"), "recovered": True,
                          "time": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(index_file))),
                          "metrics": {}})
    snapshots = []
    for record in sorted(found, key=lambda r: r["step"]):  # saved in step order
        record["index"] = len(snapshots)
        record["metrics"] = {**record.get("metrics", {}), **evaluated.get(record["step"], {})}
        snapshots.append(record)
    return snapshots


def _is_snapshot_record(record):
    """True for a snapshots.jsonl record with the keys and types ``record_snapshot`` writes."""
    if not (isinstance(record.get("path"), str) and isinstance(record.get("step"), int)
            and isinstance(record.get("epoch"), (int, float)) and isinstance(record.get("time", ""), str)
            and isinstance(record.get("metrics", {}), dict)):
        return False
    # The step is also in the file name: a changed digit in either shows as a mismatch.
    named = re.search(r"-(\d+)$", record["path"])
    return named is None or int(named.group(1)) == record["step"]


def record_evaluation(vdir, step, metrics, checkpoint, about=None):
    """Store scalar ``metrics`` ({name: number}) computed for the checkpoint of ``step`` (path ``checkpoint``).

    ``about`` ({name: {extractor, n_fake, n_real, ...}}) says what each was computed with.
    Appended to evaluations.jsonl rather than rewriting snapshots.jsonl, which a training
    may be appending to at the same time.
    """
    record = {"step": int(step), "checkpoint": os.path.relpath(checkpoint, vdir),
              "time": time.strftime("%Y-%m-%d %H:%M:%S"), "metrics": metrics}
    if about:
        record["about"] = about
    append_jsonl(os.path.join(vdir, EVALUATIONS_FILE), record)


def evaluations(vdir):
    """{step: metrics} of every stored evaluation, later ones overriding earlier ones per metric."""
    merged = {}
    for record in read_jsonl(os.path.join(vdir, EVALUATIONS_FILE)):
        if isinstance(record.get("step"), int) and isinstance(record.get("metrics", {}), dict):
            merged.setdefault(record["step"], {}).update(record.get("metrics", {}))
    return merged


def record_snapshot(vdir, prefix, step, epoch, metrics=None):
    """Register a saved snapshot checkpoint (``prefix`` is its path) in snapshots.jsonl."""
    append_jsonl(os.path.join(vdir, SNAPSHOTS_FILE), {
        "path": os.path.relpath(prefix, vdir), "step": int(step), "epoch": float(epoch),
        "time": time.strftime("%Y-%m-%d %H:%M:%S"), "metrics": metrics or {},
    })


# ----- best snapshot and health flags ----------------------------------------------------
def write_best(vdir, prefix, step, epoch, metric, value, higher_is_better):
    """Record the checkpoint ``prefix`` of ``step`` as the run's best on ``metric`` (best.json, atomic)."""
    write_atomic(os.path.join(vdir, BEST_FILE), json.dumps({
        "path": os.path.relpath(prefix, vdir), "step": int(step), "epoch": float(epoch), "metric": metric,
        "value": float(value), "higher_is_better": bool(higher_is_better),
        "time": time.strftime("%Y-%m-%d %H:%M:%S")}, sort_keys=True) + "\n")


def read_best(vdir):
    """The run's best.json record (path, step, epoch, metric, value, ...) or None before any evaluation."""
    path = os.path.join(vdir, BEST_FILE)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def best_record(vdir, primary_metric, is_better):
    """The run's best checkpoint: best.json (written while training), else its best evaluated snapshot, else None.

    ``primary_metric(scalars)`` names the metric to compare and ``is_better(name, a, b)``
    says which of two values wins (``wgan.metrics.evaluation``), so snapshots scored later by
    bin/evaluate.py also count.
    """
    best = read_best(vdir)
    if best is not None:
        return best
    for snapshot in list_snapshots(vdir):
        metric = primary_metric(snapshot["metrics"])
        if metric is not None and (best is None or (best["metric"] == metric
                                                    and is_better(metric, snapshot["metrics"][metric], best["value"]))):
            best = {"path": snapshot["path"], "step": snapshot["step"], "epoch": snapshot["epoch"], "metric": metric,
                    "value": snapshot["metrics"][metric], "time": snapshot["time"]}
    return best


def health_flags(vdir, step):
    """{detector: trip record} of the detectors tripped (and not cleared) at ``step``, from health.jsonl."""
    state = {}
    for record in read_jsonl(os.path.join(vdir, HEALTH_FILE)):
        if record.get("step", 0) <= step:
            state[record["detector"]] = record
    return {name: record for name, record in state.items() if record.get("event") == "trip"}

"""Build a records folder: raw images -> crop/resize in worker processes -> shards + manifest.

Crash safety: shards are written under temporary names and renamed when
complete; the manifest is written last and atomically. A folder without a
manifest is an unfinished build: the reader refuses it and the next build
clears it. Output bytes do not depend on the number of workers: results are
consumed in input order and nothing machine- or time-dependent is recorded.
"""

import contextlib
import functools
import math
import multiprocessing
import os
import signal
import sys

from wgan.util import files
from wgan.util.cpus import available_cpus
from wgan.data import imageops, locks, manifest as manifest_io, raw as raw_io, sources, split as heldout_split
from wgan.util.progress import Progress
from wgan.errors import DataError

# Chosen with benchmarks/bench_data.py: see docs/data.md for the figures.
DEFAULT_COMPRESSION = "none"
COMPRESSIONS = ("none", "gzip")

# Shard size target when no shard count is given: large enough that per-file
# overhead is negligible, small enough that a dataset of a few GB has tens of
# shards for the reader to interleave.
DEFAULT_SHARD_MB = 64.0

# Per-record bytes beyond the pixels (Example framing, shape, label, TFRecord header).
_RECORD_OVERHEAD = 64

EXAMPLES_SHOWN = 5


def _silent(message: str) -> None:
    """``say`` when progress output is off."""


def _check_arguments(resize, crop, shards, workers, compression, shard_mb, channels) -> None:
    def positive(name, value):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise DataError(f"{name} must be a positive integer, got {value!r}")

    if resize is not None:
        positive("resize", resize)
    if channels not in (None, 1, 3):
        raise DataError(f"channels must be 1 (grey) or 3 (colour), got {channels!r}")
    if crop is not None:
        if not isinstance(crop, int) or isinstance(crop, bool) or crop < 0:
            raise DataError(f"crop must be a positive integer (0 or None: no crop), got {crop!r}")
    if shards is not None:
        positive("shards", shards)
    if workers is not None:
        positive("workers", workers)
    if compression not in COMPRESSIONS:
        raise DataError(f"compression must be one of {', '.join(COMPRESSIONS)}, got {compression!r}")
    if not shard_mb > 0:
        raise DataError(f"shard_mb must be positive, got {shard_mb!r}")


def build_settings(data, crop, resize, compression, shards, shard_mb, split, heldout_per_mille, channels) -> dict:
    """Everything that determines a build's output bytes; stored as the manifest's ``build``.

    A rerun with equal settings over a complete folder has nothing to do; a rerun
    with different settings must not silently mix or replace records.
    ``heldout_per_mille`` is recorded only when non-zero, so folders built before the
    held-out split existed still compare equal to a build without one. ``channels``: the
    output channels (``plan``).
    """
    held = {"heldout_per_mille": heldout_per_mille} if heldout_per_mille else {}
    return {**held, 
        "format_version": manifest_io.FORMAT_VERSION,
        # A folder path is identified by its absolute path: two folders with the same
        # base name share a records folder name but not their records.
        "data": os.path.abspath(data) if sources.is_folder_path(data) else data,
        "crop": crop,
        "resize": resize,
        "channels": channels,
        "filter": imageops.RESAMPLE_NAME,
        "compression": compression,
        "shards": shards,
        "shard_mb": None if shards else shard_mb,
        "split": split,
    }


def _differences(old: dict, new: dict) -> str:
    keys = sorted(set(old) | set(new))
    return ", ".join(f"{key} {new.get(key)!r} (built with {old.get(key)!r})"
                     for key in keys if old.get(key) != new.get(key))


def _is_complete(folder: str, settings: dict, overwrite: bool, say) -> bool:
    """True when ``folder`` already holds a verified build with ``settings``.

    Raises:
        DataError: when it holds records from other settings, or records that do not
            match their manifest, and ``overwrite`` is False.
    """
    if overwrite or not os.path.isfile(os.path.join(folder, manifest_io.MANIFEST_NAME)):
        return False
    try:
        existing = manifest_io.verify_records(folder)
    except DataError as err:
        raise DataError(f"{folder} holds unusable records ({err}); pass --overwrite to rebuild") from None
    # Folders built before splits existed hold the training split.
    built = {"split": "train", **(existing.get("build") or {})}
    if built != settings:
        changed = _differences(built, settings)
        raise DataError(f"{folder} was built with other arguments: {changed}; "
                        "pass --overwrite to replace it")
    say(f"{folder} is already complete ({existing['count']} images, "
        f"{_plural(len(existing['shards']), 'shard')}); pass --overwrite to rebuild")
    return True


def _is_build_file(name: str) -> bool:
    # Shards, temporary shards and temporary manifests of this or an earlier build.
    return name.startswith(("shard-", ".shard-", f".{manifest_io.MANIFEST_NAME}.tmp-"))


def _clear(folder: str) -> int:
    """Remove the manifest (first, so the folder stops being readable) and all build files."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(os.path.join(folder, manifest_io.MANIFEST_NAME))
    stale = [name for name in os.listdir(folder) if _is_build_file(name)]
    for name in stale:
        os.remove(os.path.join(folder, name))
    heldout = heldout_split.heldout_dir(folder)
    if os.path.isdir(heldout):
        stale.append(heldout_split.HELDOUT_DIR)
        _clear(heldout)
        with contextlib.suppress(OSError):
            os.rmdir(heldout)
    return len(stale)


def plan(data, resize=None, channels=None, raw_root=raw_io.RAW_ROOT, arrays=None, split="train"):
    """``(resize, channels, raw)``: the output side and channels a build of ``data`` makes.

    ``resize`` and ``channels`` as given win; otherwise a named source gives its defaults
    (``raw`` is then None: it is read only when a build is needed), and a folder of images is
    surveyed (``raw`` is its listing, ``wgan.data.folders``): grey images build grey, one
    common side builds at that side.

    Raises:
        DataError: ``channels`` other than a source of arrays (digits, mnist, ...) stores.
    """
    source = sources.SOURCES.get(data)
    if source is None:
        raw = raw_io.load_raw(data, raw_root, arrays, split)
        return resize or raw.side, channels or raw.channels, raw
    if channels not in (None, source.channels) and source.kind != "folder":
        raise DataError(f"--channels {channels}: {data} is stored with {source.channels} channel"
                        f"{'s' if source.channels > 1 else ''}; --channels applies to folders of image files")
    return resize or sources.default_resize(data), channels or source.channels, None


def _prepared(raw: raw_io.RawData, crop: int | None, resize: int, workers: int):
    """``imageops.prepare`` results for ``raw.items``, in input order."""
    prepare = functools.partial(imageops.prepare, crop=crop, resize=resize, channels=raw.channels)
    if workers == 1:
        yield from map(prepare, raw.items)
        return
    # spawn, not fork: the parent may have TensorFlow's threads running, and forking
    # a multi-threaded process can deadlock the child.
    context = multiprocessing.get_context("spawn")
    # Chunks big enough to amortise inter-process overhead, small enough to balance load.
    chunksize = max(1, min(64, len(raw.items) // (workers * 8)))
    # Workers ignore Ctrl-C: the parent handles it and terminates them.
    with context.Pool(workers, initializer=signal.signal, initargs=(signal.SIGINT, signal.SIG_IGN)) as pool:
        yield from pool.imap(prepare, raw.items, chunksize)


class ShardWriter:
    """Writes records into shards of ``per_shard`` records, each renamed into place when complete."""

    def __init__(self, folder: str, compression: str, per_shard: int):
        # Imported here, not at the top: TensorFlow takes seconds to import, and
        # argument and missing-data errors should be reported before that.
        from wgan.data import records

        self.records = records
        self.folder = folder
        self.compression = compression
        self.per_shard = per_shard
        self.shards = []  # manifest entries of completed shards
        self.writer = None
        self.temp = None
        self.count = 0

    def write(self, record: bytes) -> None:
        """Append one serialized record, starting and completing shards as needed."""
        if self.writer is None:
            name = self.records.shard_name(len(self.shards), self.compression)
            self.temp = files.temp_name(os.path.join(self.folder, name))
            self.writer = self.records.open_writer(self.temp, self.compression)
            self.count = 0
        self.writer.write(record)
        self.count += 1
        if self.count == self.per_shard:
            self.finish_shard()

    def finish_shard(self) -> None:
        """Complete the open shard (if any): close, sync, checksum, rename into place."""
        if self.writer is None:
            return
        self.writer.close()
        self.writer = None
        size, sha256 = files.file_digest(self.temp)
        name = self.records.shard_name(len(self.shards), self.compression)
        files.commit(self.temp, os.path.join(self.folder, name))
        self.shards.append({"file": name, "records": self.count, "bytes": size, "sha256": sha256})

    def abort(self) -> None:
        """Remove everything written: without a manifest these files are of no use."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None
            os.remove(self.temp)
        for shard in self.shards:
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(self.folder, shard["file"]))
        self.shards = []


def _is_write_error(err: BaseException) -> bool:
    """True for a failed write (a full disk, an I/O error), from Python or from TensorFlow's writer."""
    if isinstance(err, OSError):
        return True
    tf = sys.modules.get("tensorflow")  # loaded by the ShardWriter before anything is written
    return tf is not None and isinstance(err, (tf.errors.ResourceExhaustedError, tf.errors.UnknownError,
                                               tf.errors.DataLossError, tf.errors.InternalError))


def _first_line(err: BaseException) -> str:
    text = getattr(err, "message", None) or str(err)
    return (text.strip().splitlines() or [type(err).__name__])[0][:200]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _skip_summary(skipped: dict) -> str:
    return ", ".join(f"{count} {reason}" for reason, count in sorted(skipped.items()))


def _write_shards(data, raw, folder, settings, workers, progress):
    """Prepare every image and write the shards.

    Returns:
        (shard manifest entries, records written, skip counts by reason,
        the first ``EXAMPLES_SHOWN`` skipped items, images/s).
    """
    shape = (settings["resize"], settings["resize"], raw.channels)
    if settings["shards"]:
        per_shard = math.ceil(len(raw.items) / settings["shards"])
    else:
        record_bytes = shape[0] * shape[1] * shape[2] + _RECORD_OVERHEAD
        per_shard = max(1, int(settings["shard_mb"] * 2**20 // record_bytes))
    writer = ShardWriter(folder, settings["compression"], per_shard)
    per_mille = settings.get("heldout_per_mille", 0)
    # Opened (and its folder created) only when the first held-out image comes.
    heldout = ShardWriter(heldout_split.heldout_dir(folder), settings["compression"], per_shard)
    count, skipped, examples = 0, {}, []
    progress = Progress(len(raw.items), progress)
    try:
        with contextlib.closing(_prepared(raw, settings["crop"], settings["resize"], workers)) as results:
            for index, (pixels, reason, detail) in enumerate(results):
                progress.update()
                if pixels is None:
                    skipped[reason] = skipped.get(reason, 0) + 1
                    if len(examples) < EXAMPLES_SHOWN:
                        examples.append({"item": raw.name_of(index, data), "reason": reason, "detail": detail})
                    continue
                label = None if raw.labels is None else raw.labels[index]
                if heldout_split.is_heldout(pixels, per_mille):
                    os.makedirs(heldout.folder, exist_ok=True)
                    heldout.write(writer.records.serialize(pixels, shape, label))
                    continue
                writer.write(writer.records.serialize(pixels, shape, label))
                count += 1
        writer.finish_shard()
        heldout.finish_shard()
    except BaseException as err:
        writer.abort()
        heldout.abort()
        progress.close()  # end the status line before the error is printed
        if _is_write_error(err):
            raise DataError(f"writing the shards of {folder} failed ({_first_line(err)}); removed what was "
                            "written, so nothing half-built can be read. Free disk space and rerun the same "
                            "command") from None
        raise
    progress.close()
    return writer.shards, count, dict(sorted(skipped.items())), examples, progress.rate(), heldout.shards


def _manifest(data, raw, settings, count, skipped, examples, shards) -> dict:
    """The manifest of a finished build (see docs/data.md for the keys)."""
    crop, resize = settings["crop"], settings["resize"]
    return {
        "format_version": manifest_io.FORMAT_VERSION,
        "count": count,
        "height": resize,
        "width": resize,
        "channels": settings["channels"],
        "crop": crop,
        "resize": resize,
        "filter": imageops.RESAMPLE_NAME,
        "no_crop_policy": None if crop else imageops.NO_CROP_POLICY,
        "alpha": imageops.ALPHA_POLICY,
        "compression": settings["compression"],
        "split": settings["split"],
        "labels": raw.labels is not None,
        "num_classes": _num_classes(raw),
        # Present only for labelled records whose classes have names (named sources, class subfolders).
        **({"class_names": list(raw.class_names)} if raw.labels is not None and raw.class_names else {}),
        "source": {"data": data, **raw.origin, "candidates": len(raw.items),
                   "ignored_files": raw.ignored_files},
        "skipped": skipped,
        "skipped_examples": examples,
        "shards": shards,
        "build": settings,
    }


def _num_classes(raw) -> int | None:
    if raw.labels is None:
        return None
    return len(raw.class_names) if raw.class_names else int(raw.labels.max()) + 1


def _write_heldout_manifest(folder, manifest, shards, settings) -> dict:
    """Write ``heldout/dataset_info.json`` (before the main manifest); return the main manifest's entry."""
    count = sum(shard["records"] for shard in shards)
    entry = {"folder": heldout_split.HELDOUT_DIR if shards else None, "count": count,
             "per_mille": settings.get("heldout_per_mille", 0), "rule": heldout_split.RULE}
    if shards:
        manifest_io.write_manifest(heldout_split.heldout_dir(folder), {
            **{k: v for k, v in manifest.items() if k not in ("skipped", "skipped_examples")},
            "count": count, "shards": shards, "split": "heldout"})
    return entry


def build_records(
    data: str,
    resize: int | None,
    crop: int | None,
    output_dir: str,
    shards: int | None = None,
    workers: int | None = None,
    overwrite: bool = False,
    arrays=None,
    progress: bool = True,
    *,
    compression: str = DEFAULT_COMPRESSION,
    shard_mb: float = DEFAULT_SHARD_MB,
    raw_root: str = raw_io.RAW_ROOT,
    split: str = "train",
    heldout_per_mille: int = 0,
    channels: int | None = None,
) -> str:
    """Build the records folder of ``data`` and return its path.

    Every image is center-cropped to ``crop`` (None or 0: the centered short-side
    square), resized to ``resize`` x ``resize`` with Lanczos and stored as raw uint8
    HWC pixels (3 channels, or 1 for digits, mnist, fashion_mnist and folders of grey
    images) with its label where the source has one (a folder: its class subfolders).
    Images that cannot be used are skipped and counted by reason.

    Args:
        data: a named source (see ``sources.SOURCES``) or a folder path.
        resize: output side in pixels; None: the source's default, or for a folder the
            side its images share (``plan``).
        crop: center-crop side applied before the resize, None or 0 for none. No
            per-source default is applied here; callers use ``default_crop``.
        output_dir: parent of the records folder (see ``records_dir``).
        shards: number of shards; None: shards of about ``shard_mb`` MB.
        workers: decoding processes for image files; None: all available cores.
            In-memory array sources are always prepared in this process, which
            measures faster than shipping tiny images to workers.
        overwrite: rebuild even when the folder holds a complete build.
        arrays: ``(images, labels)`` replacing what an array source would load
            (images uint8 [N, H, W] or [N, H, W, C], labels [N] or None).
        progress: print a progress bar and a summary on stderr.
        compression: ``none`` or ``gzip`` (see docs/data.md for the measurements).
        shard_mb: shard size target in MB when ``shards`` is None.
        raw_root: folder the named sources' raw data lives under.
        split: ``train``, or ``test`` for sources that have one (mnist, fashion_mnist,
            cifar10); the test split goes to its own folder (``records_dir(..., split)``)
            and the manifest's ``split`` says which one a folder holds.
        heldout_per_mille: images per 1,000 kept out of training in ``<folder>/heldout/``,
            chosen by content digest (see ``wgan.data.split``); 0 holds nothing out, and so
            do sources with a test split (mnist, fashion_mnist, cifar10), whose test split
            is their held-out part.
            The manifest's ``count`` is the training images; ``heldout.count`` the others.
        channels: 1 (grey) or 3 (colour) output channels; None: the source's own, or for a
            folder 1 exactly when every image is grey (``plan``).

    Raises:
        DataError: bad arguments, missing raw data, no usable image, or an existing
            folder built with other arguments (without ``overwrite``).
    """
    crop = crop or None
    _check_arguments(resize, crop, shards, workers, compression, shard_mb, channels)
    resize, channels, raw = plan(data, resize, channels, raw_root, arrays, split)
    folder = sources.records_dir(output_dir, data, crop, resize, split)
    if not isinstance(heldout_per_mille, int) or not 0 <= heldout_per_mille < 1000:
        raise DataError(f"heldout must be an integer from 0 to 999 (images per 1,000), got {heldout_per_mille!r}")
    if split != "train" or "test" in sources.splits(data):
        heldout_per_mille = 0  # the test split is the held-out part (wgan.data.inputs.heldout_records)
    settings = build_settings(data, crop, resize, compression, shards, shard_mb, split, heldout_per_mille, channels)
    say = functools.partial(print, file=sys.stderr, flush=True) if progress else _silent
    if _is_complete(folder, settings, overwrite, say):
        return folder

    raw = raw or raw_io.load_raw(data, raw_root, arrays, split)
    raw.channels = channels  # prepare() converts every image to the planned mode
    # Worker processes pay off only where decoding dominates. In-memory arrays
    # (digits, keras.datasets, svhn) are prepared faster in this process: pickling
    # each tiny image to a worker and back costs more than cropping it (measured:
    # 60,000 28x28 images at 29,000/s in-process, 22,000/s with 2 workers).
    workers = min(workers or available_cpus(), len(raw.items)) if raw.from_files else 1
    created = not os.path.isdir(folder)
    os.makedirs(folder, exist_ok=True)
    with locks.build_lock(folder):
        # Another build of this folder may have finished while this one waited for the lock.
        if not overwrite and _is_complete(folder, settings, overwrite, say):
            return folder
        with locks.exclusive_readers_lock(folder):  # never clear records a training is reading
            return _build_into(folder, data, raw, settings, workers, progress, created, say)


def _build_into(folder, data, raw, settings, workers, progress, created, say) -> str:
    """Clear ``folder`` and write shards and manifest (under the build and readers locks)."""
    stale = _clear(folder)
    if stale:
        say(f"removed {stale} files of an earlier build from {folder}")
    ignored = f" ({raw.ignored_files} non-image files ignored)" if raw.ignored_files else ""
    say(f"building {folder} from {len(raw.items)} images{ignored} with {_plural(workers, 'worker')}")

    shard_list, count, skipped, examples, rate, heldout_shards = _write_shards(data, raw, folder, settings, workers,
                                                                               progress)
    if count == 0:
        _clear(folder)
        if created:
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        raise DataError(f"no usable image in {data}: all {len(raw.items)} skipped "
                        f"({_skip_summary(skipped)}); first: {examples[0]['item']}: "
                        f"{examples[0]['reason']} ({examples[0]['detail']})")

    manifest = _manifest(data, raw, settings, count, skipped, examples, shard_list)
    manifest["heldout"] = _write_heldout_manifest(folder, manifest, heldout_shards, settings)
    manifest_io.write_manifest(folder, manifest)
    held = manifest["heldout"]["count"]
    say(f"wrote {count} images in {_plural(len(shard_list), 'shard')} to {folder} ({rate:,.0f} img/s)"
        + (f", {held} more held out in {heldout_split.heldout_dir(folder)}" if held else ""))
    if skipped:
        say(f"skipped {sum(skipped.values())} images: {_skip_summary(skipped)}; first ones:")
        for example in examples:
            say(f"  skipped {example['item']}: {example['reason']} ({example['detail']})")
    return folder



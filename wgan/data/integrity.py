"""Damaged records: which shard, which record, and the command that rebuilds them.

Every shard's size and sha256 are in the manifest (``dataset_info.json``), and every
TFRecord carries crc32c checksums of its length and its data, so a flipped or lost byte
is always found, either by the digest or by the record checksum as the record is read.
``verify`` checks all shards (``build_tfrecord.py --verify``, and training at start);
``explain_read_error`` turns a read failure in the middle of training (TensorFlow's
``DataLossError: corrupted record at 294556``, which names no file) into one line naming
the shard and the record.
"""

import os

from wgan.data import manifest as manifest_io, records
from wgan.errors import DataError
from wgan.util.files import file_digest

# Problems listed in one message before the rest are only counted.
_SHOWN = 3
# Bytes a TFRecord adds around each record: 8 length, 4 length crc, 4 data crc.
_FRAMING = 16


def _first_line(err) -> str:
    text = getattr(err, "message", None) or str(err)
    return (text.strip().splitlines() or [type(err).__name__])[0][:200]


def locate_bad_record(path: str, compression: str, expected: int | None = None) -> str | None:
    """Where the shard ``path`` first fails to read: ``"record 37 (byte offset 294556): ..."``.

    Reads the records one by one (TensorFlow checks each record's crc32c). Returns None
    when every record reads back and, with ``expected``, their number is right.
    """
    import tensorflow as tf

    count = offset = 0
    try:
        for record in tf.data.TFRecordDataset(path, compression_type=records.COMPRESSION_TYPES[compression]):
            count += 1
            offset += len(record.numpy()) + _FRAMING
    except tf.errors.OpError as err:
        # Offsets in the file exist only without compression (gzip offsets are of the inflated stream).
        where = f" (byte offset {offset})" if compression == "none" else ""
        return f"record {count}{where} is damaged: {_first_line(err)}"
    if expected is not None and count != expected:
        return f"holds {count} records, {manifest_io.MANIFEST_NAME} says {expected}"
    return None


def shard_problems(folder: str, manifest: dict, checksums: bool = True) -> list[str]:
    """One description per shard that is missing, has the wrong size or (with ``checksums``) digest.

    A shard whose digest differs is read record by record to say which record is damaged.
    """
    problems = []
    for shard in manifest["shards"]:
        path = os.path.join(folder, shard["file"])
        if not os.path.isfile(path):
            problems.append(f"{shard['file']} is missing")
            continue
        size = os.path.getsize(path)
        if size != shard["bytes"]:
            where = locate_bad_record(path, manifest["compression"], shard["records"])
            problems.append(f"{shard['file']} has {size} bytes, not {shard['bytes']}"
                            + (f"; {where}" if where else ""))
            continue
        if checksums and file_digest(path)[1] != shard["sha256"]:
            where = locate_bad_record(path, manifest["compression"], shard["records"])
            problems.append(f"{shard['file']} does not match its sha256; "
                            + (where or "its records read back intact, so the shard was replaced or the "
                                        "manifest changed"))
    return problems


def _summary(problems: list[str]) -> str:
    shown = "; ".join(problems[:_SHOWN])
    more = len(problems) - _SHOWN
    return shown + (f"; and {more} more" if more > 0 else "")


def verify(folder: str, manifest: dict | None = None) -> dict:
    """Check every shard of ``folder`` against its manifest (size and sha256); return the manifest.

    Raises:
        DataError: one line naming every bad shard (the first few, then a count), the
            first damaged record of each, and the command that rebuilds the folder.
    """
    manifest = manifest or manifest_io.read_manifest(folder)
    problems = shard_problems(folder, manifest)
    if problems:
        raise DataError(f"{len(problems)} of {len(manifest['shards'])} shards in {folder} are damaged: "
                        f"{_summary(problems)}. Rebuild with: {manifest_io.rebuild_command(folder, manifest)}")
    return manifest


def explain_read_error(folder: str, err: Exception) -> tuple[str, bool]:
    """What in ``folder`` made reading fail with the TensorFlow error ``err``: (one line, found).

    Rechecks every shard (sizes, digests, and the damaged record of a bad shard).
    ``found`` is False when all shards match the manifest now; the line then says the
    folder may have been changed while it was read.
    """
    try:
        manifest = manifest_io.read_manifest(folder)
    except DataError as gone:
        return (f"the records in {folder} changed while this run read them ({gone}); "
                f"reading had failed with: {_first_line(err)}"), True
    problems = shard_problems(folder, manifest)
    rebuild = manifest_io.rebuild_command(folder, manifest)
    if problems:
        return f"damaged records in {folder}: {_summary(problems)}. Rebuild with: {rebuild}", True
    return (f"reading the records in {folder} failed ({_first_line(err)}), but every shard matches "
            f"{manifest_io.MANIFEST_NAME} now: were they rebuilt while this run read them? "
            f"If the error comes back, rebuild with: {rebuild}"), False


def verify_folder(folder: str) -> str:
    """``verify`` for ``build_tfrecord.py --verify``: the one line to print when every shard is intact.

    Raises:
        DataError: as ``verify`` (and ``read_manifest`` for a missing or damaged manifest).
    """
    manifest = verify(folder)
    total = sum(shard["bytes"] for shard in manifest["shards"])
    return (f"{folder}: all {len(manifest['shards'])} shards match {manifest_io.MANIFEST_NAME} "
            f"({manifest['count']} images, {total / 2**20:.1f} MB, sha256 checked)")

"""The manifest ``dataset_info.json`` of a records folder: writing, reading, checking shards.

The manifest is written last, atomically, by a build that finished; a folder
without one is an unfinished build and is never read. It lists every shard with
its record count, byte size and sha256, so a reader can reject a missing or
truncated shard by its size before training starts.
"""

import json
import os
import shlex

from wgan.errors import DataError
from wgan.util.files import file_digest, write_atomic

MANIFEST_NAME = "dataset_info.json"

# Version of the records layout (features, manifest keys). A reader refuses other versions.
FORMAT_VERSION = 1

_REQUIRED_KEYS = ("format_version", "count", "height", "width", "channels", "compression",
                  "labels", "shards")
_REBUILD = "rebuild it with bin/build_tfrecord.py --overwrite"


def write_manifest(folder: str, manifest: dict) -> str:
    """Write ``manifest`` as ``folder/dataset_info.json`` atomically; return its path.

    The JSON goes to a temporary name first and is moved into place
    (``wgan.util.files.write_atomic``), so a reader sees either no manifest or the complete one.
    """
    path = os.path.join(folder, MANIFEST_NAME)
    write_atomic(path, json.dumps(manifest, indent=2) + "\n")
    return path


def read_manifest(folder: str) -> dict:
    """The manifest of the records folder ``folder``.

    Raises:
        DataError: when the folder or its manifest is missing (an unfinished build
            leaves no manifest), the JSON is corrupt, keys are missing or the
            format version is not ``FORMAT_VERSION``.
    """
    if not os.path.isdir(folder):
        raise DataError(f"records folder {folder} does not exist; build it with bin/build_tfrecord.py")
    path = os.path.join(folder, MANIFEST_NAME)
    if not os.path.isfile(path):
        raise DataError(
            f"{path} is missing: {folder} is not a finished records folder "
            "(was its build interrupted?); run bin/build_tfrecord.py again"
        )
    try:
        with open(path, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataError(f"cannot read {path}: {err}; {_REBUILD}") from None
    if not isinstance(manifest, dict):
        raise DataError(f"{path} is not a JSON object; {_REBUILD}")
    missing = [key for key in _REQUIRED_KEYS if key not in manifest]
    if missing:
        raise DataError(f"{path} lacks {', '.join(missing)}; {_REBUILD}")
    if manifest["format_version"] != FORMAT_VERSION:
        raise DataError(
            f"{path} has records format version {manifest['format_version']}, this code reads "
            f"version {FORMAT_VERSION}; {_REBUILD}"
        )
    shards = manifest["shards"]
    well_formed = isinstance(shards, list) and all(
        isinstance(shard, dict)
        and isinstance(shard.get("file"), str)
        and isinstance(shard.get("records"), int)
        and isinstance(shard.get("bytes"), int)
        and isinstance(shard.get("sha256"), str)
        for shard in shards
    )
    rebuild = f"rebuild it with: {rebuild_command(folder, manifest)}"
    if not well_formed or sum(shard["records"] for shard in shards) != manifest["count"]:
        raise DataError(f"{path} has a malformed shard list; {rebuild}")
    # A damaged manifest that still parses must not reach the reader with nonsense values.
    sizes_ok = all(isinstance(manifest[key], int) and not isinstance(manifest[key], bool) and manifest[key] > 0
                   for key in ("height", "width", "channels"))
    if not sizes_ok or manifest["compression"] not in ("none", "gzip") or not isinstance(manifest["labels"], bool):
        raise DataError(f"{path} has an invalid height, width, channels, compression or labels value; {rebuild}")
    return manifest


def rebuild_command(folder: str, manifest: dict | None = None) -> str:
    """The ``build_tfrecord.py`` command that rebuilds ``folder`` with its recorded arguments.

    Falls back to a generic hint when the manifest (or its ``build`` settings) is unknown.
    """
    build = (manifest or {}).get("build") if isinstance(manifest, dict) else None
    if not isinstance(build, dict) or not build.get("data") or not build.get("resize"):
        return f"bin/build_tfrecord.py ... --overwrite (for {folder})"
    parts = ["python bin/build_tfrecord.py", f"--data {shlex.quote(str(build['data']))}", f"-c {build.get('crop') or 0}",
             f"-r {build['resize']}"]
    if build.get("shards"):
        parts.append(f"--shards {build['shards']}")
    elif build.get("shard_mb") not in (None, 64.0):
        parts.append(f"--shard_mb {build['shard_mb']}")
    if build.get("compression") not in (None, "none"):
        parts.append(f"--compression {build['compression']}")
    if build.get("split") not in (None, "train"):
        parts.append(f"--split {build['split']}")
    parts += [f"--records_dir {shlex.quote(os.path.dirname(os.path.abspath(folder)))}", "--overwrite"]
    return " ".join(parts)


def check_shards(folder: str, manifest: dict, checksums: bool = False) -> list[str]:
    """Paths of the manifest's shards after checking each exists with the recorded size.

    Sizes are checked always (cheap: one ``stat`` per shard, catches truncation);
    with ``checksums`` the sha256 of every shard is compared too (reads every byte).

    Raises:
        DataError: naming the first missing or mismatching shard.
    """
    rebuild = f"rebuild it with: {rebuild_command(folder, manifest)}"
    paths = []
    for shard in manifest["shards"]:
        path = os.path.join(folder, shard["file"])
        if not os.path.isfile(path):
            raise DataError(f"shard {path} listed in {MANIFEST_NAME} is missing; {rebuild}")
        size = os.path.getsize(path)
        if size != shard["bytes"]:
            raise DataError(
                f"shard {path} has {size} bytes but {MANIFEST_NAME} records {shard['bytes']} "
                f"(truncated or changed); {rebuild}"
            )
        if checksums and file_digest(path)[1] != shard["sha256"]:
            raise DataError(f"shard {path} does not match the sha256 in {MANIFEST_NAME}; {rebuild}")
        paths.append(path)
    return paths


def verify_records(folder: str) -> dict:
    """Read the manifest of ``folder`` and check every shard's size and sha256; return the manifest.

    Raises:
        DataError: as ``read_manifest`` and ``check_shards``.
    """
    manifest = read_manifest(folder)
    check_shards(folder, manifest, checksums=True)
    return manifest

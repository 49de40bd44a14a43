#!/usr/bin/env python3
"""Recomputes a GenreKit shard's clip-data checksum with h5py and xxhash, independently of GenreKit, and compares it
with the shard's `checksum` attribute (README, "The shard format"):

    pip install h5py xxhash
    python3 scripts/shard_checksum.py shards/train-00000.h5 [more shards...]

The checksum is XXH64 (seed 0) of one byte stream: every clip's /mel values (float32, row-major, clip by clip), then
/label (int32), /path (each path's UTF-8 bytes and a 0x00 byte), /padded (uint8), /seconds (float32), all
little-endian. Exit status 0 when every shard matches, 1 otherwise.
"""
import sys

import h5py
import numpy as np
import xxhash


def shard_checksum(path: str) -> tuple[str, str | None, str | None]:
    """(computed, stored, stored algorithm) for the shard at `path`."""
    with h5py.File(path, "r") as f:
        hasher = xxhash.xxh64(seed=0)
        mel = f["mel"]
        for first in range(0, mel.shape[0], 64):  # a few clips at a time: shards can be large
            hasher.update(np.ascontiguousarray(mel[first:first + 64], dtype="<f4").tobytes())
        hasher.update(np.asarray(f["label"][()], dtype="<i4").tobytes())
        for p in f["path"][()]:
            hasher.update((p if isinstance(p, bytes) else p.encode()) + b"\0")
        hasher.update(np.asarray(f["padded"][()], dtype="u1").tobytes())
        hasher.update(np.asarray(f["seconds"][()], dtype="<f4").tobytes())

        def attribute(name: str) -> str | None:
            value = f.attrs.get(name)
            return value.decode() if isinstance(value, bytes) else value

        return hasher.hexdigest(), attribute("checksum"), attribute("checksum_algorithm")


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    failures = 0
    for path in paths:
        computed, stored, algorithm = shard_checksum(path)
        if algorithm != "xxh64":
            print(f"{path}: checksum algorithm {algorithm!r}, not 'xxh64' (written by an older GenreKit?)")
            failures += 1
        elif computed != stored:
            print(f"{path}: MISMATCH stored {stored}, computed {computed}")
            failures += 1
        else:
            print(f"{path}: ok {computed}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

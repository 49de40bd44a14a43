#!/usr/bin/env python3
"""Known-answer vectors for GenreKit's XXH64 hashes, from Python's `xxhash` package (an implementation independent
of the libxxhash that GenreKit links). Prints the Swift literals pasted into Tests/ShardsTests/ShardChecksumTests.swift
and Tests/PipelineTests/ContentHashTests.swift. A developer tool: `pip install xxhash numpy`, then
`python3 scripts/make_checksum_vectors.py`.
"""

import numpy as np
import xxhash


def h(data: bytes, seed: int = 0) -> str:
    return xxhash.xxh64(data, seed=seed).hexdigest()


def main() -> None:
    print(f"// xxhash {xxhash.VERSION} (xxHash {xxhash.XXHASH_VERSION})")
    # Byte strings.
    pattern = bytes(i % 251 for i in range(1 << 20))  # 1 MiB: byte i = i mod 251
    print(f'empty       "{h(b"")}"')
    print(f'abc         "{h(b"abc")}"')
    print(f'pattern1MiB "{h(pattern)}"')
    print(f'pattern1MiB seed 22050 "{h(pattern, 22050)}"')

    # The clip data of the tiny shard of ShardChecksumTests.writerStoresAndReaderVerifies: 3 clips of 4 x 5 values
    # (clip c, value j = j + 100 c), labels 0 1 0, paths c/<c>.au, padded 0 1 0, seconds 2.5.
    stream = b"".join((np.arange(20) + 100 * c).astype("<f4").tobytes()
                      for c in range(3))
    stream += np.array([0, 1, 0], dtype="<i4").tobytes()
    stream += b"".join(f"c/{c}.au".encode() + b"\0" for c in range(3))
    stream += bytes([0, 1, 0])
    stream += np.array([2.5, 2.5, 2.5], dtype="<f4").tobytes()
    print(f'tinyShard   "{h(stream)}"  ({len(stream)} bytes)')

    # ContentHash: samples (float32 little-endian, seed = sample rate), bytes (seed 0).
    samples = ((np.arange(1000) % 17 - 8) / 16).astype("<f4")  # exact in float32
    print(f'samples (i % 17 - 8) / 16, 1000, 22050 Hz: 0x{xxhash.xxh64(samples.tobytes(), seed=22050).intdigest():016X}')
    print(f'samples (i % 17 - 8) / 16, 1000, 44100 Hz: 0x{xxhash.xxh64(samples.tobytes(), seed=44100).intdigest():016X}')
    print(f'samples [] 22050 Hz: 0x{xxhash.xxh64(b"", seed=22050).intdigest():016X}')
    for text in ["", "abc", "rock/rock.00000.au", "blues/blues.00042.au"]:
        print(f'bytes "{text}": 0x{xxhash.xxh64(text.encode(), seed=0).intdigest():016X}')
    # Partition.part(of:count:) = xxh64(path) % count + 1 (PartitionTests pins these).
    parts = [xxhash.xxh64(f"rock/rock.0000{i}.au".encode()).intdigest() % 4 + 1 for i in range(8)]
    print(f"partition of rock/rock.0000<i>.au, i < 8, count 4: {parts}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Forward-pass goldens for the musicnn MSD_vgg import (Sources/Pretrained), with numpy only (no TensorFlow).

musicnn's `vgg` (musicnn/models.py) is re-implemented here exactly as TensorFlow runs it at inference, in NHWC
([N, time 187, mel 96, C]): input batch norm; 5 x (conv 3x3 'same' + bias -> ReLU -> batch norm (eps 0.001,
moving statistics) -> max pool 'valid': [4 time, 1 mel] / [2, 2], then 2x2/2 three times, then 4x4/4); dropout
is the identity; flatten in NHWC order (time, mel, channel) -> `pool5`; dense -> logits (sigmoid -> tag
probabilities). The TensorFlow V2 tensor bundle (`.index`: a LevelDB table of BundleEntryProto records;
`.data-00000-of-00001`: raw little-endian tensors) is read and written here by a second, independent
implementation of the format the Swift `TensorBundle` module reads.

Two outputs:

  small   (default; no download needed) a random network of musicnn's architecture with `--filters` (4) filters
          per layer, in TensorFlow's layouts and variable names (with Adam slots and a global step, as in a real
          checkpoint), written as a real tensor bundle
          Tests/PretrainedTests/Fixtures/musicnn-small.{index,data-00000-of-00001}, and its pool5 and logits on
          3 patches in Tests/PretrainedTests/Fixtures/musicnn-small-forward.json.
  wheel   --wheel musicnn-0.1.0-py3-none-any.whl: reads musicnn/MSD_vgg from the wheel and writes its pool5 [256]
          and logits [50] on 2 patches to Tests/PretrainedTests/Fixtures/musicnn-msd-vgg-forward.json.

The patches are not stored: both sides compute them from one formula (see `patch`), in float64 rounded to
float32: x[k][t][m] = 1.5 + sin(0.05 t + 0.3 m + 0.7 k) + 0.5 cos(0.11 (k + 1) t - 0.17 m), t < 187 frames,
m < 96 mel bands (about the range of musicnn's log10(1 + 10000 mel) input).

Usage: python3 scripts/make_musicnn_forward_golden.py [--wheel FILE] [--filters N]
"""
import argparse
import json
import pathlib
import struct
import zipfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests" / "PretrainedTests" / "Fixtures"
FRAMES, MELS, EPS = 187, 96, 0.001
MAGIC = 0xDB4775248B80FB57
POOLS = [((4, 1), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((4, 4), (4, 4))]


# --- CRC-32C (Castagnoli) and TensorFlow's masking ---------------------------------------------------------------

def _crc_table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


CRC_TABLE = _crc_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    table = CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF



def mask(crc):
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def unmask(masked):
    rot = (masked - 0xA282EAD8) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


# --- protobuf wire format ----------------------------------------------------------------------------------------

def varint(value):
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def read_varint(buf, pos):
    result, shift = 0, 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def fields(buf):
    pos = 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = read_varint(buf, pos)
        elif wire == 1:
            value, pos = struct.unpack_from("<Q", buf, pos)[0], pos + 8
        elif wire == 2:
            length, pos = read_varint(buf, pos)
            value, pos = bytes(buf[pos:pos + length]), pos + length
        elif wire == 5:
            value, pos = struct.unpack_from("<I", buf, pos)[0], pos + 4
        else:
            raise ValueError(f"wire type {wire}")
        yield number, value


# --- tensor bundle reader ----------------------------------------------------------------------------------------

def read_block(index, offset, size):
    block = index[offset:offset + size]
    kind = index[offset + size]
    stored = struct.unpack_from("<I", index, offset + size + 1)[0]
    assert kind == 0, "compressed block"
    assert unmask(stored) == crc32c(index[offset:offset + size + 1]), "block checksum"
    restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    limit = len(block) - 4 - 4 * restarts
    pos, key, out = 0, b"", []
    while pos < limit:
        shared, pos = read_varint(block, pos)
        unshared, pos = read_varint(block, pos)
        length, pos = read_varint(block, pos)
        key = key[:shared] + block[pos:pos + unshared]
        pos += unshared
        out.append((key, block[pos:pos + length]))
        pos += length
    return out


def read_bundle(index, data):
    """name -> float32 array in TensorFlow's shape, for every DT_FLOAT tensor (checksums verified)."""
    assert struct.unpack_from("<Q", index, len(index) - 8)[0] == MAGIC, "magic"
    pos = len(index) - 48
    _, pos = read_varint(index, pos)
    _, pos = read_varint(index, pos)
    index_offset, pos = read_varint(index, pos)
    index_size, pos = read_varint(index, pos)
    tensors = {}
    for _, handle in read_block(index, index_offset, index_size):
        offset, p = read_varint(handle, 0)
        size, _ = read_varint(handle, p)
        for key, value in read_block(index, offset, size):
            if key == b"":
                continue
            entry = dict(dtype=0, shape=[], offset=0, size=0, crc=None)
            for number, v in fields(value):
                if number == 1:
                    entry["dtype"] = v
                elif number == 2:
                    for n, dim in fields(v):
                        if n == 2:
                            entry["shape"].append(dict(fields(dim)).get(1, 0))
                elif number == 4:
                    entry["offset"] = v
                elif number == 5:
                    entry["size"] = v
                elif number == 6:
                    entry["crc"] = v
            if entry["dtype"] != 1:
                continue
            raw = data[entry["offset"]:entry["offset"] + entry["size"]]
            assert unmask(entry["crc"]) == crc32c(raw), f"tensor checksum {key}"
            tensors[key.decode()] = np.frombuffer(raw, dtype="<f4").reshape(entry["shape"]).astype(np.float32)
    return tensors


# --- tensor bundle writer ----------------------------------------------------------------------------------------

def block_bytes(pairs, restart_interval=16):
    out, restarts, previous = bytearray(), [], b""
    for i, (key, value) in enumerate(pairs):
        shared = 0
        if i % restart_interval == 0:
            restarts.append(len(out))
        else:
            while shared < min(len(key), len(previous)) and key[shared] == previous[shared]:
                shared += 1
        out += varint(shared) + varint(len(key) - shared) + varint(len(value)) + key[shared:] + value
        previous = key
    restarts = restarts or [0]
    for r in restarts:
        out += struct.pack("<I", r)
    return bytes(out + struct.pack("<I", len(restarts)))


def write_bundle(tensors, block_size=256):
    """(index bytes, data bytes) of a single-shard bundle of `tensors` (name -> float32 or int64 array)."""
    data = bytearray()
    pairs = [(b"", b"\x08\x01" + b"\x1a\x02\x08\x01")]  # num_shards 1, version { producer 1 }
    for name in sorted(tensors, key=lambda n: n.encode()):
        array = tensors[name]
        dtype, raw = (9, array.astype("<i8").tobytes()) if array.dtype == np.int64 else (1, array.astype("<f4").tobytes())
        shape = b"".join(b"\x12" + varint(len(varint(d)) + 1) + b"\x08" + varint(d) for d in array.shape)
        entry = b"\x08" + varint(dtype) + b"\x12" + varint(len(shape)) + shape
        if data:
            entry += b"\x20" + varint(len(data))
        entry += b"\x28" + varint(len(raw)) + b"\x35" + struct.pack("<I", mask(crc32c(raw)))
        pairs.append((name.encode(), entry))
        data += raw
    index, index_pairs, chunk, chunk_size = bytearray(), [], [], 0

    def append(block):
        handle = varint(len(index)) + varint(len(block))
        index.extend(block + b"\x00" + struct.pack("<I", mask(crc32c(block + b"\x00"))))
        return handle

    for key, value in pairs:
        chunk.append((key, value))
        chunk_size += len(key) + len(value)
        if chunk_size >= block_size:
            index_pairs.append((chunk[-1][0], append(block_bytes(chunk))))
            chunk, chunk_size = [], 0
    if chunk:
        index_pairs.append((chunk[-1][0], append(block_bytes(chunk))))
    metaindex = append(block_bytes([]))
    footer = metaindex + append(block_bytes(index_pairs, restart_interval=1))
    footer += b"\x00" * (40 - len(footer)) + struct.pack("<Q", MAGIC)
    return bytes(index + footer), bytes(data)


# --- the network (TensorFlow semantics, NHWC) --------------------------------------------------------------------

def patch(k):
    t = np.arange(FRAMES, dtype=np.float64)[:, None]
    m = np.arange(MELS, dtype=np.float64)[None, :]
    x = 1.5 + np.sin(0.05 * t + 0.3 * m + 0.7 * k) + 0.5 * np.cos(0.11 * (k + 1) * t - 0.17 * m)
    return x.astype(np.float32)


def batch_norm(x, w, prefix):
    g, b = w[prefix + "/gamma"].astype(np.float64), w[prefix + "/beta"].astype(np.float64)
    mean, var = w[prefix + "/moving_mean"].astype(np.float64), w[prefix + "/moving_variance"].astype(np.float64)
    return (x - mean) / np.sqrt(var + EPS) * g + b


def conv_same(x, kernel, bias):
    n, h, wd, c = x.shape
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    cols = np.concatenate([padded[:, dt:dt + h, dm:dm + wd, :] for dt in range(3) for dm in range(3)], axis=3)
    out = cols.reshape(-1, 9 * c) @ kernel.astype(np.float64).reshape(9 * c, -1)
    return out.reshape(n, h, wd, -1) + bias.astype(np.float64)


def max_pool(x, size, stride):
    n, h, wd, c = x.shape
    oh, ow = (h - size[0]) // stride[0] + 1, (wd - size[1]) // stride[1] + 1
    out = np.full((n, oh, ow, c), -np.inf)
    for i in range(size[0]):
        for j in range(size[1]):
            out = np.maximum(out, x[:, i:i + stride[0] * (oh - 1) + 1:stride[0], j:j + stride[1] * (ow - 1) + 1:stride[1], :])
    return out


def forward(w, x):
    """x: [N, 187, 96] -> (pool5 [N, 256] NHWC-flattened, logits [N, tags]), computed in float64."""
    h = batch_norm(x.astype(np.float64)[..., None], w, "batch_normalization")
    for layer, (size, stride) in enumerate(POOLS, start=1):
        h = np.maximum(conv_same(h, w[f"{layer}CNN/kernel"], w[f"{layer}CNN/bias"]), 0)
        h = max_pool(batch_norm(h, w, f"batch_normalization_{layer}"), size, stride)
    pool5 = h.reshape(h.shape[0], -1)
    logits = pool5 @ w["dense/kernel"].astype(np.float64) + w["dense/bias"].astype(np.float64)
    return pool5, logits


def golden(w, patches, extra):
    x = np.stack([patch(k) for k in range(patches)])
    pool5, logits = forward(w, x)
    return {
        **extra,
        "patch_formula": "x[k][t][m] = float32(1.5 + sin(0.05 t + 0.3 m + 0.7 k) + 0.5 cos(0.11 (k + 1) t - 0.17 m))",
        "patches": patches, "frames": FRAMES, "mels": MELS,
        "pool5_nhwc": [[float(v) for v in row] for row in pool5],
        "logits": [[float(v) for v in row] for row in logits],
    }


def random_network(filters, tags=50, seed=7):
    rng = np.random.default_rng(seed)
    f32 = lambda a: np.asarray(a, dtype=np.float32)
    w = {}

    def bn(prefix, channels, mean=0.0, var=1.0):
        w[prefix + "/gamma"] = f32(1 + 0.2 * rng.standard_normal(channels))
        w[prefix + "/beta"] = f32(0.2 * rng.standard_normal(channels))
        w[prefix + "/moving_mean"] = f32(mean + 0.2 * rng.standard_normal(channels))
        w[prefix + "/moving_variance"] = f32(var * rng.uniform(0.5, 1.5, channels))

    bn("batch_normalization", 1, mean=1.5, var=0.6)
    cin = 1
    for layer in range(1, 6):
        w[f"{layer}CNN/kernel"] = f32(rng.standard_normal((3, 3, cin, filters)) * np.sqrt(2 / (9 * cin)))
        w[f"{layer}CNN/bias"] = f32(0.1 * rng.standard_normal(filters))
        bn(f"batch_normalization_{layer}", filters, mean=0.5, var=0.5)
        cin = filters
    w["dense/kernel"] = f32(rng.standard_normal((2 * filters, tags)) * 0.5)
    w["dense/bias"] = f32(0.1 * rng.standard_normal(tags))
    stored = dict(w)
    # What a real checkpoint also holds, which the importer must ignore.
    for name in [n for n in w if not n.endswith("moving_mean") and not n.endswith("moving_variance")]:
        stored[name + "/Adam"] = f32(0.01 * rng.standard_normal(w[name].shape))
        stored[name + "/Adam_1"] = f32(0.001 * rng.uniform(size=w[name].shape))
    stored["beta1_power"] = f32(0.9)
    stored["beta2_power"] = f32(0.999)
    stored["global_step"] = np.asarray(1234, dtype=np.int64)
    return w, stored


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", help="musicnn-0.1.0-py3-none-any.whl: write the MSD_vgg golden")
    parser.add_argument("--filters", type=int, default=4, help="filters per layer of the small network")
    args = parser.parse_args()
    FIXTURES.mkdir(parents=True, exist_ok=True)
    if args.wheel:
        with zipfile.ZipFile(args.wheel) as z:
            index = z.read("musicnn/MSD_vgg/.index")
            data = z.read("musicnn/MSD_vgg/.data-00000-of-00001")
        w = read_bundle(index, data)
        out = FIXTURES / "musicnn-msd-vgg-forward.json"
        result = golden(w, 2, {"source": "musicnn-0.1.0 MSD_vgg", "filters": 128})
    else:
        w, stored = random_network(args.filters)
        index, data = write_bundle(stored)
        assert {k: v.tolist() for k, v in read_bundle(index, data).items()} == \
            {k: v.tolist() for k, v in stored.items() if v.dtype == np.float32}
        (FIXTURES / "musicnn-small.index").write_bytes(index)
        (FIXTURES / "musicnn-small.data-00000-of-00001").write_bytes(data)
        out = FIXTURES / "musicnn-small-forward.json"
        result = golden(w, 3, {"source": "random network, seed 7", "filters": args.filters})
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

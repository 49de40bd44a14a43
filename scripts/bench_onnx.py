#!/usr/bin/env python3
"""`make bench-onnx`: inference throughput of the exported default genre CNN in onnxruntime beside GenreKit's own.

    python3 scripts/bench_onnx.py --genre .build/release/genre [--threads 2] [--batch 32] [--batches 20] [--rounds 3]

1. A checkpoint of the default model (4 x conv3x3-BN-ReLU-maxpool 16/32/64/128, global average pool, dropout,
   linear to 10 classes; input 1x128x128): `genre synth` (4 clips per genre, 3 s), `genre preprocess`
   (pipelines/demo.toml) and one epoch of `genre train` (pipelines/demo-train.toml). The weights do not matter
   for speed; they are real ones so that the export is the one a user makes.
2. `genre export` of it.
3. The same `batches x batch` random windows (standard normal, as normalised features) through both, batch by batch
   after one untimed warm-up batch: onnxruntime on the CPU with intra_op_num_threads = threads (inter-op 1,
   sequential), and `genre export --reference-windows` (the checkpoint's network in evaluation mode, each batch
   split across `threads` threads, Parallelism.batch; only the forward passes are timed, as NetBenchmark does).
   The better of `rounds` interleaved rounds of each; the logits of both must agree to 1e-4.
Prints windows/s of each and the ratio onnxruntime / genre.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np


def run(cmd):
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        sys.stdout.write(result.stdout)
        raise SystemExit(f"bench-onnx: failed ({result.returncode}): {' '.join(cmd)}")
    return result.stdout


def make_checkpoint(genre, work):
    corpus, shards, run_dir = (os.path.join(work, name) for name in ("corpus", "shards", "run"))
    pipeline = os.path.join(work, "pipeline.toml")
    with open("pipelines/demo.toml") as f:
        text = f.read()
    with open(pipeline, "w") as f:  # 3 s clips: one 128-frame window each, a fast preprocessing
        f.write(re.sub(r"(?m)^clip_seconds = .*$", "clip_seconds = 3.0", text))
    run([genre, "synth", corpus, "--clips-per-genre", "4", "--seconds", "3", "--seed", "11"])
    run([genre, "preprocess", "--corpus", corpus, "--pipeline", pipeline, "--out", shards, "--jobs", "2"])
    run([genre, "train", "--shards", shards, "--out", run_dir, "--config", "pipelines/demo-train.toml", "--epochs", "1"])
    return os.path.join(run_dir, "best.h5")


def onnxruntime_rate(model, windows, batch, threads):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    session.run(["logits"], {"spectrogram": windows[:batch]})  # warm-up
    outputs = []
    start = time.perf_counter()
    for i in range(0, len(windows), batch):
        outputs.append(session.run(["logits"], {"spectrogram": windows[i:i + batch]})[0])
    seconds = time.perf_counter() - start
    return len(windows) / seconds, np.concatenate(outputs)


def genre_rate(genre, checkpoint, windows_path, logits_path, count, batch, threads):
    out = run([genre, "export", "--checkpoint", checkpoint, "--reference-windows", windows_path,
               "--reference-logits", logits_path, "--reference-batch", str(batch), "--reference-threads", str(threads)])
    match = re.search(r"\(([0-9.]+) windows/s", out)
    if not match:
        raise SystemExit(f"bench-onnx: unexpected output of genre export --reference-windows: {out}")
    return float(match.group(1)), np.fromfile(logits_path, dtype="<f4").reshape(count, -1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genre", default=".build/release/genre")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    try:
        import onnxruntime  # noqa: F401
    except ImportError as error:
        print(f"bench-onnx: skipped, python3 cannot import onnxruntime ({error}); make setup installs it")
        return
    with tempfile.TemporaryDirectory(prefix="genrekit-bench-onnx-") as work:
        checkpoint = make_checkpoint(args.genre, work)
        model = os.path.join(work, "model.onnx")
        print(run([args.genre, "export", "--checkpoint", checkpoint, "--onnx", model]).strip())
        count = args.batch * args.batches
        windows = np.random.default_rng(0).standard_normal((count, 1, 128, 128)).astype(np.float32)
        windows_path, logits_path = os.path.join(work, "windows.f32"), os.path.join(work, "logits.f32")
        windows.astype("<f4").tofile(windows_path)
        best_ort = best_genre = 0.0
        for _ in range(args.rounds):
            rate, ort_logits = onnxruntime_rate(model, windows, args.batch, args.threads)
            best_ort = max(best_ort, rate)
            rate, genre_logits = genre_rate(args.genre, checkpoint, windows_path, logits_path, count, args.batch,
                                            args.threads)
            best_genre = max(best_genre, rate)
        difference = float(np.max(np.abs(ort_logits - genre_logits)))
        print(f"default genre CNN, 1x128x128 windows, batch {args.batch}, {args.threads} threads, {count} windows, "
              f"best of {args.rounds} rounds:")
        print(f"  onnxruntime {onnxruntime.__version__}: {best_ort:8.1f} windows/s")
        print(f"  genre:                {best_genre:8.1f} windows/s")
        print(f"  ratio onnxruntime / genre: {best_ort / best_genre:.2f}   (max |logits difference| {difference:.2g})")
        if difference > 1e-4:
            raise SystemExit("bench-onnx: onnxruntime and genre disagree by more than 1e-4")


if __name__ == "__main__":
    main()

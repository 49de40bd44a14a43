#!/usr/bin/env python3
"""Checks a model written by `genre export` with the real ONNX tools: onnx.checker.check_model(full_check=True),
then onnxruntime (CPU, 2 threads) on spectrogram windows, compared with GenreKit's own logits for the same windows.

Two modes:

  check_onnx.py case DIR
      DIR/case.json (written by Tests/OnnxExportTests) names the model and one or more runs, each a raw float32
      input file with its shape and GenreKit's logits and probabilities for it (raw float32, little-endian,
      row-major). Several runs of different frame counts check a dynamic "frames" dimension.

  check_onnx.py shards --model OUT.onnx --checkpoint best.h5 --shards DIR [--split test] [--clips 3] [--genre GENRE]
      Reads the first clips of a split from the shards (h5py), cuts their evaluation windows as GenreKit does
      (window_frames and window_hop from the model's metadata, inside each clip's audio frames), asks
      `genre export --reference-windows` for GenreKit's logits on exactly those windows, and compares.

Prints one line per run and a last line of JSON: {"checker": "ok", "runs": n, "max_abs_logits": d,
"max_abs_probabilities": d}. Exits 0 when both maxima are <= --tolerance (1e-4), 1 otherwise, 2 when the model fails
the checker.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort


def session(model_path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])


def check_model(model_path):
    model = onnx.load(model_path)
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as error:  # the checker's own message, on one line
        print(f"error: {model_path}: onnx.checker: {str(error).splitlines()[0]}", file=sys.stderr)
        sys.exit(2)
    return model


def compare(sess, inputs, logits, probabilities, label):
    out_logits, out_probabilities = sess.run(["logits", "probabilities"], {"spectrogram": inputs})
    d_logits = float(np.max(np.abs(out_logits - logits))) if logits.size else 0.0
    d_probabilities = float(np.max(np.abs(out_probabilities - probabilities))) if probabilities.size else 0.0
    print(f"{label}: input {list(inputs.shape)}, max |logits - genre| {d_logits:.3g}, "
          f"max |probabilities - genre| {d_probabilities:.3g}")
    return d_logits, d_probabilities


def probabilities_of(logits, output):
    if output == "sigmoid":
        return 1 / (1 + np.exp(-logits.astype(np.float64)))
    shifted = logits.astype(np.float64) - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def run_case(args):
    with open(os.path.join(args.directory, "case.json")) as f:
        case = json.load(f)
    path = lambda name: os.path.join(args.directory, name)
    check_model(path(case["model"]))
    sess = session(path(case["model"]))
    results = []
    for i, run in enumerate(case["runs"]):
        shape = run["shape"]
        inputs = np.fromfile(path(run["input"]), dtype="<f4").reshape(shape)
        logits = np.fromfile(path(run["logits"]), dtype="<f4").reshape(shape[0], -1)
        probabilities = np.fromfile(path(run["probabilities"]), dtype="<f4").reshape(shape[0], -1)
        results.append(compare(sess, inputs, logits, probabilities, f"run {i}"))
    return results


def audio_frames(seconds, pipeline, frames):
    """GenreKit's SpectrogramTiming.audioFrames(seconds:), at most the clip's frames."""
    rate, n_fft, hop = pipeline["audio"]["sample_rate"], pipeline["stft"]["n_fft"], pipeline["stft"]["hop_length"]
    samples = math.floor(max(float(seconds), 0.0) * rate + 0.5) if math.isfinite(seconds) else 0
    padded = samples + 2 * (n_fft // 2) if pipeline["stft"]["center"] else samples
    count = 0 if padded < n_fft else 1 + (padded - n_fft) // hop
    return min(frames, count)


def window_starts(audio, window, hop):
    """GenreKit's ClipWindows.starts(audioFrames:windowFrames:hop:)."""
    if audio <= window:
        return [0]
    starts = list(range(0, audio - window + 1, hop))
    if starts[-1] + window < audio:
        starts.append(audio - window)
    return starts


def run_shards(args):
    import h5py

    model = check_model(args.model)
    metadata = {p.key: p.value for p in model.metadata_props}
    window = int(metadata["genrekit.window_frames"])
    hop = int(metadata["genrekit.window_hop"])
    pipeline = json.loads(metadata["genrekit.pipeline"])
    names = sorted(n for n in os.listdir(args.shards) if n.startswith(args.split + "-") and n.endswith(".h5"))
    windows, clips = [], 0
    for name in names:
        with h5py.File(os.path.join(args.shards, name), "r") as shard:
            mel, seconds = shard["mel"], shard["seconds"][:]
            for c in range(mel.shape[0]):
                if clips == args.clips:
                    break
                features = mel[c]  # [n_mels, frames], already normalised
                audio = audio_frames(seconds[c], pipeline, features.shape[1])
                for start in window_starts(audio, window, hop):
                    part = np.zeros((features.shape[0], window), dtype=np.float32)
                    usable = features[:, start:start + window]
                    part[:, :usable.shape[1]] = usable
                    windows.append(part)
                clips += 1
    if not windows:
        print(f"error: {args.shards}: no {args.split} clips", file=sys.stderr)
        sys.exit(1)
    inputs = np.stack(windows)[:, None, :, :].astype(np.float32)
    with tempfile.TemporaryDirectory() as work:
        windows_path, logits_path = os.path.join(work, "windows.f32"), os.path.join(work, "logits.f32")
        inputs.astype("<f4").tofile(windows_path)
        subprocess.run([args.genre, "export", "--checkpoint", args.checkpoint, "--reference-windows", windows_path,
                        "--reference-logits", logits_path], check=True)
        logits = np.fromfile(logits_path, dtype="<f4").reshape(inputs.shape[0], -1)
    probabilities = probabilities_of(logits, metadata["genrekit.output"]).astype(np.float32)
    return [compare(session(args.model), inputs, logits, probabilities, f"{clips} {args.split} clips")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tolerance", type=float, default=1e-4)
    modes = parser.add_subparsers(dest="mode", required=True)
    case = modes.add_parser("case")
    case.add_argument("directory")
    shards = modes.add_parser("shards")
    shards.add_argument("--model", required=True)
    shards.add_argument("--checkpoint", required=True)
    shards.add_argument("--shards", required=True)
    shards.add_argument("--split", default="test")
    shards.add_argument("--clips", type=int, default=3)
    shards.add_argument("--genre", default=".build/release/genre")
    args = parser.parse_args()
    results = run_case(args) if args.mode == "case" else run_shards(args)
    d_logits = max(r[0] for r in results)
    d_probabilities = max(r[1] for r in results)
    print(json.dumps({"checker": "ok", "runs": len(results), "max_abs_logits": d_logits,
                      "max_abs_probabilities": d_probabilities}))
    sys.exit(0 if d_logits <= args.tolerance and d_probabilities <= args.tolerance else 1)


if __name__ == "__main__":
    main()

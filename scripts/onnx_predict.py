#!/usr/bin/env python3
"""Predict with an exported GenreKit model and nothing of GenreKit: librosa + onnxruntime, from the model's metadata.

    python3 scripts/onnx_predict.py MODEL.onnx AUDIO... [--top 3] [--compare GENRE_PREDICT.json] [--tolerance 1e-4]

The reference deployment of `genre export`: everything this script needs to rebuild GenreKit's input exactly is in
the model's `genrekit.*` metadata (see README, "Export to ONNX"):

1. `librosa.load(path, sr=rate, mono=True, res_type=...)` with the pipeline's resampler (soxr-hq -> "soxr_hq", ...);
2. `librosa.feature.melspectrogram` with the pipeline's STFT and mel parameters (power 2, zero padding when centred);
3. the compression: `power_to_db(ref, amin, top_db)` or `log10(1 + scale * S)`;
4. the normalisation: `(x - norm_mean[band]) / norm_std[band]` (or none);
5. the windows: `window_frames` frames every `window_hop` frames plus one ending at the last frame (one window at 0,
   zero-padded, when the file is shorter);
6. onnxruntime on the windows; the clip's probabilities are the softmax of the mean window logits (a tagger: the
   mean of the windows' sigmoids).

Prints each file's likeliest classes. `--compare` takes the JSON `genre predict --json` printed for the same files
and checks every file's clip probabilities against it: exits 1 when one differs by more than `--tolerance`.
"""
import argparse
import json
import sys

import librosa
import numpy as np
import onnxruntime as ort

RES_TYPES = {"soxr-hq": "soxr_hq", "soxr-vhq": "soxr_vhq", "sinc-best": "sinc_best",
             "sinc-medium": "sinc_medium", "sinc-fastest": "sinc_fastest"}


def features(path, pipeline, mean, std):
    """The normalised log-mel spectrogram [n_mels, frames] of a whole file, as GenreKit computes it."""
    audio, stft, mel, db = pipeline["audio"], pipeline["stft"], pipeline["mel"], pipeline["db"]
    rate = audio["sample_rate"]
    y, _ = librosa.load(path, sr=rate, mono=True, res_type=RES_TYPES[audio["resampler"]])
    S = librosa.feature.melspectrogram(
        y=y, sr=rate, n_fft=stft["n_fft"], hop_length=stft["hop_length"], center=stft["center"],
        pad_mode="constant", power=2.0, n_mels=mel["n_mels"], fmin=mel["fmin"], fmax=mel.get("fmax"),
        htk=mel["scale"] == "htk", norm="slaney" if mel["norm"] == "slaney" else None)
    if db["kind"] == "log1p":
        x = np.log10(1 + db["scale"] * S)
    else:
        top_db = db.get("top_db")
        x = librosa.power_to_db(S, ref=db["ref"], amin=db["amin"], top_db=None if top_db is False else top_db)
    if pipeline["normalise"]["kind"] == "per-band":
        x = (x - mean[:, None]) / std[:, None]
    return x.astype(np.float32)


def window_starts(frames, window, hop):
    """GenreKit's evaluation windows (ClipWindows.starts)."""
    if frames <= window:
        return [0]
    starts = list(range(0, frames - window + 1, hop))
    if starts[-1] + window < frames:
        starts.append(frames - window)
    return starts


def predict(session, meta, path):
    pipeline = json.loads(meta["genrekit.pipeline"])
    mean = np.array(json.loads(meta["genrekit.norm_mean"]), dtype=np.float32)
    std = np.array(json.loads(meta["genrekit.norm_std"]), dtype=np.float32)
    window, hop = int(meta["genrekit.window_frames"]), int(meta["genrekit.window_hop"])
    x = features(path, pipeline, mean, std)
    starts = window_starts(x.shape[1], window, hop)
    batch = np.zeros((len(starts), 1, x.shape[0], window), dtype=np.float32)
    for w, s in enumerate(starts):
        part = x[:, s:s + window]
        batch[w, 0, :, :part.shape[1]] = part
    logits = session.run(["logits"], {"spectrogram": batch})[0].astype(np.float64)
    if meta["genrekit.output"] == "sigmoid":
        return (1 / (1 + np.exp(-logits))).mean(axis=0)
    mean_logits = logits.mean(axis=0)
    e = np.exp(mean_logits - mean_logits.max())
    return e / e.sum()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("audio", nargs="+")
    parser.add_argument("--top", type=int, default=3)
    parser.add_argument("--compare", help="JSON printed by `genre predict --json` for the same files")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    classes = json.loads(meta["genrekit.classes"])
    reference = {}
    if args.compare:
        with open(args.compare) as fh:
            report = json.load(fh)
        reference = {p["path"]: np.array(p["probabilities"]) for p in report["predictions"]}
    worst = 0.0
    for path in args.audio:
        p = predict(session, meta, path)
        top = np.argsort(-p)[:args.top]
        print(f"{path}: " + ", ".join(f"{classes[i]} {100 * p[i]:.1f}%" for i in top))
        if args.compare:
            if path not in reference:
                sys.exit(f"onnx_predict: {path} is not in {args.compare}")
            worst = max(worst, float(np.abs(p - reference[path]).max()))
    if args.compare:
        print(f"largest difference from genre predict: {worst:.2e} (tolerance {args.tolerance:g})")
        if not worst <= args.tolerance:
            sys.exit(1)


if __name__ == "__main__":
    main()

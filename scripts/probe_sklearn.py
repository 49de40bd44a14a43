#!/usr/bin/env python3
"""The Python reference of GenreKit's linear probe on musicnn embeddings, run on one fold's GenreKit shards (CPU).

    python3 scripts/probe_sklearn.py --shards DIR --checkpoint models/musicnn-msd-vgg.h5 [--threads 2]
        [--json OUT] [--embeddings-out FILE.npz]
    python3 scripts/probe_sklearn.py --embeddings-in FILE.npz [--threads 2] [--json OUT]

DIR is a shard folder written by `genre preprocess` or `genre crossval` with the musicnn front end (train-*.h5,
valid-*.h5, test-*.h5 with `mel` float32 [clips, 96, frames], `label`, `seconds` and the attributes `classes` and
`configuration`); the mel values are fed to the network as stored. FILE is a GenreKit checkpoint holding the musicnn
VGG's weights (`/model/<name>`, see scripts/musicnn_torch.py, which computes the embeddings).

- clip embedding: the mean (float64) over the clip's windows of the 306-vector [pool5 (256), sigmoid tags (50)];
  windows of 187 frames with hop 187 that hold audio: starts 0, 187, 374, ... while a window fits within the clip's
  audio frames (1 + floor(samples / hop_length), centred STFT), plus one ending at the last audio frame; a clip
  shorter than a window gets one window at 0 (scripts/torch_crossval.py's `windows`, GenreKit's window rule).
- standardisation: mean and standard deviation (ddof 0) per feature over the train clips, a zero deviation
  counting as 1; applied to train, valid and test.
- classifier: scikit-learn LogisticRegression, multinomial (softmax) with lbfgs, L2, with intercept (unpenalised),
  max_iter 5000, tol 1e-8: minimises 0.5 ||W||^2 + C sum_i cross-entropy_i over the train clips.
- C from [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10]: the best valid accuracy; ties go to the lower valid
  log-loss (natural log, mean over the clips), then to the smaller C. The model fitted on train with that C is
  scored on test.

Prints and (`--json`) writes, in torch_crossval.py's shape: test accuracy, macro-F1 (over the classes present in
the truth or the predictions), per-class F1 with support, the confusion matrix (rows truth, columns prediction),
plus the chosen C, the grid's valid accuracies and log-losses, seconds for the embeddings and for the fits, and
peak RSS. `--embeddings-out` writes the per-clip embeddings before standardisation as .npz: `train_x`, `valid_x`,
`test_x` (float64 [clips, 306]), `train_y`, ... (int64), `train_path`, ... (the shards' `path`, if present),
`train_windows`, ... (windows per clip) and `classes`, in shard order (shards sorted by name, clips in order).
`--embeddings-in` skips the network and fits the probe on such a file (e.g. one holding GenreKit's embeddings
under the same keys; `*_windows` and `*_path` optional), so the fit can be compared apart from the embeddings.
"""
import argparse
import glob
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from musicnn_torch import FRAMES, MELS, embed, load_checkpoint, write_json  # noqa: E402
from torch_crossval import load_split, test_scores, windows  # noqa: E402

GRID = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10]
SPLITS = ("train", "valid", "test")


def shard_paths(shards, split):
    """The shards' per-clip `path` strings in load_split's order, or None when a shard has none."""
    import h5py
    paths = []
    for path in sorted(glob.glob(os.path.join(shards, f"{split}-*.h5"))):
        with h5py.File(path, "r") as h:
            if "path" not in h:
                return None
            paths += [p.decode() if isinstance(p, bytes) else str(p) for p in h["path"][:]]
    return paths


def clip_embeddings(model, mel, seconds, pipeline, batch=32):
    """[clips, 306] float64: per clip, the mean over its windows of [pool5, sigmoid tags]; and windows per clip."""
    import numpy as np
    rows = [(i, s) for i in range(len(mel)) for s in windows(seconds[i], mel.shape[2], FRAMES, FRAMES, pipeline)]
    width = model[27].in_features + model[27].out_features
    total = np.zeros((len(mel), width), np.float64)
    counts = np.zeros(len(mel), np.int64)
    for first in range(0, len(rows), batch):
        part = rows[first:first + batch]
        x = np.stack([mel[i, :, s:s + FRAMES] for i, s in part])
        pool5, tags = embed(model, x, batch=batch)
        for (i, _), row in zip(part, np.concatenate([pool5, tags], axis=1)):
            total[i] += row
            counts[i] += 1
    return total / counts[:, None], counts


def probabilities(classifier, x, classes):
    """predict_proba as [clips, classes] even when the train split lacked some class (its column stays 0)."""
    import numpy as np
    out = np.zeros((len(x), classes))
    out[:, classifier.classes_] = classifier.predict_proba(x)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shards", default=None)
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", default=None)
    ap.add_argument("--embeddings-out", default=None, help="write the per-clip embeddings (.npz)")
    ap.add_argument("--embeddings-in", default=None, help="fit on these per-clip embeddings (.npz), no network")
    args = ap.parse_args()
    if args.embeddings_in is None and (args.shards is None or args.checkpoint is None):
        ap.error("give --shards and --checkpoint, or --embeddings-in")
    if args.threads < 1:
        ap.error("--threads must be at least 1")
    import numpy as np
    import sklearn
    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    started_run = time.perf_counter()
    data = {}
    if args.embeddings_in:
        embedding_seconds = 0.0
        try:
            stored = np.load(args.embeddings_in)
            classes = [str(c) for c in stored["classes"]]
            for split in SPLITS:
                x, y = np.asarray(stored[f"{split}_x"], np.float64), np.asarray(stored[f"{split}_y"], np.int64)
                counts = stored[f"{split}_windows"] if f"{split}_windows" in stored else np.zeros(len(y), np.int64)
                data[split] = {"x": x, "y": y, "windows": counts}
        except (OSError, KeyError, ValueError) as e:
            raise SystemExit(f"{args.embeddings_in}: not a probe embeddings file: {e}")
    else:
        model = load_checkpoint(args.checkpoint)
        for split in SPLITS:
            loaded = load_split(args.shards, split)
            if loaded is None:
                raise SystemExit(f"{args.shards}: no {split}-*.h5 shards")
            mel, labels, seconds, classes, pipeline = loaded
            if mel.shape[1] != MELS:
                raise SystemExit(f"{args.shards}: {split} mel is {list(mel.shape[1:])}, musicnn needs {MELS} mel bands")
            data[split] = {"mel": mel, "y": labels, "seconds": seconds, "pipeline": pipeline}

        started = time.perf_counter()
        for split in SPLITS:
            d = data[split]
            d["x"], d["windows"] = clip_embeddings(model, d["mel"], d["seconds"], d["pipeline"])
            del d["mel"]
            print(f"{split}: {len(d['y'])} clips, {int(d['windows'].sum())} windows", flush=True)
        embedding_seconds = time.perf_counter() - started
    K = len(classes)

    if args.embeddings_out and not args.embeddings_in:
        arrays = {"classes": np.array(classes)}
        for split in SPLITS:
            arrays[f"{split}_x"], arrays[f"{split}_y"] = data[split]["x"], data[split]["y"]
            arrays[f"{split}_windows"] = data[split]["windows"]
            paths = shard_paths(args.shards, split)
            if paths is not None:
                arrays[f"{split}_path"] = np.array(paths)
        tmp = args.embeddings_out + ".tmp.npz"
        np.savez(tmp, **arrays)
        os.replace(tmp, args.embeddings_out)

    mean = data["train"]["x"].mean(axis=0)
    std = data["train"]["x"].std(axis=0)  # ddof 0
    std[std == 0] = 1.0
    x = {split: (data[split]["x"] - mean) / std for split in SPLITS}
    y = {split: data[split]["y"] for split in SPLITS}

    def fit(c):
        classifier = LogisticRegression(C=c, solver="lbfgs", max_iter=5000, tol=1e-8)
        return classifier.fit(x["train"], y["train"])

    started = time.perf_counter()
    grid, best = [], None
    with threadpool_limits(args.threads):
        for c in GRID:  # ascending, so a full tie keeps the smaller C
            classifier = fit(c)
            p = probabilities(classifier, x["valid"], K)
            correct = int((p.argmax(1) == y["valid"]).sum())
            loss = float(log_loss(y["valid"], np.clip(p, 1e-15, 1), labels=list(range(K))))
            grid.append({"C": c, "valid_accuracy": correct / len(y["valid"]), "valid_log_loss": loss,
                         "iterations": int(np.max(classifier.n_iter_))})
            print(f"C {c:g}: valid accuracy {correct / len(y['valid']):.3f}, log-loss {loss:.4f}", flush=True)
            if best is None or correct > best[1] or (correct == best[1] and loss < best[2]):
                best = (c, correct, loss, classifier)
        chosen, _, _, classifier = best  # fitted on train with the chosen C
    fit_seconds = time.perf_counter() - started

    predictions = probabilities(classifier, x["test"], K).argmax(1)
    train_accuracy = float((probabilities(classifier, x["train"], K).argmax(1) == y["train"]).mean())
    ty = y["test"]
    result = test_scores(ty, predictions, classes)
    result.update({
        "chosen_C": chosen, "grid": grid,
        "train_accuracy": train_accuracy, "valid_accuracy": best[1] / len(y["valid"]),
        "clips": {split: len(y[split]) for split in SPLITS},
        "windows": {split: int(data[split]["windows"].sum()) for split in SPLITS},
        "features": int(x["train"].shape[1]), "embedding_seconds": embedding_seconds, "fit_seconds": fit_seconds,
        "seconds": time.perf_counter() - started_run,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "checkpoint": args.checkpoint, "embeddings_in": args.embeddings_in, "torch": torch.__version__, "sklearn": sklearn.__version__,
    })
    print(f"test accuracy {result['accuracy']:.3f}, macro-F1 {result['macro_f1']:.3f} over {len(ty)} clips "
          f"(C {chosen:g}; embeddings {embedding_seconds:.0f} s, fits {fit_seconds:.1f} s)")
    write_json(result, args.json)


if __name__ == "__main__":
    sys.exit(main())

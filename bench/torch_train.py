#!/usr/bin/env python3
"""GenreKit's default CNN and training loop in PyTorch (CPU): the reference `make bench-train` measures against.

    python3 bench/torch_train.py DIR [--epochs 30] [--seed 0] [--threads 2] [--batch 32] [--json OUT]

DIR holds train.h5, valid.h5 and test.h5 with `mel` float32 [clips, 128, frames] (normalised features), `label`
int and the attribute `classes` (bench/librosa_preprocess.py writes them; scripts/bench_train.py concatenates
GenreKit shards into them). The model and schedule are GenreKit's defaults (pipelines/train.toml):
  4 x [conv 3x3 (padding 1) -> BatchNorm2d -> ReLU -> MaxPool 2x2], channels 16, 32, 64, 128
  -> global average pool -> dropout 0.3 -> linear to the classes;
  Adam (lr 1e-3), batch 32, cross-entropy, each training sample a random 128-frame crop of its clip.
Evaluation is per clip: the logits of its non-overlapping 128-frame windows averaged. Prints per epoch the time
(train + validation), training samples/s, loss and validation accuracy, then the test accuracy, the confusion
matrix and the peak resident memory; `--json OUT` writes the same figures.
"""
import argparse
import json
import resource
import sys
import time

CROP = 128


def load(path):
    import h5py
    import numpy as np
    with h5py.File(path, "r") as h:
        return h["mel"][:].astype(np.float32), h["label"][:].astype(np.int64), [str(c) for c in h.attrs["classes"]]


def model(classes):
    import torch.nn as nn
    layers, channels = [], 1
    for width in (16, 32, 64, 128):
        layers += [nn.Conv2d(channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2, 2)]
        channels = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3), nn.Linear(channels, classes)]
    return nn.Sequential(*layers)


def clip_logits(net, mel, batch):
    """Mean logits over each clip's non-overlapping 128-frame windows (at least one, from the start)."""
    import torch
    frames = mel.shape[2]
    starts = list(range(0, max(frames - CROP, 0) + 1, CROP))
    windows = torch.from_numpy(mel).unsqueeze(1)  # [clips, 1, bands, frames]
    out = []
    with torch.no_grad():
        for first in range(0, len(mel), batch):
            block = windows[first:first + batch]
            out.append(torch.stack([net(block[..., s:s + CROP]) for s in starts]).mean(0))
    return torch.cat(out) if out else torch.zeros(0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    import numpy as np
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train_x, train_y, classes = load(f"{args.dir}/train.h5")
    valid_x, valid_y, _ = load(f"{args.dir}/valid.h5")
    test_x, test_y, _ = load(f"{args.dir}/test.h5")
    if train_x.shape[2] < CROP:
        raise SystemExit(f"clips have {train_x.shape[2]} frames, fewer than the {CROP}-frame crop")
    net = model(len(classes))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    history = []
    for epoch in range(1, args.epochs + 1):
        started = time.perf_counter()
        net.train()
        order = rng.permutation(len(train_x))
        total_loss, seen = 0.0, 0
        for first in range(0, len(order), args.batch):
            ids = order[first:first + args.batch]
            starts = rng.integers(0, train_x.shape[2] - CROP + 1, size=len(ids))
            x = torch.from_numpy(np.stack([train_x[i, :, s:s + CROP] for i, s in zip(ids, starts)])).unsqueeze(1)
            y = torch.from_numpy(train_y[ids])
            loss = F.cross_entropy(net(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(ids)
            seen += len(ids)
        train_s = time.perf_counter() - started
        net.eval()
        valid_accuracy = (clip_logits(net, valid_x, args.batch).argmax(1).numpy() == valid_y).mean() if len(valid_x) else 0.0
        row = {"epoch": epoch, "epoch_s": time.perf_counter() - started, "train_samples_per_s": seen / train_s,
               "train_loss": total_loss / max(seen, 1), "valid_accuracy": float(valid_accuracy)}
        history.append(row)
        print(f"epoch {epoch}: {row['epoch_s']:.2f} s, {row['train_samples_per_s']:.1f} samples/s, "
              f"loss {row['train_loss']:.4f}, valid accuracy {row['valid_accuracy']:.3f}", flush=True)
    net.eval()
    predictions = clip_logits(net, test_x, args.batch).argmax(1).numpy() if len(test_x) else np.zeros(0, dtype=int)
    confusion = np.zeros((len(classes), len(classes)), dtype=int)
    for truth, guess in zip(test_y, predictions):
        confusion[truth, guess] += 1
    accuracy = float((predictions == test_y).mean()) if len(test_y) else 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"test accuracy {accuracy:.3f} over {len(test_y)} clips; confusion (rows = truth, {', '.join(classes)}):")
    for name, row in zip(classes, confusion):
        print(f"  {name:>10} " + " ".join(f"{v:3d}" for v in row))
    print(f"torch {torch.__version__}, {args.threads} threads, peak RSS {peak:.0f} MiB")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"history": history, "test_accuracy": accuracy, "confusion": confusion.tolist(),
                       "classes": classes, "peak_rss_mib": peak}, fh, indent=2)


if __name__ == "__main__":
    sys.exit(main())

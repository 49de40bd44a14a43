#!/usr/bin/env python3
"""The PyTorch reference of GenreKit's training recipe, run on one fold's GenreKit shards (CPU).

    python3 scripts/torch_crossval.py --shards DIR --config pipelines/train.toml [--threads 2] [--json OUT]

DIR is a shard folder written by `genre preprocess` or `genre crossval` (train-*.h5, valid-*.h5, test-*.h5 with
`mel` float32 [clips, n_mels, frames] of normalised features, `label`, `seconds` and the attributes `classes` and
`configuration`). The recipe is read from the same TOML file `genre train --config` reads, and implemented with
GenreKit's semantics, so the two can be compared on identical folds (`make eval-real`):

- model (initialised as GenreKit does: He-normal weights, fan in, zero biases): per entry of `[model] channels`, either conv k x k (padding k/2) -> BatchNorm2d -> ReLU -> MaxPool 2x2
  (`block = "plain"`) or a residual block (conv -> BN -> ReLU -> conv -> BN, plus an identity shortcut, or a 1x1
  conv -> BN when the channel count changes; summed; ReLU) -> MaxPool 2x2 (`block = "residual"`); global pooling
  `average`, `max` or `average+max` (means then maxima, 2C features); dropout; linear to the classes.
- each epoch: the training clips in a permutation (or, `balance = "sampler"`, as many positions as clips shared
  equally by the classes, each class drawing from its own permutation), cut into batches (a last batch of fewer
  than 2 clips is dropped); each clip a crop with offset uniform in 0...frames-crop; SpecAugment masks of width
  uniform in 0...W at a uniform start, set to 0 (the normalised mean); mixup with lambda ~ Beta(a, a) per clip and
  partners from a permutation of the batch.
- loss: cross-entropy on (soft) targets; `balance = "loss"` weights class c by N / (K n_c), normalised by the summed
  weight of the targets (torch's `cross_entropy(weight=...)` mean, extended to soft targets).
- optimiser adam (L2) | adamw (decoupled) | sgd (momentum, L2); schedule per batch: constant, cosine with linear
  warm-up (factor (step+1)/warmup, then m + (1-m)(1+cos(pi t))/2), step decay.
- validation accuracy every epoch at clip level; the best epoch's weights (strictly better accuracy) are kept and
  early stopping after `patience` epochs without improvement (0 = never).
- clip level: the mean of the logits of the windows that hold audio: starts 0, hop, 2 hop, ... while a window fits
  within the clip's audio frames (1 + floor(samples / hop_length), centred STFT), plus one ending at the last audio
  frame; a clip shorter than a window gets one window at 0 (`[evaluate] window_hop`, default the crop length).

Random draws come from numpy and torch with the seed, not GenreKit's generator, so the two agree in distribution,
not sample by sample. Prints and (`--json`) writes test accuracy, macro-F1, per-class F1 with support, the
confusion matrix, seconds and training samples/s.
"""
import argparse
import glob
import json
import math
import os
import resource
import sys
import time
import tomllib

# GenreKit's built-in defaults (TrainingConfiguration; pipelines/train.toml shows them): a key a TOML file leaves out.
DEFAULTS = {
    "model": {"channels": [16, 32, 64, 128], "kernel": 3, "dropout": 0.3, "crop_frames": 128, "block": "plain",
              "pool": "average"},
    "train": {"epochs": 120, "batch_size": 32, "seed": 0, "patience": 0, "balance": "sampler"},
    "optimizer": {"kind": "adamw", "learning_rate": 2e-3, "weight_decay": 1e-4, "momentum": 0.9},
    "schedule": {"kind": "cosine", "warmup_epochs": 3, "minimum_factor": 0.0, "step_epochs": 10, "gamma": 0.1},
    "augment": {"time_masks": 0, "time_mask_width": 0, "frequency_masks": 0, "frequency_mask_width": 0,
                "mixup_alpha": 0.0},
    "evaluate": {"window_hop": None},
}


def recipe(path):
    with open(path, "rb") as fh:
        given = tomllib.load(fh)
    out = {}
    for section, keys in DEFAULTS.items():
        out[section] = dict(keys)
        out[section].update(given.get(section, {}))
    if out["evaluate"]["window_hop"] is None:
        out["evaluate"]["window_hop"] = out["model"]["crop_frames"]
    return out


def load_split(shards, split):
    import h5py
    import numpy as np
    mels, labels, seconds, classes, config = [], [], [], None, None
    for path in sorted(glob.glob(os.path.join(shards, f"{split}-*.h5"))):
        with h5py.File(path, "r") as h:
            mels.append(h["mel"][:].astype(np.float32))
            labels.append(h["label"][:].astype(np.int64))
            seconds.append(h["seconds"][:].astype(np.float64))
            classes = [c.decode() if isinstance(c, bytes) else str(c) for c in h.attrs["classes"]]
            text = h.attrs["configuration"]
            config = json.loads(text.decode() if isinstance(text, bytes) else text)
    if not mels:
        return None
    return np.concatenate(mels), np.concatenate(labels), np.concatenate(seconds), classes, config


def build_model(r, classes, n_mels):
    import torch
    import torch.nn as nn

    class Residual(nn.Module):
        def __init__(self, cin, cout, k):
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(cin, cout, k, padding=k // 2), nn.BatchNorm2d(cout)
            self.conv2, self.bn2 = nn.Conv2d(cout, cout, k, padding=k // 2), nn.BatchNorm2d(cout)
            self.shortcut = (nn.Identity() if cin == cout else
                             nn.Sequential(nn.Conv2d(cin, cout, 1), nn.BatchNorm2d(cout)))

        def forward(self, x):
            y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
            return torch.relu(y + self.shortcut(x))

    class GlobalPool(nn.Module):
        def __init__(self, kind):
            super().__init__()
            self.kind = kind

        def forward(self, x):
            mean, peak = x.mean(dim=(2, 3)), x.amax(dim=(2, 3))
            return {"average": mean, "max": peak, "average+max": torch.cat([mean, peak], 1)}[self.kind]

    m = r["model"]
    layers, cin = [], 1
    for width in m["channels"]:
        k = m["kernel"]
        if m["block"] == "residual":
            layers += [Residual(cin, width, k)]
        else:
            layers += [nn.Conv2d(cin, width, k, padding=k // 2), nn.BatchNorm2d(width), nn.ReLU()]
        layers += [nn.MaxPool2d(2, 2)]
        cin = width
    features = cin * (2 if m["pool"] == "average+max" else 1)
    layers += [GlobalPool(m["pool"]), nn.Dropout(m["dropout"]), nn.Linear(features, classes)]
    net = nn.Sequential(*layers)
    for module in net.modules():  # GenreKit's initialisation: He-normal (fan in, ReLU) weights, zero biases
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")
            nn.init.zeros_(module.bias)
    return net


def windows(seconds, frames, crop, hop, pipeline):
    """Start frames of the windows of a clip that hold audio (GenreKit's `[evaluate] window_hop` rule)."""
    rate, hop_length = pipeline["audio"]["sample_rate"], pipeline["stft"]["hop_length"]
    samples = int(round(seconds * rate))
    if pipeline["stft"].get("center", True):
        audio = 1 + samples // hop_length
    else:
        audio = 1 + max(samples - pipeline["stft"]["n_fft"], 0) // hop_length
    audio = min(audio, frames)
    if audio <= crop:
        return [0]
    starts = list(range(0, audio - crop + 1, hop))
    if starts[-1] + crop < audio:
        starts.append(audio - crop)
    return starts


def clip_logits(net, mel, seconds, crop, hop, pipeline, batch=64):
    import torch
    rows, owners = [], []
    for i in range(len(mel)):
        for s in windows(seconds[i], mel.shape[2], crop, hop, pipeline):
            rows.append((i, s))
    out = torch.zeros(len(mel), net[-1].out_features, dtype=torch.float64)
    counts = torch.zeros(len(mel), dtype=torch.float64)
    with torch.no_grad():
        for first in range(0, len(rows), batch):
            part = rows[first:first + batch]
            x = torch.from_numpy(__import__("numpy").stack([mel[i, :, s:s + crop] for i, s in part])).unsqueeze(1)
            logits = net(x).double()
            for (i, _), row in zip(part, logits):
                out[i] += row
                counts[i] += 1
    return out / counts.unsqueeze(1)


def learning_factor(r, step, batches_per_epoch):
    s = r["schedule"]
    if s["kind"] == "constant":
        return 1.0
    if s["kind"] == "step":
        return s["gamma"] ** (step // max(1, s["step_epochs"] * batches_per_epoch))
    warmup = s["warmup_epochs"] * batches_per_epoch
    total = r["train"]["epochs"] * batches_per_epoch
    if step < warmup:
        return (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    m = s["minimum_factor"]
    return m + (1 - m) * (1 + math.cos(math.pi * min(t, 1.0))) / 2


def epoch_order(rng, labels, balance, classes):
    import numpy as np
    n = len(labels)
    if balance != "sampler":
        return rng.permutation(n)
    present = [c for c in range(classes) if (labels == c).any()]
    share, extra = divmod(n, len(present))
    positions = []
    for j, c in enumerate(present):
        members = np.flatnonzero(labels == c)
        want = share + (1 if j < extra else 0)
        drawn = np.concatenate([rng.permutation(members) for _ in range(want // len(members) + 1)])[:want]
        positions.append(drawn)
    return rng.permutation(np.concatenate(positions))


def test_scores(truths, predictions, classes):
    """Accuracy, macro-F1 (over the classes present in the truth or the predictions, as GenreKit), per-class F1
    with support, and the confusion matrix (rows truth, columns prediction) of clip-level predictions."""
    K = len(classes)
    confusion = [[0] * K for _ in range(K)]
    for truth, guess in zip(truths, predictions):
        confusion[int(truth)][int(guess)] += 1
    f1 = f1_scores(confusion)
    support = [sum(row) for row in confusion]
    predicted = [sum(row[c] for row in confusion) for c in range(K)]
    scored = [f for f, n, m in zip(f1, support, predicted) if n + m > 0]
    correct = sum(confusion[c][c] for c in range(K))
    return {
        "accuracy": correct / max(len(truths), 1), "macro_f1": sum(scored) / len(scored),
        "per_class": [{"class": c, "f1": f, "support": n} for c, f, n in zip(classes, f1, support)],
        "confusion": confusion, "classes": classes,
    }


def f1_scores(confusion):
    scores = []
    for c in range(len(confusion)):
        tp = confusion[c][c]
        predicted = sum(row[c] for row in confusion)
        actual = sum(confusion[c])
        scores.append(0.0 if tp == 0 else 2 * tp / (predicted + actual))
    return scores


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shards", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    import numpy as np
    import torch
    import torch.nn.functional as F

    r = recipe(args.config)
    seed = int(r["train"]["seed"])
    torch.set_num_threads(args.threads)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train_x, train_y, train_s, classes, pipeline = load_split(args.shards, "train")
    valid = load_split(args.shards, "valid")
    test = load_split(args.shards, "test")
    K, crop, hop = len(classes), r["model"]["crop_frames"], r["evaluate"]["window_hop"]
    frames = train_x.shape[2]
    net = build_model(r, K, train_x.shape[1])
    o = r["optimizer"]
    if o["kind"] == "adamw":
        optimizer = torch.optim.AdamW(net.parameters(), lr=o["learning_rate"], weight_decay=o["weight_decay"])
    elif o["kind"] == "sgd":
        optimizer = torch.optim.SGD(net.parameters(), lr=o["learning_rate"], momentum=o["momentum"],
                                    weight_decay=o["weight_decay"])
    else:
        optimizer = torch.optim.Adam(net.parameters(), lr=o["learning_rate"], weight_decay=o["weight_decay"])
    counts = np.bincount(train_y, minlength=K)
    present = (counts > 0).sum()
    class_weight = None
    if r["train"]["balance"] == "loss":
        class_weight = torch.tensor([len(train_y) / (present * n) if n else 0.0 for n in counts], dtype=torch.float32)
    batch = r["train"]["batch_size"]
    batches_per_epoch = sum(1 for first in range(0, len(train_y), batch) if len(train_y) - first >= 2)
    a = r["augment"]
    best_accuracy, best_state, best_epoch, since_best, step = -1.0, None, 0, 0, 0
    train_seconds, seen_total = 0.0, 0
    started_run = time.perf_counter()
    for epoch in range(1, r["train"]["epochs"] + 1):
        started = time.perf_counter()
        net.train()
        order = epoch_order(rng, train_y, r["train"]["balance"], K)
        for first in range(0, len(order), batch):
            ids = order[first:first + batch]
            if len(ids) < 2:
                break
            starts = rng.integers(0, frames - crop + 1, size=len(ids))
            x = np.stack([train_x[i, :, s:s + crop] for i, s in zip(ids, starts)])
            for sample in x:
                for _ in range(a["time_masks"]):
                    w = rng.integers(0, a["time_mask_width"] + 1)
                    s0 = rng.integers(0, crop - w + 1)
                    sample[:, s0:s0 + w] = 0
                for _ in range(a["frequency_masks"]):
                    w = rng.integers(0, a["frequency_mask_width"] + 1)
                    s0 = rng.integers(0, sample.shape[0] - w + 1)
                    sample[s0:s0 + w, :] = 0
            targets = np.eye(K, dtype=np.float32)[train_y[ids]]
            if a["mixup_alpha"] > 0:
                lam = rng.beta(a["mixup_alpha"], a["mixup_alpha"], size=len(ids)).astype(np.float32)
                partner = rng.permutation(len(ids))
                x = lam[:, None, None] * x + (1 - lam[:, None, None]) * x[partner]
                targets = lam[:, None] * targets + (1 - lam[:, None]) * targets[partner]
            for group in optimizer.param_groups:
                group["lr"] = o["learning_rate"] * learning_factor(r, step, batches_per_epoch)
            logits = net(torch.from_numpy(np.ascontiguousarray(x)).unsqueeze(1))
            t = torch.from_numpy(targets)
            logp = F.log_softmax(logits, 1)
            if class_weight is not None:
                wt = t * class_weight
                loss = -(wt * logp).sum() / wt.sum()
            else:
                loss = -(t * logp).sum() / len(ids)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            seen_total += len(ids)
        train_seconds += time.perf_counter() - started
        net.eval()
        if valid is not None:
            vx, vy, vs, _, _ = valid
            accuracy = float((clip_logits(net, vx, vs, crop, hop, pipeline).argmax(1).numpy() == vy).mean())
        else:
            accuracy = 0.0
        if accuracy > best_accuracy:
            best_accuracy, best_epoch, since_best = accuracy, epoch, 0
            best_state = {k: v.clone() for k, v in net.state_dict().items()}
        else:
            since_best += 1
        print(f"epoch {epoch}: valid accuracy {accuracy:.3f}", flush=True)
        if r["train"]["patience"] > 0 and since_best >= r["train"]["patience"]:
            break
    net.load_state_dict(best_state)
    net.eval()
    tx, ty, ts, _, _ = test
    predictions = clip_logits(net, tx, ts, crop, hop, pipeline).argmax(1).numpy()
    result = test_scores(ty, predictions, classes)
    result.update({
        "best_epoch": best_epoch,
        "seconds": time.perf_counter() - started_run, "train_samples_per_s": seen_total / max(train_seconds, 1e-9),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "torch": torch.__version__,
    })
    print(f"test accuracy {result['accuracy']:.3f}, macro-F1 {result['macro_f1']:.3f} over {len(ty)} clips "
          f"(best epoch {best_epoch}, {result['seconds']:.0f} s)")
    if args.json:
        tmp = args.json + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(result, fh, indent=2)
        os.replace(tmp, args.json)


if __name__ == "__main__":
    sys.exit(main())

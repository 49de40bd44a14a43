#!/usr/bin/env python3
"""musicnn's MSD_vgg tagger in PyTorch, in GenreKit's layout, loaded from a GenreKit checkpoint (CPU).

    python3 scripts/musicnn_torch.py bench --checkpoint models/musicnn-msd-vgg.h5 [--shards DIR] [--threads 2]
        [--batch 32] [--seconds 10] [--json OUT]

The reference the Swift import, probe and fine-tune are checked against (`scripts/probe_sklearn.py` uses it).

Network (`ModelSpec.musicnnVGG`, per-sample input [1, mels 96, frames 187], NCHW, time along the width), with the
GenreKit layer indices that name the state:

    0 BatchNorm2d(1, eps 1e-3)
    1 conv 3x3 128 pad 1 -> 2 ReLU -> 3 BN(eps 1e-3) -> 4 maxpool kernel (1, 4) stride (2, 2) -> 5 dropout 0.25
    6 conv -> 7 ReLU -> 8 BN -> 9 maxpool 2x2/2 -> 10 dropout 0.25
    11 conv -> 12 ReLU -> 13 BN -> 14 maxpool 2x2/2 -> 15 dropout 0.25
    16 conv -> 17 ReLU -> 18 BN -> 19 maxpool 2x2/2 -> 20 dropout 0.25
    21 conv -> 22 ReLU -> 23 BN -> 24 maxpool 4x4/4            (96x187 -> 48x92 -> 24x46 -> 12x23 -> 6x11 -> 1x2)
    25 flatten (NCHW: feature c*2 + t, 256 = `pool5`) -> 26 dropout 0.5 -> 27 linear 50 (tag logits; sigmoid)

Checkpoint: GenreKit's HDF5 (Sources/Training/Checkpoint.swift): float32 datasets `/model/<i>.<kind>.<param>`, e.g.
`/model/0.bn.weight|bias|running_mean|running_var` [1], `/model/1.conv.weight` [128, 1, 3, 3], `/model/1.conv.bias`
[128], `/model/3.bn.*` [128], ..., `/model/27.linear.weight` [50, 256], `/model/27.linear.bias` [50]. Loading is
strict: every tensor of the network must be present with its exact shape (a missing or misshapen one is a one-line
error naming the file); names the network does not have (e.g. a probe model's `28.linear.*`) are listed, not loaded.

Library use:

    from musicnn_torch import build_vgg, load_checkpoint, embed
    model = load_checkpoint("models/musicnn-msd-vgg.h5")     # eval mode
    pool5, tags = embed(model, windows)                       # windows [N, 96, 187] or [N, 1, 96, 187]
                                                              # -> [N, 256], sigmoid tag probabilities [N, 50]

`bench` measures, on real-size patches (random 187-frame crops of the train clips of `--shards DIR`, else
standard-normal noise), with `--threads` intra-op threads and batches of `--batch`, each for about `--seconds`:
- eval: patches/s of the tagger forward pass (eval mode, no_grad);
- fine-tune: training samples/s of body + a new 10-way linear head on pool5 (dropout 0.5 before it), AdamW
  (lr 1e-4, weight decay 1e-4), cross-entropy, body unfrozen with every BatchNorm in eval mode (running statistics
  used and kept; dropout active);
- head-only: samples/s with the body frozen (eval mode, under no_grad) and only the head trained;
and peak RSS (getrusage). Prints a summary; `--json OUT` writes it as JSON.
"""
import argparse
import json
import os
import resource
import sys
import time

FRAMES = 187
MELS = 96
BODY_LAYERS = 27  # ModelSpec.musicnnBodyLayerCount: layers 0...26 (through the dropout before the tag layer)


def build_vgg(tags=50, filters=128, epsilon=1e-3):
    """The musicnn VGG as an `nn.Sequential` whose index i is GenreKit's layer i (see the module docstring)."""
    import torch.nn as nn
    layers = [nn.BatchNorm2d(1, eps=epsilon)]
    pools = [nn.MaxPool2d(kernel_size=(1, 4), stride=(2, 2)), nn.MaxPool2d(2, 2), nn.MaxPool2d(2, 2),
             nn.MaxPool2d(2, 2), nn.MaxPool2d(4, 4)]
    cin = 1
    for block, pool in enumerate(pools):
        layers += [nn.Conv2d(cin, filters, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(filters, eps=epsilon), pool]
        if block < 4:
            layers.append(nn.Dropout(0.25))
        cin = filters
    layers += [nn.Flatten(), nn.Dropout(0.5), nn.Linear(filters * 2, tags)]
    assert len(layers) == 28
    return nn.Sequential(*layers)


def genrekit_names(model):
    """{GenreKit state name: torch state_dict key} for every weight and batch-norm statistic of `model`."""
    import torch.nn as nn
    kinds = {nn.Conv2d: "conv", nn.BatchNorm2d: "bn", nn.Linear: "linear"}
    names = {}
    for key in model.state_dict():
        index, param = key.split(".", 1)
        if param == "num_batches_tracked":
            continue
        names[f"{index}.{kinds[type(model[int(index)])]}.{param}"] = key
    return names


def load_checkpoint(path, model=None):
    """Builds the VGG (tag count from `27.linear.weight`) and loads `/model/*` from a GenreKit checkpoint, strictly.

    Returns the model in eval mode; `model.extra_names` lists checkpoint tensors the network has no use for."""
    import h5py
    import numpy as np
    import torch

    def fail(reason):
        raise SystemExit(f"{path}: {reason}")

    if not os.path.exists(path):
        fail("no such checkpoint file")
    try:
        h = h5py.File(path, "r")
    except OSError as e:
        fail(f"cannot read (truncated or not HDF5?): {e}")
    with h:
        if "model" not in h:
            fail("not a GenreKit checkpoint (no /model group)")
        group = h["model"]
        if model is None:
            if "27.linear.weight" not in group:
                fail("model weight 27.linear.weight is missing")
            tags, features = group["27.linear.weight"].shape
            model = build_vgg(tags=tags, filters=features // 2)
        names = genrekit_names(model)
        state = model.state_dict()
        for name, key in names.items():
            if name not in group:
                fail(f"model weight {name} is missing")
            values = np.asarray(group[name][()], dtype=np.float32)
            want = tuple(state[key].shape)
            if values.shape != want:
                fail(f"model weight {name} has shape {list(values.shape)}, the network needs {list(want)}")
            if not np.isfinite(values).all():
                fail(f"model weight {name} holds NaN or infinity")
            state[key] = torch.from_numpy(values.copy())
        extra = sorted(set(group.keys()) - set(names))
    model.load_state_dict(state)
    model.extra_names = extra
    model.eval()
    return model


def as_batch(windows):
    """[N, 96, 187] or [N, 1, 96, 187] (numpy or torch) -> float32 torch [N, 1, 96, 187]."""
    import numpy as np
    import torch
    x = torch.as_tensor(np.asarray(windows, dtype=np.float32)) if not torch.is_tensor(windows) else windows.float()
    if x.dim() == 3:
        x = x.unsqueeze(1)
    if x.dim() != 4 or x.shape[1] != 1:
        raise ValueError(f"windows must be [N, mels, frames] or [N, 1, mels, frames], got {list(x.shape)}")
    return x


def embed(model, windows, batch=64):
    """(pool5 [N, 256], sigmoid tag probabilities [N, tags]) as float32 numpy, in eval mode without gradients."""
    import numpy as np
    import torch
    x = as_batch(windows)
    model.eval()
    pools, probabilities = [], []
    with torch.no_grad():
        for first in range(0, len(x), batch):
            features = model[:26](x[first:first + batch])  # through the flatten (layer 25)
            pools.append(features.numpy())
            probabilities.append(torch.sigmoid(model[26:](features)).numpy())
    if not pools:
        return np.zeros((0, model[27].in_features), np.float32), np.zeros((0, model[27].out_features), np.float32)
    return np.concatenate(pools), np.concatenate(probabilities)


def bench_patches(shards, count, seed=0):
    """`count` real-size patches [count, 1, 96, 187]: random crops of the shards' train clips, else noise."""
    import numpy as np
    rng = np.random.default_rng(seed)
    if shards:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from torch_crossval import load_split
        split = load_split(shards, "train")
        if split is None:
            raise SystemExit(f"{shards}: no train-*.h5 shards")
        mel, labels = split[0], split[1]
        if mel.shape[1] != MELS or mel.shape[2] < FRAMES:
            raise SystemExit(f"{shards}: mel is {list(mel.shape[1:])}, musicnn needs {MELS} mels and {FRAMES}+ frames")
        ids = rng.integers(0, len(mel), size=count)
        starts = rng.integers(0, mel.shape[2] - FRAMES + 1, size=count)
        x = np.stack([mel[i, :, s:s + FRAMES] for i, s in zip(ids, starts)])[:, None]
        return x, labels[ids] % 10, "shards"
    x = rng.standard_normal((count, 1, MELS, FRAMES)).astype(np.float32)
    return x, rng.integers(0, 10, size=count), "random"


def timed(step, batch, seconds):
    """Runs `step()` once to warm up, then until `seconds` have passed (at least 2 times); returns samples/s."""
    step()
    done, started = 0, time.perf_counter()
    while True:
        step()
        done += batch
        elapsed = time.perf_counter() - started
        if elapsed >= seconds and done >= 2 * batch:
            return done / elapsed


def bench(args):
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = load_checkpoint(args.checkpoint)
    patches, labels, source = bench_patches(args.shards, max(args.batch * 8, 256))
    patches, labels = torch.from_numpy(np.ascontiguousarray(patches)), torch.from_numpy(labels.astype(np.int64))
    cursor = [0]

    def next_batch():
        first = cursor[0]
        cursor[0] = (first + args.batch) % (len(patches) - args.batch + 1)
        return patches[first:first + args.batch], labels[first:first + args.batch]

    def evaluate():
        with torch.no_grad():
            torch.sigmoid(model(next_batch()[0]))

    model.eval()
    eval_rate = timed(evaluate, args.batch, args.seconds)

    # Fine-tune: body (layers 0...26) + a new 10-way head; every BN in eval mode, dropout active.
    body = model[:BODY_LAYERS]
    head = nn.Linear(model[27].in_features, 10)
    net = nn.Sequential(body, head)
    net.train()
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.eval()
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-4, weight_decay=1e-4)

    def finetune():
        x, y = next_batch()
        loss = F.cross_entropy(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    finetune_rate = timed(finetune, args.batch, args.seconds)

    # Head only: the body frozen under no_grad (eval mode), dropout 0.5 + the head trained.
    head_only = nn.Linear(model[27].in_features, 10)
    dropout = nn.Dropout(0.5).train()
    body.eval()
    head_optimizer = torch.optim.AdamW(head_only.parameters(), lr=1e-3, weight_decay=1e-4)

    def train_head():
        x, y = next_batch()
        with torch.no_grad():
            features = body(x)
        loss = F.cross_entropy(head_only(dropout(features)), y)
        head_optimizer.zero_grad()
        loss.backward()
        head_optimizer.step()

    head_rate = timed(train_head, args.batch, args.seconds)
    result = {
        "checkpoint": args.checkpoint, "patches": source, "threads": args.threads, "batch": args.batch,
        "seconds_per_measurement": args.seconds, "eval_patches_per_s": eval_rate,
        "finetune_samples_per_s": finetune_rate, "head_only_samples_per_s": head_rate,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "torch": torch.__version__,
    }
    print(f"musicnn VGG, {args.threads} threads, batch {args.batch}, {source} patches [1, {MELS}, {FRAMES}]:")
    print(f"  eval       {eval_rate:8.1f} patches/s")
    print(f"  fine-tune  {finetune_rate:8.1f} samples/s (body unfrozen, BN in eval mode, AdamW)")
    print(f"  head only  {head_rate:8.1f} samples/s (body frozen, no_grad)")
    print(f"  peak RSS   {result['peak_rss_mib']:8.0f} MiB")
    if model.extra_names:
        print(f"  (checkpoint tensors not used: {', '.join(model.extra_names)})")
    write_json(result, args.json)


def write_json(result, path):
    if not path:
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(result, fh, indent=2)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench", help="eval and fine-tune throughput, peak RSS")
    b.add_argument("--checkpoint", required=True)
    b.add_argument("--shards", default=None, help="take patches from this fold's train-*.h5 (else random)")
    b.add_argument("--threads", type=int, default=2)
    b.add_argument("--batch", type=int, default=32)
    b.add_argument("--seconds", type=float, default=10.0, help="about this long per measurement")
    b.add_argument("--json", default=None)
    args = ap.parse_args()
    if args.batch < 1 or args.threads < 1 or args.seconds <= 0:
        raise SystemExit("--batch and --threads must be at least 1 and --seconds positive")
    if args.command == "bench":
        bench(args)


if __name__ == "__main__":
    sys.exit(main())

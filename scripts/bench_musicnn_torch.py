#!/usr/bin/env python3
"""PyTorch reference throughput for the musicnn "MSD_vgg" network as GenreKit builds it (ModelSpec.musicnnVGG).

Same architecture and layout as the Swift `Net` module: NCHW input [N, 1, 96 mels, 187 frames]; input batch norm
(eps 0.001); 5 x (conv 3x3 pad 1, `filters` channels -> ReLU -> batch norm eps 0.001 -> max pool), the pools being
(1 x 4) stride (2, 2), then 2x2/2 three times, then 4x4/4; dropout 0.25 after pools 1-4; flatten (256 features);
dropout 0.5; then
- embedding / tagging: linear to 50 tags (sigmoid), timed as an evaluation forward (no_grad) of the whole tagger;
- fine-tuning: linear to `classes` genres with cross-entropy and Adam, either with the body frozen (body in eval
  mode under no_grad, only the head trains: what GenreKit's `Sequential.frozenLayerCount = 27` does) or with
  everything training.
Random weights and input (speed does not depend on them).

Usage: python3 scripts/bench_musicnn_torch.py [--threads 2] [--batch 32] [--steps 10] [--warmup 2] [--filters 128]
Prints one JSON line: {"eval_patches_per_s": ..., "train_frozen_samples_per_s": ..., "train_unfrozen_samples_per_s": ...}.
"""
import argparse
import json
import time

import torch
import torch.nn as nn


def musicnn_body(filters=128):
    layers = [nn.BatchNorm2d(1, eps=0.001)]
    c = 1
    pools = [nn.MaxPool2d((1, 4), (2, 2)), nn.MaxPool2d(2, 2), nn.MaxPool2d(2, 2), nn.MaxPool2d(2, 2), nn.MaxPool2d(4, 4)]
    for i, pool in enumerate(pools):
        layers += [nn.Conv2d(c, filters, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(filters, eps=0.001), pool]
        if i < 4:
            layers.append(nn.Dropout(0.25))
        c = filters
    layers += [nn.Flatten(), nn.Dropout(0.5)]
    return nn.Sequential(*layers)


def timed(step, warmup, steps):
    for _ in range(warmup):
        step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    return time.perf_counter() - t


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--filters", type=int, default=128)
    p.add_argument("--classes", type=int, default=10)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    body = musicnn_body(a.filters)
    features = 2 * a.filters
    tagger = nn.Sequential(body, nn.Linear(features, 50))
    x = torch.randn(a.batch, 1, 96, 187)

    # Embedding / tagging throughput: evaluation forward of the tagger.
    tagger.eval()
    with torch.no_grad():
        seconds = timed(lambda: torch.sigmoid(tagger(x)), a.warmup, a.steps)
    evaluation = a.batch * a.steps / seconds

    # Fine-tuning: body + linear(classes), cross-entropy, Adam.
    head = nn.Linear(features, a.classes)
    y = torch.randint(0, a.classes, (a.batch,))
    loss_fn = nn.CrossEntropyLoss()

    head_opt = torch.optim.Adam(head.parameters(), lr=1e-3)

    def frozen_step():
        body.eval()
        head.train()
        with torch.no_grad():
            f = body(x)
        head_opt.zero_grad(set_to_none=True)
        loss_fn(head(f), y).backward()
        head_opt.step()

    frozen = a.batch * a.steps / timed(frozen_step, a.warmup, a.steps)

    model = nn.Sequential(body, head)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def unfrozen_step():
        model.train()
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        opt.step()

    unfrozen = a.batch * a.steps / timed(unfrozen_step, a.warmup, a.steps)
    print(json.dumps({"torch": torch.__version__, "threads": a.threads, "batch": a.batch, "filters": a.filters,
                      "eval_patches_per_s": round(evaluation, 1), "train_frozen_samples_per_s": round(frozen, 1),
                      "train_unfrozen_samples_per_s": round(unfrozen, 1)}))


if __name__ == "__main__":
    main()

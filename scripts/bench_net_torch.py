#!/usr/bin/env python3
"""PyTorch reference throughput for GenreKit's default genre CNN (ModelSpec.genreCNN).

Same model as the Swift `Net` module builds: input 1x128x128; 4 x (conv3x3 pad 1 -> BN -> ReLU -> maxpool 2x2)
with 16, 32, 64, 128 channels; global average pool; dropout 0.3; linear to 10 classes. Times forward + backward +
Adam step (train mode) and forward only (eval mode, no_grad) at batch 32 on random input.

With `--config TRAIN.toml` the model is the one that training configuration names (`[model]` channels, kernel,
block, pool, dropout, crop_frames), built by scripts/torch_crossval.py exactly as the k-fold reference trains it.

Usage: python3 scripts/bench_net_torch.py [--threads 2] [--batch 32] [--steps 20] [--warmup 3] [--config TOML]
Prints one JSON line: {"train_samples_per_s": ..., "eval_samples_per_s": ...}.
"""
import argparse
import json
import time

import torch
import torch.nn as nn


def genre_cnn(classes=10):
    layers = []
    c = 1
    for out in (16, 32, 64, 128):
        layers += [nn.Conv2d(c, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(), nn.MaxPool2d(2, 2)]
        c = out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3), nn.Linear(c, classes)]
    return nn.Sequential(*layers)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--config", default=None, help="training configuration whose [model] to build")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    frames = 128
    if a.config:
        import os
        import sys
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import torch_crossval
        recipe = torch_crossval.recipe(a.config)
        frames = recipe["model"]["crop_frames"]
        model = torch_crossval.build_model(recipe, 10, 128)
    else:
        model = genre_cnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(a.batch, 1, 128, frames)
    y = torch.randint(0, 10, (a.batch,))
    loss_fn = nn.CrossEntropyLoss()

    def train_step():
        model.train()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(a.warmup):
        train_step()
    t = time.perf_counter()
    for _ in range(a.steps):
        train_step()
    train = a.batch * a.steps / (time.perf_counter() - t)

    model.eval()
    with torch.no_grad():
        for _ in range(a.warmup):
            model(x)
        t = time.perf_counter()
        for _ in range(a.steps):
            model(x)
        evaluation = a.batch * a.steps / (time.perf_counter() - t)
    print(json.dumps({"torch": torch.__version__, "threads": a.threads, "batch": a.batch,
                      "train_samples_per_s": round(train, 1), "eval_samples_per_s": round(evaluation, 1)}))


if __name__ == "__main__":
    main()

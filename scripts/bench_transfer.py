#!/usr/bin/env python3
"""`make bench-transfer`: the pre-trained musicnn MSD-VGG in GenreKit and in PyTorch on the CPU, side by side.

    python3 scripts/bench_transfer.py --genre .build/release/genre --model models/musicnn-msd-vgg.h5
        [--threads 2] [--batch 32] [--steps 10] [--rounds 2]

Each round runs, one after the other in fresh processes, `genre bench-train --pretrained MODEL` and
`scripts/musicnn_torch.py bench --checkpoint MODEL` (torch.set_num_threads(threads)), same network, batch and
threads, on 3 s patches [1, 96, 187]:
- embedding: evaluation forwards (the probe's embeddings: pool5 and the sigmoid tags), windows/s;
- fine-tuning: forward, cross-entropy, backward, AdamW of the body + a new 10-way head, batch norm in evaluation
  mode, samples/s;
- head only: the body frozen (forward only), samples/s.
Prints the better of the rounds for each, the ratios GenreKit / PyTorch and each process's peak RSS. Skips (exit
0) with a reason when the model (`make pretrained`) or PyTorch is missing.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_train import ensure_torch, measured  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genre", default=os.path.join(ROOT, ".build/release/genre"))
    ap.add_argument("--model", default=os.path.join(ROOT, "models/musicnn-msd-vgg.h5"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    if not os.path.exists(args.model):
        print(f"bench-transfer: skipped: no pre-trained network at {args.model} (make pretrained)")
        return 0
    if not ensure_torch():
        print("bench-transfer: skipped: PyTorch is not installed")
        return 0
    best = {"genrekit": {}, "torch": {}}
    rss = {"genrekit": 0.0, "torch": 0.0}
    for _ in range(args.rounds):
        _, r, out = measured([args.genre, "bench-train", "--pretrained", args.model, "--batch", str(args.batch),
                              "--steps", str(args.steps), "--threads", str(args.threads)])
        m = re.search(r"embed ([\d.]+) windows/s, fine-tune ([\d.]+) samples/s, head only ([\d.]+)", out)
        if not m:
            raise SystemExit(f"bench-transfer: unexpected output of genre bench-train:\n{out}")
        figures = dict(zip(("embed", "finetune", "head"), map(float, m.groups())))
        for k, v in figures.items():
            best["genrekit"][k] = max(best["genrekit"].get(k, 0), v)
        rss["genrekit"] = max(rss["genrekit"], r)
        with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
            _, r, out = measured([sys.executable, os.path.join(ROOT, "scripts/musicnn_torch.py"), "bench",
                                  "--checkpoint", args.model, "--threads", str(args.threads), "--batch",
                                  str(args.batch), "--seconds", "8", "--json", tmp.name])
            t = json.load(open(tmp.name))
        for k, key in (("embed", "eval_patches_per_s"), ("finetune", "finetune_samples_per_s"),
                       ("head", "head_only_samples_per_s")):
            best["torch"][k] = max(best["torch"].get(k, 0), t[key])
        rss["torch"] = max(rss["torch"], r)
    print(f"musicnn MSD-VGG, input [1, 96, 187], batch {args.batch}, {args.threads} threads, best of {args.rounds} rounds:")
    print(f"{'':24}{'GenreKit':>12}{'PyTorch':>12}{'ratio':>8}")
    for k, label in (("embed", "embedding (windows/s)"), ("finetune", "fine-tune (samples/s)"),
                     ("head", "head only (samples/s)")):
        g, t = best["genrekit"][k], best["torch"][k]
        print(f"{label:24}{g:12.1f}{t:12.1f}{g / t:7.2f}x")
    print(f"{'peak RSS (MiB)':24}{rss['genrekit']:12.0f}{rss['torch']:12.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""`make bench-train`: GenreKit's CNN training throughput, side by side with PyTorch on the CPU.

    python3 scripts/bench_train.py --genre .build/release/genre [--threads 2] [--steps 20] [--epochs 3]
        [--shards out/demo/shards] [--reference bench]

1. Random input: forward + backward + Adam update at batch 32 on 1x128x128 input, and evaluation forwards:
   `genre bench-train` and the same model in PyTorch (scripts/bench_net_torch.py, torch.set_num_threads(threads)),
   samples/s each, after 3 warm-up steps; two interleaved rounds, the better of each. Twice: the reference CNN
   (4 x conv3x3-BN-ReLU-maxpool 16/32/64/128, GAP, dropout 0.3, linear) and the default model of
   pipelines/train.toml (`--config`), which must stay at least 1.5x PyTorch.
2. The demo shards (`make demo` writes them): seconds per epoch and peak memory of `genre train` (the reference
   recipe, bench/train-issue8.toml: plain CNN, Adam, no augmentation; `--epochs N`) and of the reference PyTorch script (the project's bench/torch_train.py) on the same clips (the
   shards are concatenated into the reference's train.h5/valid.h5/test.h5 layout first).
PyTorch comes from the CPU wheel on this machine (installed with pip when missing); `make test` never needs it.
"""
import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time

def ensure_torch():
    try:
        import torch  # noqa: F401
        return True
    except ImportError:
        wheels = glob.glob("/opt/wheels/torch-*cpu*.whl") or glob.glob("/**/torch-*cpu*.whl", recursive=True)
        if not wheels:
            return False
        print(f"bench-train: installing {wheels[0]}")
        return subprocess.run([sys.executable, "-m", "pip", "install", "-q", wheels[0]]).returncode == 0


def measured(cmd, env=None):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stdout.write(out)
        raise SystemExit(f"bench-train: failed ({code}): {' '.join(cmd)}")
    return time.perf_counter() - t0, usage.ru_maxrss / 1024.0, out


def reference_layout(shards, out):
    """Concatenates GenreKit shards into the reference script's train.h5/valid.h5/test.h5 (mel, label, classes)."""
    import h5py
    import numpy as np
    os.makedirs(out, exist_ok=True)
    for split in ("train", "valid", "test"):
        files = sorted(glob.glob(os.path.join(shards, f"{split}-*.h5")))
        mels, labels, classes = [], [], None
        for f in files:
            with h5py.File(f, "r") as h:
                mels.append(h["mel"][:])
                labels.append(h["label"][:])
                classes = [str(c) for c in h.attrs["classes"]]
        with h5py.File(os.path.join(out, f"{split}.h5"), "w") as h:
            h["mel"] = np.concatenate(mels)
            h["label"] = np.concatenate(labels)
            h.attrs["classes"] = classes


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genre", default=".build/release/genre")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--shards", default="out/demo/shards")
    ap.add_argument("--reference", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"),
                    help="folder of the reference scripts (default: the project's bench/)")
    ap.add_argument("--work", default=os.path.join("out", "bench-train"))
    args = ap.parse_args()
    have_torch = ensure_torch()

    # 1. Random input, both tools, twice each (interleaved) and the better run of each.
    for title, config in (("reference CNN (bench/train-issue8.toml)", None), ("default model of pipelines/train.toml", "pipelines/train.toml")):
        extra = ["--config", config] if config else []
        ours, theirs = [], []
        for _ in range(2):
            _, _, out = measured([args.genre, "bench-train", "--batch", str(args.batch), "--steps", str(args.steps),
                                  "--threads", str(args.threads)] + extra)
            m = re.search(r"train ([0-9.]+) samples/s, eval ([0-9.]+) windows/s", out)
            ours.append((float(m.group(1)), float(m.group(2))))
            if have_torch:
                _, _, out = measured([sys.executable, os.path.join(os.path.dirname(__file__), "bench_net_torch.py"),
                                      "--threads", str(args.threads), "--batch", str(args.batch), "--steps",
                                      str(args.steps)] + extra)
                r = json.loads(out.strip().splitlines()[-1])
                theirs.append((r["train_samples_per_s"], r["eval_samples_per_s"]))
        best_ours = (max(t for t, _ in ours), max(e for _, e in ours))
        print(f"\n== {title}, batch {args.batch}, {args.threads} threads, random 1x128x128 input ==")
        print(f"genrekit: train {best_ours[0]:7.1f} samples/s   eval {best_ours[1]:7.1f} windows/s")
        if theirs:
            best_theirs = (max(t for t, _ in theirs), max(e for _, e in theirs))
            print(f"pytorch:  train {best_theirs[0]:7.1f} samples/s   eval {best_theirs[1]:7.1f} windows/s")
            print(f"ratio genrekit / pytorch: train {best_ours[0] / best_theirs[0]:.2f}x, eval "
                  f"{best_ours[1] / best_theirs[1]:.2f}x (target >= 1.5)")

    # 2. Epochs on the demo shards.
    if not glob.glob(os.path.join(args.shards, "train-*.h5")):
        print(f"\n(no shards in {args.shards}: run `make demo` for the per-epoch figures)")
        return
    shutil.rmtree(args.work, ignore_errors=True)
    run = os.path.join(args.work, "run")
    wall, rss, _ = measured([args.genre, "train", "--shards", args.shards, "--out", run, "--config",
                             "bench/train-issue8.toml", "--epochs", str(args.epochs)])
    log = [json.loads(line) for line in open(os.path.join(run, "log.jsonl"))]
    print(f"\n== {args.epochs} epochs on {args.shards} (bench/train-issue8.toml, the reference recipe) ==")
    print(f"genrekit: {sum(r['seconds'] for r in log) / len(log):6.2f} s/epoch (train + valid), "
          f"{sum(r['samples_per_second'] for r in log) / len(log):6.1f} train samples/s, peak RSS {rss:.0f} MiB")
    script = os.path.join(args.reference, "torch_train.py")
    if have_torch and os.path.exists(script):
        ref = os.path.join(args.work, "reference-shards")
        reference_layout(args.shards, ref)
        js = os.path.join(args.work, "torch.json")
        _, rss_t, _ = measured([sys.executable, script, ref, "--epochs", str(args.epochs), "--threads",
                                str(args.threads), "--json", js])
        h = json.load(open(js))["history"]
        print(f"pytorch:  {sum(r['epoch_s'] for r in h) / len(h):6.2f} s/epoch (train + valid), "
              f"{sum(r['train_samples_per_s'] for r in h) / len(h):6.1f} train samples/s, peak RSS {rss_t:.0f} MiB")


if __name__ == "__main__":
    main()

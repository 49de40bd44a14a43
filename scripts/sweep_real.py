#!/usr/bin/env python3
"""The sweep that chose `pipelines/train.toml`'s defaults: training recipes, k-fold on the real GTZAN clips.

    python3 scripts/sweep_real.py [--genre .build/release/genre] [--clips ../gtzan-mini] [--folds 5]
        [--out out/sweep-real] [--only NAME ...] [--jobs 2]

Each candidate is the configuration it names as its base plus a few keys (CANDIDATES below, in the order they were
tried: each step keeps what helped before it). Every candidate runs through `genre crossval` on the same folds
(`pipelines/gtzan.toml` with `[split] method = "kfold"`, seed 1234) as `scripts/eval_real.py` does, so the figures
are comparable; the table gives mean ± sd over folds of clip accuracy and macro-F1 and the change against the
issue-8 default. Without the clips it prints why it skips. Writes OUT/configs/NAME.toml, OUT/sweep.md and
OUT/sweep.json. GenreKit only (the PyTorch reference of the chosen recipe is `make eval-real`).
"""
import argparse
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eval_real  # noqa: E402

ROOT = eval_real.ROOT
LONG = {"train.epochs": 120, "train.patience": 0, "optimizer.kind": "adamw", "optimizer.learning_rate": 2e-3,
        "optimizer.weight_decay": 1e-4, "schedule.kind": "cosine", "schedule.warmup_epochs": 3}
AUGMENT = {"augment.time_masks": 1, "augment.time_mask_width": 24, "augment.frequency_masks": 1,
           "augment.frequency_mask_width": 16, "augment.mixup_alpha": 0.2}

# name: (base configuration, overrides). Bases are files relative to the repository.
CANDIDATES = {
    "issue-8 default": ("bench/train-issue8.toml", {}),
    "+ 120 epochs, AdamW 2e-3, cosine": ("bench/train-issue8.toml", LONG),
    "+ SpecAugment, mixup 0.2": ("bench/train-issue8.toml", {**LONG, **AUGMENT}),
    "+ overlapping windows (hop 64)": ("bench/train-issue8.toml", {**LONG, **AUGMENT, "evaluate.window_hop": 64}),
    "+ average+max pool": ("bench/train-issue8.toml",
                           {**LONG, **AUGMENT, "evaluate.window_hop": 64, "model.pool": "average+max"}),
    "+ residual blocks": ("bench/train-issue8.toml",
                          {**LONG, **AUGMENT, "evaluate.window_hop": 64, "model.pool": "average+max",
                           "model.block": "residual"}),
    "+ balanced sampler": ("bench/train-issue8.toml",
                           {**LONG, **AUGMENT, "evaluate.window_hop": 64, "model.pool": "average+max",
                            "train.balance": "sampler"}),
    "new default": ("pipelines/train.toml", {}),
}


def toml_value(value):
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return repr(value)


def write_candidate(base, overrides, path):
    """The base TOML with each `section.key` replaced (or added to its section)."""
    text = open(os.path.join(ROOT, base)).read()
    for dotted, value in overrides.items():
        section, key = dotted.split(".")
        line = f"{key} = {toml_value(value)}"
        pattern = re.compile(rf"^(\[{section}\][^\[]*?)^{key} = [^\n#]*", re.M | re.S)
        if pattern.search(text):
            text = pattern.sub(lambda m: m.group(1) + line + " ", text, count=1)
        elif re.search(rf"^\[{section}\]", text, re.M):
            text = re.sub(rf"^\[{section}\]\n", f"[{section}]\n{line}\n", text, count=1, flags=re.M)
        else:
            text += f"\n[{section}]\n{line}\n"
    with open(path, "w") as fh:
        fh.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genre", default=os.path.join(ROOT, ".build/release/genre"))
    ap.add_argument("--clips", default=os.path.join(os.path.dirname(ROOT), "gtzan-mini"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--out", default=os.path.join(ROOT, "out/sweep-real"))
    ap.add_argument("--only", action="append", default=None)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    if not os.path.isdir(args.clips):
        print(f"sweep-real: skipped: no real clips at {args.clips} (see ../shared/data/gtzan-mini/README.md)")
        return 0
    os.makedirs(os.path.join(args.out, "configs"), exist_ok=True)
    pipeline = eval_real.fold_pipeline(args.out, args.folds, args.seed)
    results = {}
    for name, (base, overrides) in CANDIDATES.items():
        if args.only and name not in args.only:
            continue
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        config = os.path.join(args.out, "configs", slug + ".toml")
        write_candidate(base, overrides, config)
        started = time.perf_counter()
        results[name] = eval_real.genrekit(args, slug, config, pipeline)
        results[name]["config"] = config
        print(f"sweep-real: {name}: {time.perf_counter() - started:.0f} s", flush=True)
    lines = ["| candidate | accuracy | macro-F1 | Δ macro-F1 | s / fold |", "|---|---|---|---|---|"]
    reference = None
    for name, r in results.items():
        a, f, s = (eval_real.mean_sd(r[k]) for k in ("accuracy", "macro_f1", "seconds"))
        reference = f[0] if reference is None else reference
        lines.append(f"| {name} | {a[0]:.3f} ± {a[1]:.3f} | {f[0]:.3f} ± {f[1]:.3f} | {f[0] - reference:+.3f} | {s[0]:.0f} |")
    table = "\n".join(lines)
    print(table)
    with open(os.path.join(args.out, "sweep.md"), "w") as fh:
        fh.write(table + "\n")
    with open(os.path.join(args.out, "sweep.json"), "w") as fh:
        json.dump(results, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

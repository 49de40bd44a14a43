#!/usr/bin/env python3
"""The sweep that chose `pipelines/train.toml`'s defaults: training recipes, k-fold on the real GTZAN clips.

    python3 scripts/sweep_real.py [--genre .build/release/genre] [--clips ../gtzan-mini] [--folds 5]
        [--out out/real-clips] [--only NAME ...] [--jobs 2]

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

MASKS = {k: v for k, v in AUGMENT.items() if k != "augment.mixup_alpha"}
POOLED = {"model.pool": "average+max"}

# name: (base configuration, overrides), in the order they were tried. Bases are files relative to the repository.
CANDIDATES = {
    "issue-8 default": ("bench/train-issue8.toml", {}),
    "+ 120 epochs, AdamW 2e-3, cosine": ("bench/train-issue8.toml", LONG),
    "+ SpecAugment, mixup 0.2": ("bench/train-issue8.toml", {**LONG, **AUGMENT}),
    "+ SpecAugment only": ("bench/train-issue8.toml", {**LONG, **MASKS}),
    "120 epochs + average+max pool": ("bench/train-issue8.toml", {**LONG, **POOLED}),
    "120 epochs + residual blocks": ("bench/train-issue8.toml", {**LONG, "model.block": "residual"}),
    # The imbalanced-corpus rows below chose balance = "sampler": pipelines/train.toml is the 120-epoch recipe with it.
    "new default": ("pipelines/train.toml", {}),
}

# Class balance on an imbalanced corpus: every other genre keeps 4 of its 10 clips (drawn with a fixed seed) and
# the folds are dealt from what is left, so the small genres have 2 or 3 training clips a fold and 0 or 1 test
# clips. Each mode with the 120-epoch recipe.
BALANCE = {f"imbalanced, balance = {mode}": ("bench/train-issue8.toml", {**LONG, "train.balance": mode})
           for mode in ("none", "sampler", "loss")}


def toml_value(value):
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return repr(value)


def write_candidate(base, overrides, path):
    """The base TOML with each `section.key` replaced in its section (or added at the section's top)."""
    lines = open(os.path.join(ROOT, base)).read().split("\n")
    for dotted, value in overrides.items():
        section, key = dotted.split(".")
        line = f"{key} = {toml_value(value)}"
        current, header, done = None, None, False
        for i, text in enumerate(lines):
            stripped = text.strip()
            if stripped.startswith("[") and stripped.endswith("]") and "=" not in stripped:
                current = stripped[1:-1]
                if current == section:
                    header = i
            elif current == section and re.match(rf"^#?\s*{re.escape(key)}\s*=", stripped):
                lines[i] = line
                done = True
                break
        if not done:
            if header is None:
                lines += ["", f"[{section}]", line]
            else:
                lines.insert(header + 1, line)
    with open(path, "w") as fh:
        fh.write("\n".join(lines))


def imbalanced_pipeline(args):
    """The k-fold pipeline restricted (through a split list) to the imbalanced subset of the clips."""
    import random
    rng = random.Random(11)
    keep = []
    genres = sorted(d for d in os.listdir(args.clips) if os.path.isdir(os.path.join(args.clips, d)))
    for i, genre in enumerate(genres):
        clips = sorted(os.listdir(os.path.join(args.clips, genre)))
        keep += [f"{genre}/{c}" for c in (sorted(rng.sample(clips, 4)) if i % 2 else clips)]
    listing = os.path.join(args.out, "imbalanced.txt")
    with open(listing, "w") as fh:
        fh.write("\n".join(keep) + "\n")
    text = open(eval_real.fold_pipeline(args.out, args.folds, args.seed)).read()
    text = text.replace("fold = 0", f'fold = 0\ntrain_list = "{listing}"', 1)
    path = os.path.join(args.out, "gtzan-kfold-imbalanced.toml")
    with open(path, "w") as fh:
        fh.write(text)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genre", default=os.path.join(ROOT, ".build/release/genre"))
    ap.add_argument("--clips", default=os.path.join(os.path.dirname(ROOT), "gtzan-mini"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--out", default=os.path.join(ROOT, "out/real-clips"), help="shared with make eval-real")
    ap.add_argument("--only", action="append", default=None)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    if not os.path.isdir(args.clips):
        print(f"sweep-real: skipped: no real clips at {args.clips} (see ../shared/data/gtzan-mini/README.md)")
        return 0
    os.makedirs(os.path.join(args.out, "configs"), exist_ok=True)
    pipeline = eval_real.fold_pipeline(args.out, args.folds, args.seed)
    imbalanced = imbalanced_pipeline(args)
    results = {}
    for name, (base, overrides) in {**CANDIDATES, **BALANCE}.items():
        if args.only and not any(name.startswith(o) for o in args.only):
            continue
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        config = os.path.join(args.out, "configs", slug + ".toml")
        write_candidate(base, overrides, config)
        started = time.perf_counter()
        results[name] = eval_real.genrekit(args, slug, config, imbalanced if name in BALANCE else pipeline)
        results[name]["config"] = config
        print(f"sweep-real: {name}: {time.perf_counter() - started:.0f} s", flush=True)
    lines = ["| candidate | accuracy | macro-F1 | Δ macro-F1 | s / fold |", "|---|---|---|---|---|"]
    reference = None
    for name, r in results.items():
        if name in BALANCE and reference is not None and not any(n in BALANCE for n in list(results)[:list(results).index(name)]):
            lines += ["", "| imbalanced corpus | accuracy | macro-F1 | Δ macro-F1 | s / fold |", "|---|---|---|---|---|"]
            reference = None
        a, f, s = (eval_real.mean_sd(r[k]) for k in ("accuracy", "macro_f1", "seconds"))
        reference = f[0] if reference is None else reference
        lines.append(f"| {name} | {a[0]:.3f} ± {a[1]:.3f} | {f[0]:.3f} ± {f[1]:.3f} | {f[0] - reference:+.3f} | {s[0]:.0f} |")
    eval_real.write_outputs(args.out, "sweep", "\n".join(lines), results)
    return 0


if __name__ == "__main__":
    sys.exit(main())

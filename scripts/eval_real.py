#!/usr/bin/env python3
"""`make eval-real`: training recipes on real GTZAN clips, stratified k-fold, GenreKit and PyTorch side by side.

    python3 scripts/eval_real.py --genre .build/release/genre --clips ../gtzan-mini [--folds 5] [--out out/eval-real]
        [--config NAME=FILE ...] [--no-torch] [--jobs 2]

The clips are the 100 real GTZAN clips `../shared/data/gtzan-mini/` brings to a machine (10 per genre; never
committed). Without them the script prints why it skips and exits 0. For every configuration (by default today's
`pipelines/train.toml` and the one it replaced, `bench/train-issue8.toml`), `genre crossval` preprocesses the clips
with `pipelines/gtzan.toml` and `[split] method = "kfold"` (folds share one feature cache, so each fold's shards are
cheap), trains and evaluates each fold; then `scripts/torch_crossval.py` trains the same recipe in PyTorch on the
very same fold shards. Prints, per configuration and implementation, the mean ± sample standard deviation over
folds of clip accuracy and macro-F1, and seconds per fold (training + evaluation; preprocessing is shared).
Writes the table to OUT/eval-real.md and the figures to OUT/results.json.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def mean_sd(values):
    if not values:
        return float("nan"), float("nan")
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def write_outputs(out, stem, table, results):
    """Prints the table and writes it to OUT/STEM.md, the figures to OUT/STEM.json."""
    print(table)
    with open(os.path.join(out, stem + ".md"), "w") as fh:
        fh.write(table + "\n")
    with open(os.path.join(out, stem + ".json"), "w") as fh:
        json.dump(results, fh, indent=2)


def fold_pipeline(out, folds, seed, source="gtzan"):
    """pipelines/SOURCE.toml with a stratified k-fold split of `folds` folds dealt with `seed`: OUT/SOURCE-kfold.toml."""
    import re
    text = open(os.path.join(ROOT, f"pipelines/{source}.toml")).read()
    for key, value in (("method", '"kfold"'), ("folds", str(folds)), ("seed", str(seed))):
        text, n = re.subn(rf"^{key} = [^#\n]*", f"{key} = {value} ", text, count=1, flags=re.M)
        if n != 1:
            raise SystemExit(f"eval-real: pipelines/{source}.toml has no {key} key in [split]")
    path = os.path.join(out, f"{source}-kfold.toml")
    with open(path, "w") as fh:
        fh.write(text)
    return path


def run(cmd, log):
    with open(log, "w") as fh:
        code = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT).returncode
    if code != 0:
        sys.stdout.write(open(log).read()[-3000:])
        raise SystemExit(f"eval-real: failed ({code}): {' '.join(cmd)} (log: {log})")


def same_recipe_run(args, config):
    """The slug of a run in OUT (make sweep-real's) whose training configuration reads the same as `config`."""
    import glob
    import torch_crossval  # its recipe() fills in GenreKit's defaults
    wanted = torch_crossval.recipe(config)
    for other in sorted(glob.glob(os.path.join(args.out, "configs", "*.toml"))):
        slug = os.path.basename(other)[:-5]
        summary = os.path.join(args.out, slug, "genrekit", "summary.json")
        if torch_crossval.recipe(other) == wanted and os.path.exists(summary):
            split = json.load(open(summary))["pipeline"]["split"]
            if not any(split.get(k) for k in ("train_list", "valid_list", "test_list")):  # all the clips, not a subset
                return slug
    return None


def genrekit(args, name, config, pipeline):
    out = os.path.join(args.out, name, "genrekit")
    os.makedirs(out, exist_ok=True)
    cmd = [args.genre, "crossval", "--corpus", args.clips, "--pipeline", pipeline, "--config", config,
           "--folds", str(args.folds), "--out", out, "--jobs", str(args.jobs)]
    run(cmd, os.path.join(args.out, name, "genrekit.log"))
    summary = json.load(open(os.path.join(out, "summary.json")))
    folds = summary["folds"]
    return {
        "accuracy": [f["accuracy"] for f in folds], "macro_f1": [f["macro_f1"] for f in folds],
        "seconds": [f["seconds"]["train"] + f["seconds"]["evaluate"] for f in folds], "shards": [os.path.join(out, f"fold-{k}", "shards") for k in range(len(folds))],
        "summary": os.path.join(out, "summary.json"),
    }


def torch_reference(args, name, config, shard_dirs):
    rows = {"accuracy": [], "macro_f1": [], "seconds": [], "train_samples_per_s": []}
    for k, shards in enumerate(shard_dirs):
        result = os.path.join(args.out, name, "torch", f"fold-{k}.json")
        os.makedirs(os.path.dirname(result), exist_ok=True)
        if not os.path.exists(result):
            run([sys.executable, os.path.join(ROOT, "scripts/torch_crossval.py"), "--shards", shards, "--config", config,
                 "--threads", str(args.jobs), "--json", result], result.replace(".json", ".log"))
        r = json.load(open(result))
        for key in rows:
            rows[key].append(r[key])
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genre", default=os.path.join(ROOT, ".build/release/genre"))
    ap.add_argument("--clips", default=os.path.join(os.path.dirname(ROOT), "gtzan-mini"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1234, help="seed of the fold assignment")
    ap.add_argument("--out", default=os.path.join(ROOT, "out/real-clips"),
                    help="shared with make sweep-real: a configuration already run there is not run again")
    ap.add_argument("--config", action="append", default=None, metavar="NAME=FILE")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    if not os.path.isdir(args.clips):
        print(f"eval-real: skipped: no real clips at {args.clips} (see ../shared/data/gtzan-mini/README.md; "
              f"GTZAN_MINI=DIR names another folder)")
        return 0
    torch_ok = not args.no_torch
    if not os.access(args.genre, os.X_OK):
        raise SystemExit(f"eval-real: no genre tool at {args.genre} (make build)")
    if torch_ok:
        try:
            import torch  # noqa: F401
        except ImportError:
            print("eval-real: PyTorch is not installed: GenreKit only (pip install the CPU wheel for the reference)")
            torch_ok = False
    configs = args.config or ["issue-8 default=bench/train-issue8.toml", "new default=pipelines/train.toml"]
    os.makedirs(args.out, exist_ok=True)
    pipeline = fold_pipeline(args.out, args.folds, args.seed)
    results = {}
    for item in configs:
        name, _, path = item.partition("=")
        path = path if os.path.isabs(path) else os.path.join(ROOT, path)
        slug = same_recipe_run(args, path)
        if slug:  # the same recipe, run by make sweep-real: its folds are reused (crossval skips completed ones)
            path = os.path.join(args.out, "configs", slug + ".toml")
        else:
            slug = name.replace(" ", "-")
        started = time.perf_counter()
        g = genrekit(args, slug, path, pipeline)
        results[name] = {"config": os.path.relpath(path, ROOT), "genrekit": g}
        print(f"eval-real: {name}: GenreKit done in {time.perf_counter() - started:.0f} s", flush=True)
        if torch_ok:
            started = time.perf_counter()
            results[name]["torch"] = torch_reference(args, slug, path, g["shards"])
            print(f"eval-real: {name}: PyTorch done in {time.perf_counter() - started:.0f} s", flush=True)
    lines = [f"{args.folds}-fold stratified cross-validation on {args.clips} (clip level; mean ± sd over folds)", "",
             "| configuration | implementation | accuracy | macro-F1 | s / fold |", "|---|---|---|---|---|"]
    for name, r in results.items():
        for impl, label in (("genrekit", "GenreKit"), ("torch", "PyTorch")):
            if impl not in r:
                continue
            a, f, s = (mean_sd(r[impl][k]) for k in ("accuracy", "macro_f1", "seconds"))
            lines.append(f"| {name} | {label} | {a[0]:.3f} ± {a[1]:.3f} | {f[0]:.3f} ± {f[1]:.3f} | {s[0]:.0f} |")
    write_outputs(args.out, "eval-real", "\n".join(lines), results)
    return 0


if __name__ == "__main__":
    sys.exit(main())

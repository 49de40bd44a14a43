#!/usr/bin/env python3
"""`make eval-transfer`: from scratch, linear probe and fine-tuning of musicnn's MSD-VGG on real GTZAN clips,
stratified k-fold on identical folds, with the Python (scikit-learn) probe on the same embeddings beside GenreKit's.

    python3 scripts/eval_transfer.py --genre .build/release/genre --clips ../gtzan-mini [--folds 5]
        [--model models/musicnn-msd-vgg.h5] [--out out/real-clips] [--no-python] [--jobs 2]

The clips are the 100 real GTZAN clips `../shared/data/gtzan-mini/` brings to a machine (never committed); without
them, or without the imported network (`make pretrained`), the script prints why it skips and exits 0.

- from scratch: today's default recipe (`pipelines/train.toml`) with `pipelines/gtzan.toml`'s features, run by
  `genre crossval` exactly as `make eval-real` runs it (a run already in OUT is reused);
- probe and fine-tune: `pipelines/probe.toml` and `pipelines/finetune.toml` with `pipelines/musicnn.toml`'s features
  (16 kHz, 96 bands, log10(1 + 10000 S)), by `genre crossval`;
- Python probe: `scripts/probe_sklearn.py` (PyTorch embeddings of the same network from the same checkpoint,
  scikit-learn's LogisticRegression with the same C selection) on the probe's very fold shards.

Every configuration uses `[split] method = "kfold"` with the same folds and seed: the assignment depends only on the
clips, their classes and the seed, so fold k holds the same clips for both front ends (checked: the scripts compare
the test clips of every fold). Prints mean ± sample sd over folds of clip accuracy and macro-F1 and seconds per fold
(training + evaluation; for the probes, embeddings + fit), writes OUT/eval-transfer.md and OUT/eval-transfer.json.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eval_real  # noqa: E402

ROOT = eval_real.ROOT


def test_clips(shards):
    """The sorted clip paths of a fold's test shards."""
    import h5py
    paths = []
    for path in sorted(glob.glob(os.path.join(shards, "test-*.h5"))):
        with h5py.File(path, "r") as h:
            paths += [(p.decode() if isinstance(p, bytes) else str(p)).rsplit(".", 1)[0] for p in h["path"][:]]
    return sorted(paths)


def python_probe(args, shard_dirs):
    rows = {"accuracy": [], "macro_f1": [], "seconds": [], "chosen_C": []}
    for k, shards in enumerate(shard_dirs):
        result = os.path.join(args.out, "musicnn-probe", "python", f"fold-{k}.json")
        os.makedirs(os.path.dirname(result), exist_ok=True)
        if not os.path.exists(result):
            eval_real.run([sys.executable, os.path.join(ROOT, "scripts/probe_sklearn.py"), "--shards", shards,
                           "--checkpoint", args.model, "--threads", str(args.jobs), "--json", result],
                          result.replace(".json", ".log"))
        r = json.load(open(result))
        rows["accuracy"].append(r["accuracy"])
        rows["macro_f1"].append(r["macro_f1"])
        rows["seconds"].append(r.get("embedding_seconds", 0) + r.get("fit_seconds", 0))
        rows["chosen_C"].append(r.get("chosen_C"))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genre", default=os.path.join(ROOT, ".build/release/genre"))
    ap.add_argument("--clips", default=os.path.join(os.path.dirname(ROOT), "gtzan-mini"))
    ap.add_argument("--model", default=os.path.join(ROOT, "models/musicnn-msd-vgg.h5"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1234, help="seed of the fold assignment")
    ap.add_argument("--out", default=os.path.join(ROOT, "out/real-clips"))
    ap.add_argument("--no-python", action="store_true", help="skip the scikit-learn probe")
    ap.add_argument("--no-scratch", action="store_true", help="skip the from-scratch rows")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    os.chdir(ROOT)  # the configurations name models/... relative to the project
    if not os.path.isdir(args.clips):
        print(f"eval-transfer: skipped: no real clips at {args.clips} (see ../shared/data/gtzan-mini/README.md)")
        return 0
    if not os.path.exists(args.model):
        print(f"eval-transfer: skipped: no pre-trained network at {args.model} (make pretrained)")
        return 0
    python_ok = not args.no_python
    if python_ok:
        try:
            import sklearn  # noqa: F401
            import torch  # noqa: F401
        except ImportError:
            print("eval-transfer: scikit-learn or PyTorch is missing: GenreKit only")
            python_ok = False
    os.makedirs(args.out, exist_ok=True)
    results = {}
    if not args.no_scratch:
        gtzan = eval_real.fold_pipeline(args.out, args.folds, args.seed)
        config = os.path.join(ROOT, "pipelines/train.toml")
        slug = eval_real.same_recipe_run(args, config)
        if slug:
            config = os.path.join(args.out, "configs", slug + ".toml")
        else:
            slug = "new-default"
        started = time.perf_counter()
        results["from scratch"] = {"config": os.path.relpath(config, ROOT),
                                   "genrekit": eval_real.genrekit(args, slug, config, gtzan)}
        print(f"eval-transfer: from scratch done in {time.perf_counter() - started:.0f} s", flush=True)
    musicnn = eval_real.fold_pipeline(args.out, args.folds, args.seed, source="musicnn")
    for name, config in (("probe", "pipelines/probe.toml"), ("fine-tune", "pipelines/finetune.toml")):
        started = time.perf_counter()
        g = eval_real.genrekit(args, "musicnn-" + name, os.path.join(ROOT, config), musicnn)
        results[name] = {"config": config, "genrekit": g}
        print(f"eval-transfer: {name} done in {time.perf_counter() - started:.0f} s", flush=True)
        if name == "probe" and python_ok:
            started = time.perf_counter()
            results[name]["python"] = python_probe(args, g["shards"])
            print(f"eval-transfer: Python probe done in {time.perf_counter() - started:.0f} s", flush=True)
    # The same clips in every fold, whatever the front end.
    runs = [r["genrekit"]["shards"] for r in results.values()]
    for k in range(args.folds):
        sets = {tuple(test_clips(shards[k])) for shards in runs}
        if len(sets) != 1:
            raise SystemExit(f"eval-transfer: fold {k} holds different test clips for different configurations")
    lines = [f"{args.folds}-fold stratified cross-validation on {args.clips}, identical folds (clip level; mean ± sd "
             "over folds)", "", "| configuration | implementation | accuracy | macro-F1 | s / fold |",
             "|---|---|---|---|---|"]
    for name, r in results.items():
        for impl, label in (("genrekit", "GenreKit"), ("python", "Python (PyTorch + scikit-learn)")):
            if impl not in r:
                continue
            a, f, s = (eval_real.mean_sd(r[impl][k]) for k in ("accuracy", "macro_f1", "seconds"))
            lines.append(f"| {name} | {label} | {a[0]:.3f} ± {a[1]:.3f} | {f[0]:.3f} ± {f[1]:.3f} | {s[0]:.0f} |")
    if "python" in results.get("probe", {}):
        per_fold = zip(results["probe"]["genrekit"]["accuracy"], results["probe"]["python"]["accuracy"])
        lines += ["", "probe accuracy per fold, GenreKit / Python: "
                  + ", ".join(f"{a:.2f}/{b:.2f}" for a, b in per_fold)]
    eval_real.write_outputs(args.out, "eval-transfer", "\n".join(lines), results)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Clip-by-clip comparison of two feature files in decibels: a GenreKit shard against the librosa reference.

    python3 bench/compare_mel.py OURS.h5 REFERENCE.h5 [--tol 0.05] [--worst 5] [--cut-db 80]
        [--ours-mean norm/mean] [--ours-std norm/std] [--ref-mean norm/mean] [--ref-std norm/std]

Both files hold `mel` [clips, bands, frames] normalised with `norm/mean` and `norm/std` (`mel * std + mean` = dB)
and `path`; clips are matched by path (every clip of OURS must be in REFERENCE). The comparison is over the cells
within `--cut-db` of each reference clip's maximum (the cells below are clamped by top_db anyway), as the golden
tests compare. Prints `max |diff| = X dB` over all matched clips, the mean, and the worst clips; exits 1 when the
maximum exceeds --tol.
"""
import argparse
import sys


def load(path, mean_name, std_name):
    import h5py
    import numpy as np
    with h5py.File(path, "r") as h:
        mel = h["mel"][:].astype(np.float64)
        mean = h[mean_name][:].astype(np.float64)
        std = h[std_name][:].astype(np.float64)
        paths = [p.decode() if isinstance(p, bytes) else str(p) for p in h["path"][:]]
    return {p: mel[i] * std[:, None] + mean[:, None] for i, p in enumerate(paths)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ours")
    ap.add_argument("reference")
    ap.add_argument("--tol", type=float, default=0.05)
    ap.add_argument("--worst", type=int, default=5)
    ap.add_argument("--cut-db", type=float, default=80.0)
    for side in ("ours", "ref"):
        ap.add_argument(f"--{side}-mean", default="norm/mean", help=f"dataset of the per-band means in {side}")
        ap.add_argument(f"--{side}-std", default="norm/std", help=f"dataset of the per-band deviations in {side}")
    args = ap.parse_args()
    import numpy as np
    ours = load(args.ours, args.ours_mean, args.ours_std)
    reference = load(args.reference, args.ref_mean, args.ref_std)
    missing = [p for p in ours if p not in reference]
    if missing:
        raise SystemExit(f"{len(missing)} clips of {args.ours} are not in {args.reference}, e.g. {missing[0]}")
    rows = []
    for path, a in ours.items():
        b = reference[path]
        if a.shape != b.shape:
            raise SystemExit(f"{path}: shape {a.shape} vs {b.shape}")
        kept = b > b.max() - args.cut_db
        if not kept.any():
            kept = np.ones_like(b, dtype=bool)
        diff = np.abs(a - b)[kept]
        rows.append((float(diff.max()), float(diff.mean()), path))
    rows.sort(reverse=True)
    worst = rows[0][0] if rows else 0.0
    print(f"{len(rows)} clips compared: max |diff| = {worst:.6f} dB, mean |diff| "
          f"{sum(r[1] for r in rows) / max(len(rows), 1):.6f} dB (cells within {args.cut_db:g} dB of each clip's max)")
    for m, mean, path in rows[:args.worst]:
        print(f"  {path}: max {m:.6f} dB, mean {mean:.6f} dB")
    return 0 if worst <= args.tol else 1


if __name__ == "__main__":
    sys.exit(main())

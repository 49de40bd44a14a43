#!/usr/bin/env python3
"""`make bench-predict`: `genre predict` at folder scale and on one long file: wall time and peak memory.

    python3 scripts/bench_predict.py --genre .build/release/genre [--checkpoint FILE] [--corpus out/demo/corpus]
        [--jobs 2] [--long-minutes 60] [--work out/bench-predict] [--json FILE]

1. A checkpoint: `--checkpoint`, or a quick one trained here (the demo corpus preprocessed with
   pipelines/demo.toml, pipelines/demo-train.toml's network trained for one epoch: its speed is the demo model's,
   its accuracy does not matter here).
2. `genre predict --csv` over the whole demo corpus folder (`make demo`'s: 20 clips of 10 s per genre, written with
   `genre synth` when missing), with --jobs N and with --jobs 1: files/s, audio-seconds/s, peak RSS.
3. One 30 s file and one long file (60 minutes by default), both 22050 Hz mono 16-bit WAV made from 30 s clips of
   `genre synth` (the long one is the ten genres' clips repeated end to end), under --work (never committed):
   wall time and peak RSS of `genre predict` on each, and the ratio of the peaks (memory that grows with the file's
   length shows here; streaming prediction keeps it near 1).
4. When librosa and onnxruntime are importable, the Python reference over the same folder: the model exported
   (`genre export`) and scripts/onnx_predict.py (librosa features rebuilt from the metadata, onnxruntime).

Peak RSS is the child's own (os.wait4's ru_maxrss); each command runs once, after the page cache was warmed by
reading its input. Prints a table; `--json` also writes the figures.
"""
import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time


def measured(cmd, ok=(0,)):
    """Runs cmd; returns (wall seconds, peak RSS in MiB of exactly this child, exit status, output)."""
    os.sync()
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code not in ok:
        sys.stdout.write(out)
        raise SystemExit(f"bench-predict: command failed ({code}): {' '.join(cmd)}")
    return wall, usage.ru_maxrss / 1024.0, code, out


def warm(path):
    """Reads every file under path once (so no measured run pays for the first read from disk)."""
    files = [path] if os.path.isfile(path) else [os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs]
    for name in files:
        with open(name, "rb") as fh:
            while fh.read(1 << 22):
                pass


def ensure_corpus(genre, corpus):
    """Writes the demo corpus (as `make demo` does, stamp included) when the folder does not exist."""
    if os.path.exists(corpus):
        return
    print(f"bench-predict: writing the demo corpus (200 clips of 10 s) to {corpus}")
    measured([genre, "synth", corpus, "--clips-per-genre", "20", "--seconds", "10", "--seed", "0"])
    open(os.path.join(corpus, ".complete"), "w").close()


def ensure_checkpoint(args):
    if args.checkpoint:
        return args.checkpoint
    run = os.path.join(args.work, "run")
    checkpoint = os.path.join(run, "best.h5")
    if os.path.exists(checkpoint):
        return checkpoint
    shards = os.path.join(args.work, "shards")
    print("bench-predict: training a checkpoint for one epoch (pipelines/demo.toml, pipelines/demo-train.toml)")
    shutil.rmtree(shards, ignore_errors=True)
    shutil.rmtree(run, ignore_errors=True)
    measured([args.genre, "preprocess", "--corpus", args.corpus, "--pipeline", "pipelines/demo.toml", "--out", shards,
              "--jobs", str(args.jobs)])
    measured([args.genre, "train", "--shards", shards, "--out", run, "--config", "pipelines/demo-train.toml",
              "--epochs", "1"])
    return checkpoint


def write_long_files(args):
    """The 30 s WAV and the long WAV (22050 Hz mono 16-bit) from `genre synth` clips; returns their paths."""
    import numpy as np
    import soundfile

    clips = os.path.join(args.work, "clips30")
    short, long = os.path.join(args.work, "one-30s.wav"), os.path.join(args.work, f"one-{args.long_minutes}min.wav")
    if os.path.exists(short) and os.path.exists(long):
        return short, long
    shutil.rmtree(clips, ignore_errors=True)
    measured([args.genre, "synth", clips, "--clips-per-genre", "1", "--seconds", "30", "--seed", "3",
              "--formats", "au22050"])
    names = sorted(os.path.join(d, f) for d, _, fs in os.walk(clips) for f in fs if f.endswith(".au"))
    audio = [soundfile.read(n, dtype="int16")[0] for n in names]
    soundfile.write(short, audio[0], 22050, subtype="PCM_16")
    print(f"bench-predict: writing a {args.long_minutes}-minute WAV to {long}")
    with soundfile.SoundFile(long + ".tmp", "w", samplerate=22050, channels=1, subtype="PCM_16", format="WAV") as out:
        for k in range(args.long_minutes * 2):
            out.write(audio[k % len(audio)].astype(np.int16))
    os.replace(long + ".tmp", long)
    shutil.rmtree(clips, ignore_errors=True)
    return short, long


def csv_rows(path):
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return rows, sum(float(r["seconds"]) for r in rows if not r["error"]), sum(1 for r in rows if r["error"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genre", default=".build/release/genre")
    ap.add_argument("--checkpoint", default=None, help="a classifier checkpoint (default: train one here)")
    ap.add_argument("--corpus", default=os.path.join("out", "demo", "corpus"), help="the folder predicted")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--long-minutes", type=int, default=60)
    ap.add_argument("--work", default=os.path.join("out", "bench-predict"))
    ap.add_argument("--json", default=None, help="also write the figures as JSON")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    ensure_corpus(args.genre, args.corpus)
    checkpoint = ensure_checkpoint(args)

    rows = []
    warm(args.corpus)
    for jobs in sorted({args.jobs, 1}, reverse=True):
        out_csv = os.path.join(args.work, f"corpus-jobs{jobs}.csv")
        wall, rss, code, _ = measured([args.genre, "predict", "--checkpoint", checkpoint, "--jobs", str(jobs),
                                       "--csv", out_csv, args.corpus], ok=(0, 2))
        predicted, audio_s, failed = csv_rows(out_csv)
        rows.append({"run": f"corpus folder, --jobs {jobs}", "files": len(predicted), "failed": failed,
                     "audio_s": audio_s, "wall": wall, "rss": rss})
    same = open(os.path.join(args.work, f"corpus-jobs{args.jobs}.csv")).read() == \
        open(os.path.join(args.work, "corpus-jobs1.csv")).read()

    # The Python reference on the same folder: librosa features rebuilt from the exported model's metadata and
    # onnxruntime (scripts/onnx_predict.py, one process; onnxruntime on 2 threads), when they are installed.
    reference = None
    try:
        import librosa  # noqa: F401
        import onnxruntime  # noqa: F401
        onnx_model = os.path.join(args.work, "model.onnx")
        measured([args.genre, "export", "--checkpoint", checkpoint, "--onnx", onnx_model])
        files = sorted(os.path.join(d, f) for d, _, fs in os.walk(args.corpus) for f in fs
                       if f.rsplit(".", 1)[-1].lower() in ("wav", "au", "flac", "aiff", "aif", "ogg", "mp3"))
        wall, rss, _, _ = measured([sys.executable, "scripts/onnx_predict.py", onnx_model] + files)
        reference = {"run": "librosa + onnxruntime", "files": len(files), "failed": 0,
                     "audio_s": rows[-1]["audio_s"], "wall": wall, "rss": rss}
    except ImportError:
        print("bench-predict: no Python reference row (librosa and onnxruntime are not importable)")

    short, long = write_long_files(args)
    for name, path in ((f"one 30 s file", short), (f"one {args.long_minutes} min file", long)):
        warm(path)
        out_csv = os.path.join(args.work, os.path.basename(path) + ".csv")
        wall, rss, _, _ = measured([args.genre, "predict", "--checkpoint", checkpoint, "--csv", out_csv, path])
        _, audio_s, _ = csv_rows(out_csv)
        rows.append({"run": name, "files": 1, "failed": 0, "audio_s": audio_s, "wall": wall, "rss": rss})
    ratio = rows[-1]["rss"] / rows[-2]["rss"]
    if reference:
        rows.insert(len(rows) - 2, reference)

    print()
    print(f"== genre predict: {checkpoint}, {os.cpu_count()} cores ==")
    print(f"{'run':<24} {'files':>5} {'audio min':>9} {'wall s':>7} {'files/s':>8} {'audio-s/s':>9} {'peak RSS MiB':>12}")
    for r in rows:
        print(f"{r['run']:<24} {r['files']:>5} {r['audio_s'] / 60:>9.1f} {r['wall']:>7.2f} {r['files'] / r['wall']:>8.1f} "
              f"{r['audio_s'] / r['wall']:>9.0f} {r['rss']:>12.0f}")
    if reference:
        fastest = min(r["wall"] for r in rows if r["run"].startswith("corpus folder"))
        print(f"corpus folder: genre predict {reference['wall'] / fastest:.1f}x the files/s of librosa + onnxruntime "
              f"(the same windows and probabilities: scripts/onnx_predict.py --compare)")
    print(f"peak RSS {args.long_minutes} min / 30 s: {ratio:.1f}x; "
          f"CSV identical with --jobs {args.jobs} and --jobs 1: {'yes' if same else 'NO'}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"checkpoint": checkpoint, "rows": rows, "rss_ratio_long_to_30s": ratio,
                       "identical_across_jobs": same}, fh, indent=2)
    if not same:
        raise SystemExit("bench-predict: the CSV differs between --jobs values")


if __name__ == "__main__":
    main()

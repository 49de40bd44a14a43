#!/usr/bin/env python3
"""`make bench`: GenreKit's preprocessing throughput, side by side with the librosa reference and the FFTW floor.

    python3 scripts/bench_preprocess.py --genre .build/release/genre [--clips 1000] [--stereo-clips 300]
        [--jobs 2] [--reference bench] [--work out/bench] [--skip-librosa] [--skip-long-file]

For each corpus (30 s clips written by `genre synth`: .au at 22050 Hz mono, and .wav at 44.1 kHz stereo):
  1. `genre preprocess` (pipelines/gtzan.toml, --jobs N): wall time, clips/s, audio-s/s, time by stage, peak RSS;
  2. the librosa reference (librosa.load + feature.melspectrogram + power_to_db + h5py, one process per core) on
     the same clips and the same split (it reads GenreKit's split.tsv): wall time, peak RSS of its main process;
  3. the features compared clip by clip in dB (the reference's compare_mel.py);
and once: the same frames through FFTW alone (the reference's fft_floor.c: batched r2c, STFT, STFT+mel+dB); the
peak memory of a run whose corpus holds a one-hour file (it must read only the part it keeps); and
the 22050 Hz corpus as a partitioned run with 1, 2 and 4 parts as local processes (`--part K/N`, all at once,
each with cores/N workers) followed by `genre merge`: wall time of the parts and of the merge, the speed-up over
the single run, the merged shards checked equal to the single run's, and a projection to larger corpora.
Ratios are computed from runs in this process, one after the other, on the same machine. GenreKit runs twice and
its better run counts (the first warms the page cache for both tools).
The references are the project's own, in bench/ (librosa_preprocess.py, compare_mel.py, fft_floor.c; see
bench/README.md); `--reference DIR` points at another folder with the same interfaces.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time


def run_measured(cmd):
    """Runs cmd; returns (wall seconds, peak RSS in MiB of exactly this child (os.wait4), its output).
    Dirty pages of earlier runs are flushed first, so that no run pays for another's write-back."""
    os.sync()
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.stdout.write(out)
        raise SystemExit(f"bench: command failed ({p.returncode}): {' '.join(cmd)}")
    return wall, usage.ru_maxrss / 1024.0, out


def run(cmd):
    """Runs cmd; returns (wall seconds, output)."""
    wall, _, out = run_measured(cmd)
    return wall, out


def ensure_python_reference():
    try:
        import h5py  # noqa: F401
        import librosa  # noqa: F401
        import soxr  # noqa: F401
        return True
    except ImportError:
        print("bench: installing the librosa reference's Python packages (librosa==0.11.0 soundfile h5py soxr)")
        r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "librosa==0.11.0", "soundfile", "h5py", "soxr"])
        return r.returncode == 0


def ensure_corpus(genre, path, clips_per_genre, formats):
    stamp = os.path.join(path, ".complete")
    want = f"{clips_per_genre} {formats}"
    if os.path.exists(stamp) and open(stamp).read().strip() == want:
        return
    shutil.rmtree(path, ignore_errors=True)
    print(f"bench: writing {clips_per_genre * 10} synthetic 30 s clips ({formats}) to {path}")
    run([genre, "synth", path, "--clips-per-genre", str(clips_per_genre), "--seconds", "30", "--seed", "1",
         "--formats", formats])
    with open(stamp, "w") as fh:
        fh.write(want + "\n")


def bench_corpus(args, name, corpus, clips_per_genre, formats):
    ensure_corpus(args.genre, corpus, clips_per_genre, formats)
    out = os.path.join(args.work, f"{name}-genrekit")
    best = None
    for attempt in range(2):
        shutil.rmtree(out, ignore_errors=True)
        wall, rss, _ = run_measured([args.genre, "preprocess", "--corpus", corpus, "--pipeline", args.pipeline,
                                     "--out", out, "--jobs", str(args.jobs)])
        report = json.load(open(os.path.join(out, "report.json")))
        if best is None or wall < best["wall"]:
            best = {"wall": wall, "rss": rss, "report": report}
    result = {"name": name, "genrekit": best}
    n = best["report"]["counts"]["written"]
    audio = best["report"]["throughput"]["audio_s_per_s"] * best["report"]["timings"]["total_s"]
    result["clips"], result["audio_s"] = n, audio
    if not args.skip_librosa:
        ref_out = os.path.join(args.work, f"{name}-librosa")
        shutil.rmtree(ref_out, ignore_errors=True)
        wall, rss, text = run_measured([sys.executable, os.path.join(args.reference, "librosa_preprocess.py"), corpus,
                                        ref_out, "--jobs", str(args.jobs), "--duration", "30",
                                        "--split-list", os.path.join(out, "split.tsv")])
        m = re.search(r"peak RSS main (\d+) MiB, largest child (\d+) MiB", text)
        result["librosa"] = {"wall": wall, "rss": rss, "rss_main": float(m.group(1)) if m else rss,
                             "rss_child": float(m.group(2)) if m else 0.0}
        # Exactness: every train clip, dB against dB.
        train = sorted(f for f in os.listdir(out) if f.startswith("train-") and f.endswith(".h5"))
        diffs = []
        for shard in train:
            r = subprocess.run([sys.executable, os.path.join(args.reference, "compare_mel.py"), os.path.join(out, shard),
                                os.path.join(ref_out, "train.h5"), "--ours-mean", "norm/mean", "--ours-std", "norm/std",
                                "--worst", "1"], capture_output=True, text=True)
            m = re.search(r"max \|diff\|\s*=?\s*([0-9.eE+-]+)", r.stdout)
            diffs.append(float(m.group(1)) if m else float("nan"))
            if not m:
                result["compare_output"] = r.stdout[-2000:] + r.stderr[-2000:]
        result["max_db_diff"] = max(diffs) if diffs else float("nan")
        shutil.rmtree(ref_out, ignore_errors=True)
    return result


def bench_parts(args, corpus, single):
    """1, 2 and 4 parts as concurrent local processes, then the merge; checks the merged shards against `single`."""
    rows = []
    for n in (1, 2, 4):
        out = os.path.join(args.work, f"parts-{n}")
        jobs = max(1, args.jobs // n)
        best = None
        for attempt in range(2):  # the better of two, as for the single run
            shutil.rmtree(out, ignore_errors=True)
            os.sync()
            t0 = time.perf_counter()
            procs = [subprocess.Popen([args.genre, "preprocess", "--corpus", corpus, "--pipeline", args.pipeline, "--out",
                                       out, "--jobs", str(jobs), "--part", f"{k}/{n}"], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True) for k in range(1, n + 1)]
            for p in procs:
                _, err = p.communicate()
                if p.returncode != 0:
                    raise SystemExit(f"bench: a part failed: {err[-2000:]}")
            parts_wall = time.perf_counter() - t0
            merge_wall, merge_rss, _ = run_measured([args.genre, "merge", out, "--jobs", str(args.jobs)])
            if best is None or parts_wall + merge_wall < best[0] + best[1]:
                best = (parts_wall, merge_wall, merge_rss)
        parts_wall, merge_wall, merge_rss = best
        same = all(subprocess.run(["h5diff", "-q", os.path.join(single, f), os.path.join(out, f)]).returncode == 0
                   for f in sorted(os.listdir(single)) if f.endswith(".h5"))
        clips = json.load(open(os.path.join(out, "report.json")))["counts"]["written"]
        rows.append({"parts": n, "jobs_per_part": jobs, "parts_wall": parts_wall, "merge_wall": merge_wall,
                     "merge_rss": merge_rss, "clips": clips, "same_as_single": same})
        shutil.rmtree(out, ignore_errors=True)
    return rows


def fft_floor(args, clips):
    src = os.path.join(args.reference, "fft_floor.c")
    if not os.path.exists(src):
        return None
    exe = os.path.join(args.work, "fft_floor")
    subprocess.run(["cc", "-O2", "-march=native", "-o", exe, src, "-lfftw3f", "-lpthread", "-lm"], check=True)
    _, text = run([exe, "--clips", str(clips), "--threads", str(args.jobs), "--seconds", "30", "--reps", "3"])
    rows = {}
    for line in text.splitlines():
        # floor A threads 2 wall 1.234 s clips/s 810.4  (FFT only, batched r2c)
        m = re.match(r"^floor ([ABC]) threads (\d+) wall ([0-9.]+) s", line.strip())
        if m and int(m.group(2)) == args.jobs:
            rows[m.group(1)] = {"wall": float(m.group(3)), "clips_per_s": clips / float(m.group(3))}
    return rows


def long_file_memory(args):
    """Peak RSS of `genre preprocess` over a corpus holding a one-hour 8 kHz mono file (57.6 MB; 115 MB decoded
    whole, 318 MB once resampled) and a few 2 s clips, against the same corpus without the long file: GenreKit
    reads only the part of a long file it keeps, so the two peaks should be close."""
    import math
    import struct
    import wave

    def write_wav(path, seconds, rate, frequency):
        with wave.open(path, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            second = struct.pack(f"<{rate}h", *(int(9000 * math.sin(2 * math.pi * frequency * i / rate))
                                                for i in range(rate)))
            for _ in range(int(seconds)):
                w.writeframes(second)

    peaks = {}
    for name, long in (("without", False), ("with", True)):
        corpus = os.path.join(args.work, f"long-{name}")
        shutil.rmtree(corpus, ignore_errors=True)
        for genre in ("long", "short"):
            os.makedirs(os.path.join(corpus, genre))
            for k in range(3):
                write_wav(os.path.join(corpus, genre, f"tone {k}.wav"), 2, 22050, 300 + 40 * k + (200 if genre == "short" else 0))
        if long:
            write_wav(os.path.join(corpus, "long", "hour.wav"), 3600, 8000, 150)
        toml = os.path.join(args.work, "long.toml")
        with open(toml, "w") as fh:
            fh.write('name = "long"\n[audio]\nclip_seconds = 2.0\n[shards]\nclips_per_shard = 4\n')
        out = os.path.join(args.work, f"long-{name}-out")
        shutil.rmtree(out, ignore_errors=True)
        _, rss, _ = run_measured([args.genre, "preprocess", "--corpus", corpus, "--pipeline", toml, "--out", out,
                                  "--jobs", str(args.jobs), "--no-cache"])
        peaks[name] = rss
        shutil.rmtree(corpus, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
    return peaks


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--genre", default=".build/release/genre")
    ap.add_argument("--pipeline", default="pipelines/gtzan.toml")
    ap.add_argument("--clips", type=int, default=1000, help="22050 Hz mono clips (multiple of 10)")
    ap.add_argument("--stereo-clips", type=int, default=300, help="44.1 kHz stereo clips (multiple of 10)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--reference", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"),
                    help="folder of the reference scripts (default: the project's bench/)")
    ap.add_argument("--work", default=os.path.join("out", "bench"))
    ap.add_argument("--skip-librosa", action="store_true")
    ap.add_argument("--skip-parts", action="store_true", help="no partitioned runs")
    ap.add_argument("--skip-long-file", action="store_true", help="no one-hour-file memory figure")
    ap.add_argument("--json", default=None, help="also write the figures as JSON")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    if not os.path.exists(os.path.join(args.reference, "librosa_preprocess.py")):
        print(f"bench: no librosa reference at {args.reference}: GenreKit figures only")
        args.skip_librosa = True
    if not args.skip_librosa and not ensure_python_reference():
        print("bench: could not install librosa: GenreKit figures only")
        args.skip_librosa = True

    results = [
        bench_corpus(args, "mono22k", os.path.join(args.work, "corpus-mono22k"), args.clips // 10, "au22050"),
        bench_corpus(args, "stereo44k", os.path.join(args.work, "corpus-stereo44k"), args.stereo_clips // 10, "wav44100"),
    ]
    floor = fft_floor(args, args.clips)
    long_peaks = None if args.skip_long_file else long_file_memory(args)
    parts = None
    if not args.skip_parts:
        single = os.path.join(args.work, "mono22k-genrekit")
        parts = bench_parts(args, os.path.join(args.work, "corpus-mono22k"), single)

    print()
    print(f"== GenreKit preprocessing, {args.jobs} workers, 30 s clips (pipelines/gtzan.toml) ==")
    hdr = f"{'corpus':<11} {'clips':>5} {'tool':<9} {'wall s':>7} {'clips/s':>8} {'audio-s/s':>9} {'peak RSS MiB':>12}"
    print(hdr)
    for r in results:
        g = r["genrekit"]
        print(f"{r['name']:<11} {r['clips']:>5} {'genrekit':<9} {g['wall']:>7.2f} {r['clips'] / g['wall']:>8.1f} "
              f"{r['audio_s'] / g['wall']:>9.0f} {g['rss']:>12.0f}")
        if "librosa" in r:
            lr = r["librosa"]
            print(f"{'':<11} {r['clips']:>5} {'librosa':<9} {lr['wall']:>7.2f} {r['clips'] / lr['wall']:>8.1f} "
                  f"{r['audio_s'] / lr['wall']:>9.0f} {lr['rss_main']:>7.0f} main, {lr['rss_child']:.0f} per worker")
    print()
    print("GenreKit time by stage (s summed over workers; wall for the phases):")
    for r in results:
        t = r["genrekit"]["report"]["timings"]
        s = t["per_clip_stage_s_summed_over_workers"]
        w = t["shard_stage_s_summed_over_workers"]
        print(f"  {r['name']:<10} scan {t['scan_s']:.2f} | decode {s['decode']:.2f}, hash {s['hash']:.2f}, "
              f"resample {s['resample']:.2f}, stft+mel+dB {s['spectral']:.2f}, stats {s['statistics']:.2f}, "
              f"scratch {s['scratch']:.2f} (extract wall {t['extract_wall_s']:.2f}) | read {w['scratch_read']:.2f}, "
              f"normalise {w['normalise']:.2f}, append {w['append']:.2f}, commit {w['commit']:.2f} "
              f"(wall {t['normalise_write_s']:.2f}) | total {t['total_s']:.2f}")
    print()
    for r in results:
        if "librosa" in r:
            ratio = r["librosa"]["wall"] / r["genrekit"]["wall"]
            target = 5.0 if r["name"] == "mono22k" else 4.0
            verdict = "meets" if ratio >= target else "BELOW"
            print(f"speed-up over librosa, {r['name']}: {ratio:.2f}x (target {target:.0f}x: {verdict}); "
                  f"max |dB diff| on the train clips {r.get('max_db_diff', float('nan')):.4f} (tolerance 0.05)")
    if floor:
        g = results[0]["genrekit"]["wall"]
        print(f"FFTW floor, same frames ({args.clips} x 30 s at 22050 Hz, {args.jobs} threads): "
              + ", ".join(f"{k} {v['wall']:.2f} s" for k, v in sorted(floor.items())))
        for k, label in (("A", "FFT only, batched r2c"), ("B", "window, r2c, |X|^2"), ("C", "B + mel + dB")):
            if k in floor:
                print(f"  GenreKit end to end / floor {k} ({label}): {g / floor[k]['wall']:.2f}x")
    if long_peaks:
        print(f"one-hour 8 kHz file among six 2 s clips: peak RSS {long_peaks['with']:.0f} MiB, without it "
              f"{long_peaks['without']:.0f} MiB (decoding it whole would take 115 MB, 318 MB once resampled)")
    if parts:
        g = results[0]["genrekit"]["wall"]
        print()
        print(f"Partitioned runs, {results[0]['clips']} x 30 s at 22050 Hz, parts as concurrent local processes on "
              f"{args.jobs} cores, then genre merge ({args.jobs} workers):")
        print(f"{'parts':>5} {'jobs/part':>9} {'parts s':>8} {'merge s':>8} {'total s':>8} {'vs single':>9} "
              f"{'merge RSS MiB':>13}  equal to the single run")
        for r in parts:
            total = r["parts_wall"] + r["merge_wall"]
            print(f"{r['parts']:>5} {r['jobs_per_part']:>9} {r['parts_wall']:>8.2f} {r['merge_wall']:>8.2f} {total:>8.2f} "
                  f"{g / total:>8.2f}x {r['merge_rss']:>13.0f}  {'yes' if r['same_as_single'] else 'NO'}")
        # Projection: parts scale with nodes (each its share of the clips on its cores); the merge is one process
        # whose work (read every clip's features, normalise, write the shards) grows with the corpus.
        one = parts[0]
        part_per_clip_core = one["parts_wall"] * args.jobs / one["clips"]
        merge_per_clip = max(r["merge_wall"] for r in parts) / one["clips"]
        clips, nodes, cores = 100_000, 50, args.jobs
        part_s = part_per_clip_core * clips / nodes / cores
        merge_s = merge_per_clip * clips
        print(f"projection, {clips} clips of 30 s on {nodes} nodes of {cores} cores: parts {part_s / 60:.1f} min "
              f"({part_per_clip_core * 1000:.1f} ms per clip per core), merge {merge_s / 60:.1f} min "
              f"({merge_per_clip * 1000:.2f} ms per clip on {args.jobs} cores, page-cached here; on a shared "
              f"filesystem it is bound by reading and writing {clips * 128 * 1292 * 4 / 1e9:.0f} GB), "
              f"total {(part_s + merge_s) / 60:.1f} min against "
              f"{(part_per_clip_core * clips / cores + merge_s) / 60:.1f} min on one node")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"results": results, "floor": floor, "parts": parts, "long_file_peak_rss_mib": long_peaks}, fh,
                      indent=2, default=str)


if __name__ == "__main__":
    main()

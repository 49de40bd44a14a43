#!/usr/bin/env python3
"""GenreKit's feature specification done with librosa 0.11 and h5py: the reference `make bench` measures against.

    python3 bench/librosa_preprocess.py CORPUS OUT --split-list SPLIT_TSV [--jobs 2] [--duration 30]

Per clip, exactly what pipelines/gtzan.toml specifies (and what GenreKit computes):
  librosa.load(path, sr=22050, mono=True, res_type="soxr_hq")   decode, mean of the channels, soxr HQ resampling
  librosa.util.fix_length(y, size=duration * 22050)             keep the start, zero-pad a short clip
  librosa.feature.melspectrogram(n_fft=2048, hop_length=512, n_mels=128, center=True, pad_mode="constant")
                                                                 periodic Hann, power 2, Slaney mel scale and norm
  librosa.power_to_db(ref=1.0, amin=1e-10, top_db=80)           per clip
then the train split's per-band mean and standard deviation (population, in float64) normalise every split.

The split is GenreKit's own (`split.tsv` of a `genre preprocess` run: split, label, genre, relpath), so both tools
see exactly the same clips. Writes OUT/train.h5, valid.h5, test.h5: `mel` float32 [clips, 128, frames] (normalised:
`mel * norm/std + norm/mean` is dB), `label` int32, `path` (UTF-8 strings, relative to CORPUS), `norm/mean`,
`norm/std`, attribute `classes`. One worker process per job (librosa holds the GIL). Prints the time of each stage
summed over workers, the wall time, and the peak resident memory of the main process and of the largest worker.
"""
import argparse
import concurrent.futures
import os
import resource
import sys
import time

SAMPLE_RATE = 22050
N_FFT, HOP, N_MELS = 2048, 512, 128


def features(task):
    """One clip: (index, log-mel dB float32 [128, frames], {stage: seconds}, worker peak RSS in KiB)."""
    import librosa
    import numpy as np
    index, path, samples = task
    timings = {}
    t = time.perf_counter()
    y, _ = librosa.load(path, sr=SAMPLE_RATE, mono=True, res_type="soxr_hq")
    timings["load+resample"] = time.perf_counter() - t
    t = time.perf_counter()
    y = librosa.util.fix_length(y, size=samples)
    power = librosa.feature.melspectrogram(y=y, sr=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS,
                                           center=True, pad_mode="constant", power=2.0, htk=False, norm="slaney")
    timings["stft+mel"] = time.perf_counter() - t
    t = time.perf_counter()
    db = librosa.power_to_db(power, ref=1.0, amin=1e-10, top_db=80.0).astype(np.float32)
    timings["dB"] = time.perf_counter() - t
    return index, db, timings, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def warm_up():
    """Each worker imports librosa and runs the chain once on a short signal before its first clip, so that the
    stage timings hold the work on the clips (librosa's lazy imports and numba compilation count in the wall time
    only)."""
    import librosa
    import numpy as np
    y = librosa.resample(np.zeros(4410, dtype=np.float32), orig_sr=44100, target_sr=SAMPLE_RATE, res_type="soxr_hq")
    librosa.power_to_db(librosa.feature.melspectrogram(y=np.zeros(4096, dtype=np.float32), sr=SAMPLE_RATE,
                                                       n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS), top_db=80.0)
    return y.size


def read_split(path):
    """split.tsv -> [(split, label, genre, relpath)] in file order (the header line skipped)."""
    rows = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh):
            fields = line.rstrip("\n").split("\t")
            if number == 0 and fields[0] == "split":
                continue
            if len(fields) != 4:
                raise SystemExit(f"{path}:{number + 1}: expected 4 tab-separated fields, found {len(fields)}")
            rows.append((fields[0], int(fields[1]), fields[2], fields[3]))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus")
    ap.add_argument("out")
    ap.add_argument("--split-list", required=True, help="GenreKit's split.tsv")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--duration", type=float, default=30.0, help="clip length in seconds")
    args = ap.parse_args()
    import h5py
    import numpy as np

    started = time.perf_counter()
    rows = read_split(args.split_list)
    classes = [None] * (max(r[1] for r in rows) + 1)
    for _, label, genre, _ in rows:
        classes[label] = genre
    samples = int(round(args.duration * SAMPLE_RATE))
    tasks = [(i, os.path.join(args.corpus, r[3]), samples) for i, r in enumerate(rows)]
    mels = [None] * len(rows)
    totals, child_peak = {}, 0
    with concurrent.futures.ProcessPoolExecutor(max_workers=args.jobs, initializer=warm_up) as pool:
        for index, db, timings, peak in pool.map(features, tasks, chunksize=4):
            mels[index] = db
            for stage, seconds in timings.items():
                totals[stage] = totals.get(stage, 0.0) + seconds
            child_peak = max(child_peak, peak)
    extracted = time.perf_counter()

    by_split = {s: [i for i, r in enumerate(rows) if r[0] == s] for s in ("train", "valid", "test")}
    if not by_split["train"]:
        raise SystemExit("no train clips in the split list")
    train = np.stack([mels[i] for i in by_split["train"]]).astype(np.float64)   # [clips, bands, frames]
    mean = train.mean(axis=(0, 2))
    std = train.std(axis=(0, 2))
    std[std == 0] = 1.0
    os.makedirs(args.out, exist_ok=True)
    for split, indices in by_split.items():
        with h5py.File(os.path.join(args.out, f"{split}.h5"), "w") as h:
            if indices:
                block = np.stack([mels[i] for i in indices])
                h["mel"] = ((block - mean[None, :, None]) / std[None, :, None]).astype(np.float32)
            else:
                h["mel"] = np.zeros((0, N_MELS, 0), dtype=np.float32)
            h["label"] = np.array([rows[i][1] for i in indices], dtype=np.int32)
            h.create_dataset("path", data=[rows[i][3] for i in indices], dtype=h5py.string_dtype())
            h["norm/mean"] = mean.astype(np.float32)
            h["norm/std"] = std.astype(np.float32)
            h.attrs["classes"] = classes
    finished = time.perf_counter()

    print(f"librosa reference: {len(rows)} clips, {args.jobs} workers")
    print("stages (s summed over workers): " + ", ".join(f"{k} {v:.2f}" for k, v in totals.items()))
    print(f"extract wall {extracted - started:.2f} s, statistics + write {finished - extracted:.2f} s, "
          f"total {finished - started:.2f} s")
    main_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS main {main_peak // 1024} MiB, largest child {child_peak // 1024} MiB")


if __name__ == "__main__":
    sys.exit(main())

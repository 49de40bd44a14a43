#!/usr/bin/env python3
"""Make the librosa golden files that Tests/SpectralTests compares GenreKit's features against.

Run from anywhere:  python3 scripts/make_golden.py [OUT_DIR]
(default OUT_DIR: Tests/SpectralTests/Golden next to this script's repository root).

Everything is deterministic (fixed formulas, numpy default_rng with a fixed seed). Files written:
  <name>.in.f32     the input signal, raw little-endian float32, mono, at 22050 Hz
  <name>.mel.f32    librosa's log-mel in dB, raw little-endian float32, [n_mels, frames] row-major
  <name>.<case>.mel.f32  the same input through non-default parameters (listed in golden.json)
  filterbank.nz.f32        librosa.filters.mel(sr=22050, n_fft=2048, n_mels=128) as its nonzero entries:
                           rows of (band, bin, weight) float32, row-major [nnz, 3]
  filterbank_htk.nz.f32    the same for the HTK / unnormalised case listed in golden.json
  stereo44k.wav            a 44.1 kHz 16-bit stereo WAV (two different signals per channel)
  stereo44k.mel.f32        librosa.load(path, sr=22050, mono=True) (soxr_hq) then the default log-mel
  <name>.musicnn.f32       musicnn's front end on the <name> input taken as a 16 kHz signal (no resampling):
                           log10(1 + 10000 * melspectrogram(y, sr=16000, n_fft=512, hop_length=256, n_mels=96)),
                           float32 [96, frames] row-major (for chirp, noise, short, silence)
  chirp.musicnn16k.f32     the chirp input (22050 Hz) resampled to 16 kHz by librosa.resample(res_type='soxr_hq')
                           (what librosa.load(sr=16000) does after decoding), then the same musicnn features
  golden.json              names, kinds, shapes, parameters, versions
The default log-mel is power_to_db(melspectrogram(y, sr=22050, n_fft=2048, hop_length=512, n_mels=128,
center=True, pad_mode='constant', power=2.0, htk=False, norm='slaney'), ref=1.0, amin=1e-10, top_db=80).
The musicnn features (musicnn 0.1.0, musicnn/extractor.py) are np.log10(10000 * S + 1) of
melspectrogram(y, sr=16000, hop_length=256, n_fft=512, n_mels=96) with librosa's other defaults (center=True,
pad_mode='constant' since librosa 0.10, Slaney scale and norm, fmin 0); musicnn casts S to float16 before the log,
GenreKit (and these files) do not.
"""
import json
import os
import sys
import warnings

import numpy as np
import librosa
import scipy
import soundfile
import soxr

assert librosa.__version__ == "0.11.0", f"golden files are pinned to librosa 0.11.0, found {librosa.__version__}"

SR = 22050
DEFAULT = dict(sr=SR, n_fft=2048, hop_length=512, n_mels=128, fmin=0.0, fmax=None, center=True,
               htk=False, norm="slaney", amin=1e-10, ref=1.0, top_db=80.0)


def log_mel(y, p):
    S = librosa.feature.melspectrogram(
        y=y, sr=p["sr"], n_fft=p["n_fft"], hop_length=p["hop_length"], n_mels=p["n_mels"],
        fmin=p["fmin"], fmax=p["fmax"], center=p["center"], pad_mode="constant", power=2.0,
        htk=p["htk"], norm=p["norm"])
    return librosa.power_to_db(S, ref=p["ref"], amin=p["amin"], top_db=p["top_db"]).astype(np.float32)


MUSICNN = dict(sr=16000, n_fft=512, hop_length=256, n_mels=96, fmin=0.0, fmax=None, center=True,
               htk=False, norm="slaney", compression="log1p", scale=10000.0)


def musicnn_features(y):
    """musicnn's front end without its float16 cast: log10(1 + 10000 * mel power), float32 [96, frames]."""
    S = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=512, hop_length=256, n_mels=96)
    return np.log10(1 + 10000 * S).astype(np.float32)


def write_f32(path, a):
    np.ascontiguousarray(a, dtype="<f4").tofile(path)


def nonzero_triples(fb):
    bands, bins = np.nonzero(fb)
    return np.stack([bands.astype(np.float32), bins.astype(np.float32), fb[bands, bins].astype(np.float32)], axis=1)


def t(n):
    return np.arange(n, dtype=np.float64) / SR


def signals():
    rng = np.random.default_rng(20240601)
    out = {}
    n = SR // 2
    out["tone440"] = ("0.5 s, 0.5*sin(2 pi 440 t)", 0.5 * np.sin(2 * np.pi * 440.0 * t(n)))
    out["tone10k"] = ("0.5 s, 0.5*sin(2 pi 10000 t) (near Nyquist)", 0.5 * np.sin(2 * np.pi * 10000.0 * t(n)))
    out["chirp"] = ("1 s, 0.5 * log chirp 55 Hz -> 10 kHz (librosa.chirp)",
                    0.5 * librosa.chirp(fmin=55.0, fmax=10000.0, sr=SR, duration=1.0, linear=False))
    out["noise"] = ("0.5 s, white gaussian noise, std 0.1, default_rng(20240601)", 0.1 * rng.standard_normal(n))
    out["silence"] = ("0.1 s of digital silence", np.zeros(SR // 10))
    m = 1000
    out["short"] = ("1000 samples (< n_fft): 0.3*sin(2 pi 1000 t) + 0.05 noise",
                    0.3 * np.sin(2 * np.pi * 1000.0 * t(m)) + 0.05 * rng.standard_normal(m))
    a, b, c = int(0.4 * SR), int(0.4 * SR), int(0.2 * SR)
    mix = lambda k, off: 0.4 * (np.sin(2 * np.pi * 220.0 * t(k + off)[off:]) + np.sin(2 * np.pi * 3300.0 * t(k + off)[off:]))
    out["loudquiet"] = ("0.4 s loud 220+3300 Hz, 0.4 s the same 60 dB quieter, 0.2 s silence",
                        np.concatenate([mix(a, 0), 1e-3 * mix(b, a), np.zeros(c)]))
    return {k: (d, np.asarray(y, dtype=np.float32)) for k, (d, y) in out.items()}


def main():
    warnings.filterwarnings("ignore", message="n_fft=.* is too large")
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "Tests", "SpectralTests", "Golden")
    os.makedirs(out_dir, exist_ok=True)
    cases = []

    for name, (desc, y) in signals().items():
        write_f32(os.path.join(out_dir, f"{name}.in.f32"), y)
        mel = log_mel(y, DEFAULT)
        write_f32(os.path.join(out_dir, f"{name}.mel.f32"), mel)
        cases.append(dict(name=name, kind="mono22k", description=desc, input=f"{name}.in.f32", samples=int(y.size),
                          mel=f"{name}.mel.f32", shape=list(mel.shape), parameters="default",
                          max_db=float(mel.max())))

    # Non-default parameters on the chirp: HTK scale, no norm, fmin/fmax, center=False, hop not a multiple of 4,
    # no top_db.
    custom = dict(sr=SR, n_fft=1024, hop_length=300, n_mels=64, fmin=50.0, fmax=8000.0, center=False,
                  htk=True, norm=None, amin=1e-10, ref=1.0, top_db=None)
    y = signals()["chirp"][1]
    mel = log_mel(y, custom)
    write_f32(os.path.join(out_dir, "chirp.custom.mel.f32"), mel)
    cases.append(dict(name="chirp.custom", kind="mono22k", description="the chirp input through the 'custom' parameters",
                      input="chirp.in.f32", samples=int(y.size), mel="chirp.custom.mel.f32", shape=list(mel.shape),
                      parameters="custom", max_db=float(mel.max())))

    # 44.1 kHz stereo WAV, decoded, mixed down and resampled by librosa.load (soxr_hq).
    n44 = int(0.75 * 44100)
    t44 = np.arange(n44) / 44100.0
    left = 0.5 * np.sin(2 * np.pi * 330.0 * t44) + 0.2 * np.sin(2 * np.pi * 5000.0 * t44)
    right = 0.4 * librosa.chirp(fmin=100.0, fmax=15000.0, sr=44100, duration=0.75, linear=True)[:n44]
    stereo = np.stack([left, right], axis=1)
    wav = os.path.join(out_dir, "stereo44k.wav")
    soundfile.write(wav, stereo, 44100, subtype="PCM_16")
    y22, sr_loaded = librosa.load(wav, sr=SR, mono=True)
    assert sr_loaded == SR
    mel = log_mel(y22, DEFAULT)
    write_f32(os.path.join(out_dir, "stereo44k.mel.f32"), mel)
    cases.append(dict(name="stereo44k", kind="stereo44k_wav",
                      description="0.75 s 44.1 kHz 16-bit stereo WAV: left 330 Hz + 5 kHz tones, right linear chirp "
                                  "100 Hz -> 15 kHz; reference = librosa.load(path, sr=22050, mono=True) "
                                  "(soxr_hq, mean of channels) then the default log-mel",
                      input="stereo44k.wav", samples_22k=int(y22.size), mel="stereo44k.mel.f32",
                      shape=list(mel.shape), parameters="default", max_db=float(mel.max())))

    # musicnn's front end (log1p compression), on existing inputs taken as 16 kHz signals, and on the chirp
    # resampled 22050 -> 16000 Hz with soxr_hq as librosa.load(sr=16000) does.
    inputs = signals()
    for name in ["chirp", "noise", "short", "silence"]:
        y = inputs[name][1]
        feats = musicnn_features(y)
        write_f32(os.path.join(out_dir, f"{name}.musicnn.f32"), feats)
        cases.append(dict(name=f"{name}.musicnn", kind="mono16k_log1p",
                          description=f"the {name} input taken as a 16 kHz signal through musicnn's front end",
                          input=f"{name}.in.f32", samples=int(y.size), mel=f"{name}.musicnn.f32",
                          shape=list(feats.shape), parameters="musicnn", max_value=float(feats.max())))
    y16 = librosa.resample(inputs["chirp"][1], orig_sr=SR, target_sr=16000, res_type="soxr_hq")
    feats = musicnn_features(y16)
    write_f32(os.path.join(out_dir, "chirp.musicnn16k.f32"), feats)
    cases.append(dict(name="chirp.musicnn16k", kind="resampled16k_log1p",
                      description="the chirp input (22050 Hz) resampled to 16 kHz (librosa.resample, soxr_hq), "
                                  "then musicnn's front end",
                      input="chirp.in.f32", samples=int(inputs["chirp"][1].size), samples_16k=int(y16.size),
                      mel="chirp.musicnn16k.f32", shape=list(feats.shape), parameters="musicnn",
                      max_value=float(feats.max())))

    fb = librosa.filters.mel(sr=SR, n_fft=2048, n_mels=128)
    write_f32(os.path.join(out_dir, "filterbank.nz.f32"), nonzero_triples(fb))
    fb_htk = librosa.filters.mel(sr=SR, n_fft=1024, n_mels=64, fmin=50.0, fmax=8000.0, htk=True, norm=None)
    write_f32(os.path.join(out_dir, "filterbank_htk.nz.f32"), nonzero_triples(fb_htk))
    filterbanks = [
        dict(file="filterbank.nz.f32", layout="[nnz, 3] rows (band, bin, weight)", nnz=int(np.count_nonzero(fb)),
             shape=list(fb.shape), sr=SR, n_fft=2048, n_mels=128, fmin=0.0, fmax=None, htk=False, norm="slaney"),
        dict(file="filterbank_htk.nz.f32", layout="[nnz, 3] rows (band, bin, weight)",
             nnz=int(np.count_nonzero(fb_htk)), shape=list(fb_htk.shape), sr=SR, n_fft=1024, n_mels=64, fmin=50.0,
             fmax=8000.0, htk=True, norm=None),
    ]

    meta = dict(
        generator="scripts/make_golden.py",
        versions=dict(librosa=librosa.__version__, numpy=np.__version__, scipy=scipy.__version__,
                      soundfile=soundfile.__version__, soxr=soxr.__version__),
        formats=dict(f32="raw little-endian float32", mel="[n_mels, frames] row-major, dB",
                     musicnn="[n_mels, frames] row-major, log10(1 + scale * mel power)"),
        parameters=dict(default=DEFAULT, custom=custom, musicnn=MUSICNN),
        cases=cases,
        filterbanks=filterbanks,
    )
    with open(os.path.join(out_dir, "golden.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(out_dir, x)) for x in os.listdir(out_dir))
    print(f"wrote {len(os.listdir(out_dir))} files, {total / 1024:.0f} KiB, to {os.path.normpath(out_dir)}")


if __name__ == "__main__":
    main()

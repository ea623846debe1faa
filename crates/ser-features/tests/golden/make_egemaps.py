#!/usr/bin/env python3
"""Regenerate the openSMILE eGeMAPS v02 reference fixtures of `tests/egemaps.rs`.

A reference only (openSMILE's licence is non-commercial: it is never vendored, imported or
needed at run time). Needs `pip install opensmile numpy` (made with opensmile 2.6.0, whose
openSMILE is 3.x). Run from this folder: `python3 make_egemaps.py [OUT_DIR]`.

For each case it runs
  opensmile.Smile(feature_set=eGeMAPSv02, feature_level=LowLevelDescriptors).process_signal(y, sr)
and writes
  egemaps__<case>.lld.f32  n_frames x 15 float32, frame-major: the LLD columns of COLUMNS
                           (openSMILE's frame i starts at sample i * 160, 10 ms hop at 16 kHz;
                           every value is openSMILE's 3-frame smoothed `_sma3` / `_sma3nz`)
  egemaps__<case>.signal.f32  the input, only for the signals made here (the others read a
                           signal of the librosa fixtures, named in the manifest)
and egemaps.json describing them. All cases are 16 kHz.
"""

import json
import os
import sys

import numpy as np
import opensmile

COLUMNS = [
    "Loudness_sma3",
    "alphaRatio_sma3",
    "hammarbergIndex_sma3",
    "slope0-500_sma3",
    "slope500-1500_sma3",
    "HNRdBACF_sma3nz",
    "jitterLocal_sma3nz",
    "shimmerLocaldB_sma3nz",
    "F0semitoneFrom27.5Hz_sma3nz",
    "F1frequency_sma3nz",
    "F1bandwidth_sma3nz",
    "F2frequency_sma3nz",
    "F2bandwidth_sma3nz",
    "F3frequency_sma3nz",
    "F3bandwidth_sma3nz",
]

# Existing 16 kHz signals of make_golden.py.
EXISTING = {
    "espeak": "speech16k__espeak.signal.f32",
    "speechlike": "speech16k__speechlike.signal.f32",
    "glide16k": "pyin__glide16k.signal.f32",
    "noise": "speech16k__noise.signal.f32",
}


def jittered_vowel(rng, sr=16000, seconds=0.8, jitter=0.01, shimmer_db=0.5):
    """A vowel-like pulse train at ~140 Hz: each period's length drawn with a relative
    standard deviation `jitter`, each period's amplitude with a dB standard deviation
    `shimmer_db`; an 8-harmonic sawtooth-like pulse per period through two resonances
    (700 Hz, 1200 Hz)."""
    n = int(seconds * sr)
    y = np.zeros(n)
    t0 = 0.0
    periods = []
    while t0 < n:
        p = sr / 140.0 * (1 + jitter * rng.standard_normal())
        a = 10 ** (shimmer_db * rng.standard_normal() / 20)
        s, e = int(np.ceil(t0)), min(int(np.ceil(t0 + p)), n)
        ph = (np.arange(s, e) - t0) / p
        y[s:e] = a * sum(np.sin(2 * np.pi * h * ph) / h for h in range(1, 9))
        periods.append(p)
        t0 += p
    # Two-pole resonators.
    for fc, bw in ((700, 110), (1200, 120)):
        r = np.exp(-np.pi * bw / sr)
        a1, a2 = -2 * r * np.cos(2 * np.pi * fc / sr), r * r
        out = np.zeros(n)
        for i in range(n):
            out[i] = y[i] - a1 * (out[i - 1] if i > 0 else 0) - a2 * (out[i - 2] if i > 1 else 0)
        y = out
    y = 0.3 * y / np.max(np.abs(y))
    return y.astype(np.float32)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else here
    smile = opensmile.Smile(
        feature_set=opensmile.FeatureSet.eGeMAPSv02,
        feature_level=opensmile.FeatureLevel.LowLevelDescriptors,
    )
    rng = np.random.default_rng(22)
    cases = []
    signals = {name: (os.path.join(here, f), f) for name, f in EXISTING.items()}
    made = {"vowel_jitter": jittered_vowel(rng)}
    for name, (path, file) in signals.items():
        y = np.fromfile(path, dtype="<f4")
        cases.append((name, file, y))
    for name, y in made.items():
        file = f"egemaps__{name}.signal.f32"
        y.astype("<f4").tofile(os.path.join(out_dir, file))
        cases.append((name, file, y))
    manifest = {"opensmile_version": opensmile.__version__, "columns": COLUMNS, "sample_rate_hz": 16000,
                "hop": 160, "cases": []}
    for name, file, y in cases:
        df = smile.process_signal(y, 16000)
        lld = df[COLUMNS].to_numpy(dtype=np.float32)
        lld.astype("<f4").tofile(os.path.join(out_dir, f"egemaps__{name}.lld.f32"))
        manifest["cases"].append({"name": name, "signal": file, "n_samples": int(len(y)),
                                  "n_frames": int(lld.shape[0])})
    with open(os.path.join(out_dir, "egemaps.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

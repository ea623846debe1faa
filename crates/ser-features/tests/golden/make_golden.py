#!/usr/bin/env python3
"""Regenerate the librosa golden fixtures used by `tests/golden.rs`.

Run through `cargo xtask golden` (or directly: `python3 make_golden.py OUT_DIR`).
Needs librosa 0.11 and numpy; the espeak-ng signal also needs the `espeak-ng` program
(when it is missing, that signal is skipped and the manifest says so).

For each preset and each synthetic signal it writes
  <preset>__<signal>.signal.f32    the mono float32 input samples, little-endian
  <preset>__<signal>.features.f32  the 174 x n_frames feature matrix (row-major, float32, NOT
                                   padded/cropped to the preset's frame count)
and one manifest.json describing shapes, presets and the librosa version.

The feature stack is exactly the original project's, with the preset's parameters:
  mfcc   = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=40, n_mels=mfcc_n_mels, ...)
  d1, d2 = librosa.feature.delta(mfcc), librosa.feature.delta(mfcc, order=2)
  mel_db = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr, n_mels=40, ...), ref=np.max)
  chroma = librosa.feature.chroma_stft(y=y, sr=sr, ...)          # tuning=None: estimated
  zcr    = librosa.feature.zero_crossing_rate(y, frame_length=n_fft, hop_length=hop)
  rms    = librosa.feature.rms(y=y, frame_length=n_fft, hop_length=hop)
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import librosa
import numpy as np

# Keep in sync with `FeatureConfig::seed()` and `FeatureConfig::speech16k()` in src/config.rs.
PRESETS = {
    "seed": dict(sr=22050, n_fft=2048, win=2048, hop=512, mfcc_n_mels=128, n_mels=40, fmin=0.0, fmax=None),
    "speech16k": dict(sr=16000, n_fft=512, win=400, hop=160, mfcc_n_mels=64, n_mels=40, fmin=0.0, fmax=None),
}


def features(y, p):
    kw = dict(n_fft=p["n_fft"], hop_length=p["hop"], win_length=p["win"])
    sr = p["sr"]
    mfcc = librosa.feature.mfcc(
        y=y, sr=sr, n_mfcc=40, n_mels=p["mfcc_n_mels"], fmin=p["fmin"], fmax=p["fmax"], **kw
    )
    d1 = librosa.feature.delta(mfcc)
    d2 = librosa.feature.delta(mfcc, order=2)
    mel = librosa.feature.melspectrogram(
        y=y, sr=sr, n_mels=p["n_mels"], fmin=p["fmin"], fmax=p["fmax"], **kw
    )
    mel_db = librosa.power_to_db(mel, ref=np.max)
    chroma = librosa.feature.chroma_stft(y=y, sr=sr, **kw)
    zcr = librosa.feature.zero_crossing_rate(y, frame_length=p["n_fft"], hop_length=p["hop"])
    rms = librosa.feature.rms(y=y, frame_length=p["n_fft"], hop_length=p["hop"])
    stack = np.vstack([mfcc, d1, d2, mel_db, chroma, zcr, rms]).astype(np.float32)
    assert stack.shape[0] == 174, stack.shape
    return stack


def speech_like(sr, seconds, rng):
    """A voiced, syllabic signal: a glottal-like harmonic series with a moving f0, shaped by
    three formant resonances, with an amplitude envelope of syllables and silence around it."""
    n = int(seconds * sr)
    t = np.arange(n) / sr
    f0 = 150 + 50 * np.sin(2 * np.pi * 1.3 * t) + 20 * np.sin(2 * np.pi * 5.0 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    y = np.zeros(n)
    for k in range(1, 30):
        fk = k * f0
        weight = sum(np.exp(-0.5 * ((fk - fc) / bw) ** 2) for fc, bw in ((700, 150), (1200, 200), (2600, 300)))
        y += (1.0 / k + weight) * np.sin(k * phase) * (fk < sr / 2)
    env = np.clip(np.sin(2 * np.pi * 3.0 * t), 0, None) ** 0.7
    env[: n // 6] = 0
    env[-n // 6 :] = 0
    y = y * env + 0.002 * rng.standard_normal(n)
    return 0.3 * y / np.max(np.abs(y))


def espeak(sr):
    exe = shutil.which("espeak-ng")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "s.wav")
        subprocess.run([exe, "-w", path, "Kids are talking by the door"], check=True)
        y, _ = librosa.load(path, sr=sr)
    return y.astype(np.float32)


def signals(sr):
    rng = np.random.default_rng(1234)
    t = np.arange(int(1.0 * sr)) / sr
    out = {
        "tone440": 0.5 * np.sin(2 * np.pi * 440.0 * t),
        "chirp": 0.5 * librosa.chirp(fmin=100.0, fmax=4000.0, sr=sr, duration=1.0),
        "noise": 0.1 * rng.standard_normal(len(t)),
        "speechlike": speech_like(sr, 1.5, rng),
        "quiet": 10 ** (-42 / 20) * speech_like(sr, 1.0, rng),
        "silence": np.zeros(int(0.5 * sr)),
        "short": 0.3 * np.sin(2 * np.pi * 300.0 * np.arange(8 * PRESET_HOP[sr]) / sr)
        + 0.01 * rng.standard_normal(8 * PRESET_HOP[sr]),
    }
    speech = espeak(sr)
    if speech is not None:
        out["espeak"] = speech
    return {k: np.asarray(v, dtype=np.float32) for k, v in out.items()}


PRESET_HOP = {p["sr"]: p["hop"] for p in PRESETS.values()}


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out_dir, exist_ok=True)
    manifest = {"librosa_version": librosa.__version__, "numpy_version": np.__version__, "cases": []}
    for preset, p in PRESETS.items():
        for name, y in signals(p["sr"]).items():
            feats = features(y, p)
            stem = f"{preset}__{name}"
            y.astype("<f4").tofile(os.path.join(out_dir, stem + ".signal.f32"))
            feats.astype("<f4").tofile(os.path.join(out_dir, stem + ".features.f32"))
            manifest["cases"].append(
                {"preset": preset, "signal": name, "n_samples": len(y), "n_rows": feats.shape[0], "n_frames": feats.shape[1]}
            )
            print(f"{stem}: {len(y)} samples -> {feats.shape}")
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

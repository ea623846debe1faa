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

It also writes the pYIN fixtures of `tests/pyin.rs` (see `pyin_fixtures`): for each case
  pyin__<case>.signal.f32  the input (only for the two signals made for pYIN; the other cases
                           read a signal file above, named in the manifest)
  pyin__<case>.pyin.f32    3 x n_frames float32 rows: f0 in Hz (NaN when unvoiced), the voiced
                           flag (0/1) and the voiced probability, of
                           librosa.pyin(y.astype(np.float64), sr=sr, fmin=C2, fmax=C7,
                                        frame_length=..., hop_length=...)
and pyin.json describing them. `--only pyin` (or `--only features`) writes one part.

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


# librosa's recommended pYIN range (librosa.pyin docs): C2 to C7.
PYIN_FMIN = float(librosa.note_to_hz("C2"))
PYIN_FMAX = float(librosa.note_to_hz("C7"))


def harmonic(f0, sr, n_harmonics=6):
    """A harmonic series with 1/k amplitudes on the instantaneous f0 track `f0` (Hz per sample)."""
    phase = 2 * np.pi * np.cumsum(f0) / sr
    return sum(np.sin(k * phase) / k * (k * f0 < sr / 2) for k in range(1, n_harmonics + 1))


def glide16k(rng):
    """1.2 s at 16 kHz: an exponential glide 110 -> 330 Hz (0-0.5 s), white noise (0.5-0.65 s),
    digital silence (0.65-0.8 s), a 220 Hz tone with a 5 Hz, +-3 % vibrato (0.8-1.2 s)."""
    sr = 16000
    n = int(1.2 * sr)
    t = np.arange(n) / sr
    f0 = np.where(t < 0.5, 110 * 3 ** (t / 0.5), 220 * (1 + 0.03 * np.sin(2 * np.pi * 5 * t)))
    y = 0.3 * harmonic(f0, sr)
    y[(t >= 0.5) & (t < 0.8)] = 0
    noise = (t >= 0.5) & (t < 0.65)
    y[noise] = 0.05 * rng.standard_normal(np.count_nonzero(noise))
    return sr, y


def vowel22k(rng):
    """1.0 s at 22.05 kHz: a vowel-like harmonic signal (f0 drifting 125-165 Hz, three formant
    resonances), a 50 ms onset and offset ramp and 0.1 s of low noise on either side."""
    sr = 22050
    n = sr
    t = np.arange(n) / sr
    f0 = 145 + 20 * np.sin(2 * np.pi * 1.1 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    y = np.zeros(n)
    for k in range(1, 40):
        fk = k * f0
        weight = sum(np.exp(-0.5 * ((fk - fc) / bw) ** 2) for fc, bw in ((650, 120), (1100, 150), (2500, 250)))
        y += (0.5 / k + weight) * np.sin(k * phase) * (fk < sr / 2)
    env = np.clip(np.minimum(t - 0.1, 0.9 - t) / 0.05, 0, 1)
    y = 0.3 * y * env / np.max(np.abs(y)) + 0.001 * rng.standard_normal(n)
    return sr, y


def pyin_fixtures(out_dir):
    """pYIN of librosa on the two signals above and on four signals of the feature fixtures
    (speech of espeak-ng when present, the speech-like signal at both rates, white noise)."""
    rng = np.random.default_rng(2214)
    cases = []
    for name, make in (("glide16k", glide16k), ("vowel22k", vowel22k)):
        sr, y = make(rng)
        file = f"pyin__{name}.signal.f32"
        np.asarray(y, dtype="<f4").tofile(os.path.join(out_dir, file))
        cases.append((name, file, sr))
    for stem, sr in (("seed__espeak", 22050), ("seed__speechlike", 22050), ("speech16k__speechlike", 16000), ("seed__noise", 22050)):
        file = f"{stem}.signal.f32"
        if os.path.exists(os.path.join(out_dir, file)):
            cases.append((stem, file, sr))
    manifest = {"librosa_version": librosa.__version__, "numpy_version": np.__version__,
                "fmin": PYIN_FMIN, "fmax": PYIN_FMAX, "input_dtype": "float64", "cases": []}
    for name, file, sr in cases:
        y = np.fromfile(os.path.join(out_dir, file), dtype="<f4")
        frame_length, hop_length = (2048, 512) if sr == 22050 else (1024, 160)
        f0, voiced, prob = librosa.pyin(y.astype(np.float64), sr=sr, fmin=PYIN_FMIN, fmax=PYIN_FMAX,
                                        frame_length=frame_length, hop_length=hop_length)
        rows = np.vstack([f0, voiced.astype(np.float64), prob]).astype("<f4")
        rows.tofile(os.path.join(out_dir, f"pyin__{name}.pyin.f32"))
        manifest["cases"].append({"name": name, "signal": file, "sample_rate_hz": sr, "n_samples": len(y),
                                  "frame_length": frame_length, "hop_length": hop_length, "n_frames": rows.shape[1]})
        print(f"pyin__{name}: {len(y)} samples -> {rows.shape}, {int(voiced.sum())} voiced")
    with open(os.path.join(out_dir, "pyin.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


def main():
    args = sys.argv[1:]
    only = None
    if "--only" in args:
        i = args.index("--only")
        only = args[i + 1]
        del args[i : i + 2]
    out_dir = args[0] if args else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out_dir, exist_ok=True)
    if only not in (None, "features", "pyin"):
        sys.exit(f"--only {only}: expected features or pyin")
    if only in (None, "features"):
        features_fixtures(out_dir)
    if only in (None, "pyin"):
        pyin_fixtures(out_dir)


def features_fixtures(out_dir):
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

#!/usr/bin/env python3
"""librosa doing the same work as `cargo bench -p ser-features --bench corpus`:
load + resample each file to the preset's rate (librosa.load, soxr_hq), then the 174-row stack.

usage: bench_librosa.py DIR PRESET PROCESSES
Prints one JSON object like the Rust benchmark.

PROCESSES is librosa's whole thread budget, as `--threads` is ours: each process gets one BLAS
thread. numpy's OpenBLAS would otherwise start one thread per core in every process, and two
processes with two spinning BLAS threads each on two cores ran librosa 2.5-3.7x slower than
two single-threaded ones (measured on 240 RAVDESS files: 12-18 s against 4.7 s), which made
every earlier ratio of ours look that much better than it was.
"""

import glob
import json
import os
import sys
import time
from multiprocessing import Pool

# Before numpy is imported: its BLAS reads these once, at load time.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "crates", "ser-features", "tests", "golden"))

import librosa  # noqa: E402
import numpy as np  # noqa: E402
from make_golden import PRESETS, features  # noqa: E402


def fit(m, n_frames):
    if m.shape[1] < n_frames:
        return np.pad(m, ((0, 0), (0, n_frames - m.shape[1])))
    return m[:, :n_frames]


N_FRAMES = {"seed": 128, "speech16k": 300}


def one(args):
    path, preset = args
    p = PRESETS[preset]
    y, _ = librosa.load(path, sr=p["sr"])
    return fit(features(y, p), N_FRAMES[preset]).shape[1]


def main():
    directory, preset, processes = sys.argv[1], sys.argv[2], int(sys.argv[3])
    files = sorted(glob.glob(os.path.join(directory, "**", "*.wav"), recursive=True))
    one((files[0], preset))  # warm up numba's JIT caches outside the timing
    start = time.perf_counter()
    jobs = [(f, preset) for f in files]
    if processes > 1:
        with Pool(processes) as pool:
            pool.map(one, jobs, chunksize=8)
    else:
        for job in jobs:
            one(job)
    seconds = time.perf_counter() - start
    print(json.dumps({"tool": "librosa " + librosa.__version__, "preset": preset, "files": len(files),
                      "seconds": round(seconds, 4), "files_per_s": round(len(files) / seconds, 2),
                      "threads": processes}))


if __name__ == "__main__":
    main()

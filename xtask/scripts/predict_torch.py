#!/usr/bin/env python3
"""The original stack's single prediction, for `cargo xtask bench-predict`: a fresh Python
process imports numpy, librosa and torch, loads the CNN+BiLSTM checkpoint (the architecture of
the original project, `ser-models`' `cnn-lstm-original`), extracts the 174 x 128 feature matrix
of one file with librosa (the `seed` preset, the same code as the golden fixtures), predicts and
prints the 8 probabilities as JSON.

usage: predict_torch.py --init CHECKPOINT           (write a checkpoint of the architecture)
       predict_torch.py --clip IN.wav SECONDS OUT.wav  (the first SECONDS of IN, for the benchmark)
       predict_torch.py CHECKPOINT FILE.wav         (one prediction)
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "crates", "ser-features", "tests", "golden"))

import librosa  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from make_golden import PRESETS, features  # noqa: E402

EMOTIONS = ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
N_FRAMES = 128


class CnnLstm(nn.Module):
    """Conv1d(174->256,k5) -> Conv1d(256->128,k5) -> Conv1d(128->64,k3), each with BN, ReLU,
    dropout 0.3 -> 2-layer BiLSTM(128) -> last step -> Linear(256->64) -> ReLU -> Linear(64->8)."""

    def __init__(self, n_features=174, n_classes=8):
        super().__init__()

        def block(i, o, k):
            return [nn.Conv1d(i, o, k, padding=k // 2), nn.BatchNorm1d(o), nn.ReLU(), nn.Dropout(0.3)]

        self.conv = nn.Sequential(*block(n_features, 256, 5), *block(256, 128, 5), *block(128, 64, 3))
        self.lstm = nn.LSTM(64, 128, num_layers=2, batch_first=True, bidirectional=True, dropout=0.3)
        self.head = nn.Sequential(nn.Linear(256, 64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, n_classes))

    def forward(self, x):  # x: batch x features x frames
        h, _ = self.lstm(self.conv(x).transpose(1, 2))
        return self.head(h[:, -1])


def main():
    if sys.argv[1] == "--init":
        torch.manual_seed(0)
        torch.save(CnnLstm().state_dict(), sys.argv[2])
        return
    if sys.argv[1] == "--clip":
        import soundfile

        y, sr = soundfile.read(sys.argv[2], dtype="int16")
        soundfile.write(sys.argv[4], y[: int(float(sys.argv[3]) * sr)], sr, subtype="PCM_16")
        return
    checkpoint, path = sys.argv[1], sys.argv[2]
    model = CnnLstm()
    model.load_state_dict(torch.load(checkpoint))
    model.eval()
    preset = PRESETS["seed"]
    y, _ = librosa.load(path, sr=preset["sr"])
    m = features(y, preset)
    m = np.pad(m, ((0, 0), (0, max(0, N_FRAMES - m.shape[1]))))[:, :N_FRAMES]
    # Training-set normalisation of the original: per-row statistics (here of the clip itself).
    m = (m - m.mean(axis=1, keepdims=True)) / (m.std(axis=1, keepdims=True) + 1e-8)
    with torch.inference_mode():
        p = torch.softmax(model(torch.from_numpy(m).float().unsqueeze(0)), dim=1)[0].tolist()
    print(json.dumps({"path": path, "label": EMOTIONS[int(np.argmax(p))],
                      "probabilities": dict(zip(EMOTIONS, p))}))


if __name__ == "__main__":
    main()

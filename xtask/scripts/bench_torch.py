#!/usr/bin/env python3
"""PyTorch doing what `cargo bench -p ser-trainer --bench steps` does, for `cargo xtask
bench-train`: the original project's models (ser-models' presets cnn-lstm-original, lstm, gru,
rnn, cnn: the same layers, sizes and pooling), one training step at batch 32 (forward,
cross-entropy, backward, Adam) and inference at batch 1 and 32 (inference_mode), 128 frames.

usage: bench_torch.py STEPS THREADS
Prints one JSON object per model, like the Rust benchmark.
"""

import json
import statistics
import sys
import time

import torch
from torch import nn

N_CLASSES, N_FRAMES, BATCH = 8, 128, 32


def head(n_in):
    return nn.Sequential(nn.Linear(n_in, 64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, N_CLASSES))


def conv_block(i, o, k, pool=None):
    layers = [nn.Conv1d(i, o, k, padding=k // 2), nn.BatchNorm1d(o), nn.ReLU(), nn.Dropout(0.3)]
    if pool:
        layers.append(nn.MaxPool1d(pool))
    return layers


class CnnLstm(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.conv = nn.Sequential(*conv_block(n, 256, 5), *conv_block(256, 128, 5), *conv_block(128, 64, 3))
        self.rnn = nn.LSTM(64, 128, num_layers=2, batch_first=True, bidirectional=True, dropout=0.3)
        self.head = head(256)

    def forward(self, x):
        h, _ = self.rnn(self.conv(x).transpose(1, 2))
        return self.head(h[:, -1])


class Recurrent(nn.Module):
    def __init__(self, n, cell):
        super().__init__()
        self.rnn = cell(n, 128, num_layers=2, batch_first=True, bidirectional=True, dropout=0.3)
        self.head = head(256)

    def forward(self, x):
        h, _ = self.rnn(x.transpose(1, 2))
        return self.head(h[:, -1])


class Cnn(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.conv = nn.Sequential(*conv_block(n, 64, 5, 2), *conv_block(64, 128, 5, 2), *conv_block(128, 256, 3, 2))
        self.head = head(256)

    def forward(self, x):
        return self.head(self.conv(x).mean(dim=2))


MODELS = [
    ("cnn-lstm-original", 174, lambda n: CnnLstm(n)),
    ("lstm", 40, lambda n: Recurrent(n, nn.LSTM)),
    ("gru", 40, lambda n: Recurrent(n, nn.GRU)),
    ("rnn", 40, lambda n: Recurrent(n, nn.RNN)),
    ("cnn", 40, lambda n: Cnn(n)),
]


def median_ms(f, steps):
    f()
    f()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1e3, 1)


def main():
    steps, threads = int(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    for name, n, make in MODELS:
        model = make(n)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-8)
        loss_fn = nn.CrossEntropyLoss()
        x = torch.randn(BATCH, n, N_FRAMES)
        y = torch.arange(BATCH) % N_CLASSES

        def step():
            model.train()
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            loss.item()

        train = median_ms(step, steps)
        model.eval()
        infer = []
        for batch in (1, BATCH):
            xb = torch.randn(batch, n, N_FRAMES)

            def run():
                with torch.inference_mode():
                    model(xb).numpy()

            infer.append(median_ms(run, steps))
        print(json.dumps({"tool": f"torch {torch.__version__} ({threads} threads)", "model": name,
                          "n_features": n, "n_frames": N_FRAMES, "train_step_b32_ms": train,
                          "infer_b1_ms": infer[0], "infer_b32_ms": infer[1]}), flush=True)


if __name__ == "__main__":
    main()

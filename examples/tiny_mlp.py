"""Tiny MLP on Fashion-MNIST (fast tests), as a recorder script:

    arcsim record --script examples/tiny_mlp.py --out t --workers 8 --compressors dense arctopk:0.2

`arcsim record --model tiny-mlp` is a shortcut for this file. The recorder sets
`arcsim_options` (data: the --data directory, eval_size, train_subset, seed: the trace's seed)
before calling anything here."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from traces.recorder.data import eval_subset, load_fashion_mnist

name = "tiny-mlp"
description = "tiny-mlp on Fashion-MNIST, emulated data-parallel workers"
micro_batch = 16
options = globals().get("arcsim_options")


class TinyMLP(nn.Module):
    """784 -> 32 -> 10. The output layer has no bias so that, with a tiny first bucket cap,
    bucket 0 is one 2-D tensor (what `arcsim compress` takes as input)."""

    def __init__(self, hidden=32, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(784, hidden)
        self.fc2 = nn.Linear(hidden, classes, bias=False)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


_cache = {}


def _data():
    if "d" not in _cache:
        _cache["d"] = load_fashion_mnist(getattr(options, "data", None) or "/usr/share/datasets/fashion-mnist")
    return _cache["d"]


def model():
    return TinyMLP()


def train_data():
    x, y = _data()[0], _data()[1]
    n = getattr(options, "train_subset", 0) or len(x)
    return torch.utils.data.TensorDataset(x[:n], y[:n])


def loss(output, target):
    return F.cross_entropy(output, target)


@torch.no_grad()
def evaluate(model, chunk=1000):
    """Test loss and accuracy on a fixed, seeded subset of the test set."""
    tx, ty = _data()[2], _data()[3]
    idx = eval_subset(len(tx), getattr(options, "eval_size", 2000), getattr(options, "seed", 1))
    x, y = tx[idx], ty[idx]
    total, correct = 0.0, 0
    for i in range(0, len(x), chunk):
        out = model(x[i:i + chunk])
        total += F.cross_entropy(out, y[i:i + chunk], reduction="sum").item()
        correct += (out.argmax(1) == y[i:i + chunk]).sum().item()
    return {"loss": total / len(x), "accuracy": correct / len(x)}

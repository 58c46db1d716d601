"""Fashion-MNIST CNN (the default trace's model), as a recorder script:

    arcsim record --script examples/fmnist_cnn.py --out t --workers 8 --compressors dense arctopk:0.2

`arcsim record --model fmnist-cnn` is a shortcut for this file. The recorder sets
`arcsim_options` (data: the --data directory, eval_size, train_subset, seed: the trace's seed)
before calling anything here."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from traces.recorder.data import eval_subset, load_fashion_mnist

name = "fmnist-cnn"
description = "fmnist-cnn on Fashion-MNIST, emulated data-parallel workers"
micro_batch = 16
options = globals().get("arcsim_options")


class FashionCNN(nn.Module):
    """Strided convolutions instead of pooling keep the FLOPs low (about 0.15 MMAC per image).
    No BatchNorm: per-worker running statistics would make emulated workers diverge from DDP."""

    def __init__(self, width=8, hidden=64, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 5, stride=2, padding=2)            # 28x28 -> 14x14
        self.conv2 = nn.Conv2d(width, 2 * width, 3, stride=2, padding=1)    # 14x14 -> 7x7
        self.fc1 = nn.Linear(2 * width * 7 * 7, hidden)
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


_cache = {}


def _data():
    if "d" not in _cache:
        _cache["d"] = load_fashion_mnist(getattr(options, "data", None) or "/usr/share/datasets/fashion-mnist")
    return _cache["d"]


def model():
    return FashionCNN()


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

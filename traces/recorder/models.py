"""Models the recorder trains. `fmnist-cnn` is the default trace's: conv (4-D), linear (2-D) and
1-D (bias) parameters, 52,274 parameters, cheap on 2 CPU cores. No BatchNorm: per-worker running
statistics would make emulated workers diverge from real DDP (and vmap over workers slow)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class FashionCNN(nn.Module):
    """Strided convolutions instead of pooling keep the FLOPs low (about 0.15 MMAC per image)."""

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


class TinyMLP(nn.Module):
    """For fast tests: 784 -> 32 -> 10. The output layer has no bias so that, with a tiny first
    bucket cap, bucket 0 is one 2-D tensor (what `arcsim compress` takes as input)."""

    def __init__(self, hidden=32, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(784, hidden)
        self.fc2 = nn.Linear(hidden, classes, bias=False)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


MODELS = {"fmnist-cnn": FashionCNN, "tiny-mlp": TinyMLP}


def build(name, seed):
    """Same seed -> same initial weights (for every compressor and N of a trace)."""
    if name not in MODELS:
        raise ValueError(f"--model: expected one of {', '.join(MODELS)}, got {name}")
    torch.manual_seed(seed)
    return MODELS[name]()

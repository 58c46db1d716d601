"""Fashion-MNIST CNN (the default trace's model), as a recorder script:

    arcsim record --script examples/fmnist_cnn.py --out t --workers 8 --compressors dense arctopk:0.2

`arcsim record --model fmnist-cnn` is a shortcut for this file. The recorder sets
`arcsim_options` (data: the --data directory, eval_size, train_subset, seed: the trace's seed)
before calling anything here."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from traces.recorder.data import FashionMnistTask

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


def model():
    return FashionCNN()


# Data, loss and evaluation: the Fashion-MNIST task every bundled example shares.
_task = FashionMnistTask(options)
train_data, loss, evaluate = _task.train_data, _task.loss, _task.evaluate

"""Tiny MLP on Fashion-MNIST (fast tests), as a recorder script:

    arcsim record --script examples/tiny_mlp.py --out t --workers 8 --compressors dense arctopk:0.2

`arcsim record --model tiny-mlp` is a shortcut for this file. The recorder sets
`arcsim_options` (data: the --data directory, eval_size, train_subset, seed: the trace's seed)
before calling anything here."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from traces.recorder.data import FashionMnistTask

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


def model():
    return TinyMLP()


# Data, loss and evaluation: the Fashion-MNIST task every bundled example shares.
_task = FashionMnistTask(options)
train_data, loss, evaluate = _task.train_data, _task.loss, _task.evaluate

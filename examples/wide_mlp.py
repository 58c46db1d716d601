"""The regression of examples/mlp_mse.py with a wide MLP (0.54 M parameters, 2.2 MB of float32
gradients per step): big enough that communication, not Python scheduling, dominates a step on
a 100 Mbit/s - 1 Gbit/s emulated cluster (the testbed's validation model, experiments/testbed-*.json).

    arcsim record --script examples/wide_mlp.py --out t --workers 2 4 --compressors dense topk:0.2 \
        --max-steps 30 --eval-every 10 --target loss:0.12"""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mlp_mse import eval_data, evaluate, loss, train_data  # noqa: F401  (the same task)

micro_batch = 16


def model():
    return nn.Sequential(nn.Linear(16, 512), nn.Tanh(), nn.Linear(512, 512), nn.Tanh(), nn.Linear(512, 512),
                         nn.Tanh(), nn.Linear(512, 1))


def optimizer(params):
    return torch.optim.Adam(params, lr=1e-3)

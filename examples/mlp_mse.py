"""A custom MLP regressing a smooth function of 16 inputs with MSE, on synthetic data:

    arcsim record --script examples/mlp_mse.py --out t --workers 2 4 --compressors dense topk:0.2 \
        --max-steps 60 --eval-every 10 --target loss:0.1

The four functions model, train_data, loss and evaluate are all a script needs (evaluate is
optional: without it the recorder reports the mean loss over eval_data()); optimizer(params)
replaces the default Adam(--lr)."""
import torch
import torch.nn as nn

micro_batch = 16


def _synthetic(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 16, generator=g)
    w = torch.linspace(-1, 1, 16) / 2
    y = (x @ w).unsqueeze(1) + 0.3 * torch.sin(2 * x[:, :1])
    return torch.utils.data.TensorDataset(x, y)


def model():
    return nn.Sequential(nn.Linear(16, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 1))


def train_data():
    return _synthetic(4096, seed=0)


def eval_data():
    return _synthetic(512, seed=1)


def optimizer(params):
    return torch.optim.Adam(params, lr=5e-3)


def loss(output, target):
    return torch.mean((output - target) ** 2)


def evaluate(model):
    x, y = eval_data().tensors
    return {"loss": loss(model(x), y).item()}

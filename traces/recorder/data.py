"""Fashion-MNIST from Debian's dataset-fashion-mnist (IDX files, gzip) and per-worker shards."""
import gzip
import pathlib

import numpy as np
import torch

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
# Mean and std of the training images (pixels / 255), the usual Fashion-MNIST normalisation.
MEAN, STD = 0.2860, 0.3530


def _idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_fashion_mnist(directory=DEFAULT_DIR):
    """Returns (train_x, train_y, test_x, test_y): float32 [n, 1, 28, 28] normalised, int64 labels."""
    d = pathlib.Path(directory)
    out = []
    for split in ("train", "t10k"):
        x = _idx(d / f"{split}-images-idx3-ubyte.gz").astype(np.float32) / 255.0
        y = _idx(d / f"{split}-labels-idx1-ubyte.gz").astype(np.int64)
        out += [torch.from_numpy((x - MEAN) / STD).unsqueeze(1), torch.from_numpy(y)]
    return tuple(out)


class WorkerShards:
    """Each of N workers owns a disjoint, equal shard of a seeded permutation of the training set
    and walks it in its own seeded order, reshuffling when it has seen all of it (its own epoch).
    batch(w) returns worker w's next micro-batch indices."""

    def __init__(self, n_train, workers, micro_batch, seed):
        g = torch.Generator().manual_seed(seed)
        perm = torch.randperm(n_train, generator=g)
        size = n_train // workers
        self.shards = [perm[w * size:(w + 1) * size] for w in range(workers)]
        self.micro_batch = micro_batch
        self.gens = [torch.Generator().manual_seed(seed * 1000003 + 7919 * (w + 1)) for w in range(workers)]
        self.orders = [self._shuffle(w) for w in range(workers)]
        self.pos = [0] * workers

    def _shuffle(self, w):
        return self.shards[w][torch.randperm(len(self.shards[w]), generator=self.gens[w])]

    def batch(self, w):
        if self.pos[w] + self.micro_batch > len(self.orders[w]):
            self.orders[w] = self._shuffle(w)
            self.pos[w] = 0
        idx = self.orders[w][self.pos[w]:self.pos[w] + self.micro_batch]
        self.pos[w] += self.micro_batch
        return idx


def eval_subset(n_test, size, seed):
    """A fixed, seeded subset of the test set (the held-out set of the convergence curves)."""
    g = torch.Generator().manual_seed(seed + 12345)
    return torch.randperm(n_test, generator=g)[:size]


class FashionMnistTask:
    """The Fashion-MNIST half of a recorder script (everything but the model), shared by the
    bundled example scripts: `train_data()`, `loss(output, target)` and `evaluate(model)` as the
    script interface names them. `options` is the recorder's `arcsim_options` (data directory,
    eval_size, train_subset, seed) or None; the data set is loaded once, on first use."""

    def __init__(self, options):
        self.options = options
        self._data = None

    def data(self):
        if self._data is None:
            self._data = load_fashion_mnist(getattr(self.options, "data", None) or DEFAULT_DIR)
        return self._data

    def train_data(self):
        x, y = self.data()[0], self.data()[1]
        n = getattr(self.options, "train_subset", 0) or len(x)
        return torch.utils.data.TensorDataset(x[:n], y[:n])

    @staticmethod
    def loss(output, target):
        return torch.nn.functional.cross_entropy(output, target)

    @torch.no_grad()
    def evaluate(self, model, chunk=1000):
        """Test loss and accuracy on a fixed, seeded subset of the test set."""
        tx, ty = self.data()[2], self.data()[3]
        idx = eval_subset(len(tx), getattr(self.options, "eval_size", 2000), getattr(self.options, "seed", 1))
        x, y = tx[idx], ty[idx]
        total, correct = 0.0, 0
        for i in range(0, len(x), chunk):
            out = model(x[i:i + chunk])
            total += torch.nn.functional.cross_entropy(out, y[i:i + chunk], reduction="sum").item()
            correct += (out.argmax(1) == y[i:i + chunk]).sum().item()
        return {"loss": total / len(x), "accuracy": correct / len(x)}

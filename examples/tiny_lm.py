"""A tiny transformer language model on synthetic tokens, with a custom loss (label-smoothed
cross-entropy) and a `perplexity` metric:

    arcsim record --script examples/tiny_lm.py --out t --workers 2 4 --compressors dense arctopk:0.2 \
        --max-steps 80 --eval-every 10 --lr 3e-3 --target perplexity:8

The tokens follow a fixed random first-order Markov chain (each token has 3 likely successors),
so the model can learn it and the perplexity falls from ~32 (uniform) towards ~3. Inputs and
targets are [batch, sequence] token ids; the attention projections are nn.Linear layers."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB, SEQ, DIM, HEADS = 32, 16, 32, 2
micro_batch = 8


def _tokens(n, seed):
    g = torch.Generator().manual_seed(1234)            # the chain is fixed; only the samples vary
    nxt = torch.randint(0, VOCAB, (VOCAB, 3), generator=g)
    g = torch.Generator().manual_seed(seed)
    seqs = torch.empty(n, SEQ + 1, dtype=torch.long)
    seqs[:, 0] = torch.randint(0, VOCAB, (n,), generator=g)
    for t in range(SEQ):
        choice = torch.randint(0, 3, (n,), generator=g)
        seqs[:, t + 1] = nxt[seqs[:, t], choice]
    return torch.utils.data.TensorDataset(seqs[:, :-1], seqs[:, 1:])


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(DIM), nn.LayerNorm(DIM)
        self.q, self.k, self.v, self.o = (nn.Linear(DIM, DIM) for _ in range(4))
        self.ff1, self.ff2 = nn.Linear(DIM, 4 * DIM), nn.Linear(4 * DIM, DIM)

    def forward(self, x):
        b, t, _ = x.shape
        h = self.norm1(x)
        q, k, v = (f(h).view(b, t, HEADS, DIM // HEADS).transpose(1, 2) for f in (self.q, self.k, self.v))
        att = (q @ k.transpose(-1, -2)) / math.sqrt(DIM // HEADS)
        mask = torch.ones(t, t, dtype=torch.bool).triu(1)
        att = att.masked_fill(mask, float("-inf")).softmax(-1)
        x = x + self.o((att @ v).transpose(1, 2).reshape(b, t, DIM))
        return x + self.ff2(F.gelu(self.ff1(self.norm2(x))))


class TinyLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, DIM)
        self.pos = nn.Embedding(SEQ, DIM)
        self.block = Block()
        self.norm = nn.LayerNorm(DIM)
        self.head = nn.Linear(DIM, VOCAB, bias=False)

    def forward(self, ids):
        x = self.tok(ids) + self.pos(torch.arange(ids.shape[-1]))
        return self.head(self.norm(self.block(x)))


def model():
    return TinyLM()


def train_data():
    return _tokens(2048, seed=0)


def eval_data():
    return _tokens(256, seed=1)


def loss(output, target):
    """Label-smoothed next-token cross-entropy (a custom loss)."""
    return F.cross_entropy(output.reshape(-1, VOCAB), target.reshape(-1), label_smoothing=0.05)


@torch.no_grad()
def evaluate(model):
    x, y = eval_data().tensors
    nll = F.cross_entropy(model(x).reshape(-1, VOCAB), y.reshape(-1)).item()
    return {"loss": nll, "perplexity": math.exp(nll)}

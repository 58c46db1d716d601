"""N workers in one process, as the authors' hooks see torch.distributed.

Every collective sums in worker order 0, 1, ..., N-1 in float32 (((x0 + x1) + x2) + ...), which is
the order arcsim's emulated communicator documents; a real NCCL ring would sum in another order and
agree only to rounding. Each call is logged as (op, elements per rank, dtype) so that a test can
compare the communication pattern with arcsim's plan.
"""
import torch


class EmulatedWorkers:
    def __init__(self, n):
        if n < 1:
            raise ValueError(f"workers: expected >= 1, got {n}")
        self.n = n
        self.log = []  # (op, elements per rank, dtype name)

    def all_reduce_sum(self, xs):
        """Sum of one float32 tensor per worker; every worker receives the same tensor."""
        assert len(xs) == self.n and all(x.dtype == torch.float32 for x in xs)
        self.log.append(("allreduce", xs[0].numel(), "float32"))
        acc = xs[0].clone()
        for x in xs[1:]:
            acc += x
        return acc

    def all_gather(self, xs):
        """The list of every worker's tensor (same shape and dtype), in rank order."""
        assert len(xs) == self.n and all(x.shape == xs[0].shape and x.dtype == xs[0].dtype for x in xs)
        self.log.append(("allgather", xs[0].numel(), str(xs[0].dtype).replace("torch.", "")))
        return [x.clone() for x in xs]

    def take_log(self):
        log, self.log = self.log, []
        return log

"""DDP bucket assignment of a layout: the rule of traces/buckets.hpp (PyTorch's Reducer:
reverse registration order, per dtype, a bucket closes once it reaches its cap; first cap 1 MiB,
then 25 MiB). tests/python/test_trace_buckets.py checks it against torch and the C++ version."""
import math

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8}


def ddp_buckets(parameters, first_cap=1 << 20, cap=25 << 20, rule="pytorch"):
    """parameters: list of {"name", "shape", "dtype"} in registration order.
    Returns [{"bucket", "params" (indices), "tensors", "elements", "bytes", "dtype"}], ready order."""
    if rule not in ("pytorch", "strict"):
        raise ValueError(f"rule: expected pytorch or strict, got {rule}")
    open_, first, closed = {}, {}, []

    def close(dtype):
        b = open_.pop(dtype, None)
        if b and b["params"]:
            closed.append(b)
            first[dtype] = False

    for i in range(len(parameters) - 1, -1, -1):
        p = parameters[i]
        dt = p.get("dtype", "float32")
        nbytes = math.prod(p["shape"]) * DTYPE_BYTES[dt]
        limit = first_cap if first.get(dt, True) else cap
        if rule == "strict" and dt in open_ and open_[dt]["bytes"] + nbytes > limit:
            close(dt)
        b = open_.setdefault(dt, {"params": [], "tensors": [], "elements": 0, "bytes": 0, "dtype": dt})
        b["params"].append(i)
        b["tensors"].append(p["name"])
        b["elements"] += math.prod(p["shape"])
        b["bytes"] += nbytes
        if b["bytes"] >= (first_cap if first.get(dt, True) else cap):
            close(dt)
    for dt in list(open_):
        close(dt)
    closed.sort(key=lambda b: -b["params"][0])
    for k, b in enumerate(closed):
        b["bucket"] = k
    return closed

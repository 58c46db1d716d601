"""`--target`: what a run trains to, on any metric evaluate() returns, with its direction.

    0.85           accuracy >= 0.85 (a plain number is an accuracy fraction, in (0, 1])
    accuracy:0.9   accuracy >= 0.9
    loss:0.3       loss <= 0.3
    perplexity:40  perplexity <= 40

Direction rule (documented in docs/traces.md): a metric is minimised when its lower-cased name
is, or ends with, one of MINIMISED (loss, error, perplexity, ...); every other metric is
maximised. `--target-mode max|min` overrides the rule."""
import math

from .emulated import Target

MINIMISED = ("loss", "error", "err", "perplexity", "ppl", "mse", "mae", "rmse", "nll", "wer", "cer")


def direction(metric):
    m = metric.lower()
    return "min" if any(m == s or m.endswith(s) or m.endswith("_" + s) for s in MINIMISED) else "max"


def parse_target(text, mode=None):
    """'METRIC:VALUE' or a plain accuracy fraction -> Target; ValueError with one line."""
    if isinstance(text, Target):
        return text
    text = str(text).strip()
    metric, sep, value = text.rpartition(":")
    if not sep:
        metric, value = "accuracy", text
    metric = metric.strip()
    try:
        v = float(value)
    except ValueError:
        raise ValueError(f"--target: expected METRIC:VALUE (e.g. loss:0.3, accuracy:0.9) or an accuracy fraction, "
                         f"got {text!r}") from None
    if not metric or metric == "step":
        raise ValueError(f"--target: expected a metric name before ':', got {text!r}")
    if not math.isfinite(v):
        raise ValueError(f"--target: {text}: expected a finite value")
    if metric == "accuracy" and not 0 < v <= 1:
        raise ValueError(f"--target: {text}: expected an accuracy fraction in (0, 1] "
                         f"(a plain number is an accuracy; use METRIC:VALUE for other metrics)")
    if mode not in (None, "max", "min"):
        raise ValueError(f"--target-mode: expected max or min, got {mode}")
    return Target(metric, v, mode or direction(metric))

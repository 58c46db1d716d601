"""The bundled models: `record --model NAME` is `record --script examples/<file>` (one code path)."""
import pathlib

from .task import load_script

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
MODELS = {"fmnist-cnn": EXAMPLES / "fmnist_cnn.py", "tiny-mlp": EXAMPLES / "tiny_mlp.py"}


def script_of(name):
    if name not in MODELS:
        raise ValueError(f"--model: expected one of {', '.join(MODELS)}, got {name}")
    return MODELS[name]


def load(name, options=None):
    """The bundled example's Task."""
    return load_script(script_of(name), options)


def build(name, seed, options=None):
    """Same seed -> same initial weights (for every compressor and N of a trace)."""
    return load(name, options).build_model(seed)

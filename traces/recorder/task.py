"""What the recorder trains: a model, a training set, a loss and an evaluation, from a user's script
(`record --script FILE.py`), from the Python API (`record(model=..., ...)`) or from a bundled
example (`--model fmnist-cnn` is examples/fmnist_cnn.py).

Every call into user code goes through `Task._call`, which turns the user's exception into one
ScriptError line naming the script, the function and where in the user's file it failed, and
every result is checked (type, shape, finiteness) so that arcsim's own code never shows a traceback
for a user's mistake."""
import importlib.util
import math
import numbers
import pathlib
import sys
import traceback
import types

import torch

_OWN_DIR = str(pathlib.Path(__file__).resolve().parent)


class ScriptError(ValueError):
    """One line: '<script>: <function>: expected ..., got ...'."""


class ScriptInterrupted(KeyboardInterrupt):
    """A KeyboardInterrupt in the user's code, with what it interrupted (str(e): one line)."""


def _exit_text(e):
    """What a SystemExit from user code did: 'called sys.exit(3)' / "called sys.exit('msg')"."""
    code = e.code
    return f"called sys.exit({'' if code is None else repr(code)})"


def _user_location(exc):
    """'file:line' of the innermost traceback frame outside arcsim's recorder (the user's code)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(_OWN_DIR)]
    if not frames:
        return ""
    f = frames[-1]
    return f" (at {f.filename}:{f.lineno}, in {f.name})"


def call_model(model, inputs):
    """model(x), model(*x) for a tuple/list, model(**x) for a dict."""
    if isinstance(inputs, dict):
        return model(**inputs)
    if isinstance(inputs, (tuple, list)):
        return model(*inputs)
    return model(inputs)


def _is_tensor_tree(x):
    if isinstance(x, torch.Tensor):
        return True
    if isinstance(x, (tuple, list)):
        return len(x) > 0 and all(_is_tensor_tree(v) for v in x)
    if isinstance(x, dict):
        return len(x) > 0 and all(_is_tensor_tree(v) for v in x.values())
    return isinstance(x, numbers.Number)




class Task:
    """source: the script's path (messages name it) or "record()" for the Python API.
    The callables are the user's; attributes that the script did not define are None."""

    def __init__(self, source, model, train_data, loss, evaluate=None, eval_data=None, optimizer=None,
                 micro_batch=None, collate=None, name=None, description=None):
        self.source = str(source)
        self.model_fn, self.train_data_fn, self.loss_fn = model, train_data, loss
        self.evaluate_fn, self.eval_data_fn, self.optimizer_fn = evaluate, eval_data, optimizer
        self.micro_batch, self.collate = micro_batch, collate
        self.name = name or pathlib.Path(self.source).stem.replace("_", "-")
        self.description = description
        self._train = self._eval = None
        for fn, what in ((model, "model() -> torch.nn.Module"), (train_data, "train_data() -> Dataset"),
                         (loss, "loss(output, target) -> scalar tensor")):
            if not callable(fn):
                raise ScriptError(f"{self.source}: {what.split('(')[0]}: expected a function {what}, "
                                  f"got {'nothing (not defined)' if fn is None else type(fn).__name__}")
        for fn, what in ((evaluate, "evaluate"), (eval_data, "eval_data"), (optimizer, "optimizer"),
                         (collate, "collate")):
            if fn is not None and not callable(fn):
                raise ScriptError(f"{self.source}: {what}: expected a function, got {type(fn).__name__}")
        if micro_batch is not None and (isinstance(micro_batch, bool) or not isinstance(micro_batch, int)
                                        or micro_batch < 1):
            raise ScriptError(f"{self.source}: micro_batch: expected a positive integer, got {micro_batch!r}")

    # ------------------------------------------------------------------ calling user code
    def _call(self, what, fn, *args):
        try:
            return fn(*args)
        except ScriptError:
            raise
        except Exception as e:  # the user's own exception, shown with its place in the user's file
            msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
            raise ScriptError(f"{self.source}: {what}: raised {type(e).__name__}: {msg}{_user_location(e)}") from None
        except SystemExit as e:  # sys.exit() in model(), loss(), ...: an error, never a silent exit
            raise ScriptError(f"{self.source}: {what}: {_exit_text(e)}{_user_location(e)}; expected it to return") \
                from None

    def build_model(self, seed):
        """model() with torch seeded: same seed, same initial weights."""
        torch.manual_seed(seed)
        m = self._call("model()", self.model_fn)
        if not isinstance(m, torch.nn.Module):
            raise ScriptError(f"{self.source}: model(): expected a torch.nn.Module, got {type(m).__name__}")
        params = [p for p in m.parameters() if p.requires_grad]
        if not params:
            raise ScriptError(f"{self.source}: model(): expected a module with trainable parameters, got none")
        return m

    def _dataset(self, what, fn, seed):
        torch.manual_seed(seed)
        ds = self._call(f"{what}()", fn)
        try:
            n = len(ds)
            ds[0] if n else None
        except Exception as e:
            raise ScriptError(f"{self.source}: {what}(): expected a torch.utils.data.Dataset (len() and [i]), "
                              f"got {type(ds).__name__} ({type(e).__name__}: {e})") from None
        if n == 0:
            raise ScriptError(f"{self.source}: {what}(): expected a non-empty dataset, got 0 items")
        item = self._call(f"{what}()[0]", ds.__getitem__, 0)
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            raise ScriptError(f"{self.source}: {what}(): expected items (input, target), got "
                              f"{type(item).__name__}{'' if not isinstance(item, (tuple, list)) else f' of {len(item)}'}")
        return ds

    def train_dataset(self, seed):
        if self._train is None:
            self._train = self._dataset("train_data", self.train_data_fn, seed)
        return self._train

    def eval_dataset(self, seed):
        if self._eval is None and self.eval_data_fn is not None:
            self._eval = self._dataset("eval_data", self.eval_data_fn, seed)
        return self._eval

    def batch(self, ds, indices, what="train_data"):
        """(inputs, targets) of these items: TensorDatasets are indexed directly, others go
        through collate (the script's, else torch's default_collate)."""
        if self.collate is None and isinstance(ds, torch.utils.data.TensorDataset) and len(ds.tensors) == 2:
            return ds.tensors[0][indices], ds.tensors[1][indices]
        items = [ds[int(i)] for i in indices]
        collate = self.collate or torch.utils.data.default_collate
        out = self._call("collate" if self.collate else f"{what}() items (default_collate)", collate, items)
        if not (isinstance(out, (tuple, list)) and len(out) == 2) or not _is_tensor_tree(out[0]):
            raise ScriptError(f"{self.source}: {'collate' if self.collate else what + '()'}: expected a batch "
                              f"(inputs, targets) of tensors, got {type(out).__name__}")
        return out[0], out[1]

    def loss(self, model, inputs, targets, where=""):
        """loss(model(inputs), targets), checked to be a finite scalar tensor."""
        out = self._call("model forward", call_model, model, inputs)
        value = self._call("loss(output, target)", self.loss_fn, out, targets)
        return self.check_loss(value, where)

    def check_loss(self, value, where=""):
        if not isinstance(value, torch.Tensor):
            raise ScriptError(f"{self.source}: loss(output, target): expected a scalar tensor, got "
                              f"{type(value).__name__}{where}")
        if value.numel() != 1:
            raise ScriptError(f"{self.source}: loss(output, target): expected a scalar tensor, got shape "
                              f"{list(value.shape)}{where} (reduce it, e.g. .mean())")
        if not value.requires_grad:
            raise ScriptError(f"{self.source}: loss(output, target): expected a tensor that depends on the model's "
                              f"parameters (requires_grad), got a constant{where}")
        if not torch.isfinite(value.detach()).all():
            raise ScriptError(f"{self.source}: loss(output, target): expected a finite value, got "
                              f"{value.item()}{where}")
        return value.reshape(())

    def make_optimizer(self, params, lr):
        if self.optimizer_fn is None:
            return torch.optim.Adam(params, lr=lr)
        opt = self._call("optimizer(params)", self.optimizer_fn, params)
        if not isinstance(opt, torch.optim.Optimizer):
            raise ScriptError(f"{self.source}: optimizer(params): expected a torch.optim.Optimizer, got "
                              f"{type(opt).__name__}")
        return opt

    def optimizer_text(self, lr):
        return f"Adam lr={lr} (after aggregation)" if self.optimizer_fn is None else \
            f"{self.source}: optimizer(params) (after aggregation)"

    @torch.no_grad()
    def evaluate(self, model, eval_seed, chunk=1000):
        """{metric: float}: evaluate(model), else the mean loss over eval_data()."""
        was = model.training
        model.eval()
        try:
            if self.evaluate_fn is not None:
                res = self._call("evaluate(model)", self.evaluate_fn, model)
                if not isinstance(res, dict) or not res:
                    raise ScriptError(f"{self.source}: evaluate(model): expected a dict of metric name -> number, "
                                      f"got {type(res).__name__}")
                out = {}
                for k, v in res.items():
                    if isinstance(v, torch.Tensor) and v.numel() == 1:
                        v = v.item()
                    if not isinstance(k, str) or k == "step" or isinstance(v, bool) or \
                            not isinstance(v, numbers.Real) or not math.isfinite(v):
                        raise ScriptError(f"{self.source}: evaluate(model): expected metric name -> finite number "
                                          f"(not 'step'), got {k!r}: {v!r}")
                    out[k] = float(v)
                if "accuracy" in out and not 0 <= out["accuracy"] <= 1:
                    raise ScriptError(f"{self.source}: evaluate(model): accuracy: expected a fraction in [0, 1], "
                                      f"got {out['accuracy']}")
                return out
            ds = self.eval_dataset(eval_seed)
            if ds is None:
                raise ScriptError(f"{self.source}: evaluate: expected evaluate(model) or eval_data() to be "
                                  "defined (the convergence curve needs a held-out metric)")
            total, n = 0.0, 0
            for i in range(0, len(ds), chunk):
                idx = torch.arange(i, min(i + chunk, len(ds)))
                x, y = self.batch(ds, idx, "eval_data")
                out = self._call("model forward", call_model, model, x)
                v = self._call("loss(output, target)", self.loss_fn, out, y)
                if not isinstance(v, torch.Tensor) or v.numel() != 1:
                    raise ScriptError(f"{self.source}: loss(output, target): expected a scalar tensor on eval_data()")
                total += float(v) * len(idx)
                n += len(idx)
            if not math.isfinite(total):
                raise ScriptError(f"{self.source}: loss(output, target): expected a finite loss on eval_data(), "
                                  f"got {total / n}")
            return {"loss": total / n}
        finally:
            model.train(was)


def load_script(path, options=None):
    """Imports FILE.py as a module and returns its Task. `options` (a dict) is set as the
    module's `arcsim_options` (types.SimpleNamespace) before anything in it is called."""
    p = pathlib.Path(path)
    if not p.is_file():
        raise ScriptError(f"{path}: --script: expected a Python file, got {'a directory' if p.is_dir() else 'no such file'}")
    name = "arcsim_user_script_" + "".join(c if c.isalnum() else "_" for c in p.stem)
    spec = importlib.util.spec_from_file_location(name, p)
    mod = importlib.util.module_from_spec(spec)
    mod.arcsim_options = types.SimpleNamespace(**(options or {}))
    sys.modules[name] = mod
    try:
        spec.loader.exec_module(mod)
    except Exception as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
        loc = f" (line {e.lineno})" if isinstance(e, SyntaxError) else _user_location(e)
        raise ScriptError(f"{path}: importing the script: raised {type(e).__name__}: {msg}{loc}") from None
    except SystemExit as e:
        raise ScriptError(f"{path}: importing the script: {_exit_text(e)}{_user_location(e)}; expected a script "
                          "that defines model(), train_data() and loss() without exiting; nothing was recorded") from None
    except KeyboardInterrupt as e:
        raise ScriptInterrupted(f"{path}: importing the script: interrupted by a KeyboardInterrupt{_user_location(e)} "
                                "before any run started; nothing was recorded") from None
    g = lambda n: getattr(mod, n, None)  # noqa: E731
    return Task(path, g("model"), g("train_data"), g("loss"), evaluate=g("evaluate"), eval_data=g("eval_data"),
                optimizer=g("optimizer"), micro_batch=g("micro_batch"), collate=g("collate"), name=g("name"),
                description=g("description"))

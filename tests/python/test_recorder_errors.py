"""Bad input to `arcsim record`: a user's broken script and record's own bad options. Each is one
line on stderr naming the script/option, exit status 2, no traceback from arcsim's code, and
nothing written (an existing trace is left as it was)."""
import os
import subprocess
import textwrap

import pytest

from traces.recorder import cli

GOOD = """
import torch, torch.nn as nn
def model(): return nn.Linear(4, 1)
def train_data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4, generator=g)
    return torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True))
def loss(output, target): return ((output - target) ** 2).mean()
def evaluate(model):
    x = torch.ones(8, 4)
    return {"loss": float(((model(x) - 4) ** 2).mean())}
"""

ARGS = ["--workers", "2", "--max-steps", "2", "--eval-every", "1", "--target", "loss:0.01", "--profile-steps", "1"]


def script(tmp_path, text, name="user.py"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def record(tmp_path, capsys, *args, out=None):
    out = out or tmp_path / "out"
    code = cli.main(["--out", str(out), *map(str, args)])
    err = capsys.readouterr().err
    return code, err, out


def expect_error(code, err, out, *words):
    assert code == 2, err
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("arcsim record: error: "), err
    assert "Traceback" not in err
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert not (out / "trace.json").exists()


BAD_SCRIPTS = {
    "missing loss": (GOOD.replace("def loss(output, target)", "def _loss(output, target)"), ["loss", "not defined"]),
    "model not a module": (GOOD.replace("def model(): return nn.Linear(4, 1)", "def model(): return 3"),
                           ["model()", "torch.nn.Module", "int"]),
    "non-scalar loss": (GOOD.replace("((output - target) ** 2).mean()", "(output - target) ** 2"),
                        ["loss(output, target)", "scalar", "shape"]),
    "nan loss": (GOOD.replace("((output - target) ** 2).mean()", "((output - target) ** 2).mean() * float('nan')"),
                 ["loss(output, target)", "finite", "nan"]),
    "loss not a tensor": (GOOD.replace("((output - target) ** 2).mean()", "1.5"), ["loss(output, target)", "float"]),
    "items not pairs": (GOOD.replace("TensorDataset(x, x.sum(1, keepdim=True))", "TensorDataset(x)"),
                        ["train_data()", "(input, target)"]),
    "dataset too short": (GOOD.replace("randn(64, 4", "randn(3, 4").replace("TensorDataset(x, x.sum",
                                                                          "TensorDataset(x, x.sum"),
                          ["train_data()", "micro-batch", "3 items"]),
    "evaluate wrong type": (GOOD.replace('return {"loss": float(((model(x) - 4) ** 2).mean())}', "return 0.5"),
                            ["evaluate(model)", "dict"]),
    "target metric missing": (GOOD.replace('{"loss":', '{"mse":'), ["evaluate(model)", "loss", "mse"]),
    "user exception": (GOOD.replace("def model(): return nn.Linear(4, 1)",
                                    "def model():\n    return nn.Linear(4, 1, bogus=True)"),
                       ["model()", "TypeError", "user.py:", "in model"]),
    "syntax error": (GOOD + "\ndef broken(:\n", ["importing the script", "SyntaxError"]),
}


@pytest.mark.parametrize("case", sorted(BAD_SCRIPTS))
def test_bad_script(tmp_path, capsys, case):
    text, words = BAD_SCRIPTS[case]
    p = script(tmp_path, text)
    code, err, out = record(tmp_path, capsys, "--script", p, *ARGS)
    expect_error(code, err, out, str(p), *words)


def test_missing_script_file(tmp_path, capsys):
    code, err, out = record(tmp_path, capsys, "--script", tmp_path / "nope.py", *ARGS)
    expect_error(code, err, out, "nope.py", "no such file")


BAD_OPTIONS = {
    "--workers 0": (["--workers", "0"], ["--workers", ">= 1"]),
    "--lr nan": (["--lr", "nan"], ["--lr", "finite"]),
    "--target 2": (["--target", "2"], ["--target", "accuracy fraction"]),
    "--target junk": (["--target", "loss:abc"], ["--target", "METRIC:VALUE"]),
    "--micro-batch 0": (["--micro-batch", "0"], ["--micro-batch"]),
    "--max-steps 0": (["--max-steps", "0"], ["--max-steps"]),
    "--eval-every 0": (["--eval-every", "0"], ["--eval-every"]),
    "--bucket-cap 0": (["--bucket-cap", "0"], ["--bucket-cap"]),
    "--first-bucket-cap 0": (["--first-bucket-cap", "0"], ["--first-bucket-cap"]),
    "--sample-workers absent": (["--sample-workers", "0,5"], ["--sample-workers", "smallest --workers (2)", "[5]"]),
    "--seeds repeated": (["--seeds", "1", "1"], ["--seeds", "distinct"]),
    "unknown compressor": (["--compressors", "zip:0.2"], ["--compressors", "zip:0.2"]),
}


@pytest.mark.parametrize("case", sorted(BAD_OPTIONS))
def test_bad_option(tmp_path, capsys, case):
    extra, words = BAD_OPTIONS[case]
    p = script(tmp_path, GOOD)
    code, err, out = record(tmp_path, capsys, "--script", p, *ARGS, *extra)
    expect_error(code, err, out, *words)


def test_missing_data_dir(tmp_path, capsys):
    code, err, out = record(tmp_path, capsys, "--model", "tiny-mlp", "--data", tmp_path / "nowhere", *ARGS[:-4])
    expect_error(code, err, out, "--data", "nowhere")


def test_script_requires_a_target(tmp_path, capsys):
    p = script(tmp_path, GOOD)
    code, err, out = record(tmp_path, capsys, "--script", p, "--workers", "2")
    expect_error(code, err, out, "--target", "METRIC:VALUE")


def test_out_not_writable(tmp_path, capsys):
    p = script(tmp_path, GOOD)
    if os.geteuid() == 0:  # root writes through permissions: use a place nobody can create files in
        out = "/proc/arcsim-record-test"
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        out = ro / "t"
    code = cli.main(["--out", str(out), "--script", str(p), *ARGS])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--out" in err and "writable" in err, err


def test_existing_trace_without_resume_is_refused_and_kept(tmp_path, capsys):
    p = script(tmp_path, GOOD)
    code, err, out = record(tmp_path, capsys, "--script", p, *ARGS)
    assert code == 0, err
    before = (out / "trace.json").read_bytes()
    code, err, _ = record(tmp_path, capsys, "--script", p, *ARGS)
    assert code == 2 and "already holds a trace" in err and "--resume" in err and "1 convergence logs" in err
    assert (out / "trace.json").read_bytes() == before
    # --resume on a directory without a trace starts one: one resumable command for every run.
    code, err, _ = record(tmp_path, capsys, "--script", p, *ARGS, "--resume", "--out", tmp_path / "fresh")
    assert code == 0 and (tmp_path / "fresh" / "trace.json").is_file(), err


def test_through_the_binary_no_traceback(arcsim_bin, tmp_path):
    """The same through `arcsim record` (a separate process): one line, exit 2."""
    p = script(tmp_path, GOOD.replace("((output - target) ** 2).mean()", "(output - target) ** 2"))
    r = subprocess.run([arcsim_bin, "record", "--script", str(p), "--out", str(tmp_path / "o"), *ARGS],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert "user.py: loss(output, target): expected a scalar tensor" in r.stderr


def test_whatever_record_writes_validates(arcsim_bin, tmp_path, capsys):
    """A script with a layer type the cost counter does not know: cost says so; the trace validates."""
    p = script(tmp_path, GOOD.replace("def model(): return nn.Linear(4, 1)",
                                      "def model(): return nn.Sequential(nn.Linear(4, 4), nn.PReLU(), nn.Linear(4, 1))"))
    code, err, out = record(tmp_path, capsys, "--script", p, *ARGS, "--compressors", "dense", "topk:0.5")
    assert code == 0, err
    r = subprocess.run([arcsim_bin, "trace", "validate", str(out)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    import json
    layers = {l["name"]: l for l in json.loads((out / "trace.json").read_text())["compute"]["layers"]}
    assert "PReLU" in layers["1"]["cost"]["unknown"] and "flops_forward" not in layers["1"]["cost"]


@pytest.mark.parametrize("bad,field", [({"resumed": "x"}, "provenance.resumed"),
                                       ({"resumed": [{"created_utc": "t"}]}, "provenance.resumed[0].command"),
                                       ({"resumed": [{"command": "c", "seeds": ["2"]}]}, "seeds")])
def test_validator_checks_provenance_resumed(arcsim_bin, tmp_path, capsys, bad, field):
    import json
    p = script(tmp_path, GOOD)
    code, err, out = record(tmp_path, capsys, "--script", p, *ARGS)
    assert code == 0, err
    doc = json.loads((out / "trace.json").read_text())
    doc["provenance"].update(bad)
    (out / "trace.json").write_text(json.dumps(doc))
    r = subprocess.run([arcsim_bin, "trace", "validate", str(out)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and field in r.stderr, r.stderr


DICT_INPUTS = """
import torch, torch.nn as nn
class Two(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(3, 2), nn.Linear(5, 2)
    def forward(self, a, b):
        return self.a(a) + self.b(b)
class Items(torch.utils.data.Dataset):
    def __len__(self): return 40
    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        return {"a": torch.randn(3, generator=g), "b": torch.randn(5, generator=g)}, torch.randn(2, generator=g)
def model(): return Two()
def train_data(): return Items()
def eval_data(): return Items()
def loss(output, target): return ((output - target) ** 2).mean()
micro_batch = 4
"""


def test_dict_inputs_default_collate_and_eval_data(arcsim_bin, tmp_path, capsys):
    """Items ({"a": ..., "b": ...}, target) go through default_collate and model(**inputs); without
    evaluate() the metric is the mean loss over eval_data()."""
    import json
    p = script(tmp_path, DICT_INPUTS)
    code, err, out = record(tmp_path, capsys, "--script", p, "--workers", "2", "--max-steps", "3", "--eval-every",
                            "1", "--target", "loss:0.0001", "--profile-steps", "1", "--compressors", "dense",
                            "randk:0.5")
    assert code == 0, err
    doc = json.loads((out / "trace.json").read_text())
    assert [l["name"] for l in doc["compute"]["layers"]] == ["a", "b"]
    pts = doc["convergence"][0]["points"]
    assert [p["step"] for p in pts] == [0, 1, 2, 3] and set(pts[0]) == {"step", "loss"}
    r = subprocess.run([arcsim_bin, "trace", "validate", str(out)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_nan_mid_run_names_step_and_keeps_finished_runs(tmp_path, capsys):
    """The loss turns NaN in the second run (randk): one line naming the step and the
    worker; the first run's log, already written, stays valid."""
    import json
    text = GOOD.replace("def loss(output, target): return ((output - target) ** 2).mean()", """
calls = [0]
def loss(output, target):
    calls[0] += 1
    value = ((output - target) ** 2).mean()
    return value * float("nan") if calls[0] > 12 else value""")
    p = script(tmp_path, text)
    out = tmp_path / "out"
    code = cli.main(["--out", str(out), "--script", str(p), "--workers", "2", "--max-steps", "3", "--eval-every", "1",
                     "--target", "loss:0.0001", "--profile-steps", "1", "--per-worker", "loop",
                     "--compressors", "dense", "randk:0.5"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "loss(output, target): expected a finite value, got nan at step" in err and "worker" in err
    doc = json.loads((out / "trace.json").read_text())
    assert [c["config"] for c in doc["convergence"]] == ["dense"]


def test_help_to_a_full_disk_is_one_line(arcsim_bin):
    """`record --help > /dev/full`: exit 1 and one line, not a traceback."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with open("/dev/full", "w") as full:
        r = subprocess.run([arcsim_bin, "record", "--help"], stdout=full, stderr=subprocess.PIPE, text=True,
                           timeout=120)
    assert r.returncode == 1, r.stderr
    assert r.stderr.strip() == "arcsim record: error: writing standard output: No space left on device", r.stderr


def test_interrupt_in_the_script_says_nothing_was_recorded(tmp_path, capsys):
    p = script(tmp_path, "raise KeyboardInterrupt\n")
    code, err, out = record(tmp_path, capsys, "--script", p, *ARGS)
    assert code == 130 and err.count("\n") == 1 and "finished runs" not in err, err
    assert "interrupted by a KeyboardInterrupt" in err and "nothing was recorded" in err and str(p) in err


def test_error_text_from_input_is_escaped_and_capped(tmp_path, capsys):
    from traces.recorder.textsafe import shown
    assert shown("a\x1b[31mb\u202ec\n") == "a\\x1b[31mb\\u202ec\\x0a"
    assert shown("x" * 500) == "x" * 200 + "..."
    code, err, out = record(tmp_path, capsys, "--script", tmp_path / ("n\x1b[2J" + "y" * 300 + ".py"), *ARGS)
    assert code == 2 and err.count("\n") == 1 and "\x1b" not in err and "\\x1b[2J" in err, err

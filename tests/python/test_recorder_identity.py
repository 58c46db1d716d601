"""What a recorded run is: every option kept (the log's compressor object states each option the
compressor takes; the config id names each one that differs from the defaults), one default for
the ratio ramp (the option table's: off), `--resume` refusing to mix configurations under one id,
and paired seeds (seed s: the same initial weights, data order and RNG state for every
compressor at the same N). In-process through the library API, tiny models, a few steps."""
import json
import pathlib

import pytest
import torch
import torch.nn as nn

from traces.recorder import api, cli, kernels, trace_io

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_TRACE = ROOT / "traces" / "default" / "trace.json"

pytestmark = pytest.mark.skipif(kernels.option_table() is None, reason="arcsim_kernels is not built")


def _data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(96, 8, generator=g)
    return torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True))


def _mse(output, target):
    return ((output - target) ** 2).mean()


def _evaluate(model):
    x = torch.ones(4, 8)
    return {"loss": float(((model(x) - 8) ** 2).mean())}


def _record(out, **kw):
    torch.set_num_threads(2)
    args = dict(model=lambda: nn.Sequential(nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 1)), train_data=_data,
                loss=_mse, evaluate=_evaluate, out=str(out), workers=[2], ef="ef14", max_steps=2, eval_every=1,
                target="loss:1e-9", profile_steps=1, micro_batch=4, sample_steps=[], quiet=True)
    args.update(kw)
    return api.record(**args)


def _logs(out):
    return trace_io.read_trace(out, check_data=False)["convergence"]


# ------------------------------------------------------------------ every option kept

def _table():
    return {o["name"]: o for o in kernels.option_table()}


@pytest.mark.parametrize("name", [n for n in kernels.registry()[0] if n != "dense"])
def test_log_states_every_option_the_compressor_takes(name):
    spec = kernels.parse_compressor(f"{name}:0.2", "ef14", seed=3)
    taken = [o for o, e in _table().items() if name in e["compressors"]]
    # Left at the defaults, every value is the table's, or the compressor's own default where the
    # binding has one (GaussianK's max_adjust 5, the table's 10 being DGC's).
    own = kernels.import_binding().Compressor(workers=1, compressor=name, ratio=0.2, ef="ef14").config
    for o in taken:
        key = "unbiased" if o == "rescale" else o  # the binding's and the trace reader's name
        assert key in spec, (name, o, spec)
        if o not in ("ratio", "ef"):
            assert spec[key] == own.get(key, _table()[o]["default"]), (name, o, spec[key])
    assert spec["seed"] == 3 and spec["ratio"] == 0.2 and spec["ef"] == "ef14"
    assert kernels.config_id(spec) == f"{name}-0.2-ef14"
    # The binding takes the configuration as it is stated (what train_run does with it).
    kernels.make_compressor(spec, 2)


def test_shipped_ids_stay_valid():
    """Every log of traces/default keeps its id (written before every option was stated), and the
    configurations recorded at the defaults get those ids."""
    doc = json.loads(DEFAULT_TRACE.read_text())
    for log in doc["convergence"]:
        assert kernels.config_id(log["compressor"]) == log["config"], log["compressor"]
    want = {"dense": "dense", "topk:0.2": "topk-0.2-ef14", "randk:0.05": "randk-0.05-ef14",
            "arctopk:0.2": "arctopk-0.2-ef14", "powersgd:0.2": "powersgd-0.2-ef14", "adtopk:0.2": "adtopk-0.2-ef14"}
    for text, cid in want.items():
        assert kernels.config_id(kernels.parse_compressor(text, "ef14")) == cid
        # Top-K/Rand-K with the ramp (how the shipped logs were recorded): the same id.
        assert kernels.config_id(kernels.parse_compressor(text, "ef14", ramp="on")) == cid
    assert kernels.config_id(kernels.parse_compressor("dgc:0.2", "none")) == "dgc-0.2-none"


def test_id_names_every_option_off_its_default():
    ids = {kernels.config_id(kernels.parse_compressor(t, ef, **kw)) for t, ef, kw in [
        ("powersgd:0.2", "ef14", dict(rank=2)), ("powersgd:0.2", "ef14", dict(rank=4)),
        ("arctopk:0.2", "ef14", dict(rank=8)), ("topk:0.2", "ef14", dict(warmup=10)),
        ("topk:0.2", "ef21m", dict(options={"eta": 0.5})), ("topk:0.2", "ef14", dict(options={"value_dtype": "fp16"})),
        ("randk:0.2", "ef14", dict(options={"rescale": True})),
        ("dgc:0.2", "none", dict(options={"sample_ratio": 0.05})),
        ("arctopk:0.2", "ef14", dict(options={"preset": "reference"}))]}
    assert ids == {"powersgd-0.2-ef14-rank=2", "powersgd-0.2-ef14", "arctopk-0.2-ef14-rank=8",
                   "topk-0.2-ef14-warmup=10", "topk-0.2-ef21m-eta=0.5", "topk-0.2-ef14-value_dtype=fp16",
                   "randk-0.2-ef14-rescale=True", "dgc-0.2-none-sample_ratio=0.05",
                   "arctopk-0.2-ef14-preset=reference"}  # the preset's own values (warmup 10, ...) are its name
    ref = kernels.parse_compressor("arctopk:0.2", "ef14", options={"preset": "reference"})
    assert ref["shape_rule"] == "reference" and ref["warmup"] == 10  # stated as resolved
    # An explicit value over the preset's is named.
    over = kernels.parse_compressor("arctopk:0.2", "ef14", warmup=0, options={"preset": "reference"})
    assert kernels.config_id(over) == "arctopk-0.2-ef14-preset=reference-warmup=0"


def test_rank_2_and_rank_4_runs_are_told_apart(tmp_path):
    """PowerSGD and ARC-Top-K at rank 2, then 4 (the default) and 8, into one trace: four ids, each
    log stating its rank."""
    out = tmp_path / "t"
    _record(out, compressors=["powersgd:0.2", "arctopk:0.2"], rank=2)
    _record(out, compressors=["powersgd:0.2"], resume=True)
    _record(out, compressors=["arctopk:0.2"], rank=8, resume=True)
    logs = {c["config"]: c for c in _logs(out)}
    assert sorted(logs) == ["arctopk-0.2-ef14-rank=2", "arctopk-0.2-ef14-rank=8", "powersgd-0.2-ef14",
                            "powersgd-0.2-ef14-rank=2"]
    assert {c: log["compressor"]["rank"] for c, log in logs.items()} == {
        "arctopk-0.2-ef14-rank=2": 2, "arctopk-0.2-ef14-rank=8": 8, "powersgd-0.2-ef14": 4,
        "powersgd-0.2-ef14-rank=2": 2}
    for c, log in logs.items():  # every option stated, each log's id recomputed from its object
        assert kernels.config_id(log["compressor"]) == c
        assert {"shape_rule", "value_dtype", "warmup", "ef21_init"} <= set(log["compressor"])


# ------------------------------------------------------------------ one default for the ramp

def test_ramp_default_is_the_option_tables():
    assert _table()["ramp"]["default"] is False
    assert api.DEFAULTS["ramp"] is None and api.DEFAULTS["rank"] is None and api.DEFAULTS["warmup"] is None
    assert cli.parser().get_default("ramp") is None
    for name in ("topk", "randk"):
        assert kernels.parse_compressor(f"{name}:0.2", "ef14")["ramp"] is False
        assert kernels.parse_compressor(f"{name}:0.2", "ef14", ramp="on")["ramp"] is True
    # The reference preset turns it on, unless --ramp off says otherwise.
    assert kernels.parse_compressor("topk:0.2", "ef14", options={"preset": "reference"})["ramp"] is True
    assert kernels.parse_compressor("topk:0.2", "ef14", ramp="off", options={"preset": "reference"})["ramp"] is False
    with pytest.raises(ValueError, match=r"--ramp: expected on or off, got auto.*--ramp on reproduces"):
        kernels.parse_compressor("topk:0.2", "ef14", ramp="auto")


def test_help_shows_defaults_and_every_compressor(capsys):
    assert cli.main(["--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    entry = text.split("options:", 1)[1].split("--compressors C [C ...]", 1)[1].split("--ef {", 1)[0]
    for name in kernels.registry()[0]:
        assert name in entry, (name, entry)
    assert "--ramp on|off" in text and "default off, the option table's" in text and "--ramp on reproduces" in text
    assert "(default: 4, the option table's)" in text  # --rank
    assert "(default: 1000)" in text and "(default: 25)" in text  # --max-steps, --eval-every


def test_a_flag_no_compressor_takes_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"--rank: does not apply to any of the compressors dense, topk:0.2"):
        _record(tmp_path / "t", compressors=["dense", "topk:0.2"], rank=8)
    with pytest.raises(ValueError, match=r"--ramp: does not apply"):
        _record(tmp_path / "t", compressors=["arctopk:0.2"], ramp="on")
    assert not (tmp_path / "t" / "trace.json").exists()


def test_resume_refuses_other_options_under_the_same_id(tmp_path):
    """A trace whose topk-0.2-ef14 logs have the ramp on (as traces/default's) takes more such runs
    only with --ramp on: a ramp-off run has the same id and would mix with them."""
    out = tmp_path / "t"
    _record(out, compressors=["topk:0.2"], ramp="on")
    before = (out / "trace.json").read_bytes()
    with pytest.raises(ValueError) as e:
        _record(out, compressors=["topk:0.2"], seeds=[2], resume=True)
    msg = str(e.value)
    assert "\n" not in msg and "--resume" in msg and "topk-0.2-ef14" in msg and "ramp true" in msg and \
        "ramp false" in msg and "--ramp on" in msg, msg
    assert (out / "trace.json").read_bytes() == before
    _record(out, compressors=["topk:0.2"], seeds=[2], ramp="on", resume=True)
    assert sorted((c["config"], c["seed"], c["compressor"]["ramp"]) for c in _logs(out)) == [
        ("topk-0.2-ef14", 1, True), ("topk-0.2-ef14", 2, True)]
    # The shipped trace: --ramp on matches its Top-K/Rand-K logs, the default does not.
    doc = json.loads(DEFAULT_TRACE.read_text())
    api.check_resume_options(doc, [kernels.parse_compressor(c, "ef14", ramp="on") for c in
                                   ("topk:0.2", "randk:0.2", "arctopk:0.2", "powersgd:0.2", "dense")], "default")
    with pytest.raises(ValueError, match="ramp"):
        api.check_resume_options(doc, [kernels.parse_compressor("randk:0.05", "ef14")], "default")


# ------------------------------------------------------------------ paired seeds

def test_paired_seeds(tmp_path, monkeypatch):
    """Seed s: the same initial weights, the same sequence of sample indices per worker and the
    same global RNG state (dropout here) for every compressor at one N; another seed: others.
    Observed inside record(): every run's model, shards and RNG as train_run gets them."""
    real, seen = api.train_run, {}

    def spy(**kw):
        taken, batch = [], kw["shards"].batch

        def logged(w):
            idx = batch(w)
            taken.append((w, idx.tolist()))
            return idx

        kw["shards"].batch = logged
        weights = {k: v.clone() for k, v in kw["model"].state_dict().items()}
        rng = torch.random.get_rng_state().clone()
        log = real(**kw)
        seen[(kw["spec"]["compressor"], kw["spec"]["seed"])] = (weights, taken, rng)
        return log

    def make():
        return nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.Dropout(0.3), nn.Linear(16, 1))

    monkeypatch.setattr(api, "train_run", spy)
    _record(tmp_path / "t", model=make, compressors=["dense", "topk:0.2", "randk:0.2"], seeds=[1, 2], max_steps=3,
            eval_every=3, per_worker="loop")
    assert sorted(seen) == [(c, s) for c in ("dense", "randk", "topk") for s in (1, 2)]

    def same(a, b):
        return a[0].keys() == b[0].keys() and all(torch.equal(a[0][k], b[0][k]) for k in a[0]) \
            and a[1] == b[1] and torch.equal(a[2], b[2])

    for s in (1, 2):
        d = seen[("dense", s)]
        assert len(d[1]) == 3 * 2  # 3 steps x 2 workers
        for c in ("topk", "randk"):
            assert same(d, seen[(c, s)]), (c, s)
        # model() under the seed, untouched (the trace seed's model went through record's checks,
        # a forward in train mode that moves BatchNorm's running statistics, before any run).
        torch.manual_seed(s)
        fresh = make().state_dict()
        assert all(torch.equal(fresh[k], d[0][k]) for k in fresh), s
    a, b = seen[("dense", 1)], seen[("dense", 2)]
    assert not torch.equal(a[0]["0.weight"], b[0]["0.weight"])
    assert a[1] != b[1] and not torch.equal(a[2], b[2])
    # What the logs show: the same starting point for every compressor of one seed.
    logs = _logs(tmp_path / "t")
    for s in (1, 2):
        assert len({json.dumps(c["points"][0]) for c in logs if c["seed"] == s}) == 1
    assert logs[0]["points"][0] != next(c for c in logs if c["seed"] == 2)["points"][0]

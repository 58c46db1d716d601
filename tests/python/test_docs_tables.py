"""The docs' data tables are generated (docs/tables.py): a table that no longer matches what the
current code and data give fails here. The tables that take seconds are checked; the others
(minutes of sweeps) by `docs/tables.py --check` before a release."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "docs", "tables.py")


def run(*args):
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True, timeout=600)


def test_fast_tables_are_current(arcsim_bin, tmp_path):
    r = run("--check", "--arcsim", arcsim_bin, "--work", str(tmp_path), "default-steps", "testbed-validation", "published-validation",
              "paper-resnet18")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 of 4 table(s) stale" in r.stdout


def test_a_stale_table_is_found(arcsim_bin, tmp_path):
    # A copy of the docs with one number changed must be reported (the check can fail).
    import importlib.util
    spec = importlib.util.spec_from_file_location("tables", SCRIPT)
    tables = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tables)
    text = open(os.path.join(ROOT, "docs", "traces.md")).read()
    body = tables.default_steps(None)
    _, old = tables.replace_table(text, "default-steps", body, "docs/traces.md")
    assert old == body
    changed = body.replace("| dense |", "| dense-edited |", 1)
    assert changed != body
    new_text, _ = tables.replace_table(text, "default-steps", changed, "docs/traces.md")
    _, old2 = tables.replace_table(new_text, "default-steps", body, "docs/traces.md")
    assert old2 != body


def test_unknown_table_is_one_error(arcsim_bin):
    r = run("--check", "no-such-table")
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "NAME: expected one of" in r.stderr

"""The command-line contract: --help everywhere, unknown commands fail with one line."""
import subprocess

COMMANDS = ["sweep", "plot", "simulate", "compress", "replay", "record", "trace", "topology", "calibrate"]


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120)


def test_top_level_help_lists_every_command(arcsim_bin):
    r = run(arcsim_bin, "--help")
    assert r.returncode == 0
    for c in COMMANDS:
        assert f"  {c}" in r.stdout


def test_unknown_command_is_one_error_line(arcsim_bin):
    r = run(arcsim_bin, "frobnicate")
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0
    assert "unknown command 'frobnicate'" in r.stderr

"""Shared pytest fixtures: where the build and the sources are."""
import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("ARCSIM_BUILD", ROOT / "build"))
sys.path.insert(0, str(BUILD / "python"))
sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def arcsim_bin():
    path = BUILD / "arcsim"
    if not path.exists():
        pytest.fail(f"{path} not built: run ./run build first")
    return str(path)

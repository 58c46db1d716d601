"""The layering checker finds what it must: each rule is broken once on a copy of the tree."""
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
import layering  # noqa: E402


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A copy of the sources (no build, no data) to plant violations in."""
    dst = tmp_path_factory.mktemp("tree")
    for part in list(layering.PARTS) + ["tests"]:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, dst / part, ignore=shutil.ignore_patterns("default", "layouts", "*.npy", "__pycache__"))
    return dst


def test_the_repository_follows_the_rule():
    assert layering.violations(ROOT) == []


@pytest.mark.parametrize("file,line,expect", [
    ("kernels/compressor.cpp", '#include "sim/plan.hpp"', "kernels/compressor.cpp: includes sim/plan.hpp"),
    ("traces/trace.cpp", '#include "topologies/topology.hpp"', "traces/trace.cpp: includes topologies/topology.hpp"),
    ("traces/buckets.cpp", "#include <simgrid/s4u/Engine.hpp>", "traces must not know SimGrid"),
    ("common/units.cpp", '#include "kernels/layout.hpp"', "common/units.cpp: includes kernels/layout.hpp"),
    ("sim/plan.cpp", '#include "kernels/compressor.hpp"', "sim may use only common, topologies"),
    ("bench/bench_sim.cpp", '#include "tests/kernels/kernel_inputs.hpp"', "includes test header"),
    ("tests/topologies/test_units.cpp", '#include "sim/profile.hpp"', "topologies may use only common"),
])
def test_a_planted_include_is_refused(tree, file, line, expect):
    path = tree / file
    original = path.read_text()
    try:
        path.write_text(line + "\n" + original)
        found = layering.violations(tree)
        assert any(expect in v for v in found), found
        # The command-line form fails too (this is what ctest runs).
        r = subprocess.run([sys.executable, str(ROOT / "tests" / "layering.py"), str(tree)], capture_output=True, text=True)
        assert r.returncode == 1 and expect.split(":")[0] in r.stdout
    finally:
        path.write_text(original)
    assert layering.violations(tree) == []


@pytest.mark.parametrize("file,old,new,expect", [
    ("traces/CMakeLists.txt", "arcsim_common)", "arcsim_common arcsim_topologies)", "arcsim_traces links arcsim_topologies"),
    ("kernels/CMakeLists.txt", "OpenMP::OpenMP_CXX)", "OpenMP::OpenMP_CXX PkgConfig::SimGrid)", "kernels must not know SimGrid"),
    ("tests/CMakeLists.txt", "set(ARCSIM_TEST_LIBS_traces      arcsim_traces arcsim_common)",
     "set(ARCSIM_TEST_LIBS_traces      arcsim_traces arcsim_sim arcsim_common)", "test_traces links arcsim_sim"),
])
def test_a_planted_link_is_refused(tree, file, old, new, expect):
    path = tree / file
    original = path.read_text()
    assert old in original
    try:
        path.write_text(original.replace(old, new, 1))
        assert any(expect in v for v in layering.violations(tree))
    finally:
        path.write_text(original)

"""The dependency rules between arcsim's parts, and a checker for them.

Dependencies point one way: cli -> experiments -> sim -> topologies; experiments -> kernels and
traces; every part -> common. kernels knows nothing of SimGrid, traces or sim; traces knows
nothing of SimGrid or topologies; sim knows compressors only through the communication plan.
A part's tests may use that part and what it may use; benchmarks never include test headers.

Two things are checked, so neither a header nor the build can cross a line unseen:
  - every `#include "part/..."` in C++ and CUDA sources, and
  - every library a part's CMakeLists.txt links (target_link_libraries of arcsim_<part>*).

Usage: /usr/bin/python3 tests/layering.py [ROOT]   (exit 1 and one line per violation)
"""
import pathlib
import re
import sys

# part -> the parts its sources may include (itself always allowed).
ALLOWED = {
    "common": set(),
    "kernels": {"common"},
    "topologies": {"common"},
    "sim": {"topologies", "common"},
    "traces": {"common"},
    "experiments": {"sim", "topologies", "kernels", "traces", "common"},
    "cli": {"experiments", "sim", "topologies", "kernels", "traces", "common"},
    "bench": {"experiments", "sim", "topologies", "kernels", "traces", "common"},
}
# SimGrid headers: allowed only where the engine lives.
SIMGRID_PARTS = {"topologies", "sim", "experiments", "cli", "bench"}
PARTS = set(ALLOWED)
SOURCE_SUFFIXES = {".cpp", ".hpp", ".cu", ".cuh", ".h", ".in"}
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]', re.M)
LINK = re.compile(r"target_link_libraries\(\s*(\S+)([^)]*)\)", re.S)


def part_of(rel):
    """The part a source file belongs to, and whether it is a test of that part."""
    top = rel.parts[0]
    if top == "tests" and len(rel.parts) > 2 and rel.parts[1] in PARTS:
        return rel.parts[1], True
    return (top, False) if top in PARTS else (None, False)


def include_violations(root):
    out = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.suffix not in SOURCE_SUFFIXES or not path.is_file() or rel.parts[0].startswith(("build", ".")):
            continue
        part, is_test = part_of(rel)
        if part is None:
            continue
        for target in INCLUDE.findall(path.read_text(errors="replace")):
            head = target.split("/")[0]
            if head == "tests" and not is_test:
                out.append(f"{rel}: includes test header {target}: only tests may")
            elif head in PARTS and head != part and head not in ALLOWED[part]:
                out.append(f"{rel}: includes {target}: {part} may use only "
                           f"{', '.join(sorted(ALLOWED[part])) or 'nothing but the standard library'}")
            elif head == "simgrid" and part not in SIMGRID_PARTS:
                out.append(f"{rel}: includes {target}: {part} must not know SimGrid")
    return out


def link_violations(root):
    """Libraries linked by each part's own targets (arcsim_<part>...) against the rules."""
    out = []
    for cml in sorted(root.glob("*/CMakeLists.txt")) + sorted(root.glob("*/*/CMakeLists.txt")):
        rel = cml.relative_to(root)
        part = rel.parts[0]
        if part not in PARTS or part in ("cli", "bench"):
            continue
        for target, libs in LINK.findall(cml.read_text()):
            if not target.startswith("arcsim_"):
                continue
            for lib in libs.split():
                m = re.fullmatch(r"arcsim_([a-z]+)\w*", lib)
                if m and m.group(1) in PARTS and m.group(1) != part and m.group(1) not in ALLOWED[part]:
                    out.append(f"{rel}: {target} links {lib}: {part} may use only "
                               f"{', '.join(sorted(ALLOWED[part])) or 'nothing'}")
                if "SimGrid" in lib and part not in SIMGRID_PARTS:
                    out.append(f"{rel}: {target} links {lib}: {part} must not know SimGrid")
    return out


TEST_LIBS = re.compile(r"set\(ARCSIM_TEST_LIBS_(\w+)([^)]*)\)", re.S)


def test_link_violations(root):
    """Each part's test executable links only that part and what it may use."""
    out = []
    cml = root / "tests" / "CMakeLists.txt"
    if not cml.exists():
        return out
    for part, libs in TEST_LIBS.findall(cml.read_text()):
        for lib in libs.split():
            m = re.fullmatch(r"arcsim_([a-z]+)\w*", lib)
            if m and part in ALLOWED and m.group(1) != part and m.group(1) not in ALLOWED[part]:
                out.append(f"tests/CMakeLists.txt: test_{part} links {lib}: {part}'s tests may use only "
                           f"{part} and {', '.join(sorted(ALLOWED[part])) or 'nothing'}")
    return out


def violations(root):
    root = pathlib.Path(root)
    return include_violations(root) + link_violations(root) + test_link_violations(root)


if __name__ == "__main__":
    found = violations(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[1])
    for line in found:
        print(line)
    sys.exit(1 if found else 0)

"""arcsim testbed run SPEC --out DIR | validate DIR | clean (docs/testbed.md)."""
import sys

USAGE = """usage: arcsim testbed run SPEC --out DIR | validate DIR | clean

  run SPEC --out DIR   emulated cluster(s) on this machine (root: network namespaces, veth, bridges,
                       tc tbf), the gloo micro-benchmark and real compressed DDP training per
                       compressor x seed; resumable (docs/testbed.md)
  validate DIR         arcsim's predictions of every run in DIR against the measurements:
                       DIR/validation.csv and DIR/validation.pdf|png
  clean                remove every namespace (and its links and processes) a testbed left behind
"""


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "run":
        from .run import main_run
        return main_run(rest)
    if cmd == "validate":
        from .validate import main_validate
        return main_validate(rest)
    if cmd == "clean":
        if rest:
            print("arcsim testbed clean: takes no arguments", file=sys.stderr)
            return 2
        from . import cluster
        gone = cluster.clean()
        print(f"removed {len(gone)} namespace(s)" + (f": {', '.join(gone)}" if gone else ""))
        return 0
    print(f"arcsim testbed: expected run, validate or clean, got {cmd!r}\n" + USAGE, file=sys.stderr, end="")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

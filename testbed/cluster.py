"""An emulated cluster on this machine: one network namespace per rank, veth links to Linux
bridges in a "switch" namespace, every link shaped in both directions with tc tbf.

    star       one bridge; rank i's link: veth (rank end shaped rank -> switch) + bridge port
               (shaped switch -> rank).
    two-level  `leaves` bridges, ranks spread over them in order (rank i on leaf i * leaves // N),
               each leaf joined to a spine bridge by a veth uplink shaped both ways to
               uplink_mbit (oversubscription: ranks per leaf x link rate / uplink rate).

Every object carries the run id: namespaces arcsim-<id>-r<i> and arcsim-<id>-sw (the bridges and
their ports live in the switch namespace, so deleting the namespaces removes every link). Rank
addresses are 10.213.0.<i+1>/24, inside the namespaces only. What the kernel cannot emulate is
said at run time: netem (added delay or loss) is probed and reported (`capabilities()`)."""
import os
import re
import secrets
import subprocess

PREFIX = "arcsim-"
SUBNET = "10.213.0"


class TestbedUnavailable(RuntimeError):
    """The machine cannot make the cluster (no root, no netns, no tc): one line saying which."""


def _run(*cmd, check=True):
    r = subprocess.run(list(cmd), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {(r.stderr or r.stdout).strip().splitlines()[-1:] or ['failed']}")
    return r


def capabilities():
    """What this machine can emulate: {'root', 'netns', 'tbf', 'netem'} -> bool, and a reason
    for the first missing requirement (None when a cluster can be made). Probed on a scratch
    namespace that is removed again."""
    caps = {"root": os.geteuid() == 0, "netns": False, "tbf": False, "netem": False}
    if not caps["root"]:
        return caps, "the testbed needs root (network namespaces and tc): run as root"
    probe = f"{PREFIX}probe-{secrets.token_hex(3)}"
    try:
        if _run("ip", "netns", "add", probe, check=False).returncode != 0:
            return caps, "ip netns add failed: this kernel or container has no network namespaces"
        caps["netns"] = True
        ns = ("ip", "netns", "exec", probe)
        _run(*ns, "ip", "link", "add", "pv0", "type", "veth", "peer", "name", "pv1", check=False)
        caps["tbf"] = _run(*ns, "tc", "qdisc", "add", "dev", "pv0", "root", "tbf", "rate", "100mbit", "burst",
                           "32kb", "latency", "100ms", check=False).returncode == 0
        caps["netem"] = _run(*ns, "tc", "qdisc", "add", "dev", "pv1", "root", "netem", "delay", "1ms",
                             check=False).returncode == 0
    finally:
        _run("ip", "netns", "del", probe, check=False)
    if not caps["tbf"]:
        return caps, "tc qdisc tbf is not available: links cannot be shaped"
    return caps, None


def require():
    """Raises TestbedUnavailable with the reason, or returns the capabilities."""
    caps, why = capabilities()
    if why:
        raise TestbedUnavailable(why)
    return caps


def burst_bytes(mbit):
    """The token bucket: 16 KiB, or 0.1 ms at the rate where that is more. A shaped link then never
    sends faster than its rate for more than a few packets: with the 4 ms bucket a shaping
    tutorial gives (500 KB at 1 Gbit/s), every collective under 500 KB after an idle gap moved at
    veth speed, several times the rate. Measured here (hrtimer qdisc watchdog): one TCP stream
    through 1 Gbit/s tbf sustains 60-67 MB/s with an 8-32 KiB bucket and 65-74 MB/s with 64-500 KB;
    at 100 Mbit/s, 11.1-11.3 MB/s either way."""
    return max(16 * 1024, int(mbit * 1e6 / 8 * 1e-4))


class Cluster:
    def __init__(self, ranks, mbit, topology="star", leaves=2, uplink_mbit=None, run_id=None):
        if not 2 <= ranks <= 16:
            raise ValueError(f"nodes: expected 2 to 16 ranks on one machine, got {ranks}")
        if topology not in ("star", "two-level"):
            raise ValueError(f"topologies: expected star or two-level, got {topology}")
        if topology == "two-level" and not 2 <= leaves <= ranks:
            raise ValueError(f"leaves: expected 2 to {ranks} leaf switches, got {leaves}")
        self.ranks, self.mbit, self.topology, self.leaves = ranks, float(mbit), topology, leaves
        self.uplink_mbit = float(uplink_mbit or mbit)
        self.id = run_id or secrets.token_hex(3)
        self.switch = f"{PREFIX}{self.id}-sw"
        self.made = []

    def ns(self, r):
        return f"{PREFIX}{self.id}-r{r}"

    def dev(self, r):
        return f"a{self.id}r{r}"  # the rank's end of its link (<= 15 characters)

    def address(self, r):
        return f"{SUBNET}.{r + 1}"

    def leaf_of(self, r):
        return r * self.leaves // self.ranks if self.topology == "two-level" else 0

    def _shape(self, ns, dev, mbit):
        _run("ip", "netns", "exec", ns, "tc", "qdisc", "replace", "dev", dev, "root", "tbf", "rate", f"{mbit:g}mbit",
             "burst", str(burst_bytes(mbit)), "latency", "100ms")

    def up(self):
        """Makes every namespace, bridge and shaped link; on any failure removes what it made."""
        try:
            self._up()
        except Exception:
            self.down()
            raise
        return self

    def _up(self):
        sw = ("ip", "netns", "exec", self.switch)
        _run("ip", "netns", "add", self.switch)
        self.made.append(self.switch)
        _run(*sw, "ip", "link", "set", "lo", "up")
        bridges = [f"br{b}" for b in range(self.leaves if self.topology == "two-level" else 1)]
        for br in bridges + (["spine"] if self.topology == "two-level" else []):
            _run(*sw, "ip", "link", "add", br, "type", "bridge")
            _run(*sw, "ip", "link", "set", br, "up")
        if self.topology == "two-level":
            for b, br in enumerate(bridges):
                leaf, spine = f"up{b}", f"dn{b}"
                _run(*sw, "ip", "link", "add", leaf, "type", "veth", "peer", "name", spine)
                _run(*sw, "ip", "link", "set", leaf, "master", br)
                _run(*sw, "ip", "link", "set", spine, "master", "spine")
                for d in (leaf, spine):
                    _run(*sw, "ip", "link", "set", d, "up")
                    self._shape(self.switch, d, self.uplink_mbit)
        for r in range(self.ranks):
            ns, dev, port = self.ns(r), self.dev(r), f"p{r}"
            _run("ip", "netns", "add", ns)
            self.made.append(ns)
            _run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
            _run(*sw, "ip", "link", "add", port, "type", "veth", "peer", "name", dev)
            _run(*sw, "ip", "link", "set", dev, "netns", ns)
            _run(*sw, "ip", "link", "set", port, "master", bridges[self.leaf_of(r)])
            _run(*sw, "ip", "link", "set", port, "up")
            _run("ip", "netns", "exec", ns, "ip", "addr", "add", f"{self.address(r)}/24", "dev", dev)
            _run("ip", "netns", "exec", ns, "ip", "link", "set", dev, "up")
            self._shape(ns, dev, self.mbit)          # rank -> switch
            self._shape(self.switch, port, self.mbit)  # switch -> rank

    def counters(self):
        """Bytes each rank's link sent and received so far (its veth's netdev counters)."""
        out = []
        for r in range(self.ranks):
            vals = []
            for what in ("tx_bytes", "rx_bytes"):
                res = _run("ip", "netns", "exec", self.ns(r), "cat", f"/sys/class/net/{self.dev(r)}/statistics/{what}")
                vals.append(int(res.stdout.strip()))
            out.append(tuple(vals))
        return out

    def down(self):
        """Kills what runs in the cluster's namespaces and deletes them (and with them every link)."""
        for ns in reversed(self.made):
            kill_namespace(ns)
        self.made = []


def kill_namespace(ns):
    pids = _run("ip", "netns", "pids", ns, check=False).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), 9)
        except (ProcessLookupError, ValueError):
            pass
    _run("ip", "netns", "del", ns, check=False)


def leftovers():
    """Namespaces a testbed made and did not remove (any run id)."""
    names = _run("ip", "netns", "list", check=False).stdout.split("\n")
    return [n.split()[0] for n in names if n.strip() and re.match(rf"^{PREFIX}[0-9a-z-]+$", n.split()[0])]


def clean():
    """Removes every testbed namespace (and so every link and process in them); returns their names."""
    gone = leftovers()
    for ns in gone:
        kill_namespace(ns)
    return gone

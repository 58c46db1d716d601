#!/bin/bash
# One TCP stream through tc tbf between two network namespaces (root): the sustained rate and the
# first-message speed after an idle gap, by message size, for a link rate and token bucket.
# The measurement behind testbed/cluster.py burst_bytes (docs/testbed.md section 1).
#   bench/tbf_throughput.sh 1gbit 16kb
set -e
RATE=$1; BURST=$2; shift 2
trap 'ip netns del arcsim-tbf-a 2>/dev/null; ip netns del arcsim-tbf-b 2>/dev/null' EXIT  # also on error
ip netns add arcsim-tbf-a; ip netns add arcsim-tbf-b
ip link add va netns arcsim-tbf-a type veth peer name vb netns arcsim-tbf-b
ip -n arcsim-tbf-a addr add 10.9.0.1/24 dev va; ip -n arcsim-tbf-b addr add 10.9.0.2/24 dev vb
ip -n arcsim-tbf-a link set va up; ip -n arcsim-tbf-b link set vb up; ip -n arcsim-tbf-a link set lo up; ip -n arcsim-tbf-b link set lo up
ip netns exec arcsim-tbf-a tc qdisc add dev va root tbf rate $RATE burst $BURST latency 100ms "$@"
ip netns exec arcsim-tbf-b tc qdisc add dev vb root tbf rate $RATE burst $BURST latency 100ms "$@"
ip netns exec arcsim-tbf-b /usr/bin/python3 -c "
import socket
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR,1); s.bind(('10.9.0.2',5001)); s.listen(1)
c,_=s.accept()
import struct
while True:
    h=c.recv(8,socket.MSG_WAITALL)
    if len(h)<8: break
    n=struct.unpack('q',h)[0]; got=0
    while got<n: got+=len(c.recv(min(1<<20,n-got)))
    c.sendall(b'k')
" &
sleep 0.5
ip netns exec arcsim-tbf-a /usr/bin/python3 -c "
import socket,time,struct
s=socket.socket(); s.connect(('10.9.0.2',5001)); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY,1)
for n in [4096,65536,262144,1048576,4194304,16777216]:
  ts=[]
  for r in range(5):
    time.sleep(0.05)
    t=time.perf_counter(); s.sendall(struct.pack('q',n)+b'x'*n); s.recv(1); ts.append(time.perf_counter()-t)
  ts.sort(); print(n, 'median %.5f s'%ts[2], 'MB/s %.1f'%(n/ts[2]/1e6))
s.close()
"
wait

#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Hostile-client check for docs/RELIABILITY.md: opens N idle connections at once and holds
them, measuring the server's CPU time meanwhile (a spinning acceptor burns a core) and its
open descriptors.

    tools/attack/connection-flood.py PORT SERVER_PID [CONNECTIONS] [HOLD_SECONDS]

Start the server with a low descriptor limit to see exhaustion, e.g.
    bash -c 'ulimit -n 1024; exec tomato-sample-server --tomato-rpc.port=4567'
"""
import os
import resource
import socket
import sys
import time


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    port, pid = int(sys.argv[1]), int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 1500
    hold = float(sys.argv[4]) if len(sys.argv) > 4 else 3
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, count + 64)), hard))
    socks = []
    for _ in range(count):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        socks.append(s)
    time.sleep(0.5)
    before = cpu_seconds(pid)
    time.sleep(hold)
    used = cpu_seconds(pid) - before
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    print(f"connections={count} held_seconds={hold} server_cpu_seconds={used:.2f} server_descriptors={fds}")


if __name__ == "__main__":
    main()

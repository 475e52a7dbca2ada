#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Hostile-client check for docs/RELIABILITY.md: N connections each announce a large frame,
send part of its body and stall. Prints the server's peak resident memory (VmRSS) while the
attack is held, then, after the script ends, the server should be back to its usual self.

    tools/attack/stalled-frames.py PORT SERVER_PID [CONNECTIONS] [BODY_BYTES] [ANNOUNCED_BYTES]

Defaults: 60 connections, 15 MiB of body each, 16 MiB - 64 announced (just under the default
max-frame-bytes). Sends never block for long: a server that stops reading makes them time out.
"""
import socket
import struct
import sys
import time


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) // 1024
    return -1


def header(total):
    # magic, length (of what follows it), version 1, extension length 0, Request, CBOR, id 1
    return struct.pack(">BIIIHBQ", 0xAC, total - 5, 1, 0, 1, 0, 1)


def main():
    port, pid = int(sys.argv[1]), int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 60
    body = int(sys.argv[4]) if len(sys.argv) > 4 else 15 << 20
    announced = int(sys.argv[5]) if len(sys.argv) > 5 else (16 << 20) - 64
    chunk = b"x" * (1 << 20)
    before = peak = rss_mb(pid)
    started = time.time()
    held, cut = [], 0
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port))
        s.settimeout(2)
        held.append(s)
        try:
            s.sendall(header(announced))
            left = body
            while left > 0:
                n = min(left, len(chunk))
                s.sendall(chunk[:n])
                left -= n
        except (socket.timeout, OSError):
            cut += 1  # the server stopped reading it (or closed it): the budget at work
        peak = max(peak, rss_mb(pid))
    time.sleep(1)
    peak = max(peak, rss_mb(pid))
    print(f"connections={count} body_bytes={body} announced={announced} rss_before_mb={before} "
          f"peak_rss_mb={peak} stalled_or_closed={cut} seconds={time.time() - started:.1f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The rooms of src/tomato depend downward only (docs/ARCHITECTURE.md, "Layers"): every
#include <tomato/...> must go to the room itself or to one the table below allows.

Usage: check_layering.py <repository root>. Prints each include that breaks the rule as
'file:line: <room> must not include <header>' and exits 1 when there is one."""
import os
import re
import sys

ALLOWED = {
    "core": set(),
    "compression": {"core"},
    "serialization": {"core"},
    "wire": {"core", "compression", "serialization"},
    "transport": {"core", "wire"},
    "registry": {"core"},
    "registry/zookeeper": {"core", "registry"},
    "status": {"core", "wire", "transport"},
    "server": {"core", "wire", "serialization", "compression", "transport", "registry", "status"},
    "client": {"core", "wire", "serialization", "compression", "transport", "registry", "status"},
}

root = sys.argv[1] if len(sys.argv) > 1 else "."
base = os.path.join(root, "src", "tomato")
include = re.compile(r'^\s*#\s*include\s*[<"]tomato/([^>"]+)[>"]')


def room(rel):
    parts = rel.split("/")
    return "/".join(parts[:2]) if len(parts) > 2 and parts[0] == "registry" else parts[0]


bad = files = 0
for d, _, names in sorted(os.walk(base)):
    for name in sorted(names):
        if not name.endswith((".h", ".cpp", ".h.in")):
            continue
        files += 1
        path = os.path.join(d, name)
        source = room(os.path.relpath(path, base))
        if source not in ALLOWED:
            print(f"{os.path.relpath(path, root)}: room '{source}' is not in the layering table")
            bad += 1
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                m = include.match(line)
                if not m:
                    continue
                target = room(m.group(1))
                if target != source and target not in ALLOWED[source]:
                    print(f"{os.path.relpath(path, root)}:{number}: {source} must not include tomato/{m.group(1)}")
                    bad += 1
print(f"checked {files} files: {bad} layering violation(s)")
sys.exit(1 if bad else 0)

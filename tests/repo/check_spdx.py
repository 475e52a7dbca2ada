#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Every source file of the repository (C++, QML, JavaScript, CMake, shell and Python, the
`run` scripts, and the deployment files: systemd units, environment files, Kubernetes YAML,
the Containerfile, the Debian packaging's templates) names its license with an SPDX identifier in its first lines, and the
repository has the license's text (LICENSE) and the third-party notice.

Usage: check_spdx.py <repository root>. Prints each file without one and exits 1 on one."""
import os
import sys

root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
suffixes = (".cpp", ".h", ".qml", ".js", ".h.in", ".cmake", ".cmake.in", ".sh", ".py",
            ".service", ".env", ".yaml", ".yml")
# (Not conffiles nor the changelog template: their formats have no comments.)
names = ("CMakeLists.txt", "Containerfile", ".dockerignore", "lintian-overrides")
scripts = (os.path.join(root, "run"), os.path.join(root, ".ci", "run"))
skip = {".git", "build"}
missing = checked = 0
for top, dirs, files in os.walk(root):
    dirs[:] = [d for d in dirs if d not in skip and not d.startswith("build-")]
    for f in files:
        path = os.path.join(top, f)
        if not (f.endswith(suffixes) or f in names or path in scripts):
            continue
        checked += 1
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = [fh.readline() for _ in range(3)]
        if not any("SPDX-License-Identifier: Apache-2.0" in line for line in head):
            print(f"{os.path.relpath(path, root)}: no 'SPDX-License-Identifier: Apache-2.0' in its first lines")
            missing += 1
for needed in ("LICENSE", "THIRD-PARTY-NOTICES.md"):
    if not os.path.isfile(os.path.join(root, needed)):
        print(f"{needed} is missing")
        missing += 1
print(f"checked {checked} source files: {missing} problem(s)")
sys.exit(1 if missing else 0)

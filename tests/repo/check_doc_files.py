#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A code block that follows `<!-- file: <path> -->` in README.md or docs/*.md is that file
of the repository, verbatim (docs/QUICKSTART.md shows examples/quickstart this way), so
the page cannot drift from code that is built and tested.

Usage: check_doc_files.py <repository root>. Prints each mismatch and exits 1 on one."""
import difflib
import os
import re
import sys

root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
marker = re.compile(r"^<!-- file: (\S+) -->$")
pages = [os.path.join(root, "README.md")]
pages += sorted(os.path.join(root, "docs", f) for f in os.listdir(os.path.join(root, "docs")) if f.endswith(".md"))
bad = blocks = 0
for page in pages:
    lines = open(page, encoding="utf-8").read().split("\n")
    for i, line in enumerate(lines):
        m = marker.match(line)
        if not m:
            continue
        where = f"{os.path.relpath(page, root)}:{i + 1}"
        if i + 1 >= len(lines) or not lines[i + 1].startswith("```"):
            print(f"{where}: the marker is not followed by a code block")
            bad += 1
            continue
        end = next((j for j in range(i + 2, len(lines)) if lines[j] == "```"), None)
        path = os.path.join(root, m.group(1))
        if end is None or not os.path.isfile(path):
            print(f"{where}: {'unterminated code block' if end is None else 'no such file ' + m.group(1)}")
            bad += 1
            continue
        blocks += 1
        shown = "\n".join(lines[i + 2:end]) + "\n"
        actual = open(path, encoding="utf-8").read()
        if shown != actual:
            print(f"{where}: the block differs from {m.group(1)}:")
            sys.stdout.writelines(difflib.unified_diff(actual.splitlines(True), shown.splitlines(True),
                                                       m.group(1), "shown"))
            bad += 1
print(f"checked {blocks} file block(s): {bad} problem(s)")
sys.exit(1 if bad else 0)

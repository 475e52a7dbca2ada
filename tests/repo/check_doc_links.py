#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Every relative link in README.md and docs/*.md resolves: the file (or folder) exists in
the repository, and a #fragment names a heading of the target page (GitHub's anchors).

Usage: check_doc_links.py <repository root>. Prints each broken link as
'file:line: broken link: target (why)' and exits 1 when there is one."""
import os
import re
import sys

root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
link = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
heading = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def anchors(path, cache={}):
    if path not in cache:
        found, seen, fenced = set(), {}, False
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("```"):
                    fenced = not fenced
                m = None if fenced else heading.match(line)
                if not m:
                    continue
                text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", lambda x: x.group(1) or "", m.group(2))
                slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
                n = seen.get(slug, 0)
                seen[slug] = n + 1
                found.add(slug if n == 0 else f"{slug}-{n}")
        cache[path] = found
    return cache[path]


pages = [os.path.join(root, "README.md")]
pages += sorted(os.path.join(root, "docs", f) for f in os.listdir(os.path.join(root, "docs")) if f.endswith(".md"))
broken = 0
for page in pages:
    fenced = False
    with open(page, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.startswith("```"):
                fenced = not fenced
            if fenced:
                continue
            for m in link.finditer(re.sub(r"`[^`]*`", "", line)):
                target = m.group(1)
                if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, ...
                    continue
                path, _, fragment = target.partition("#")
                resolved = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
                where = f"{os.path.relpath(page, root)}:{number}: broken link: {target}"
                if not resolved.startswith(root + os.sep) and resolved != root:
                    print(f"{where} (outside the repository)")
                    broken += 1
                elif not os.path.exists(resolved):
                    print(f"{where} (no such file)")
                    broken += 1
                elif fragment and resolved.endswith(".md") and fragment not in anchors(resolved):
                    print(f"{where} (no such heading)")
                    broken += 1
print(f"checked {len(pages)} pages: {broken} broken link(s)")
sys.exit(1 if broken else 0)

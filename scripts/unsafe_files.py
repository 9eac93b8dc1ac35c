#!/usr/bin/env python3
"""Unsafe-code check: pointer code may appear only in files that say so.

A Swift file under Sources uses unsafe code when its text (comments and string literals left
out) names an unsafe pointer type or call: UnsafePointer and its Mutable/Raw/Buffer kinds,
withUnsafe..., unsafeBitCast, assumingMemoryBound, bindMemory, OpaquePointer, or dereferences a
buffer's address (`baseAddress`, `.pointee`). Such a file must
be on the allow-list:

- a file in a folder named `Unsafe` (e.g. Sources/Strata/Storage/Unsafe/) or whose name contains
  `Unsafe` (e.g. Support/ByteViewUnsafe.swift); these must also carry a comment that mentions
  unsafe code (the header stating the invariants);
- the codecs (Sources/StrataCodecs), the I/O layer (Sources/Strata/IO: mapped files, the log
  mapping, system calls) and the fuzzing entry points (Sources/Strata/Fuzzing).

Prints the files with unsafe code and exits 1 when one is outside the allow-list or a named
unsafe file has no such comment.

Usage: python3 scripts/unsafe_files.py [Sources]    python3 scripts/unsafe_files.py --self-test
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from layers import strip  # noqa: E402  (comments and string literals out, as the layer check does)

UNSAFE = re.compile(
    r"Unsafe(Mutable)?(Raw)?(Buffer)?Pointer|withUnsafe|unsafeBitCast|assumingMemoryBound|bindMemory|OpaquePointer|baseAddress|\.pointee\b")
# Folders (relative to Sources) whose files may use unsafe code as a category.
ALLOWED_FOLDERS = ("StrataCodecs", os.path.join("Strata", "IO"), os.path.join("Strata", "Fuzzing"))


def named_unsafe(rel):
    parts = rel.split(os.sep)
    return "Unsafe" in parts[:-1] or "Unsafe" in parts[-1]


def check(root):
    """(files with unsafe code, problems) for the Swift files below `root`."""
    found, problems = [], []
    for dirpath, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            if not name.endswith(".swift"):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
            if not UNSAFE.search(strip(text)):
                continue
            found.append(rel)
            if named_unsafe(rel):
                comments = "\n".join(line for line in text.splitlines() if line.lstrip().startswith("//"))
                if "unsafe" not in comments.lower():
                    problems.append("%s: unsafe file without a comment stating its invariants" % rel)
            elif not any(rel.startswith(folder + os.sep) for folder in ALLOWED_FOLDERS):
                m = UNSAFE.search(strip(text))
                problems.append(
                    "%s: unsafe code (%s) outside the allow-list: make it safe (Span, arrays, ByteView) or move it "
                    "to a file named for it (an Unsafe/ folder or a ...Unsafe.swift file)" % (rel, m.group(0)))
    return found, problems


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "Sources")
    found, problems = check(root)
    print("files with unsafe code (%d):" % len(found))
    for rel in found:
        print("  " + rel)
    if problems:
        print("\nunsafe code where it does not belong:")
        for p in problems:
            print("  " + p)
        return 1
    print("\nall unsafe code is in allowed files")
    return 0


def self_test():
    """The check itself: pointer code in an ordinary file fails; in a named file with a header,
    in the codecs, or only in comments and strings, it passes."""
    import tempfile
    with tempfile.TemporaryDirectory() as root:
        def write(rel, text):
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            with open(os.path.join(root, rel), "w", encoding="utf-8") as fh:
                fh.write(text)
        write("Strata/API/Safe.swift", "// not UnsafeRawBufferPointer\nlet s = \"withUnsafeBytes\"\n")
        write("Strata/Storage/Unsafe/Blocks.swift", "// Unsafe memory: ...\nlet p: UnsafeRawPointer? = nil\n")
        write("Strata/Support/ViewUnsafe.swift", "/// Unsafe memory, confined here.\nfunc f() { withUnsafeBytes(of: 1) { _ in } }\n")
        write("StrataCodecs/Column.swift", "func g(_ b: UnsafeRawBufferPointer) {}\n")
        found, problems = check(root)
        assert not problems, problems
        assert len(found) == 3, found
        write("Strata/API/Leak.swift", "func h(_ s: String) { var s = s; s.withUTF8 { p in _ = p.baseAddress! } }\n")
        _, problems = check(root)
        assert len(problems) == 1 and "Leak.swift" in problems[0], problems
        os.remove(os.path.join(root, "Strata/API/Leak.swift"))
        write("Strata/Storage/Unsafe/Bare.swift", "let q = OpaquePointer(bitPattern: 1)\n")
        _, problems = check(root)
        assert len(problems) == 1 and "Bare.swift" in problems[0], problems
    print("unsafe_files.py self-test passed")
    return 0


if __name__ == "__main__":
    sys.exit(self_test() if sys.argv[1:] == ["--self-test"] else main())

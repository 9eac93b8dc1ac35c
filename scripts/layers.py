#!/usr/bin/env python3
"""Layer check for the folders of Sources/Strata.

For every folder (API, IO, Model, Query, Storage, Support, ...) finds the type names its files
declare at top level (struct, class, enum, protocol, actor, typealias; private ones left out),
then which folders' files mention those names (comments and string literals left out). Prints
the matrix "row folder references types of column folder" (number of files) and exits 1 when a
forbidden edge exists.

The layers, bottom up: Support (no dependency) <- IO <- Model <- Storage <- Query <- API.
Forbidden edges are listed in FORBIDDEN (a folder name, and the folders it must not reference;
"*" means every other folder, EXCEPT lists the allowed ones).

Usage: python3 scripts/layers.py [Sources/Strata]
"""
import os
import re
import sys

# folder -> folders it must not reference. ("*", allowed...) means: nothing but `allowed`.
FORBIDDEN = {
    "Support": ("*",),
    "IO": ("*", "Support"),
    "Model": ("Storage", "Query", "API"),
    "Storage": ("Query", "API"),
    "Query": ("API",),
}

# Known edges allowed for now: (from folder, to folder, file name, type name). Empty: every
# edge of the rule holds.
PENDING: set = set()

DECL = re.compile(
    r"^(?:(?:public|internal|package|private|fileprivate|final|indirect|open|nonisolated|@[\w.]+(?:\([^)]*\))?)\s+)*"
    r"(struct|class|enum|protocol|actor|typealias)\s+([A-Za-z_]\w*)",
    re.M,
)
IDENT = re.compile(r"[A-Za-z_]\w*")


def strip(text):
    """Source text without comments and string literals (multi-line strings included)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif text.startswith('"""', i):
            j = text.find('"""', i + 3)
            i = n if j < 0 else j + 3
            out.append('""')
        elif c == '"':
            i += 1
            while i < n and text[i] != '"' and text[i] != "\n":
                i += 2 if text[i] == "\\" else 1
            i += 1
            out.append('""')
        else:
            out.append(c)
            i += 1
    return "".join(out)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "Sources", "Strata")
    folders = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)) and not d.endswith(".docc"))
    files = {}  # folder -> [(path, stripped text)]
    declared = {}  # type name -> folder
    for f in folders:
        files[f] = []
        for dirpath, _, names in os.walk(os.path.join(root, f)):
            for name in sorted(names):
                if not name.endswith(".swift"):
                    continue
                path = os.path.join(dirpath, name)
                with open(path, encoding="utf-8") as fh:
                    text = strip(fh.read())
                files[f].append((path, text))
                for m in DECL.finditer(text):
                    if re.match(r"(private|fileprivate)\b", m.group(0)):
                        continue
                    declared.setdefault(m.group(2), f)
    matrix = {(a, b): 0 for a in folders for b in folders}
    examples = {}
    for f in folders:
        for path, text in files[f]:
            seen = set()
            for ident in set(IDENT.findall(text)):
                g = declared.get(ident)
                if g and (f, g, os.path.basename(path), ident) in PENDING:
                    continue
                if g and g != f and g not in seen:
                    seen.add(g)
                    matrix[(f, g)] += 1
                if g and g != f:
                    examples.setdefault((f, g), set()).add("%s: %s" % (os.path.relpath(path, root), ident))

    width = max(len(f) for f in folders) + 2
    print("files of row folder referencing types declared in column folder (Sources/Strata)")
    print(" " * width + "".join(f.rjust(width) for f in folders))
    for a in folders:
        print(a.ljust(width) + "".join(("-" if a == b else str(matrix[(a, b)] or ".")).rjust(width) for b in folders))

    bad = []
    for a, rule in FORBIDDEN.items():
        if a not in folders:
            continue
        if rule and rule[0] == "*":
            banned = [b for b in folders if b != a and b not in rule[1:]]
        else:
            banned = list(rule)
        for b in banned:
            if b in folders and matrix[(a, b)]:
                bad.append((a, b))
    if bad:
        print("\nforbidden edges:")
        for a, b in bad:
            print("  %s -> %s: %s" % (a, b, "; ".join(sorted(examples[(a, b)])[:12])))
        return 1
    print("\nno forbidden edge (rules: %s)" % "; ".join(
        "%s -> %s" % (a, "only " + ", ".join(r[1:]) if r[0] == "*" and r[1:] else "nothing" if r[0] == "*" else "not " + ", ".join(r))
        for a, r in FORBIDDEN.items()))
    return 0


def self_test():
    """The check itself: a Storage file naming a Query type is a forbidden edge; names in comments
    and strings, and private types, are not references."""
    import contextlib, io, tempfile
    with tempfile.TemporaryDirectory() as root:
        def write(folder, name, text):
            os.makedirs(os.path.join(root, folder), exist_ok=True)
            with open(os.path.join(root, folder, name), "w", encoding="utf-8") as fh:
                fh.write(text)
        write("Query", "Q.swift", "struct SeriesQuery {}\nprivate struct Hidden {}\n")
        write("Storage", "S.swift", "/// not SeriesQuery\nlet s = \"SeriesQuery\"\nstruct Hidden {}\nstruct Chunk {}\n")
        write("Support", "U.swift", "final class Lock {}\n")
        def run():
            sys.argv[1:] = [root]
            with contextlib.redirect_stdout(io.StringIO()):
                return main()
        assert run() == 0, "comments, strings and private types made an edge"
        write("Storage", "T.swift", "func f(_ q: SeriesQuery) {}\n")
        assert run() == 1, "Storage -> Query was not reported"
        os.remove(os.path.join(root, "Storage", "T.swift"))
        write("Support", "V.swift", "let c: Chunk? = nil\n")
        assert run() == 1, "Support -> Storage was not reported"
    print("layers.py self-test passed")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(self_test())
    sys.exit(main())

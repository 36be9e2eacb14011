#!/usr/bin/python3
"""The shape of the code, checked: the includes ARCHITECTURE.md forbids, and
comments that cite files which are not in the repository.

- The table under "## Includes that must never exist" in ARCHITECTURE.md is
  the rule (one place): every #include "…" of a file under a listed folder is
  resolved to a file of the repository, and fails when it lies under one of
  that row's forbidden paths.
- Every file name a comment cites (foo.h, bar.cpp, DESIGN.md, …) must be a
  file of this repository, so a reader can open it.

Usage: test_layering.py [SOURCE_ROOT]   (default: $LIVECAST_SOURCE_ROOT)
"""
import os
import re
import subprocess
import sys

SOURCE_ROOT = (sys.argv[1] if len(sys.argv) > 1 else
               os.environ.get("LIVECAST_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "../..")))
SOURCE_ROOT = os.path.abspath(SOURCE_ROOT)
CODE = (".h", ".hpp", ".c", ".cc", ".cpp", ".mm")
# A path (folders and a name of two or more characters) with one of the
# extensions of this repository's files, not followed by more of a word.
CITABLE = (r"(?<![A-Za-z0-9_.@-])(?:\.\./|/)?(?:[A-Za-z0-9_.-]+/)*[A-Za-z0-9_-]{2,}"
           r"\.(?:cpp|hpp|mjs|html|build|json|css|xml|ini|md|py|js|sh|mm|cc|h|c)(?![A-Za-z0-9_])")


# Names that look like files and are not.
NOT_FILES = {"Node.js"}


def repo_files():
    try:
        out = subprocess.run(["git", "-C", SOURCE_ROOT, "ls-files", "--cached", "--others",
                              "--exclude-standard"], check=True, capture_output=True, text=True).stdout
        files = [f for f in out.splitlines() if f]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for top, dirs, names in os.walk(SOURCE_ROOT):
            dirs[:] = [d for d in dirs if not d.startswith((".", "build")) and d != "node_modules"]
            files += [os.path.relpath(os.path.join(top, n), SOURCE_ROOT) for n in names]
    return [f for f in files if os.path.exists(os.path.join(SOURCE_ROOT, f))]


def forbidden_table():
    text = open(os.path.join(SOURCE_ROOT, "ARCHITECTURE.md"), encoding="utf-8").read()
    m = re.search(r"^## Includes that must never exist\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not m:
        raise SystemExit("FAIL: ARCHITECTURE.md has no \"## Includes that must never exist\" section")
    rules = []
    for line in m.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or not cells[0].startswith("`"):
            continue
        where = cells[0].strip("`")
        banned = [b.strip().strip("`") for b in cells[1].split(",")]
        rules.append((where, banned))
    if not rules:
        raise SystemExit("FAIL: the include table of ARCHITECTURE.md could not be read")
    return rules


def resolve(include, including, files, by_suffix):
    """The repository file an #include "…" names, or None (a system header)."""
    here = os.path.normpath(os.path.join(os.path.dirname(including), include))
    if here in files:
        return here
    candidates = by_suffix.get(os.path.basename(include), [])
    matches = [f for f in candidates if f == include or f.endswith("/" + include)]
    return matches[0] if len(matches) == 1 else (matches and sorted(matches)[0]) or None


def main():
    files = repo_files()
    file_set = set(files)
    by_suffix = {}
    for f in files:
        by_suffix.setdefault(os.path.basename(f), []).append(f)
    failures = []
    checked = 0
    for where, banned in forbidden_table():
        if not os.path.isdir(os.path.join(SOURCE_ROOT, where)):
            failures.append(f"ARCHITECTURE.md names {where}, which is not a folder of the repository")
            continue
        for f in files:
            if not f.startswith(where) or not f.endswith(CODE):
                continue
            for n, line in enumerate(open(os.path.join(SOURCE_ROOT, f), encoding="utf-8",
                                          errors="replace"), 1):
                m = re.match(r'\s*#\s*(?:include|import)\s+"([^"]+)"', line)
                if not m:
                    continue
                checked += 1
                target = resolve(m.group(1), f, file_set, by_suffix)
                for b in banned:
                    if target and (target == b or target.startswith(b.rstrip("/") + "/")):
                        failures.append(f"{f}:{n} includes {target}: files in {where} must not "
                                        f"include from {b} (ARCHITECTURE.md)")

    # Comments cite files a reader can open.
    cited = 0
    for f in files:
        if not f.endswith(CODE + (".py", ".mjs", ".js", ".sh")) or "/fuzz/corpus/" in f \
                or "/fuzz/regressions/" in f:
            continue
        text = open(os.path.join(SOURCE_ROOT, f), encoding="utf-8", errors="replace").read()
        if f.endswith(CODE + (".mjs", ".js")):
            # String literals first, so "https://…" in a string is not a // comment.
            tokens = re.findall(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|`(?:\\.|[^`\\])*`'
                                r"|/\*.*?\*/|//[^\n]*", text, re.S)
            comments = [t for t in tokens if t.startswith("/")]
        else:
            comments = re.findall(r"#[^\n]*", text)
        for comment in comments:
            comment = re.sub(r"[a-z]+://\S+", " ", comment)  # URLs are not files
            for name in re.findall(CITABLE, comment):
                if name in NOT_FILES:
                    continue
                cited += 1
                base = os.path.basename(name)
                if not name.startswith("/") and (name in file_set or base in by_suffix):
                    continue
                failures.append(f"{f}: a comment cites {name}, which is not a file of this repository")
    for failure in failures:
        print("FAIL:", failure)
    print(f"# {checked} includes checked against ARCHITECTURE.md, {cited} file citations in comments")
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

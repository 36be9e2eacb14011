#!/usr/bin/python3
"""subprojects/: the wraps a Windows or macOS build falls back to are listed by
meson, every dependency() of the product names one, and this (Debian) build
uses the system packages, not a subproject.

Usage: test_subprojects.py   ($LIVECAST_SOURCE_ROOT, $LIVECAST_BUILD_ROOT)
"""
import glob
import json
import os
import re
import subprocess
import sys

SOURCE_ROOT = os.environ["LIVECAST_SOURCE_ROOT"]
BUILD_ROOT = os.environ["LIVECAST_BUILD_ROOT"]
# What a build without system packages needs, by the wrap that provides it.
WRAPPED = {"gstreamer-": "gstreamer-1.0", "libsoup-3.0": "libsoup", "json-glib-1.0": "json-glib"}
PRODUCT_BUILDS = ["meson.build", "protocol/meson.build", "launcher/meson.build",
                  "gst/webrtcserver/meson.build"]


def main():
    failures = []
    wraps = sorted(os.path.basename(w)[:-5] for w in glob.glob(os.path.join(SOURCE_ROOT, "subprojects", "*.wrap")))
    out = subprocess.run(["meson", "subprojects", "foreach", "true"], cwd=SOURCE_ROOT,
                         capture_output=True, text=True, timeout=60)
    listed = sorted(set(re.findall(r"Executing command in subprojects/(\S+)", out.stdout + out.stderr)))
    for wrap in wraps:
        directory = None
        for line in open(os.path.join(SOURCE_ROOT, "subprojects", wrap + ".wrap"), encoding="utf-8"):
            if line.startswith("directory"):
                directory = line.split("=", 1)[1].strip()
        if (directory or wrap) not in listed:
            failures.append(f"`meson subprojects foreach` does not list {wrap} (listed: {listed})")
    for want in set(WRAPPED.values()):
        if want not in wraps:
            failures.append(f"subprojects/{want}.wrap is missing (have {wraps})")

    for path in PRODUCT_BUILDS:
        text = open(os.path.join(SOURCE_ROOT, path), encoding="utf-8").read()
        for m in re.finditer(r"dependency\('([^']+)'([^)]*(?:\([^)]*\))?[^)]*)\)", text):
            name, args = m.group(1), m.group(2)
            wrap = next((w for prefix, w in WRAPPED.items() if name.startswith(prefix)), None)
            if wrap and f"fallback: '{wrap}'" not in args:
                failures.append(f"{path}: dependency('{name}') has no fallback: '{wrap}'")

    info = json.loads(subprocess.run(["meson", "introspect", "--projectinfo", BUILD_ROOT],
                                     capture_output=True, text=True, check=True, timeout=60).stdout)
    used = [s.get("name") for s in info.get("subprojects", [])]
    if used:
        failures.append(f"this build uses subprojects {used} instead of the system packages "
                        "(scripts/install-deps.sh installs them)")

    for f in failures:
        print("FAIL:", f)
    print(f"# {len(wraps)} wraps, all listed; product dependencies fall back to them; "
          f"subprojects in use: {used or 'none'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

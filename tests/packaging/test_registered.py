#!/usr/bin/python3
"""registered-tests: the build directory has every test the tree defines.

A test is registered only when what it needs was found when meson configured
the build directory (node, /usr/bin/python3, Xvfb, a plugin's dependencies):
a build directory configured before those were installed silently runs fewer
tests. This reads the test() calls of tests/**/meson.build (names written
out, or taken from the foreach lists around them) and compares them with
the build directory's tests (meson-info/intro-tests.json).

Missing tests fail when LIVECAST_REQUIRE_BROWSER=1 (scripts/test.sh sets it
after install-deps.sh --tests: everything is there, so every test must be);
otherwise they are listed and the test skips (77). A test() whose name this
cannot read always fails, so the list cannot quietly fall behind.
"""

import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get('LIVECAST_SOURCE_ROOT') or os.path.normpath(os.path.join(HERE, '..', '..'))
BUILD = os.environ.get('LIVECAST_BUILD_ROOT') or os.path.join(ROOT, 'build')
# Not part of the main build: tests/fuzz is built only with -Dfuzzing=enabled
# (build-fuzz, scripts/fuzz.sh), tests/cross/dxgi is the cross project of cross-dxgi.
OTHER_BUILDS = ('tests/fuzz/', 'tests/cross/dxgi/')


def strip_comments(text):
    """meson.build without # comments (strings kept)."""
    return re.sub(r"('(?:[^'\\\n]|\\.)*')|#[^\n]*", lambda m: m.group(1) or '', text)


def closing(text, i, open_='[', close=']'):
    depth = 1
    while i < len(text) and depth:
        if text[i] == "'":
            i = text.index("'", i + 1)
        elif text[i] == open_:
            depth += 1
        elif text[i] == close:
            depth -= 1
        i += 1
    return i - 1


def first_arg(text, i):
    depth, j = 0, i
    while j < len(text):
        c = text[j]
        if c == "'":
            j = text.index("'", j + 1)
        elif c in '([{':
            depth += 1
        elif c in ')]}':
            if depth == 0:
                break
            depth -= 1
        elif c == ',' and depth == 0:
            break
        j += 1
    return text[i:j].strip()


def loops_around(text, pos):
    """{variable: list text} of the foreach loops open at pos."""
    stack = []
    for m in re.finditer(r'\bforeach\s+(\w+)\s*:\s*\[|\bendforeach\b', text[:pos]):
        if m.group(0).startswith('endforeach'):
            stack.pop()
        else:
            stack.append((m.group(1), text[m.end():closing(text, m.end())]))
    return dict(stack)


def strings(list_text, depth):
    """String literals at the given nesting depth of a list's contents (1 = its items,
    2 = the items of its items); at depth 2 only the first of each inner list."""
    out, level, first = [], 1, False
    i = 0
    while i < len(list_text):
        c = list_text[i]
        if c == "'":
            end = list_text.index("'", i + 1)
            if level == depth and (depth == 1 or first):
                out.append(list_text[i + 1:end])
                first = False
            i = end
        elif c == '[':
            level += 1
            first = True
        elif c == ']':
            level -= 1
        i += 1
    return out


def expected_tests():
    """({name: 'file:line'}, [problems])."""
    names, problems = {}, []
    for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, 'tests')):
        dirnames.sort()
        if 'meson.build' not in filenames:
            continue
        path = os.path.join(dirpath, 'meson.build')
        rel = os.path.relpath(path, ROOT)
        if rel.startswith(OTHER_BUILDS):
            continue
        with open(path) as f:
            text = strip_comments(f.read())
        for m in re.finditer(r'(?<![\w.])test\(\s*', text):
            where = f'{rel}:{text.count(chr(10), 0, m.start()) + 1}'
            arg = first_arg(text, m.end())
            loops = loops_around(text, m.start())
            found = None
            if re.fullmatch(r"'[^']*'", arg):
                found = [arg[1:-1]]
            elif (lm := re.fullmatch(r"'([^']*)'\s*\+\s*(\w+)", arg)) and lm.group(2) in loops:
                found = [lm.group(1) + v for v in strings(loops[lm.group(2)], 1)]
            elif arg in loops:
                found = strings(loops[arg], 1)
            elif (lm := re.fullmatch(r'(\w+)\[0\]', arg)) and lm.group(1) in loops:
                found = strings(loops[lm.group(1)], 2)
            if not found:
                problems.append(f'{where}: cannot read the name of test({arg}, ...)')
                continue
            for name in found:
                names[name] = where
    return names, problems


def main():
    intro = os.path.join(BUILD, 'meson-info', 'intro-tests.json')
    with open(intro) as f:
        registered = {t['name'] for t in json.load(f)}
    expected, problems = expected_tests()
    missing = sorted(set(expected) - registered)
    print(f'{len(expected)} tests defined in tests/**/meson.build, {len(registered)} registered in {BUILD}')
    for name in missing:
        print(f'not registered: {name} ({expected[name]})')
    if missing:
        print(f'what they need was not found when {BUILD} was configured; once it is installed: '
              f'meson setup --reconfigure {BUILD}')
    for p in problems:
        print('FAIL: ' + p)
    if problems:
        return 1
    if missing:
        if os.environ.get('LIVECAST_REQUIRE_BROWSER') == '1':
            print(f'FAIL: {len(missing)} test(s) missing although everything was installed')
            return 1
        print('SKIP: not every test can run here (LIVECAST_REQUIRE_BROWSER=1 makes this a failure)')
        return 77
    return 0


if __name__ == '__main__':
    sys.exit(main())

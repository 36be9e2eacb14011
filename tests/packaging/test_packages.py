#!/usr/bin/python3
"""packages: everything livecast and its tests take from the system comes from a
Debian package that scripts/install-deps.sh installs.

Read from the sources (tests/packaging/sourcescan.py, programscan.py):
  - GStreamer elements: launcher/presets.ini, the plugins' own
    gst_element_factory_make/make_element calls (gst/), the launcher's
    pipelines (launcher/), and the gst-launch pipelines of the tests (tests/);
  - Python modules and GObject typelibs the tests import, node modules the
    tests import, programs the tests run.
Each is found on this machine (gst-inspect-1.0 NAME -> "Filename"; python3's
import system; the typelib directory; command -v) and its file's package
asked of dpkg (dpkg -S). That package, or a package it comes with (Depends
and Pre-Depends, followed through the installed packages), must be in
install-deps.sh's lists: the run-time list for the presets, the plugins and the
launcher, either list for the tests; Essential packages are everywhere.
It compares with the lists (install-deps.sh --print-packages), not with what
is installed: a package installed by hand does not hide a missing entry.
Node packages must be in tests/browser/package.json (install-deps.sh runs
npm ci there). The project's own elements are left out.

Run with /usr/bin/python3 (meson test packages); LIVECAST_SOURCE_ROOT and
GST_PLUGIN_PATH as meson sets them, or from a checkout by hand.
"""

import collections
import glob
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import programscan  # noqa: E402
import sourcescan  # noqa: E402

ROOT = os.environ.get('LIVECAST_SOURCE_ROOT') or os.path.normpath(os.path.join(HERE, '..', '..'))
INSTALL_DEPS = os.path.join(ROOT, 'scripts', 'install-deps.sh')

# Names used on purpose although nothing provides them.
DELIBERATELY_MISSING = {
    'nosuchelementsrc': 'tests/launcher/test_launcher.py checks the error for a missing element',
}
# Elements that elements used here create themselves at run time: webrtcbin's
# ICE transport (libnice's), DTLS-SRTP and RTP session.
IMPLIED = {
    'webrtcbin': ('nicesrc', 'nicesink', 'dtlssrtpenc', 'dtlssrtpdec', 'rtpbin'),
}
# Descriptions there are parser inputs, never run: the preset fuzzer's seeds.
NOT_RUN = ('tests/fuzz/',)
# This checker: it names what it looks for, it does not run it (its imports count).
CHECKER = 'tests/packaging/'

SOURCE_EXTS = ('.py', '.mjs', '.js', '.cpp', '.c', '.h', '.sh')


def rel(path):
    return os.path.relpath(path, ROOT)


def files(top, exts):
    out = []
    for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, top)):
        dirnames[:] = sorted(d for d in dirnames if d not in ('node_modules', 'corpus', 'regressions'))
        out += [os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(exts)]
    return out


def read(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        return f.read()


# ------------------------------------------------------------ what is used

def gather():
    """(uses by context 'runtime'/'tests', problems, the project's own elements)."""
    uses = {'runtime': set(), 'tests': set()}
    problems = []
    own = set()
    for path in files('gst', ('.cpp', '.h', '.c')):
        text = read(path)
        own |= sourcescan.registered_elements(text)
        found, trouble = sourcescan.factory_uses(rel(path), text)
        uses['runtime'] |= found
        problems += trouble
    presets = os.path.join(ROOT, 'launcher', 'presets.ini')
    text = read(presets)
    for desc, pos in sourcescan.preset_sources(text):
        for name in sourcescan.pipeline_elements(desc):
            uses['runtime'].add(sourcescan.Use('element', name, f'{rel(presets)}:{sourcescan.line_of(text, pos)}'))
    for path in files('launcher', ('.cpp', '.h')):
        text = read(path)
        uses['runtime'] |= sourcescan.pipeline_uses(path, rel(path), text)
        found, trouble = sourcescan.factory_uses(rel(path), text)
        uses['runtime'] |= found
        problems += trouble
    for path in files('tests', SOURCE_EXTS):
        r, text = rel(path), read(path)
        ext = os.path.splitext(path)[1]
        if not r.startswith(NOT_RUN + (CHECKER,)):
            uses['tests'] |= sourcescan.pipeline_uses(path, r, text)
            if ext in ('.py', '.cpp', '.c', '.h'):
                found, trouble = sourcescan.factory_uses(r, text, sourcescan.LEXERS[ext])
                uses['tests'] |= found
                problems += trouble
        if ext == '.py':
            uses['tests'] |= sourcescan.python_imports(r, text)
        if ext in ('.mjs', '.js'):
            uses['tests'] |= sourcescan.node_imports(r, text)
        if r.startswith(CHECKER):
            continue
        if ext == '.sh':
            uses['tests'] |= programscan.shell_programs(r, text)
        else:
            uses['tests'] |= programscan.code_programs(path, r, text)
    for path in files('tests', ('meson.build',)):
        uses['tests'] |= programscan.meson_programs(path, rel(path), read(path))
    for context in uses:
        for u in list(uses[context]):
            for name in IMPLIED.get(u.name, ()) if u.kind == 'element' else ():
                uses[context].add(sourcescan.Use('element', name, f'{u.where} ({u.name} makes it)'))
    return uses, problems, own


# ----------------------------------------------------- install-deps, dpkg

def install_deps_lists():
    """(run-time packages, test packages, {program: package installed when it is
    missing}), in install-deps.sh's order."""
    def printed(*args):
        out = subprocess.run(['sh', INSTALL_DEPS, '--print-packages', *args], check=True,
                             capture_output=True, text=True).stdout
        return [line.split() for line in out.splitlines() if line.strip()]
    runtime = [words[0] for words in printed()]
    every = printed('--tests')
    return runtime, [words[0] for words in every if words[0] not in runtime], \
        {words[1]: words[0] for words in every if len(words) > 1}


class Dpkg:
    def __init__(self):
        fmt = '${binary:Package}\t${db:Status-Abbrev}\t${Essential}\t${Provides}\t${Pre-Depends}\t${Depends}\n'
        out = subprocess.run(['dpkg-query', '-W', '-f', fmt], check=True, capture_output=True,
                             text=True).stdout
        self.deps, self.essential, self.owned = {}, set(), {}
        self.providers = collections.defaultdict(set)
        for line in out.splitlines():
            name, status, essential, provides, pre, deps = (line.split('\t') + [''] * 6)[:6]
            name = name.split(':')[0]
            if not status.startswith('ii'):
                continue
            if essential == 'yes':
                self.essential.add(name)
            for p in provides.split(','):
                if p.strip():
                    self.providers[self.bare(p)].add(name)
            groups = [g for g in (pre + ',' + deps).split(',') if g.strip()]
            self.deps.setdefault(name, []).extend([self.bare(a) for a in g.split('|')] for g in groups)

    @staticmethod
    def bare(dep):
        return dep.strip().split(' ')[0].split(':')[0]

    def closure(self, roots):
        """{package: the listed package it comes with} over Depends and Pre-Depends,
        breadth first (each is credited to the nearest listed package)."""
        came = {p: p for p in roots}
        todo = collections.deque(roots)
        while todo:
            pkg = todo.popleft()
            for group in self.deps.get(pkg, []):
                for alt in group:
                    for real in sorted(({alt} if alt in self.deps else set()) | self.providers.get(alt, set())):
                        if real not in came:
                            came[real] = came[pkg]
                            todo.append(real)
        return came

    @staticmethod
    def variants(path):
        """A file as given, resolved, and across merged /usr (dpkg knows one name)."""
        tries = [path, os.path.realpath(path)]
        for p in list(tries):
            if p.startswith(('/usr/bin/', '/usr/sbin/', '/usr/lib/')):
                tries.append(p[4:])
            elif p.startswith(('/bin/', '/sbin/', '/lib/')):
                tries.append('/usr' + p)
        return list(dict.fromkeys(tries))

    def prefetch(self, paths):
        """Asks dpkg about many files at once (one dpkg-query -S)."""
        ask = sorted({v for p in paths for v in self.variants(p)} - set(self.owned))
        if not ask:
            return
        res = subprocess.run(['dpkg-query', '-S', *ask], capture_output=True, text=True)
        for line in res.stdout.splitlines():
            if line.startswith('diversion ') or ': ' not in line:
                continue
            pkgs, owned = line.split(': ', 1)
            self.owned.setdefault(owned, set()).update(self.bare(x) for x in pkgs.split(','))
        for p in ask:
            self.owned.setdefault(p, set())

    def owners(self, path):
        """Packages owning a file."""
        self.prefetch([path])
        for p in self.variants(path):
            if self.owned.get(p):
                return self.owned[p]
        return set()


# ------------------------------------------------------- finding on disk

def element_file(name):
    """(plugin file, None) or (None, why not)."""
    res = subprocess.run(['gst-inspect-1.0', name], capture_output=True, text=True)
    if res.returncode != 0 or 'Factory Details:' not in res.stdout:
        return None, 'gst-inspect-1.0 does not know this element'
    for line in res.stdout.splitlines():
        words = line.split(None, 1)
        if len(words) == 2 and words[0] == 'Filename':
            return words[1].strip(), None
    return None, 'gst-inspect-1.0 gives no Filename (a static element)'


def python_files(names):
    code = r'''
import importlib.util, json, os, sys
out = {}
for name in sys.argv[1:]:
    try:
        spec = importlib.util.find_spec(name)
    except Exception:
        spec = None
    if spec is None:
        out[name] = None
    elif spec.origin in ('built-in', 'frozen'):
        out[name] = os.path.realpath(sys.executable)
    else:
        out[name] = spec.origin or list(spec.submodule_search_locations)[0]
print(json.dumps(out))
'''
    res = subprocess.run(['/usr/bin/python3', '-I', '-c', code, *names], capture_output=True,
                         text=True, check=True)
    return json.loads(res.stdout)


def typelib_file(name):
    pattern = name + '.typelib' if '-' in name else name + '-*.typelib'
    for d in glob.glob('/usr/lib/*/girepository-1.0') + ['/usr/lib/girepository-1.0']:
        hits = sorted(glob.glob(os.path.join(d, pattern)))
        if hits:
            return hits[-1]
    return None


def node_builtins():
    node = shutil.which('node')
    if not node:
        return set()
    out = subprocess.run([node, '-p', "require('module').builtinModules.join('\\n')"],
                         capture_output=True, text=True).stdout
    return set(out.split())


SEARCH_PATH = os.environ.get('PATH', '') + ':/usr/local/sbin:/usr/sbin:/sbin'


def program_file(name):
    if name.startswith('/'):
        return name if os.path.isfile(name) and os.access(name, os.X_OK) else None
    return shutil.which(name, path=SEARCH_PATH)


# ------------------------------------------------------------------ main

def main():
    runtime_list, test_list, path_programs = install_deps_lists()
    dpkg = Dpkg()
    allowed = {'runtime': dpkg.closure(runtime_list),
               'tests': dpkg.closure(runtime_list + test_list)}
    uses, failures, own = gather()
    local_py = {os.path.splitext(os.path.basename(p))[0] for p in files('tests', ('.py',))}
    npm_deps = sourcescan.package_json_deps(os.path.join(ROOT, 'tests', 'browser', 'package.json'))
    with open(os.path.join(ROOT, 'tests', 'browser', 'package-lock.json')) as f:
        locked = {k.split('node_modules/')[-1] for k in json.load(f).get('packages', {})}
    builtins = node_builtins()
    for p in runtime_list + test_list:
        if p not in dpkg.deps:
            print(f'note: {p} (install-deps.sh) is not installed here: what it depends on is not followed')

    # One check per (context, kind, name) with every place it is used; a name used
    # at run time is judged by the run-time list only. Node's own modules are node's.
    grouped = collections.defaultdict(list)
    for context in ('runtime', 'tests'):
        for u in uses[context]:
            if u.kind == 'node' and (u.name.startswith('node:') or u.name in builtins):
                u = sourcescan.Use('program', 'node', f'{u.where} ({u.name})')
            key = ('runtime', u.kind, u.name) if ('runtime', u.kind, u.name) in grouped else \
                (context, u.kind, u.name)
            grouped[key].append(u.where)
    pynames = sorted({name for (_, kind, name) in grouped if kind == 'python' and name not in local_py})
    pyfiles = python_files(pynames) if pynames else {}

    def where(places):
        places = sorted(set(places))
        return places[0] + (f' and {len(places) - 1} more' if len(places) > 1 else '')

    seen_missing, pending = set(), []
    for (context, kind, name), places in sorted(grouped.items()):
        label = f'{kind} {name}'
        if name in DELIBERATELY_MISSING:
            seen_missing.add(name)
            print(f'skip  {label:36} {DELIBERATELY_MISSING[name]}')
        elif kind == 'element' and name in own:
            print(f'skip  {label:36} this project\'s own')
        elif kind == 'element':
            path, why = element_file(name)
            if path:
                pending.append((context, label, name, path, places))
            else:
                failures.append(f'{label} ({where(places)}): {why}; which package has it?')
        elif kind == 'python' and name not in local_py:
            if pyfiles.get(name):
                pending.append((context, label, name, pyfiles[name], places))
            else:
                failures.append(f'{label} ({where(places)}): /usr/bin/python3 cannot import it')
        elif kind == 'typelib':
            path = typelib_file(name)
            if path:
                pending.append((context, label, name, path, places))
            else:
                failures.append(f'{label} ({where(places)}): no {name} typelib in the GI directories')
        elif kind == 'node' and not name.startswith(('.', '/')):
            pkg = sourcescan.node_package(name)
            if pkg in npm_deps and pkg in locked:
                print(f'ok    {label:36} tests/browser/package.json')
            else:
                failures.append(f'{label} ({where(places)}): {pkg} is not in tests/browser/package.json '
                                f'and its package-lock.json (install-deps.sh runs npm ci there)')
        elif kind == 'program':
            found = [(alt, program_file(alt)) for alt in name.split('|')]
            found = [(alt, path) for alt, path in found if path]
            if found:
                pending.append((context, f'{kind} {found[0][0]}', found[0][0], found[0][1], places))
            else:
                failures.append(f'{label} ({where(places)}): not found on PATH or in the sbin directories')

    dpkg.prefetch([p[3] for p in pending])
    for context, label, name, path, places in pending:
        pkgs = dpkg.owners(path)
        if not pkgs and label.startswith('program ') and name in path_programs:
            print(f'ok    {label:36} {path}: no package, and install-deps.sh takes any {name} on PATH')
            continue
        if not pkgs:
            failures.append(f'{label} ({where(places)}): {path} belongs to no Debian package')
            continue
        verdict = None
        for p in sorted(pkgs):
            if p in dpkg.essential:
                verdict = f'{p} (Essential)'
            elif p in allowed[context]:
                via = allowed[context][p]
                verdict = (f'{p} (listed' if via == p else f'{p} (with {via}') + \
                    (', run-time list)' if via in runtime_list else ', test list)')
            if verdict:
                break
        if verdict:
            print(f'ok    {label:36} {verdict}')
            continue
        lists = 'runtime_packages' if context == 'runtime' else 'runtime_packages or test_packages'
        failures.append(f'{label} ({where(places)}): {path} is in {", ".join(sorted(pkgs))}, which '
                        f'scripts/install-deps.sh does not install (add it to {lists})')

    for name in sorted(set(DELIBERATELY_MISSING) - seen_missing):
        failures.append(f'DELIBERATELY_MISSING names {name}, which no test uses any more')
    print(f'\nchecked {len(grouped)} names against {len(runtime_list)} run-time and '
          f'{len(test_list)} test packages of scripts/install-deps.sh')
    if failures:
        print(f'\n{len(failures)} FAILURE(S):')
        for f in failures:
            print('  ' + f)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""Reads the project's sources for what they need from the system: GStreamer
elements (gst-launch pipelines, presets, gst_element_factory_make), Python
and node imports, and programs run. Lexers small enough for this purpose:
string literals and comments of Python, JavaScript and C/C++, and simple
commands of POSIX shell. Used by tests/packaging/test_packages.py.

Every finding is a Use(kind, name, where): kind is 'element', 'python',
'typelib', 'node' or 'program'; where is 'path:line'. A program found as a
group of alternatives (a loop trying each) has name 'a|b|c'.
"""

import json
import os
import re
from collections import namedtuple

Use = namedtuple('Use', 'kind name where')
Literal = namedtuple('Literal', 'start end value')

# ---------------------------------------------------------------- lexers


def _scan_quoted(text, i, quote, escapes=True):
    """Index just past the closing quote of a literal whose body starts at i."""
    n = len(text)
    while i < n:
        if escapes and text[i] == '\\':
            i += 2
            continue
        if text.startswith(quote, i):
            return i + len(quote)
        i += 1
    return n


def _unescape(body, raw=False):
    if raw:
        return body
    return re.sub(r'\\(.)', lambda m: {'n': '\n', 't': '\t'}.get(m.group(1), m.group(1)), body,
                  flags=re.S)


def _blank_braces(body):
    """An f-string's {expressions} as {} (a value not known here); {{ stays {."""
    out, depth = [], 0
    i = 0
    while i < len(body):
        c = body[i]
        if depth == 0 and body.startswith('{{', i):
            out.append('{')
            i += 2
            continue
        if depth == 0 and body.startswith('}}', i):
            out.append('}')
            i += 2
            continue
        if c == '{':
            if depth == 0:
                out.append('{}')
            depth += 1
        elif c == '}' and depth:
            depth -= 1
        elif depth == 0:
            out.append(c)
        i += 1
    return ''.join(out)


_PY_STRING = re.compile(r'''(?<![\w])([rRbBfFuU]{0,2})('\'\'|"""|'|")''')


def lex_python(text):
    """String literals of Python source (f-string expressions as {}), comments skipped."""
    lits, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '#':
            i = text.find('\n', i)
            i = n if i < 0 else i
            continue
        m = _PY_STRING.match(text, i) if (c in '\'"' or c.isalpha()) else None
        if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == '_')):
            prefix, quote = m.group(1).lower(), m.group(2)
            body_start = m.end()
            end = _scan_quoted(text, body_start, quote)
            body = text[body_start:end - len(quote)]
            value = _unescape(body, raw='r' in prefix)
            if 'f' in prefix:
                value = _blank_braces(value)
            lits.append(Literal(i, end, value))
            i = end
            continue
        if c.isalnum() or c == '_':
            while i < n and (text[i].isalnum() or text[i] == '_'):
                i += 1
            continue
        i += 1
    return lits


def _after_comment(text, i):
    """Index after the // or /* comment starting at i."""
    if text.startswith('//', i):
        end = text.find('\n', i)
        return len(text) if end < 0 else end
    end = text.find('*/', i + 2)
    return len(text) if end < 0 else end + 2


_JS_REGEX_BEFORE = re.compile(r'(?:[(,=:\[!&|?{};+\-*%<>~^]|\b(?:return|typeof|case|of|in))\s*$')


def lex_js(text, i=0, stop_at_brace=False, lits=None):
    """String and template literals of JavaScript (a template's ${...} as {}); the
    literals inside ${...} are returned too. Returns (literals, index reached)."""
    lits = [] if lits is None else lits
    n, depth = len(text), 0
    while i < n:
        c = text[i]
        if text.startswith(('//', '/*'), i):
            i = _after_comment(text, i)
        elif c in '\'"':
            end = _scan_quoted(text, i + 1, c)
            lits.append(Literal(i, end, _unescape(text[i + 1:end - 1])))
            i = end
        elif c == '`':
            start, parts, j = i, [], i + 1
            while j < n and text[j] != '`':
                if text[j] == '\\':
                    parts.append(text[j:j + 2])
                    j += 2
                elif text.startswith('${', j):
                    parts.append('{}')
                    _, j = lex_js(text, j + 2, True, lits)
                else:
                    parts.append(text[j])
                    j += 1
            lits.append(Literal(start, j + 1, _unescape(''.join(parts))))
            i = j + 1
        elif c == '/' and _JS_REGEX_BEFORE.search(text[max(0, i - 40):i]):
            j, in_class = i + 1, False
            while j < n and text[j] != '\n':
                if text[j] == '\\':
                    j += 2
                    continue
                if text[j] == '[':
                    in_class = True
                elif text[j] == ']':
                    in_class = False
                elif text[j] == '/' and not in_class:
                    break
                j += 1
            i = j + 1
        elif c == '{':
            depth += 1
            i += 1
        elif c == '}':
            if stop_at_brace and depth == 0:
                return lits, i + 1
            depth -= 1
            i += 1
        else:
            i += 1
    return lits, i


_C_RAW = re.compile(r'(?:u8|[uUL])?R"([^(\s]*)\(')


def lex_c(text):
    """String literals of C/C++ (raw strings too), comments and character literals skipped."""
    lits, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith(('//', '/*'), i):
            i = _after_comment(text, i)
        elif c == "'":
            i = _scan_quoted(text, i + 1, "'")
        elif c == '"':
            end = _scan_quoted(text, i + 1, '"')
            lits.append(Literal(i, end, _unescape(text[i + 1:end - 1])))
            i = end
        elif c in 'uULR' and (m := _C_RAW.match(text, i)) and (i == 0 or not text[i - 1].isalnum()):
            close = ')' + m.group(1) + '"'
            end = text.find(close, m.end())
            end = n if end < 0 else end
            lits.append(Literal(i, end + len(close), text[m.end():end]))
            i = end + len(close)
        else:
            i += 1
    return lits


LEXERS = {'.py': lex_python, '.mjs': lambda t: lex_js(t)[0], '.js': lambda t: lex_js(t)[0],
          '.c': lex_c, '.cpp': lex_c, '.h': lex_c}


def line_of(text, pos):
    return text.count('\n', 0, pos) + 1


# ------------------------------------------------------------ pipelines

_IDENT = re.compile(r'[A-Za-z_][\w-]*$')
_PROP = re.compile(r'[\w:-]+=')
_CAPS = re.compile(r'[a-z]+/[\w.+-]+|,')
_PAD = re.compile(r'[\w-]*\.[\w%-]*$')


def token_kind(tok):
    """What a word of a gst-launch description is: '!', 'ident' (an element),
    'prop', 'caps', 'pad', 'opaque' (a value filled in at run time) or None
    (not gst-launch syntax)."""
    if tok == '!':
        return '!'
    if '{' in tok and '}' in tok:
        return 'opaque'
    if _IDENT.match(tok):
        return 'ident'
    if _PROP.match(tok):
        return 'prop'
    if _CAPS.match(tok):
        return 'caps'
    if _PAD.match(tok):
        return 'pad'
    return None


def launch_tokens(description):
    """gst-launch words: whitespace-separated, a backslash keeps the next character."""
    return re.sub(r'\\(.)', r'\1', description).split()


def pipeline_elements(description):
    """Element names of a gst-launch description known to be one: every bare word."""
    return [t for t in launch_tokens(description) if token_kind(t) == 'ident']


# Wrappers a C++ literal may sit in without changing what it is.
_C_WRAPPER_BEFORE = re.compile(r'(?:std::string|const_cast<[^<>]*>|static_cast<[^<>]*>)\(\s*$')
_JOIN_DIRECT = re.compile(r'\s*\+?\s*$')
_JOIN_VALUE = re.compile(r'\s*\+\s*[\w.:]+(?:\([\w.,\s]*\))?\s*\+\s*$')
_NEXT_ITEM = re.compile(r'\s*,\s*$')
_NEXT_ITEM_VALUE = re.compile(r'\s*,\s*(?:\.\.\.)?[\w.]+(?:\[[^\]]*\])?\s*,\s*$')


def _spans(text, lits, c_family):
    spans = []
    for lit in lits:
        start, end = lit.start, lit.end
        if c_family:
            before = _C_WRAPPER_BEFORE.search(text, max(0, start - 40), start)
            after = re.compile(r'\s*\)').match(text, end)
            if before and after:
                start, end = before.start(), after.end()
        spans.append((start, end, lit))
    return spans


def literal_runs(text, lits, c_family=False):
    """Literals that form one argument list or one concatenation, as runs of items:
    [[(item text, first literal), ...], ...]. Adjacent or '+'-joined literals make
    one item (a variable between them becomes {}); ','-separated ones the next
    item of the run; anything else in between ends the run."""
    runs, run, item, first = [], [], None, None
    prev_end = None
    for start, end, lit in _spans(text, lits, c_family):
        sep = text[prev_end:start] if prev_end is not None else None
        if sep is not None and _JOIN_DIRECT.fullmatch(sep) and item is not None:
            item += lit.value
        elif sep is not None and _JOIN_VALUE.fullmatch(sep) and item is not None:
            item += '{}' + lit.value
        else:
            if item is not None:
                run.append((item, first))
            if sep is None or not (_NEXT_ITEM.fullmatch(sep) or _NEXT_ITEM_VALUE.fullmatch(sep)):
                if run:
                    runs.append(run)
                run = []
            elif _NEXT_ITEM_VALUE.fullmatch(sep):
                run.append(('{}', lit))
            item, first = lit.value, lit
        prev_end = end
    if item is not None:
        run.append((item, first))
    if run:
        runs.append(run)
    # Only argument vectors hold one word a literal: a whole description next to
    # other arguments (f("a ! b", "H264")) is a run of its own.
    split = []
    for run in runs:
        part = []
        for item in run:
            if len(launch_tokens(item[0])) > 1:
                split += [part, [item]] if part else [[item]]
                part = []
            else:
                part.append(item)
        if part:
            split.append(part)
    return split


def elements_in_runs(runs):
    """(element, literal) pairs: bare words of runs of gst-launch words that contain a
    '!', and the first word of an item shaped 'element prop=value...'."""
    found = []
    for run in runs:
        segment = []
        for item, lit in run + [(None, None)]:
            kinds = None if item is None else [token_kind(t) for t in launch_tokens(item)]
            if kinds is not None and None not in kinds:
                segment.append((item, lit, kinds))
                if len(kinds) > 1 and kinds[0] == 'ident' and all(
                        k in ('prop', 'opaque') for k in kinds[1:]) and 'prop' in kinds:
                    found.append((launch_tokens(item)[0], lit))
                continue
            if any('!' in k for _, _, k in segment):
                for seg_item, seg_lit, seg_kinds in segment:
                    for tok, kind in zip(launch_tokens(seg_item), seg_kinds):
                        if kind == 'ident':
                            found.append((tok, seg_lit))
            segment = []
    return found


def continued_elements(text, lits, pipeline_lits, c_family):
    """(element, literal) of literals that continue a description across code the runs
    do not follow: after an item ending in '!' in the same statement ("... ! " + (x ?
    y : "autoaudiosink")), and the other branch of a C/C++ ?: whose one branch is a
    description (x ? " audiotestsrc is-live=true" : " autoaudiosrc")."""
    found = []
    for a, b in zip(lits, lits[1:]):
        sep = text[a.end:b.start]
        a_tokens = launch_tokens(a.value)
        after_bang = a_tokens[-1:] == ['!'] and len(sep) < 200 and not re.search(r'[;{}]', sep) \
            and not re.search(r'\w\s*\(\s*$', sep)
        branch = c_family and re.fullmatch(r'\s*:\s*', sep) and (
            a.start in pipeline_lits or b.start in pipeline_lits)
        if not (after_bang or branch):
            continue
        for lit in ([b] if after_bang else [a, b]):
            tokens = launch_tokens(lit.value)
            kinds = [token_kind(t) for t in tokens]
            if kinds and None not in kinds:
                found += [(t, lit) for t, k in zip(tokens, kinds) if k == 'ident']
    return found


_SOURCE_LINE = re.compile(r'^\s*source\s*=\s*(.+)$', re.M)


def preset_sources(text):
    """(description, offset) of each source= line of presets.ini text."""
    return [(m.group(1), m.start(1)) for m in _SOURCE_LINE.finditer(text)]


def pipeline_uses(path, rel, text):
    """Elements in the gst-launch descriptions of one source file."""
    ext = os.path.splitext(path)[1]
    uses = set()
    if ext == '.sh':
        for m in re.finditer(r'gst-launch-1\.0((?:[^\n\\]|\\\n)*)', text):
            words = [w for w in launch_tokens(m.group(1)) if not w.startswith('-')]
            for name in pipeline_elements(' '.join(words)):
                uses.add(Use('element', name, f'{rel}:{line_of(text, m.start())}'))
        return uses
    lits = LEXERS[ext](text)
    found = set()
    c_family = ext in ('.c', '.cpp', '.h')
    in_runs = elements_in_runs(literal_runs(text, lits, c_family))
    pipeline_lits = {lit.start for _, lit in in_runs}
    for name, lit in in_runs + continued_elements(text, lits, pipeline_lits, c_family):
        found.add((name, lit.start))
    for lit in lits:  # presets written by a test (source=... lines)
        for desc, _ in preset_sources(lit.value):
            for name in pipeline_elements(desc):
                found.add((name, lit.start))
    for name, pos in found:
        uses.add(Use('element', name, f'{rel}:{line_of(text, pos)}'))
    return uses


# ---------------------------------------------- elements a plugin creates

_MAKE = re.compile(r'\b(gst_element_factory_make|gst_element_factory_find|make_element|'
                   r'make_chain_element|ElementFactory\.make|ElementFactory\.find)\s*\(')
_WRAPPERS = {'gst_element_factory_make', 'make_element', 'make_chain_element'}


def _balanced(text, i):
    """Index of the parenthesis closing the one just before i."""
    depth = 1
    while i < len(text) and depth:
        depth += {'(': 1, ')': -1}.get(text[i], 0)
        i += 1
    return i - 1


def _split_args(s):
    args, depth, cur = [], 0, ''
    for c in s:
        if c in '([{':
            depth += 1
        elif c in ')]}':
            depth -= 1
        if c == ',' and depth == 0:
            args.append(cur)
            cur = ''
        else:
            cur += c
    return args + [cur]


def factory_uses(rel, text, lexer=lex_c):
    """Elements created by gst_element_factory_make / make_element(self, ...) /
    Gst.ElementFactory.make calls, and looked up with gst_element_factory_find.
    Returns (uses, problems): a factory name this cannot read is a problem."""
    uses, problems = set(), []
    for m in _MAKE.finditer(text):
        prefix = text[max(0, m.start() - 300):m.start()]
        if re.search(r'(GstElement\s*\*\s*(?:\w+::)?|static\s)\s*$', prefix):
            continue  # the definition of make_element itself
        args = _split_args(text[m.end():_balanced(text, m.end())])
        arg = args[0].strip()
        if m.group(1) in ('make_element', 'make_chain_element'):
            # make_element(self, "x", …) in the element, make_element("x", …) and
            # make_chain_element(bin, "x", …) in its parts: the factory is the first argument
            # that is not the element or bin it goes into.
            arg = next((a.strip() for a in args
                        if a.strip() not in ('self', 'this', 'bin_', 'bin')), arg)
        where = f'{rel}:{line_of(text, m.start())}'
        names = [lit.value for lit in lexer(arg)]
        if not names and re.fullmatch(r'\w+', arg):
            # for (const char *NAME : ...{"a", "b"}) NAME
            loop = None
            for loop in re.finditer(r'for\s*\(\s*const\s+char\s*\*\s*' + arg + r'\s*:', text[:m.start()]):
                pass
            if loop:
                names = [lit.value for lit in lex_c(text[loop.end():_balanced(text, loop.end())])]
            else:
                head = text[:m.start()]
                fn = list(re.finditer(r'^\w[^;{}]*?\b(\w+)\s*\(([^;{}]*)\)\s*\{', head, re.M))
                if fn and fn[-1].group(1) in _WRAPPERS and re.search(r'\b' + arg + r'\b', fn[-1].group(2)):
                    continue  # inside a wrapper: its callers are read instead
        if not names:
            problems.append(f'{where}: cannot tell which element {m.group(1)}({arg}) creates')
        for name in names:
            uses.add(Use('element', name, where))
    return uses, problems


def registered_elements(text):
    return set(re.findall(r'GST_ELEMENT_REGISTER_DEFINE\s*\(\s*\w+\s*,\s*"([^"]+)"', text))


# ------------------------------------------------------------- imports

def python_imports(rel, text):
    """Top-level modules a Python file imports, and the GObject typelibs it asks gi for."""
    code = text
    for lit in reversed(lex_python(text)):  # strings and comments cannot import
        code = code[:lit.start] + ' ' * (lit.end - lit.start) + code[lit.end:]
    code = re.sub(r'#[^\n]*', '', code)
    uses = set()
    for m in re.finditer(r'^[ \t]*import[ \t]+([\w. \t,]+)', code, re.M):
        for mod in m.group(1).split(','):
            mod = mod.split()[0] if mod.split() else ''
            if mod:
                uses.add(Use('python', mod.split('.')[0], f'{rel}:{line_of(text, m.start())}'))
    for m in re.finditer(r'^[ \t]*from[ \t]+(\w[\w.]*)[ \t]+import[ \t]+\(?([\w, \t]+)', code, re.M):
        where = f'{rel}:{line_of(text, m.start())}'
        uses.add(Use('python', m.group(1).split('.')[0], where))
        if m.group(1) == 'gi.repository':
            for name in m.group(2).split(','):
                if name.strip():
                    uses.add(Use('typelib', name.split()[0], where))
    versions = dict(re.findall(r'''require_version\(\s*['"](\w+)['"]\s*,\s*['"]([\d.]+)['"]''', text))
    return {Use(u.kind, f'{u.name}-{versions[u.name]}' if u.kind == 'typelib' and u.name in versions
                else u.name, u.where) for u in uses}


def node_imports(rel, text):
    """Module specifiers a JavaScript file imports or requires."""
    uses = set()
    for lit in lex_js(text)[0]:
        before = text[max(0, lit.start - 40):lit.start]
        if re.search(r'(?:\bfrom|^\s*import|\bimport\s*\(|\brequire(?:\.resolve)?\s*\()\s*$', before, re.M):
            uses.add(Use('node', lit.value, f'{rel}:{line_of(text, lit.start)}'))
    return uses


def node_package(spec):
    parts = spec.split('/')
    return '/'.join(parts[:2]) if spec.startswith('@') else parts[0]


def package_json_deps(path):
    with open(path) as f:
        data = json.load(f)
    return set(data.get('dependencies', {})) | set(data.get('devDependencies', {}))

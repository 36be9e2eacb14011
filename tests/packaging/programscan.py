"""Programs the tests run, read from their sources (tests/packaging/test_packages.py
checks which Debian package each comes from). Found where a program is named:
the first word of a command line (subprocess, spawn, argv arrays, run_tool, shell
commands), looked up (shutil.which, which/onPath, command -v, find_program), or
named by absolute path. A shell loop trying names until one is there
(for c in a b; do command -v "$c") gives one Use 'a|b'.
"""

import os
import re

from sourcescan import LEXERS, Use, line_of

_SHELL_BUILTINS = set('''. : [ [[ alias bg break cd command continue echo eval exec exit export false
    fc fg getopts hash jobs kill local printf pwd read readonly return set shift test times trap true
    type ulimit umask unalias unset wait if then else elif fi case esac for while until do done in
    function { } ! select'''.split())
_PROGRAM_WORD = re.compile(r'[A-Za-z][\w.+-]*$')
_ABS_PROGRAM = re.compile(r'/(?:usr/)?(?:s?bin|lib|libexec)/[\w./+-]+$')

# (code just before, code just after) a literal that make it a program name.
_CONTEXTS = {
    '.py': [(r'\bsubprocess\.\w+\(\s*\[\s*$', ''), (r'\bshutil\.which\(\s*$', '')],
    '.mjs': [(r'\b(?:which|onPath)\(\s*$', ''),
             (r'[(,]\s*$', r'\s*,\s*\[')],  # fn('program', [args]), fn(label, 'program', [args])
    '.c': [(r'\bexec[lv]p?e?\(\s*$', ''), (r'\bargv\w*\s*(?:\[\s*\])?\s*=\s*\{\s*$', ''),
           (r'\b\w*(?:run|spawn|exec)\w*\([^;\n]*,\s*\{\s*$', '')],  # run_tool(d, {"xrandr", ...})
}
_CONTEXTS['.js'] = _CONTEXTS['.mjs']
_CONTEXTS['.cpp'] = _CONTEXTS['.h'] = _CONTEXTS['.c']


def _looked_up_in_loops(text, lits, ext):
    """(name, line) of names a loop looks up one by one, each needed:
    for t in ('a', 'b') ... which(t); for (const [tool, pkg] of [['a', 'x'], ...]) ... which(tool)."""
    if ext == '.py':
        heads = re.finditer(r'\bfor\s+(\w+)\s+in\s+[(\[]', text)
    elif ext in ('.mjs', '.js'):
        heads = re.finditer(r'\bfor\s*\(\s*const\s+\[?\s*(\w+)[^\]\)]*\]?\s+of\s+\[', text)
    else:
        return []
    found = []
    for m in heads:
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {'[': 1, '(': 1, ']': -1, ')': -1}.get(text[i], 0)
            i += 1
        if not re.search(r'\b(?:which|onPath)\(\s*' + m.group(1) + r'\s*\)', text[i:i + 300]):
            continue
        for lit in lits:
            # Python: every name of the tuple; JS: the first of each [tool, pkg] pair.
            pair_head = re.search(r'\[\s*$', text[lit.start - 5:lit.start])
            if m.end() <= lit.start < i and (ext == '.py' or pair_head):
                found.append((lit.value, line_of(text, lit.start)))
    return found


def code_programs(path, rel, text):
    """Programs named in Python, JavaScript and C/C++ code."""
    ext = os.path.splitext(path)[1]
    lits = LEXERS[ext](text)
    uses = set()
    for lit in lits:
        where = f'{rel}:{line_of(text, lit.start)}'
        value = lit.value
        if _ABS_PROGRAM.match(value) and not os.path.isdir(value) and not value.endswith('.so') \
                and '.so.' not in value:
            uses.add(Use('program', value, where))
            continue
        if not _PROGRAM_WORD.match(value):
            continue
        start = lit.start
        wrapped = re.search(r'(?:const_cast<[^<>]*>|std::string)\(\s*$', text[max(0, start - 40):start])
        if wrapped:
            start = max(0, start - 40) + wrapped.start()
        before, after = text[max(0, start - 120):start], text[lit.end:lit.end + 10]
        if any(re.search(b, before) and re.match(a, after) for b, a in _CONTEXTS.get(ext, [])):
            uses.add(Use('program', value, where))
    for name, line in _looked_up_in_loops(text, lits, ext):
        uses.add(Use('program', name, f'{rel}:{line}'))
    return uses


def meson_programs(path, rel, text):
    """find_program('x') of a meson.build; scripts of the source tree are left out."""
    uses = set()
    for m in re.finditer(r'''find_program\(\s*'([^']+)'\s*''', text):
        name = m.group(1)
        if not os.path.exists(os.path.join(os.path.dirname(path), name)):
            uses.add(Use('program', name, f'{rel}:{line_of(text, m.start())}'))
    return uses


# ----------------------------------------------------------------- shell

_WRAPPER_ARGS = {'env': r'(?:-\S+|\w+=\S*)$', 'nice': r'(?:-n|-?\d+)$', 'timeout': r'(?:-\S+|\d+\w?)$',
                 'unshare': r'-\S+$', 'nsenter': r'-\S+$', 'sudo': r'-\S+$'}
_SEPARATORS = ('&&', '||', ';;', ';', '|', '&', '(', ')', '\n')


def shell_commands(text, line=1, nested=False):
    """Simple commands of shell text as (words, line, nested): quoted text is one word
    ('' for anything but a lone "$var"), $(...) and `...` are commands of their own
    (nested), and so is the string of sh -c '...'. Comments and here-documents are
    left out."""
    out, words, word, i, n = [], [], None, 0, len(text)
    heredoc = None

    def end_word():
        nonlocal word
        if word is not None:
            words.append(word)
        word = None

    def end_command():
        nonlocal words
        end_word()
        if words:
            out.append((words, start_line, nested))
        words = []

    start_line = line
    while i < n:
        c = text[i]
        if heredoc and c == '\n':
            close = re.compile(r'\n[ \t]*' + re.escape(heredoc) + r'[ \t]*(?:\n|$)').search(text, i)
            line += text.count('\n', i, close.end() - 1 if close else n)
            i = close.end() - 1 if close else n
            heredoc = None
            continue
        if c == '\\' and i + 1 < n:
            if text[i + 1] == '\n':
                line += 1
            else:
                word = (word or '') + text[i + 1]
            i += 2
        elif c == '#' and word is None:
            i = text.find('\n', i)
            i = n if i < 0 else i
        elif c == "'":
            end = text.find("'", i + 1)
            end = n if end < 0 else end
            if words[-2:] == ['sh', '-c'] and word is None:
                out += shell_commands(text[i + 1:end], line, nested)
            line += text.count('\n', i, end)
            word = (word or '') + ''
            i = end + 1
        elif c == '"':
            j, body = i + 1, ''
            while j < n and text[j] != '"':
                if text[j] == '\\':
                    body += text[j:j + 2]
                    j += 2
                elif text.startswith('$(', j):
                    k = _closing(text, j + 2)
                    out += shell_commands(text[j + 2:k], line, True)
                    body += '$()'
                    j = k + 1
                else:
                    body += text[j]
                    j += 1
            line += text.count('\n', i, j)
            word = (word or '') + (body if re.fullmatch(r'\$\{?\w+\}?', body) else '')
            i = j + 1
        elif text.startswith('$(', i):
            k = _closing(text, i + 2)
            out += shell_commands(text[i + 2:k], line, True)
            word = (word or '') + '$()'
            i = k + 1
        elif c == '`':
            k = text.find('`', i + 1)
            k = n if k < 0 else k
            out += shell_commands(text[i + 1:k], line, True)
            word = (word or '') + '$()'
            i = k + 1
        elif text.startswith('<<', i):
            m = re.compile(r'<<-?\s*[\'"]?(\w+)[\'"]?').match(text, i)
            heredoc = m.group(1) if m else None
            i = m.end() if m else i + 2
        elif any(text.startswith(sep, i) for sep in _SEPARATORS):
            sep = next(sep for sep in _SEPARATORS if text.startswith(sep, i))
            end_command()
            if c == '\n':
                line += 1
            start_line = line
            i += len(sep)
        elif c in ' \t':
            end_word()
            i += 1
        else:
            word = (word or '') + c
            i += 1
    end_command()
    return out


def _closing(text, i):
    depth = 1
    while i < len(text):
        if text[i] == '(':
            depth += 1
        elif text[i] == ')':
            depth -= 1
            if depth == 0:
                return i
        elif text[i] in '\'"':
            end = text.find(text[i], i + 1)
            i = len(text) if end < 0 else end
        i += 1
    return len(text)


def shell_programs(rel, text):
    uses = set()
    assigned = dict(re.findall(r'^\s*(\w+)=([\w./+-]+)\s*$', text, re.M))
    functions = set(re.findall(r'^\s*(\w+)\s*\(\)\s*\{', text, re.M))

    def value(w):
        m = re.fullmatch(r'\$\{?(\w+)\}?', w)
        if m:
            return assigned.get(m.group(1))
        return None if '$' in w or not w else w

    # for x in a b c; do ... command -v "$x": any one of them
    for m in re.finditer(r'\bfor\s+(\w+)\s+in\s+([^;\n]+);\s*do\b(.{0,200})', text, re.S):
        if re.search(r'command\s+-v\s+"?\$' + m.group(1), m.group(3)):
            uses.add(Use('program', '|'.join(m.group(2).split()), f'{rel}:{line_of(text, m.start())}'))
    for words, number, nested in shell_commands(text):
        while words:
            w = words[0]
            if w in ('for', 'case') or w.endswith(')') or w in functions:
                break
            if w in ('exec', '!', 'if', 'elif', 'while', 'until', 'then', 'do', 'else', '{') \
                    or re.match(r'\w+=', w):
                words = words[1:]
                continue
            if w == 'command' and len(words) > 2 and words[1] == '-v':
                # Looked up to be used ($(command -v x) computes a path, a fallback
                # at most: x=$(command -v x) after [ -x "$x" ] ||).
                name = value(words[2])
                if name and not nested:
                    uses.add(Use('program', name, f'{rel}:{number}'))
                break
            if w in _SHELL_BUILTINS:
                break
            name = value(w)
            if name and (_PROGRAM_WORD.match(name) or name.startswith('/')):
                uses.add(Use('program', name, f'{rel}:{number}'))
            words = words[1:]
            if name not in _WRAPPER_ARGS:
                break
            while words and re.match(_WRAPPER_ARGS[name], words[0]):
                words = words[1:]
            if words and words[0] == '--':
                words = words[1:]
    return uses

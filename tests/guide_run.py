#!/usr/bin/env python3
"""guide_run.py: run every command of a Linux guide (docs/*-guide.md), in
order, in one bash shell, and compare what each prints with the output the
guide shows.  Used by tests/guide_format.sh and tests/guide_snapshots.sh, so
a guide cannot go stale.

    guide_run.py GUIDE WORKDIR PRELUDE [OLD=NEW ...]

The guide's conventions (docs/formatting-guide.md follows them):
  - a fenced block whose lines start with "# " (root) or "$ " holds
    commands; the lines after a command, up to the next one, are the output
    the guide shows.  A command ending in "\\" or opening a here-document
    ("<<EOF") goes on over the next lines (up to EOF);
  - a command with "# fails" in it must exit non-zero; every other one must
    exit 0;
  - shown output is compared line by line after normalising both sides:
    runs of blanks are one blank, transaction ids, UUIDs, dates, times and
    sizes of used space are placeholders, and a line "..." matches any
    number of lines (within a line, "..." matches any text).  A command
    shown without output is not compared;
  - a block fenced as ```fstab holds fstab lines: they are appended to
    WORKDIR/fstab, which the prelude's mount() reads;
  - a block fenced as ```file PATH is written to PATH;
  - a block fenced as ```sh no-test is not run (commands that need systemd
    as PID 1); the runner lists them.
OLD=NEW pairs turn the guide's paths and devices into the test's (longest
first), in commands, fstab lines and files; the output is turned back
before it is compared.  PRELUDE is bash sourced first (functions such as
mount() and variables).  Prints ok/FAIL/NOTRUN lines and
"N passed, F failed"; exit 1 on any failure.  GUIDE_VERBOSE=1 also
prints what each command printed (the output to paste into a guide).
"""
import os
import re
import subprocess
import sys


def parse(path):
    """Steps: ('cmd', text, expected_lines, lineno), ('fstab', text),
    ('file', path, text), ('notrun', text)."""
    steps = []
    lines = open(path).read().split('\n')
    i = 0
    while i < len(lines):
        m = re.match(r'^```(.*)$', lines[i])
        if not m:
            i += 1
            continue
        info = m.group(1).strip()
        j = i + 1
        body = []
        while j < len(lines) and not lines[j].startswith('```'):
            body.append(lines[j])
            j += 1
        start = i + 2
        i = j + 1
        if info == 'fstab':
            steps.append(('fstab', '\n'.join(body) + '\n', start))
            continue
        if info.startswith('file '):
            steps.append(('file', info[5:].strip(), '\n'.join(body) + '\n', start))
            continue
        if info == 'sh no-test':
            for b in body:
                if b.startswith(('# ', '$ ')):
                    steps.append(('notrun', b[2:], start))
            continue
        k = 0
        while k < len(body):
            b = body[k]
            if not b.startswith(('# ', '$ ')):
                k += 1
                continue
            cmd = [b[2:]]
            lineno = start + k
            k += 1
            here = re.search(r"<<-?'?([A-Z_]+)'?", b)
            while cmd[-1].endswith('\\') or here:
                if k >= len(body):
                    break
                cmd.append(body[k])
                k += 1
                if here and body[k - 1] == here.group(1):
                    here = None
            out = []
            while k < len(body) and not body[k].startswith(('# ', '$ ')):
                out.append(body[k])
                k += 1
            while out and out[-1] == '':
                out.pop()
            steps.append(('cmd', '\n'.join(cmd), out, lineno))
    return steps


def subst(text, pairs):
    # one pass, longest OLD first, so /data does not eat /data2
    keys = sorted(pairs, key=len, reverse=True)
    rx = re.compile('|'.join(re.escape(k) for k in keys))
    return rx.sub(lambda m: pairs[m.group(0)], text)


NORM = [
    (r'0x[0-9a-f]{16}', '0xTID'),
    (r'\b[0-9a-f]{16}\b', 'TID'),
    (r'\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b', 'UUID'),
    (r'\b\d{8}-\d{4}\b', 'YYYYMMDD-HHMM'),
    (r'\b\d{2}-[A-Z][a-z]{2}-\d{4} \d{2}:\d{2}:\d{2}\b', 'DATE'),
    (r'\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?\b', 'DATE'),
    (r'\b[A-Z][a-z]{2} +\d{1,2} +\d{2}:\d{2}\b', 'DATE'),
    (r'/dev/loop\d+', '/dev/loopN'),
    (r'\bPFS#\d+', 'PFS#N'),
    (r'[ \t]+', ' '),
]


def norm(line):
    for a, b in NORM:
        line = re.sub(a, b, line)
    return line.strip()


def line_rx(exp):
    parts = [re.escape(p) for p in norm(exp).split('...')]
    return re.compile('^' + '.*'.join(parts) + '$')


def matches(expected, got):
    """expected lines (with "..." wildcards) against got lines."""
    exp = [e for e in expected]
    memo = {}

    def m(i, j):
        if (i, j) in memo:
            return memo[(i, j)]
        if i == len(exp):
            r = j == len(got)
        elif exp[i].strip() == '...':
            r = any(m(i + 1, k) for k in range(j, len(got) + 1))
        else:
            r = j < len(got) and bool(line_rx(exp[i]).match(norm(got[j]))) and m(i + 1, j + 1)
        memo[(i, j)] = r
        return r
    return m(0, 0)


def main():
    guide, work, prelude = sys.argv[1:4]
    pairs = dict(a.split('=', 1) for a in sys.argv[4:])
    back = {v: k for k, v in pairs.items()}
    steps = parse(guide)
    outdir = os.path.join(work, 'guide-out')
    os.makedirs(outdir, exist_ok=True)
    script = ['set -u', 'source %s' % prelude, 'cd %s' % work]
    cmds = []
    for st in steps:
        if st[0] == 'fstab':
            script.append("cat >> %s/fstab <<'GUIDE_EOF'\n%sGUIDE_EOF" % (work, subst(st[1], pairs)))
        elif st[0] == 'file':
            p = subst(st[1], pairs)
            script.append("mkdir -p \"$(dirname %s)\"; cat > %s <<'GUIDE_EOF'\n%sGUIDE_EOF"
                          % (p, p, subst(st[2], pairs)))
        elif st[0] == 'cmd':
            n = len(cmds)
            cmds.append(st)
            o = os.path.join(outdir, '%03d' % n)
            script.append('echo "# %s" >&2' % st[1].split('\n')[0].replace('"', '\\"').replace('$', '\\$').replace('`', '\\`'))
            script.append('{\n%s\n} > %s.out 2>&1 < /dev/null; echo $? > %s.rc'
                          % (subst(st[1], pairs), o, o))
    sf = os.path.join(outdir, 'script.sh')
    open(sf, 'w').write('\n'.join(script) + '\n')
    subprocess.run(['bash', sf], cwd=work)
    passes = fails = 0
    for st in steps:
        if st[0] == 'notrun':
            print('NOTRUN [line %d: %s]: needs systemd as PID 1 (```sh no-test)' % (st[2], st[1]))
    for n, (_, cmd, exp, lineno) in enumerate(cmds):
        o = os.path.join(outdir, '%03d' % n)
        name = 'line %d: %s' % (lineno, cmd.split('\n')[0])
        try:
            rc = int(open(o + '.rc').read())
            got = open(o + '.out', errors='replace').read()
        except (OSError, ValueError):
            print('FAIL [%s]: not run (the shell stopped before it)' % name)
            fails += 1
            continue
        got_lines = subst(got, back).rstrip('\n').split('\n') if got else []
        want_fail = '# fails' in cmd
        if want_fail and rc == 0:
            print('FAIL [%s]: exit 0, but the guide says it fails' % name)
            fails += 1
        elif not want_fail and rc != 0:
            print('FAIL [%s]: exit %d: %s' % (name, rc, ' | '.join(got_lines[:4])))
            fails += 1
        elif exp and not matches(exp, got_lines):
            print('FAIL [%s]: output differs from the guide\n--- guide\n%s\n--- got\n%s\n---'
                  % (name, '\n'.join(exp), '\n'.join(got_lines)))
            fails += 1
        else:
            print('ok   [%s]%s' % (name, ' (output as shown)' if exp else ''))
            passes += 1
        if os.environ.get('GUIDE_VERBOSE'):
            print('\n'.join('    | ' + g for g in got_lines))
    print('%d passed, %d failed' % (passes, fails))
    sys.exit(1 if fails else 0)


if __name__ == '__main__':
    main()

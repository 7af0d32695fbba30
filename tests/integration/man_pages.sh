#!/usr/bin/env bash
# Integration test: the man pages (docs/man/) say what the programs' --help
# says. For every program: each command its --help lists has a place in
# the man page and each command the man page describes exists; every
# option that --help (the program's and each command's) mentions appears
# in the man page; the page renders without groff warnings.
set -uo pipefail

build=${CC_BUILD_DIR:-build}
src=${CC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! command -v groff >/dev/null; then
  echo "FAIL groff is missing (deploy/setup installs groff-base)"
  echo "0 passed, 1 failed"
  exit 1
fi

python3 - "$build" "$src/docs/man" "$work" <<'PY'
import os, re, subprocess, sys

build, mandir, work = sys.argv[1:4]
passed = failed = 0

def ok(msg):
    global passed
    passed += 1
    print("ok   " + msg)

def bad(msg, detail=""):
    global failed
    failed += 1
    print("FAIL " + msg)
    for line in detail.splitlines()[:20]:
        print("     " + line)

def run(argv):
    p = subprocess.run(argv, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr

def render(page):
    """The page as plain text, one long line per paragraph, hyphens plain."""
    p = subprocess.run(["groff", "-man", "-Tutf8", "-P-cbou", "-rLL=500n",
                        "-rHY=0", page], capture_output=True, text=True,
                       env=dict(os.environ, LC_ALL="C.UTF-8"))
    text = p.stdout.replace("\u2010", "-").replace("\u2212", "-")
    return re.sub(r"[ \t]+", " ", text)

def options(text):
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", text))

# program, man page, binary, how commands appear in --help, how to ask a
# command for its help (None: the program has only its own --help).
programs = [
    ("crosscount-node", "crosscount-node.8", "node/crosscount-node"),
    ("crosscount-aggregator", "crosscount-aggregator.8", "aggregator/crosscount-aggregator"),
    ("crosscount", "crosscount.1", "cli/crosscount"),
    ("crosscount-proto", "crosscount-proto.1", "protocol/crosscount-proto"),
    ("crosscount-synth", "crosscount-synth.1", "deploy/synth/crosscount-synth"),
]

def commands_from_help(name, text):
    """The commands --help lists, as tuples of words (('node', 'add'), ...)."""
    cmds = []
    lines = text.splitlines()
    try:
        start = next(i for i, l in enumerate(lines) if l.strip().lower() in ("commands:",))
    except StopIteration:
        return cmds
    for l in lines[start + 1:]:
        if not l.strip():
            break
        if not l.startswith("  ") or l.startswith("   "):
            continue  # a continuation line of a description
        # The command and its arguments end where the description starts,
        # after two or more spaces.
        words = []
        for w in re.split(r" {2,}", l.strip())[0].split():
            if not re.fullmatch(r"[a-z][a-z0-9-]*", w):
                break
            words.append(w)
        if words:
            cmds.append(tuple(words))
    return cmds

for name, page, binary in programs:
    path = os.path.join(mandir, page)
    exe = os.path.join(build, binary)
    if not os.path.isfile(path):
        bad(f"{name}: no man page {page}")
        continue
    if not os.access(exe, os.X_OK):
        bad(f"{name}: not built at {exe}")
        continue
    p = subprocess.run(["groff", "-man", "-ww", "-z", path], capture_output=True, text=True)
    if p.returncode == 0 and not p.stderr:
        ok(f"{page} renders without warnings")
    else:
        bad(f"{page} has groff warnings", p.stderr)
    man = render(path)
    rc, top = run([exe, "--help"])
    if rc != 0:
        bad(f"{name} --help exits {rc}", top)
        continue
    helps = {(): top}
    cmds = commands_from_help(name, top)
    for c in cmds:
        rc, t = run([exe, *c, "--help"])
        # A program without per-command help prints its usage (or an
        # error) instead; only a text that names the command counts.
        if rc == 0 and " ".join(c) in t:
            helps[c] = t

    # Each listed command is described in the man page: a heading or a
    # term that starts with the command's words.
    missing = []
    for c in cmds:
        pat = r"(?m)^ *" + re.escape(" ".join(c)) + r"(\s|$)"
        if not re.search(pat, man):
            missing.append(" ".join(c))
    if cmds and not missing:
        ok(f"{name}: every command of --help is in {page} ({len(cmds)})")
    elif missing:
        bad(f"{name}: commands missing in {page}: {', '.join(missing)}")

    # Each command the man page describes (a .SS heading or a .TP term in
    # the COMMANDS section) exists in --help.
    src_text = open(path, encoding="utf-8").read()
    sect = re.search(r"(?ms)^\.SH COMMANDS\n(.*?)(?=^\.SH )", src_text)
    if sect:
        described = set()
        for m in re.finditer(r"(?m)^\.SS (.*)$", sect.group(1)):
            described.add(tuple(w for w in re.findall(r"^[a-z][a-z0-9 -]*", m.group(1))[0].split()))
        for m in re.finditer(r"(?m)^\.TP\n\.(?:B|BI|BR) \"?([a-z][a-z0-9 -]*)", sect.group(1)):
            described.add(tuple(m.group(1).split()))
        unknown = []
        for d in described:
            # Strip trailing argument words the heading may hold in lower case.
            if not any(d[:len(c)] == c for c in cmds):
                unknown.append(" ".join(d))
        if not unknown:
            ok(f"{name}: every command in {page} exists ({len(described)})")
        else:
            bad(f"{name}: {page} describes commands --help does not list: {', '.join(sorted(unknown))}")

    # Every option of every --help is in the man page.
    opts = set()
    for t in helps.values():
        opts |= options(t)
    missing = sorted(o for o in opts if o not in options(man))
    if not missing:
        ok(f"{name}: all {len(opts)} options of --help are in {page}")
    else:
        bad(f"{name}: options of --help missing in {page}: {' '.join(missing)}")

print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 else 1)
PY

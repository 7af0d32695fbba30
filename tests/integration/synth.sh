#!/usr/bin/env bash
# Integration test for crosscount-synth: determinism, valid identities in
# every export, and a ground truth that an independent re-count from the
# CSV files themselves (in Python, SPEC 7.3) reproduces exactly.
set -uo pipefail

build=${CC_BUILD_DIR:-build}
synth="$build/deploy/synth/crosscount-synth"
proto="$build/protocol/crosscount-proto"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
check() { # description command...
  local d=$1
  shift
  if "$@" >"$work/last.out" 2>&1; then ok "$d"; else bad "$d"; sed 's/^/     /' "$work/last.out" | head -30; fi
}
check_fails() { # description expected-exit command...
  local d=$1 want=$2 rc
  shift 2
  "$@" >"$work/last.out" 2>&1
  rc=$?
  if [ "$rc" -eq "$want" ]; then ok "$d"; else bad "$d (exit $rc, wanted $want)"; sed 's/^/     /' "$work/last.out" | head -10; fi
}

if [ ! -x "$synth" ]; then
  bad "crosscount-synth is not built at $synth"
  echo "$passed passed, $failed failed"
  exit 1
fi

# The independent checker: reads DIR/manifest.json, every CSV, truth.json
# and the query; validates identities (Luhn, real dates) and recounts.
cat >"$work/recount.py" <<'PY'
import csv, datetime, json, sys

def leap(y):
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)

def valid_date(y, m, d):
    try:
        datetime.date(y, m, d)
        return True
    except ValueError:
        return False

def luhn_ok(ten):
    s = 0
    for i, ch in enumerate(ten):
        v = int(ch)
        if i % 2 == 0:
            v *= 2
            if v > 9:
                v -= 9
        s += v
    return s % 10 == 0

def parse_id(text, ref):
    """canonical, birth (y, m, d), male, form; or None (SPEC 4.1)."""
    t = text
    if len(t) == 13 and t[8] == '-':
        form, digits = '12-', t[:8] + t[9:]
    elif len(t) == 12:
        form, digits = '12', t
    elif len(t) == 11 and t[6] == '-':
        form, digits = '10-', t[:6] + t[7:]
    elif len(t) == 10:
        form, digits = '10', t
    else:
        return None
    if not digits.isdigit() or not digits.isascii():
        return None
    if len(digits) == 10:
        yy, mm, dd = int(digits[:2]), int(digits[2:4]), int(digits[4:6])
        year = ref.year - ((ref.year % 100 - yy + 100) % 100)
        if (year, mm, dd) > (ref.year, ref.month, ref.day):
            year -= 100
        digits = '%04d' % year + digits[2:]
    y, m, d = int(digits[:4]), int(digits[4:6]), int(digits[6:8])
    real = d - 60 if d > 60 else d
    if not valid_date(y, m, real) or not luhn_ok(digits[2:]):
        return None
    return digits, (y, m, real), int(digits[10]) % 2 == 1, form

def parse_day(s):
    try:
        return datetime.date.fromisoformat(s) if len(s) == 10 else None
    except ValueError:
        return None

def age_on(b, on):
    by, bm, bd = b
    if bm == 2 and bd == 29 and not leap(on.year):
        bd = 28
    return on.year - by - ((on.month, on.day) < (bm, bd))

def main():
    out, mode = sys.argv[1], sys.argv[2]
    man = json.load(open(out + '/manifest.json'))
    ref = datetime.date(man['year'] + 1, 1, 1)
    episodes = []   # (canonical, node, category, start, end)
    people = {}     # canonical -> (birth, male)
    forms = set()
    problems = 0
    for n in man['nodes']:
        enc = {'utf-8': 'utf-8-sig', 'windows-1252': 'cp1252'}[n['encoding']]
        with open(out + '/' + n['file'], encoding=enc, newline='') as f:
            rows = list(csv.reader(f, delimiter=n['delimiter']))
        cols = n['columns']
        want = [cols['personnummer'], cols['category'], cols['start_date'],
                cols['end_date'], cols['unit']]
        if rows[0] != want:
            print('%s: header %r, manifest says %r' % (n['file'], rows[0], want))
            problems += 1
        nbad = 0
        for r in rows[1:]:
            if len(r) != 5:
                print('%s: a row with %d fields' % (n['file'], len(r)))
                problems += 1
                continue
            pid = parse_id(r[0], ref)
            start = parse_day(r[2])
            end = parse_day(r[3]) if r[3] else None
            if pid is None or start is None or (r[3] and end is None):
                nbad += 1
                continue
            if r[1] not in n['categories']:
                print('%s: category %r not in the manifest' % (n['file'], r[1]))
                problems += 1
            if end is not None and end < start:
                print('%s: an episode ends before it starts' % n['file'])
                problems += 1
            canon, birth, male, form = pid
            forms.add((n['shape'], form))
            if start < datetime.date(*birth):
                print('%s: an episode starts before birth' % n['file'])
                problems += 1
            people[canon] = (birth, male)
            episodes.append((canon, n['id'], r[1], start, end))
        if nbad != n['bad_rows']:
            print('%s: %d rows fail validation, manifest says %d bad rows'
                  % (n['file'], nbad, n['bad_rows']))
            problems += 1
        if len(rows) - 1 != n['rows']:
            print('%s: %d rows, manifest says %d' % (n['file'], len(rows) - 1, n['rows']))
            problems += 1

    if mode == 'ids':
        print('%d episodes, %d people, forms %s' % (len(episodes), len(people), sorted(forms)))
        # Every written form occurs in every shape present.
        for shape in set(n['shape'] for n in man['nodes']):
            for f in ('12-', '12', '10-', '10'):
                if (shape, f) not in forms:
                    print('form %s never written in shape %s' % (f, shape))
                    problems += 1
        return problems

    if mode == 'sample':
        # "text canonical" lines for crosscount-proto, one per form and node.
        seen = set()
        extra = 0
        for n in man['nodes']:
            enc = {'utf-8': 'utf-8-sig', 'windows-1252': 'cp1252'}[n['encoding']]
            with open(out + '/' + n['file'], encoding=enc, newline='') as f:
                for r in list(csv.reader(f, delimiter=n['delimiter']))[1:]:
                    pid = parse_id(r[0], ref) if len(r) == 5 else None
                    if pid is None or parse_day(r[2]) is None:
                        continue
                    key = (n['id'], pid[3], int(pid[0][6:8]) > 60)
                    if key not in seen or extra < 40:
                        if key in seen:
                            extra += 1
                        seen.add(key)
                        print(r[0], pid[0])
        return 0

    # mode == 'truth': recount the query (SPEC 7.3) and compare.
    q = json.load(open(out + '/query.json'))
    truth = json.load(open(out + '/truth.json'))
    fy, fm = map(int, q['period']['from'].split('-'))
    ty, tm = map(int, q['period']['to'].split('-'))
    first = datetime.date(fy, fm, 1)
    last = (datetime.date(ty + 1, 1, 1) if tm == 12 else datetime.date(ty, tm + 1, 1)) \
        - datetime.timedelta(days=1)
    sets = q['sets']
    bd = q.get('breakdown', [])
    bands = q.get('age_bands', []) if 'age_band' in bd else []
    member = {}
    for canon, node, cat, start, end in episodes:
        for i, s in enumerate(sets):
            if node in s['nodes'] and ('categories' not in s or cat in s['categories']) \
                    and start <= last and (end is None or end >= first):
                member[canon] = member.get(canon, 0) | (1 << i)
    counts = {}
    counted = 0
    for canon, mask in member.items():
        birth, male = people[canon]
        band = None
        if 'age_band' in bd:
            age = age_on(birth, last)
            hits = [b for b in bands if b[0] <= age <= b[1]]
            if not hits:
                continue
            band = '%d-%d' % tuple(hits[0])
        sex = ('M' if male else 'F') if 'sex' in bd else None
        combo = tuple(s['label'] for i, s in enumerate(sets) if mask & (1 << i))
        counts[(combo, band, sex)] = counts.get((combo, band, sex), 0) + 1
        counted += 1

    labels = [s['label'] for s in sets]
    if truth['labels'] != labels:
        print('labels differ'); problems += 1
    band_labels = ['%d-%d' % tuple(b) for b in bands] if bands else [None]
    sexes = ['F', 'M'] if 'sex' in bd else [None]
    expect_cells = (2 ** len(sets) - 1) * len(band_labels) * len(sexes)
    if len(truth['cells']) != expect_cells:
        print('%d cells, expected %d' % (len(truth['cells']), expect_cells)); problems += 1
    seen = set()
    for c in truth['cells']:
        key = (tuple(c['combination']), c.get('age_band'), c.get('sex'))
        if key in seen:
            print('cell %r twice' % (key,)); problems += 1
        seen.add(key)
        if ('age_band' in c) != ('age_band' in bd) or ('sex' in c) != ('sex' in bd):
            print('cell %r has the wrong breakdown keys' % (key,)); problems += 1
        if c['count'] != counts.get(key, 0):
            print('cell %r: truth %d, recount %d' % (key, c['count'], counts.get(key, 0)))
            problems += 1
    for key, v in counts.items():
        if key not in seen:
            print('recount has %r = %d, truth lacks it' % (key, v)); problems += 1
    for i, st in enumerate(truth['set_totals']):
        want = sum(c['count'] for c in truth['cells'] if labels[i] in c['combination'])
        if st['set'] != labels[i] or st['count'] != want:
            print('set total %r: %d, cells containing it sum to %d' % (st['set'], st['count'], want))
            problems += 1
    for ct in truth['combination_totals']:
        want = sum(c['count'] for c in truth['cells'] if c['combination'] == ct['combination'])
        if ct['count'] != want:
            print('combination total %r: %d, cells sum to %d' % (ct['combination'], ct['count'], want))
            problems += 1
    if truth['counted'] != counted or sum(c['count'] for c in truth['cells']) != counted:
        print('counted %d, recount %d' % (truth['counted'], counted)); problems += 1
    print('%d people counted, %d non-zero cells' % (counted, len(counts)))
    return problems

sys.exit(1 if main() else 0)
PY
recount() { python3 "$work/recount.py" "$@"; }

# --- determinism -----------------------------------------------------------------
check "help" "$synth" --help
check "generate (seed 42)" "$synth" --out "$work/a" --seed 42 --children 5000 --year 2025
check "generate again (seed 42)" "$synth" --out "$work/b" --seed 42 --children 5000 --year 2025
check "the same seed gives identical files" diff -r "$work/a" "$work/b"
check "files are there" bash -c "cd '$work/a' && ls skola.csv soc.csv soc2.csv bup.csv truth.json query.json manifest.json"
check "generate (seed 43)" "$synth" --out "$work/c" --seed 43 --children 5000 --year 2025
check_fails "another seed gives other data" 1 cmp -s "$work/a/skola.csv" "$work/c/skola.csv"
check "generate with bad rows" "$synth" --out "$work/d" --seed 42 --children 5000 --year 2025 --bad-rows 30
check "bad rows change neither the people nor the truth" python3 -c "
import json, sys
a = json.load(open('$work/a/truth.json')); d = json.load(open('$work/d/truth.json'))
for k in ('cells', 'set_totals', 'combination_totals', 'counted'):
    assert a[k] == d[k], k
"
check "bad rows are extra rows: good rows identical" bash -c \
  "[ \$(grep -c '' '$work/d/bup.csv') -eq \$((\$(grep -c '' '$work/a/bup.csv') + 30)) ]"

# --- identities and shapes ---------------------------------------------------------
check "every identity valid, every written form used" recount "$work/a" ids
check "exactly the bad rows fail validation" recount "$work/d" ids
check "sv export: BOM, semicolons, Swedish header, CRLF" bash -c \
  "head -1 '$work/a/skola.csv' | od -c | head -1 | grep -q '357 273 277   P   e   r   s   o   n' &&
   head -1 '$work/a/skola.csv' | grep -q \$'Personnummer;Kategori;Startdatum;Slutdatum;Enhet\r\$'"
check "default export: commas, default header, LF" bash -c \
  "head -1 '$work/a/bup.csv' | grep -qx 'personnummer,category,start_date,end_date,unit'"
check "samordningsnummer present" bash -c \
  "grep -Eq '^(20[0-9]{2})?[0-9]{2}[01][0-9][6-9][0-9]-?[0-9]{4}[;,]' '$work/a/skola.csv'"
check "quoted fields where a unit holds the delimiter or a quote" bash -c \
  "grep -q ';\"Resursskolan \"\"Lyan\"\"\"'\$'\r\$' '$work/a/skola.csv' &&
   grep -q ';\"Utredningsgrupp 2; barn\"'\$'\r\$' '$work/a/soc.csv' &&
   grep -q ',Utredningsgrupp 2; barn\$' '$work/a/soc2.csv'"

if [ -x "$proto" ]; then
  recount "$work/d" sample >"$work/sample" 2>&1
  n=0
  mism=0
  while read -r text canon; do
    n=$((n + 1))
    got=$("$proto" normalize --on 2026-01-01 "$text" 2>/dev/null) || got="(rejected)"
    [ "$got" = "$canon" ] || mism=$((mism + 1))
  done <"$work/sample"
  if [ "$n" -ge 40 ] && [ "$mism" -eq 0 ]; then
    ok "crosscount-proto normalize agrees on $n sampled identities (every form, every node)"
  else
    bad "crosscount-proto normalize: $mism of $n sampled identities differ"
  fi
else
  # The Python check above already verified every identity (Luhn, dates).
  bad "crosscount-proto is not built at $proto"
fi

# --- the truth ----------------------------------------------------------------------
check "truth (default query) = independent recount" recount "$work/a" truth
check "truth with bad rows = independent recount" recount "$work/d" truth

cat >"$work/q1.json" <<'EOF'
{
  "title": "Frånvaro, socialtjänst (två kommuner) och BUP-behandling",
  "period": {"from": "2024-07", "to": "2025-06"},
  "sets": [
    {"label": "frånvaro", "nodes": ["skola"], "categories": ["frånvaro"]},
    {"label": "socialtjänst", "nodes": ["soc", "soc2"], "categories": ["utredning", "insats", "placering"]},
    {"label": "bup", "nodes": ["bup"], "categories": ["behandling", "besök"]}
  ],
  "breakdown": ["sex", "age_band"],
  "age_bands": [[3, 5], [7, 9], [10, 15]],
  "min_cell": 5
}
EOF
check "generate with a query (categories, union set, gaps in bands)" \
  "$synth" --out "$work/q1" --seed 5 --children 8000 --year 2025 --query "$work/q1.json"
check "truth (query 1) = independent recount" recount "$work/q1" truth

cat >"$work/q2.json" <<'EOF'
{
  "title": "Skola och socialtjänst, ingen uppdelning",
  "period": {"from": "2025-03", "to": "2025-03"},
  "sets": [
    {"label": "skola", "nodes": ["skola"]},
    {"label": "soc", "nodes": ["soc"]},
    {"label": "soc2", "nodes": ["soc2"]},
    {"label": "bup", "nodes": ["bup"], "categories": ["remiss"]}
  ]
}
EOF
check "generate with a query without breakdown" \
  "$synth" --out "$work/q2" --seed 9 --children 8000 --year 2025 --query "$work/q2.json"
check "truth (query 2) = independent recount" recount "$work/q2" truth
check "query 2: one cell per region, no breakdown keys" python3 -c "
import json
t = json.load(open('$work/q2/truth.json'))
assert len(t['cells']) == 15 and t['breakdown'] == []
assert all('age_band' not in c and 'sex' not in c for c in t['cells'])
"

cat >"$work/q3.json" <<'EOF'
{
  "title": "Bara kön, över två år",
  "period": {"from": "2024-01", "to": "2025-12"},
  "sets": [{"label": "alla", "nodes": ["skola", "soc", "soc2", "bup", "fritid"]}],
  "breakdown": ["sex"]
}
EOF
check "generate: other sector, cp1252 shape, sex only" \
  "$synth" --out "$work/q3" --seed 3 --children 4000 --year 2025 --bad-rows 7 \
  --nodes "skola:school:sv-cp1252,soc:social,soc2:social:sv,bup:health:sv,fritid:other" --query "$work/q3.json"
check "truth (query 3) = independent recount" recount "$work/q3" truth
check "cp1252 export is Windows-1252, not UTF-8" bash -c \
  "grep -q \$'fr\xe5nvaro' '$work/q3/skola.csv' && ! iconv -f UTF-8 -t UTF-8 '$work/q3/skola.csv' >/dev/null 2>&1"
check "identities valid (query 3 run)" recount "$work/q3" ids

# --- realism --------------------------------------------------------------------------
check "generate 200000 children (memory and time bounded)" python3 -c "
import resource, subprocess, sys, time
t = time.time()
subprocess.run(['$synth', '--out', '$work/big', '--seed', '1', '--children', '200000',
                '--year', '2025'], check=True, stdout=subprocess.DEVNULL)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print('max RSS %d kB, %.1f s' % (rss, time.time() - t))
assert rss < 64 * 1024, rss
assert time.time() - t < 60
"
check "shares are plausible (school ~70 %, social ~5 %, BUP ~6 %)" python3 -c "
import json
m = json.load(open('$work/big/manifest.json'))
n = {x['id']: x['children'] for x in m['nodes']}
kids = m['children']
school = n['skola'] / kids; social = (n['soc'] + n['soc2']) / kids; bup = n['bup'] / kids
print('school %.3f social %.3f bup %.3f soc2/soc %.2f' % (school, social, bup, n['soc2'] / n['soc']))
assert 0.62 < school < 0.76, school
assert 0.035 < social < 0.07, social
assert 0.04 < bup < 0.08, bup
assert 0.15 < n['soc2'] / n['soc'] < 0.5
"
check "overlaps exist in every pair (correlated contacts)" python3 -c "
import json
t = json.load(open('$work/big/truth.json'))
for a in t['labels']:
    for b in t['labels']:
        if a < b:
            s = sum(c['count'] for c in t['cells'] if a in c['combination'] and b in c['combination'])
            assert s > 50, (a, b, s)
"

# --- refusals -------------------------------------------------------------------------
echo '{"title": "x", "period": {"from": "2025-01", "to": "2025-12"}, "sets": [{"label": "a", "nodes": ["nope"]}]}' >"$work/bad1.json"
echo '{"title": "x", "period": {"from": "2025-01", "to": "2025-12"}, "sets": [{"label": "a", "nodes": ["skola"], "categories": ["remiss"]}]}' >"$work/bad2.json"
echo '{"title": "x", "period": {"from": "2025-01", "to": "2025-12"}, "sets": [{"label": "a", "nodes": ["skola"]}, {"label": "b", "nodes": ["skola"]}]}' >"$work/bad3.json"
echo '{"title": "x", "period": {"from": "2025-01", "to": "2025-12"}, "sets": [{"label": "a", "nodes": ["skola"]}], "breakdown": ["age_band"]}' >"$work/bad4.json"
echo '{"title": "x", "period": {"from": "2025-01", "to": "2025-12"}, "sets": [{"label": "a", "nodes": ["skola"]}], "extra": 1}' >"$work/bad5.json"
echo '{"period": {"from": "2025-01", "to": "2025-12"}, "sets": [{"label": "a", "nodes": ["skola"]}]}' >"$work/bad6.json"
check_fails "query naming an unknown node" 1 "$synth" --out "$work/x" --query "$work/bad1.json"
check_fails "query with a category its nodes do not record" 1 "$synth" --out "$work/x" --query "$work/bad2.json"
check_fails "query with a node in two sets" 1 "$synth" --out "$work/x" --query "$work/bad3.json"
check_fails "query by age without age_bands" 1 "$synth" --out "$work/x" --query "$work/bad4.json"
check_fails "query with an unknown field" 1 "$synth" --out "$work/x" --query "$work/bad5.json"
check_fails "query without a title (SPEC 7.2)" 1 "$synth" --out "$work/x" --query "$work/bad6.json"
check_fails "missing --out" 2 "$synth" --seed 1
check_fails "bad --children" 1 "$synth" --out "$work/x" --children 0
check_fails "bad rate" 1 "$synth" --out "$work/x" --bup-rate 1.5
check_fails "bad node id" 1 "$synth" --out "$work/x" --nodes "Skola:school"
check_fails "bad sector" 1 "$synth" --out "$work/x" --nodes "skola:schule"
check_fails "duplicate node" 1 "$synth" --out "$work/x" --nodes "a:school,a:social"
check "nothing written after refusals" bash -c "[ ! -e '$work/x' ]"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

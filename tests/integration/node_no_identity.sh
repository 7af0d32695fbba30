#!/usr/bin/env bash
# Integration test: no identity leaves memory. Imports known identities
# in every written form (good and rejected rows, snapshot, append, a
# refused import, an import killed half-way), then searches EVERY file the
# node wrote (store, -wal, -shm, journal, reject reports, import log) and
# every stdout/stderr capture for every identity in every written form
# (12 digits, with '-', 10 digits, with '-' or '+', without separators),
# and for the canonical 12 digits as raw binary integers too.
set -u
build=${CC_BUILD_DIR:?CC_BUILD_DIR must name the build directory}
node="$build/node/crosscount-node"
work=$(mktemp -d /tmp/cc-node-noid-XXXXXX)
trap 'rm -rf "$work"' EXIT
dir="$work/node"
cap="$work/captures"
mkdir -p "$cap"
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
n=0
run() { # expected-rc command... ; output captured under $cap
	local want=$1 rc
	shift
	n=$((n + 1))
	"$@" >"$cap/$n.out" 2>"$cap/$n.err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then ok; else
		bad "$*: exit $rc, wanted $want"
		head -5 "$cap/$n.err"
	fi
}

# Files: ids.txt (canonical 12 digits of every identity used, good or bad),
# good.csv (every written form), bad.csv (rejects), big.csv (for the kill).
python3 - "$work" <<'PY'
import random, sys
work = sys.argv[1]
rnd = random.Random(20240601)
def luhn(s):
    t = 0
    for i, ch in enumerate(s):
        v = int(ch) * (2 if i % 2 == 0 else 1)
        t += v - 9 if v > 9 else v
    return str((10 - t % 10) % 10)
def person(y, m, d, ser, samordning=False):
    dd = d + 60 if samordning else d
    nine = "%02d%02d%02d%03d" % (y % 100, m, dd, ser)
    return "%02d%s%s" % (y // 100, nine, luhn(nine))
def forms(c, old=False):
    ten = c[2:]
    return [c, c[:8] + "-" + c[8:], ten, ten[:6] + ("+" if old else "-") + ten[6:]]
ids = []
good = ["personnummer,category,start_date,end_date,unit"]
for k in range(40):
    y = rnd.choice([2006, 2010, 2014, 2019])
    c = person(y, rnd.randint(1, 12), rnd.randint(1, 28), rnd.randint(0, 999),
               samordning=(k % 5 == 0))
    ids.append(c)
    for f in forms(c):
        good.append("%s,absence,2024-0%d-01,,unit-%d" % (f, 1 + k % 9, k % 3))
# over a hundred years old on the reference date: the '+' form
for k in range(5):
    c = person(1915 + k, 3, 10 + k, 100 + k)
    ids.append(c)
    for f in forms(c, old=True):
        good.append("%s,support,2023-05-01,2023-06-01," % f)
bad = ["personnummer,category,start_date,end_date,unit"]
for k in range(10):
    c = person(2012, 1 + k, 5, 300 + k)
    ids.append(c)
    bad.append("%s,absence,2024-01-01,,x" % c)
for k in range(3):
    c = person(2011, 2 + k, 9, 400 + k)
    wrong = c[:-1] + str((int(c[-1]) + 1) % 10)   # bad check digit
    ids.append(wrong)
    bad.append("%s,absence,2024-01-01,,x" % wrong)
    bad.append("%s,absence,2024-01-01,,x" % (wrong[2:8] + "-" + wrong[8:]))
c = person(2013, 6, 6, 500)
ids.append(c)
bad.append("%s,absence,2024-13-01,,x" % c)                 # bad date
bad.append("%s,%s,2024-01-01,,x" % (c, c))                 # id as category
c2 = person(2013, 7, 7, 501)
ids.append(c2)
bad.append("%s,absence,2024-01-01,,%s" % (c2, c2[2:]))     # id as unit
bad.append("%s,absence,2024-01-01" % c2)                   # field count
big = ["personnummer,category,start_date,end_date,unit"]
for k in range(60000):
    c = person(2005 + k % 15, 1 + k % 12, 1 + k % 28, k // 5040 % 1000)
    if k < 200:
        ids.append(c)
    big.append("%s,absence,2024-01-01,,u" % (c if k % 2 else c[:8] + "-" + c[8:]))
open(work + "/ids.txt", "w").write("\n".join(sorted(set(ids))) + "\n")
open(work + "/good.csv", "w").write("\n".join(good) + "\n")
open(work + "/bad.csv", "w").write("\n".join(good + bad[1:]) + "\n")
open(work + "/big.csv", "w").write("\n".join(big) + "\n")
PY

run 0 "$node" init --dir "$dir" --id noid-test --sector social
run 0 "$node" import --dir "$dir" --on 2025-06-01 "$work/good.csv"
run 3 "$node" import --dir "$dir" --on 2025-06-01 --max-reject-rate 20% --append "$work/bad.csv"
run 1 "$node" import --dir "$dir" --on 2025-06-01 --max-reject-rate 0 "$work/bad.csv"
run 0 "$node" status --dir "$dir"
run 0 "$node" status --dir "$dir" --json
run 0 "$node" catalogue --dir "$dir" --json

# Hold a read transaction open (as a concurrent `status` would) while an
# import commits: its pages then stay in the WAL, which must be searched.
python3 - "$dir/node.db" "$work" <<'PY' &
import os, sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN")
con.execute("SELECT count(*) FROM persons").fetchall()
open(sys.argv[2] + "/reader-ready", "w").close()
while not os.path.exists(sys.argv[2] + "/reader-release"):
    time.sleep(0.05)
con.execute("COMMIT")
con.close()
PY
reader=$!
for _ in $(seq 1 200); do [ -e "$work/reader-ready" ] && break; sleep 0.05; done
run 0 "$node" import --dir "$dir" --on 2025-06-01 --append "$work/big.csv"
held="$work/held"
mkdir -p "$held"
cp -a "$dir/." "$held/"
touch "$work/reader-release"
wait "$reader"
if [ "$(stat -c %s "$held/node.db-wal" 2>/dev/null || echo 0)" -gt 100000 ]; then ok; else
	bad "the WAL held by a reader should hold the import's pages"; fi

# Kill an import half-way and keep the files exactly as it left them.
"$node" import --dir "$dir" --on 2025-06-01 "$work/big.csv" >"$cap/kill.out" 2>"$cap/kill.err" &
pid=$!
sleep 1
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
snap="$work/snap"
mkdir -p "$snap"
cp -a "$dir/." "$snap/"

run 0 "$node" status --dir "$dir"
run 0 "$node" rotate-key --dir "$dir"
run 0 "$node" status --dir "$dir"
# Check there was something to search.
if ls "$dir"/imports/*-rejects.csv >/dev/null 2>&1; then ok; else bad "no reject report was written"; fi
if [ -s "$dir/imports/imports.log" ]; then ok; else bad "no import log was written"; fi
if grep -q -- '-\*\*\*\*' "$dir"/imports/*-rejects.csv; then ok; else bad "reject report lacks masked identities"; fi

# The search: every file under the node dir, the kill-time snapshot and
# every capture; every identity in every written form, as text and as
# the integer SQLite or C would store (6- and 8-byte big-endian, 8-byte
# little-endian).
search_py=$(cat <<'PY'
import os, sys
ids = [l.strip() for l in open(sys.argv[1]) if l.strip()]
needles = set()
for c in ids:
    ten = c[2:]
    for f in (c, c[:8] + "-" + c[8:], ten, ten[:6] + "-" + ten[6:], ten[:6] + "+" + ten[6:]):
        needles.add(f.encode())
    v = int(c)
    needles.add(v.to_bytes(6, "big"))
    needles.add(v.to_bytes(8, "big"))
    needles.add(v.to_bytes(8, "little"))
files = []
for root in sys.argv[2:]:
    for dp, _, fns in os.walk(root):
        for fn in fns:
            files.append(os.path.join(dp, fn))
hits = 0
for p in files:
    data = open(p, "rb").read()
    for nd in needles:
        if nd in data:
            hits += 1
            print("identity found in %s" % p, file=sys.stderr)
            break
print(len(files), hits)
PY
)
# Positive control: the search finds the identities in the input itself.
mkdir -p "$work/control"
cp "$work/bad.csv" "$work/control/"
set -- $(python3 -c "$search_py" "$work/ids.txt" "$work/control" 2>/dev/null)
if [ "$2" -eq 1 ]; then ok; else bad "the search does not find identities in the input"; fi
found=$(python3 -c "$search_py" "$work/ids.txt" "$dir" "$snap" "$held" "$cap")
set -- $found
nfiles=$1
hits=$2
if [ "$nfiles" -ge 10 ]; then ok; else bad "only $nfiles files searched"; fi
if [ "$hits" -eq 0 ]; then ok; else bad "$hits files hold an identity"; fi
echo "searched $nfiles files"

# The same with grep -a over every written form at once, as a second opinion.
while read -r c; do
	ten=${c:2}
	printf '%s\n' "$c" "${c:0:8}-${c:8}" "$ten" "${ten:0:6}-${ten:6}" "${ten:0:6}+${ten:6}"
done <"$work/ids.txt" >"$work/patterns"
if [ "$(wc -l <"$work/patterns")" -ge 1000 ]; then ok; else bad "too few patterns"; fi
if grep -qaF -f "$work/patterns" "$work/bad.csv"; then ok; else bad "grep control failed"; fi
if grep -rlaF -f "$work/patterns" "$dir" "$snap" "$held" "$cap"; then
	bad "grep -a found a written form of an identity in the files above"
else
	ok
fi
# The files we searched do include the ones that matter.
for f in node.db node.db-wal node.db-shm key node.conf imports/imports.log; do
	if [ -e "$held/$f" ]; then ok; else bad "expected file $f to exist"; fi
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

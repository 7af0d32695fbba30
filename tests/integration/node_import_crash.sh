#!/usr/bin/env bash
# Integration test: a snapshot import is atomic under kill -9. Snapshot A
# is imported; then a large snapshot B is started and killed at several
# moments from its start to past its end. Every time, status must show
# exactly A or exactly B (never a mix), the store must pass
# PRAGMA integrity_check, and a later import must work.
set -u
build=${CC_BUILD_DIR:?CC_BUILD_DIR must name the build directory}
node="$build/node/crosscount-node"
work=$(mktemp -d /tmp/cc-node-crash-XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
def luhn(s):
    t = 0
    for i, ch in enumerate(s):
        v = int(ch) * (2 if i % 2 == 0 else 1)
        t += v - 9 if v > 9 else v
    return str((10 - t % 10) % 10)
def pnr(k):
    nine = "%02d%02d%02d%03d" % ((2005 + k % 15) % 100, 1 + k % 12, 1 + k % 28, k // 420 % 1000)
    return "20" + nine + luhn(nine)
with open(work + "/a.csv", "w") as f:
    f.write("personnummer,category,start_date,end_date,unit\n")
    for k in range(500):
        f.write("%s,alpha,2023-01-01,,\n" % pnr(k))
        if k % 5 == 0:
            f.write("%s,beta,2023-02-01,2023-03-01,x\n" % pnr(k))
with open(work + "/b.csv", "w") as f:
    f.write("personnummer,category,start_date,end_date,unit\n")
    for k in range(20000):
        f.write("%s,gamma,2024-0%d-01,,\n" % (pnr(100000 + k), 1 + k % 3))
PY

summary() { # dir -> "persons episodes cat:persons/episodes..." or "ERROR"
	"$node" status --dir "$1" --json 2>"$work/status.err" | python3 -c '
import json, sys
d = json.load(sys.stdin)
cats = " ".join("%s:%d/%d" % (c["name"], c["persons"], c["episodes"]) for c in d["categories"])
print(d["persons"], d["episodes"], cats)' 2>/dev/null || echo ERROR
}
integrity() {
	python3 -c '
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
r = con.execute("PRAGMA integrity_check").fetchall()
sys.exit(0 if r == [("ok",)] else 1)' "$1/node.db"
}

base="$work/base"
"$node" init --dir "$base" --id crash-test --sector health >/dev/null || bad "init"
"$node" import --dir "$base" --on 2025-01-01 "$work/a.csv" 2>/dev/null || bad "import A"
want_a=$(summary "$base")
[ "$want_a" = "500 600 alpha:500/500 beta:100/100" ] && ok || bad "A is $want_a"

# B once to completion, on a copy, to learn B's summary and duration.
cp -a "$base" "$work/full"
t0=$(date +%s.%N)
"$node" import --dir "$work/full" --on 2025-01-01 "$work/b.csv" 2>/dev/null || bad "import B"
t1=$(date +%s.%N)
want_b=$(summary "$work/full")
[ "$want_b" = "20000 20000 gamma:20000/20000" ] && ok || bad "B is $want_b"
dur=$(python3 -c "print(float('$t1') - float('$t0'))")
echo "a full import of B takes ${dur}s"

saw_a=0
saw_b=0
for frac in 0.02 0.1 0.3 0.5 0.7 0.9 0.97 1.0 1.03 1.1; do
	d="$work/run"
	rm -rf "$d"
	cp -a "$base" "$d"
	delay=$(python3 -c "print(max(0.01, $frac * $dur))")
	"$node" import --dir "$d" --on 2025-01-01 "$work/b.csv" >/dev/null 2>&1 &
	pid=$!
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	got=$(summary "$d")
	if [ "$got" = "$want_a" ]; then
		saw_a=$((saw_a + 1)); ok
	elif [ "$got" = "$want_b" ]; then
		saw_b=$((saw_b + 1)); ok
	else
		bad "killed at ${delay}s: status shows '$got', neither A nor B"
	fi
	integrity "$d" && ok || bad "killed at ${delay}s: integrity_check failed"
done
echo "killed 10 times: $saw_a left A, $saw_b left B"
[ "$saw_a" -ge 1 ] && ok || bad "no kill landed inside the import"

# After a kill, the next import goes through.
d="$work/run"
rm -rf "$d"
cp -a "$base" "$d"
"$node" import --dir "$d" --on 2025-01-01 "$work/b.csv" >/dev/null 2>&1 &
pid=$!
sleep "$(python3 -c "print(max(0.05, 0.4 * $dur))")"
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
"$node" import --dir "$d" --on 2025-01-01 "$work/b.csv" >/dev/null 2>&1 && ok || bad "import after a kill"
[ "$(summary "$d")" = "$want_b" ] && ok || bad "import after a kill: not B"
integrity "$d" && ok || bad "integrity after the re-import"

# A rotation killed at any moment leaves a node whose rows open under
# its key (the next command finishes or undoes it), and the data is kept.
for delay in 0.02 0.3 0.8; do
	d="$work/rot"
	rm -rf "$d"
	cp -a "$work/full" "$d"
	"$node" rotate-key --dir "$d" >/dev/null 2>&1 &
	pid=$!
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	got=$(summary "$d")
	[ "$got" = "$want_b" ] && ok || bad "rotation killed at ${delay}s: status '$got' ($(cat "$work/status.err"))"
	# The same identities still map to the stored persons (all duplicates).
	"$node" import --dir "$d" --append --on 2025-01-01 "$work/b.csv" 2>"$work/imp.err" >/dev/null
	grep -q "20000 duplicate episodes" "$work/imp.err" && ok || bad "rotation killed at ${delay}s: rows no longer match their key"
	[ ! -e "$d/key.new" ] && ok || bad "rotation killed at ${delay}s: key.new left"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

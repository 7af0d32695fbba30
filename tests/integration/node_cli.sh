#!/usr/bin/env bash
# Integration test: crosscount-node's commands, outputs and exit codes
# (init, import, status, catalogue, policy, rotate-key, --help, usage
# errors, node.conf errors naming file:line:key).
set -u
build=${CC_BUILD_DIR:?CC_BUILD_DIR must name the build directory}
node="$build/node/crosscount-node"
work=$(mktemp -d /tmp/cc-node-cli-XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # description command...
	local d=$1
	shift
	if "$@"; then ok; else bad "$d"; fi
}
# expect_rc WANT DESCRIPTION command... (stdout/stderr kept in $work/out, $work/err)
expect_rc() {
	local want=$1 d=$2 rc
	shift 2
	"$@" >"$work/out" 2>"$work/err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then ok; else
		bad "$d: exit $rc, wanted $want"
		sed 's/^/  | /' "$work/err" | head -5
	fi
}
mode_of() { stat -c %a "$1"; }

# Valid personnummer (Luhn over YYMMDDNNN): gen N FIRST_SERIAL [FORM]
gen() {
	python3 - "$@" <<'PY'
import sys
n, first = int(sys.argv[1]), int(sys.argv[2])
form = sys.argv[3] if len(sys.argv) > 3 else "13"
def luhn(s):
    t = 0
    for i, ch in enumerate(s):
        v = int(ch) * (2 if i % 2 == 0 else 1)
        t += v - 9 if v > 9 else v
    return str((10 - t % 10) % 10)
for k in range(first, first + n):
    y, m, d, ser = 2008 + k % 8, 1 + k % 12, 1 + k % 28, k // 168 % 1000
    ten = "%02d%02d%02d%03d" % (y % 100, m, d, ser)
    ten += luhn(ten)
    full = "%d%s" % (y // 100, ten)
    print({"12": full, "13": full[:8] + "-" + full[8:], "10": ten,
           "11": ten[:6] + "-" + ten[6:]}[form])
PY
}

csv_of() { # N FIRST CATEGORY > file
	echo "personnummer,category,start_date,end_date,unit"
	gen "$1" "$2" | while read -r id; do
		echo "$id,$3,2024-01-15,,north"
	done
}

json_get() { # file python-expression-on-d
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

dir="$work/node"

# --- help and usage errors (exit 2) ---
expect_rc 0 "--help" "$node" --help
check "--help lists the commands" grep -q "rotate-key" "$work/out"
for c in init import status catalogue rotate-key policy; do
	expect_rc 0 "$c --help" "$node" "$c" --help
	check "$c --help shows its usage" grep -q "usage: crosscount-node $c" "$work/out"
done
expect_rc 2 "no command" "$node"
expect_rc 2 "unknown command" "$node" frobnicate
expect_rc 2 "unknown option" "$node" status --dir "$dir" --bogus
expect_rc 2 "status extra argument" "$node" status --dir "$dir" extra
expect_rc 2 "init without --id" "$node" init --dir "$dir" --sector school
expect_rc 2 "init bad id" "$node" init --dir "$dir" --id Bad_Id --sector school
expect_rc 2 "init id too long" "$node" init --dir "$dir" --id "$(printf 'a%.0s' {1..33})" --sector school
expect_rc 2 "init bad sector" "$node" init --dir "$dir" --id a --sector police
check "usage errors create nothing" test ! -e "$dir"

# --- init ---
expect_rc 0 "init" "$node" init --dir "$dir" --id school-a --sector school
check "node dir is 0700" test "$(mode_of "$dir")" = 700
check "key is 0600" test "$(mode_of "$dir/key")" = 600
check "key is 32 bytes" test "$(stat -c %s "$dir/key")" = 32
check "node.conf written" grep -q "^id = school-a" "$dir/node.conf"
check "store written" test -s "$dir/node.db"
keysum=$(sha256sum "$dir/key")
expect_rc 1 "init refuses an existing node" "$node" init --dir "$dir" --id school-b --sector social
check "refused init names the node" grep -q "already there" "$work/err"
check "refused init left the key alone" test "$(sha256sum "$dir/key")" = "$keysum"
check "refused init left node.conf alone" grep -q "^id = school-a" "$dir/node.conf"
expect_rc 1 "status of no node" "$node" status --dir "$work/nothing"

# --- imports (exit 0 / 3 / 1) ---
csv_of 300 0 absence >"$work/a.csv"
gen 100 0 | sed 's/$/,support,2024-03-01,2024-04-01,/' >>"$work/a.csv"
expect_rc 0 "import clean file" "$node" import --dir "$dir" --on 2025-01-01 "$work/a.csv"
check "summary on stderr" grep -q "400 rows read, 400 imported" "$work/err"
expect_rc 0 "status --json" "$node" status --dir "$dir" --json
cp "$work/out" "$work/status.json"
check "status: 300 persons" test "$(json_get "$work/status.json" 'd["persons"]')" = 300
check "status: 400 episodes" test "$(json_get "$work/status.json" 'd["episodes"]')" = 400
check "status: 2 categories" test "$(json_get "$work/status.json" 'len(d["categories"])')" = 2
check "status: support has 100 persons" test "$(json_get "$work/status.json" '[c["persons"] for c in d["categories"] if c["name"]=="support"][0]')" = 100
check "status: node id" test "$(json_get "$work/status.json" 'd["node"]')" = school-a
check "status: sector" test "$(json_get "$work/status.json" 'd["sector"]')" = school
check "status: last import ok" test "$(json_get "$work/status.json" 'd["imports"][0]["outcome"]')" = ok
check "status: fingerprint is 16 hex" python3 -c "
import json,re,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if re.fullmatch('[0-9a-f]{16}', d['key_fingerprint']) else 1)" "$work/status.json"
check "status: period" test "$(json_get "$work/status.json" 'd["period"]["from"]')" = 2024-01-15
fp1=$(json_get "$work/status.json" 'd["key_fingerprint"]')
expect_rc 0 "status (text)" "$node" status --dir "$dir"
check "status text shows persons" grep -Eq "^persons +300" "$work/out"
check "status text shows the fingerprint" grep -q "$fp1" "$work/out"
# The default directory comes from CROSSCOUNT_NODE_DIR.
expect_rc 0 "status via CROSSCOUNT_NODE_DIR" env CROSSCOUNT_NODE_DIR="$dir" "$node" status
check "CROSSCOUNT_NODE_DIR status" grep -q "school-a" "$work/out"

# One bad row of 400 with --max-reject-rate 1%: imported, exit 3.
{ cat "$work/a.csv"; echo "19121212-1213,absence,2024-01-01,,"; } >"$work/b.csv"
expect_rc 3 "import with a rejected row" "$node" import --dir "$dir" --on 2025-01-01 --max-reject-rate 1% "$work/b.csv"
check "reject shown masked" grep -q "19121212-\*\*\*\*" "$work/err"
check "reject report written" bash -c "ls '$dir'/imports/*-rejects.csv >/dev/null"
check "import log written" test -s "$dir/imports/imports.log"
# Too many bad rows: refused (exit 1), the snapshot stays.
{ head -n 50 "$work/a.csv"; for i in 1 2 3; do echo "not-an-id,absence,2024-01-01,,"; done; } >"$work/c.csv"
expect_rc 1 "import over the reject rate" "$node" import --dir "$dir" --on 2025-01-01 "$work/c.csv"
check "refusal explained" grep -q "refused, nothing changed" "$work/err"
"$node" status --dir "$dir" --json >"$work/s2.json"
check "refused import kept 300 persons" test "$(json_get "$work/s2.json" 'd["persons"]')" = 300
check "refused import logged" test "$(json_get "$work/s2.json" 'd["imports"][0]["outcome"]')" = refused
# Missing required column, undecodable file, no such file.
{ echo "personnummer,start_date"; gen 3 0 | sed 's/$/,2024-01-01/'; } >"$work/d.csv"
expect_rc 1 "missing column refused" "$node" import --dir "$dir" "$work/d.csv"
check "missing column named" grep -q "category" "$work/err"
printf 'personnummer,category,start_date\n%s,a\x81\x8d,2024-01-01\n' "$(gen 1 0)" >"$work/e.csv"
expect_rc 1 "undecodable file refused" "$node" import --dir "$dir" "$work/e.csv"
expect_rc 1 "missing file refused" "$node" import --dir "$dir" "$work/none.csv"
# Append adds; duplicates are stored once.
csv_of 10 1000 absence >"$work/f.csv"
expect_rc 0 "append" "$node" import --dir "$dir" --append --on 2025-01-01 "$work/f.csv"
expect_rc 0 "append again (duplicates)" "$node" import --dir "$dir" --append --on 2025-01-01 "$work/f.csv"
check "duplicates reported" grep -q "10 duplicate episodes" "$work/err"
"$node" status --dir "$dir" --json >"$work/s3.json"
check "append: 310 persons" test "$(json_get "$work/s3.json" 'd["persons"]')" = 310
check "append: 410 episodes" test "$(json_get "$work/s3.json" 'd["episodes"]')" = 410
# Usage errors of import.
expect_rc 2 "import without file" "$node" import --dir "$dir"
expect_rc 2 "import --snapshot --append" "$node" import --dir "$dir" --snapshot --append "$work/a.csv"
expect_rc 2 "import bad --on" "$node" import --dir "$dir" --on 2025-13-01 "$work/a.csv"
expect_rc 2 "import bad --max-reject-rate" "$node" import --dir "$dir" --max-reject-rate 2 "$work/a.csv"
expect_rc 2 "import bad --encoding" "$node" import --dir "$dir" --encoding latin9 "$work/a.csv"
# Usage errors of approve and reject (checked before anything is opened).
qid=0123456789abcdef0123456789abcdef
expect_rc 2 "approve --by with a personnummer-like run" "$node" approve --dir "$dir" --by "Anna 121212" "$qid"
check "approve --by: the message names the option" grep -q -- "--by:" "$work/err"
expect_rc 2 "reject --by over 40 bytes" "$node" reject --dir "$dir" --by "$(printf 'x%.0s' $(seq 41))" "$qid"
expect_rc 2 "approve --why" "$node" approve --dir "$dir" --why "x" "$qid"
expect_rc 2 "approve without an id" "$node" approve --dir "$dir" --by "Anna Berg"

# --- catalogue ---
expect_rc 0 "catalogue" "$node" catalogue --dir "$dir"
check "catalogue lists categories" grep -q "support" "$work/out"
check "catalogue shows no counts" bash -c "! grep -Eq '\\b(300|310|100)\\b' '$work/out'"
expect_rc 0 "catalogue --json" "$node" catalogue --dir "$dir" --json
check "catalogue json categories" test "$(json_get "$work/out" '",".join(d["categories"])')" = absence,support
check "catalogue json period" test "$(json_get "$work/out" 'd["period"]["from"]')" = 2024-01

# --- policy ---
expect_rc 0 "policy" "$node" policy --dir "$dir"
check "policy: manual approval" grep -q "approval *manual" "$work/out"
check "policy: min_cell 5" grep -q "min_cell *5" "$work/out"
check "policy: max_queries_per_day" grep -q "max_queries_per_day *20" "$work/out"
check "policy: max_peer_batch" grep -q "max_peer_batch *2000000" "$work/out"
check "policy: any peer" grep -q "peers *any node" "$work/out"
sed -i 's/^min_cell = 5/min_cell = 10/; s/^approval = manual/approval = auto/; s/^categories = \*/categories = absence/; s/^peers = \*/peers = social-a, bup-b/' "$dir/node.conf"
expect_rc 0 "policy after edit" "$node" policy --dir "$dir" --json
check "policy json min_cell" test "$(json_get "$work/out" 'd["min_cell"]')" = 10
check "policy json approval" test "$(json_get "$work/out" 'd["approval"]')" = auto
check "policy json peers" test "$(json_get "$work/out" '",".join(d["peers"])')" = social-a,bup-b
expect_rc 0 "catalogue follows the policy" "$node" catalogue --dir "$dir" --json
check "catalogue: only allowed categories" test "$(json_get "$work/out" '",".join(d["categories"])')" = absence

# --- node.conf errors name file:line:key ---
cp "$dir/node.conf" "$work/node.conf.good"
sed -i 's/^min_cell = 10/min_cell = 1/' "$dir/node.conf"
line=$(grep -n '^min_cell = 1$' "$dir/node.conf" | cut -d: -f1)
expect_rc 1 "bad min_cell refused" "$node" status --dir "$dir"
check "config error names node.conf:$line and min_cell" grep -Eq "node\\.conf:$line:.*min_cell" "$work/err"
cp "$work/node.conf.good" "$dir/node.conf"
echo "colour = blue" >>"$dir/node.conf"
line=$(grep -n '^colour = blue$' "$dir/node.conf" | cut -d: -f1)
expect_rc 1 "unknown key refused" "$node" policy --dir "$dir"
check "config error names node.conf:$line and colour" grep -Eq "node\\.conf:$line:.*colour" "$work/err"
cp "$work/node.conf.good" "$dir/node.conf"

# --- rotate-key ---
expect_rc 0 "rotate-key" "$node" rotate-key --dir "$dir"
check "rotate-key names both fingerprints" grep -q "$fp1 ->" "$work/out"
"$node" status --dir "$dir" --json >"$work/s4.json"
fp2=$(json_get "$work/s4.json" 'd["key_fingerprint"]')
check "fingerprint changed" test "$fp1" != "$fp2"
check "rotation kept 310 persons" test "$(json_get "$work/s4.json" 'd["persons"]')" = 310
check "key still 0600" test "$(mode_of "$dir/key")" = 600
check "no key.new left" test ! -e "$dir/key.new"
# The same file re-imported under the new key gives the same persons.
expect_rc 0 "append after rotation" "$node" import --dir "$dir" --append --on 2025-01-01 "$work/f.csv"
check "append after rotation finds the same persons" grep -q "10 duplicate episodes" "$work/err"
expect_rc 2 "rotate-key --json is not an option" "$node" rotate-key --dir "$dir" --json
# A key that is not the store's is refused.
cp "$dir/key" "$work/key.saved"
head -c 32 /dev/zero | tr '\0' '\1' >"$dir/key"
expect_rc 1 "a foreign key is refused" "$node" status --dir "$dir"
check "foreign key explained" grep -q "not the key the store" "$work/err"
cp "$work/key.saved" "$dir/key"
chmod 644 "$dir/key"
expect_rc 1 "a readable key is refused" "$node" status --dir "$dir"
chmod 600 "$dir/key"
expect_rc 0 "status again" "$node" status --dir "$dir"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

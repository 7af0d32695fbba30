#!/usr/bin/env bash
# The analysts' CLI without an aggregator: help, usage errors, local query
# validation before anything is sent, and an unreachable aggregator.
# (Submitting, waiting and results against a real federation are covered
# by federation_truth.sh.)
set -u
cli="$CC_BUILD_DIR/cli/crosscount"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; failed=$((failed + 1)); }
expect() { # name want-exit command...
  local name=$1 want=$2 got
  shift 2
  "$@" >"$work/out" 2>"$work/err"
  got=$?
  if [ "$got" = "$want" ]; then ok "$name"; else bad "$name (exit $got, want $want)"; fi
}
unset CROSSCOUNT_AGGREGATOR CROSSCOUNT_TOKEN CROSSCOUNT_CA

expect "--help" 0 "$cli" --help
grep -q "query submit FILE.json" "$work/out" && ok "--help lists the commands" || bad "--help lists the commands"
expect "query submit --help needs no aggregator" 0 "$cli" query submit --help
expect "no command" 2 "$cli"
expect "unknown command" 2 "$cli" --aggregator https://127.0.0.1:1 --token t --ca /dev/null frobnicate
expect "no aggregator" 2 "$cli" query list
grep -q "no aggregator" "$work/err" && ok "says the aggregator is missing" || bad "says the aggregator is missing"
export CROSSCOUNT_AGGREGATOR=https://127.0.0.1:1 CROSSCOUNT_CA=/dev/null
expect "no token" 2 "$cli" query list
export CROSSCOUNT_TOKEN=cct_test
expect "plain http refused" 2 "$cli" --aggregator http://127.0.0.1:1 query list
expect "bad query id" 2 "$cli" query status not-an-id
expect "extra argument" 2 "$cli" query list extra

# Local validation names the field, and nothing is sent.
cat >"$work/q.json" <<'JSON'
{"title": "t", "period": {"from": "2025-01", "to": "2025-13"},
 "sets": [{"label": "bup", "nodes": ["bup"]}]}
JSON
expect "invalid query refused locally" 1 "$cli" query submit "$work/q.json"
grep -q "period.to" "$work/err" && ok "names the field at fault" || bad "names the field at fault"
expect "missing query file" 1 "$cli" query submit "$work/nope.json"

cat >"$work/ok.json" <<'JSON'
{"title": "Barn kända av BUP 2025", "period": {"from": "2025-01", "to": "2025-12"},
 "sets": [{"label": "bup", "nodes": ["bup"]}]}
JSON
expect "unreachable aggregator" 1 "$cli" query submit "$work/ok.json"
grep -qi "submit" "$work/err" && ok "says what failed" || bad "says what failed"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

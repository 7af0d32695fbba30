#!/usr/bin/env bash
# Integration test of the aggregator's query and node endpoints
# (docs/api.md) on a real `crosscount-aggregator serve` over mutual TLS on
# loopback, with a federation PKI from deploy/pki. Nodes are simulated
# with curl and their certificates; analysts use API tokens.
#
# Checked: unauthenticated 401, catalogue validation, the long poll woken
# by a submission, malformed query 400, policy refusals 422, another
# analyst's query 404, result 409 before release, approvals to running,
# the step guard (wrong node 403), upload offsets (409), a commit with a
# bad digest (422), exact path validation (400), a node's failure naming
# it, forget and forgotten, the audit chain, and a clean stop with a held poll.
set -uo pipefail

src=${CC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${CC_BUILD_DIR:-$src/build}
agg="$build/aggregator/crosscount-aggregator"
pki="$src/deploy/pki"
work=$(mktemp -d)
serve_pid=""
cleanup() {
  if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null; fi
  if [ -n "${KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
run() { # description command...
  local d=$1
  shift
  if "$@" >"$work/last.out" 2>&1; then ok "$d"; else bad "$d"; sed 's/^/     /' "$work/last.out" | head -20; fi
}

for tool in curl jq openssl; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is needed"; exit 77; }
done
[ -x "$agg" ] || { echo "FAIL: $agg is not built"; exit 1; }

# --- federation -------------------------------------------------------------
p="$work/pki"
a="$work/agg"
{
  "$pki" init "$p" --name "Test federation" &&
  "$pki" node "$p" bup && "$pki" node "$p" skola && "$pki" node "$p" soc &&
  "$pki" server "$p" aggregator &&
  "$agg" init --dir "$a" --cert "$p/server/aggregator.crt" \
    --key "$p/server/aggregator.key" --ca "$p/ca.crt" --port 0 &&
  "$agg" node add bup --sector health --dir "$a" &&
  "$agg" node add skola --sector school --dir "$a" &&
  "$agg" node add soc --sector social --dir "$a" &&
  printf 'correct horse battery\n' >"$work/pw" &&
  "$agg" user add anna --role analyst --password-file "$work/pw" --dir "$a" &&
  "$agg" user add bo --role analyst --password-file "$work/pw" --dir "$a" &&
  "$agg" user add rut --role auditor --password-file "$work/pw" --dir "$a"
} >"$work/setup.out" 2>&1 || { echo "FAIL setup"; cat "$work/setup.out"; exit 1; }
anna=$("$agg" token create anna --dir "$a" 2>/dev/null)
bo=$("$agg" token create bo --dir "$a" 2>/dev/null)
rut=$("$agg" token create rut --dir "$a" 2>/dev/null)
[ -n "$anna" ] && [ -n "$bo" ] && [ -n "$rut" ] || { echo "FAIL token create"; exit 1; }

"$agg" serve --dir "$a" >"$work/serve.out" 2>"$work/serve.err" &
serve_pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's|.*listening on https://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$work/serve.out")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "FAIL serve did not start"; cat "$work/serve.err"; exit 1; }
base="https://localhost:$port"

# request AS METHOD PATH [BODY]: prints the status; the body is in $work/body.
# AS is a token for users, node:ID for a node certificate, or "" for nobody.
request() {
  local as=$1 method=$2 path=$3 body=${4-}
  local args=(-s -o "$work/body" -w '%{http_code}' --max-time 40
    --cacert "$p/ca.crt" -X "$method")
  case "$as" in
    node:*) args+=(--cert "$p/nodes/${as#node:}.crt" --key "$p/nodes/${as#node:}.key") ;;
    "") ;;
    *) args+=(-H "Authorization: Bearer $as") ;;
  esac
  if [ $# -ge 4 ]; then
    args+=(-H 'Content-Type: application/json' --data-binary "$body")
  fi
  curl "${args[@]}" "$base$path"
}
# expect DESCRIPTION STATUS AS METHOD PATH [BODY]
expect() {
  local d=$1 want=$2 got
  shift 2
  got=$(request "$@")
  if [ "$got" = "$want" ]; then ok "$d"; else
    bad "$d (status $got, expected $want)"; head -c 400 "$work/body" | sed 's/^/     /'; echo
  fi
}
body_has() { # description jq-filter (must print true)
  if [ "$(jq -r "$2" "$work/body" 2>/dev/null)" = "true" ]; then ok "$1"; else
    bad "$1"; head -c 400 "$work/body" | sed 's/^/     /'; echo
  fi
}

# --- authentication ---------------------------------------------------------
expect "queries without a token: 401" 401 "" GET /api/v1/queries
body_has "401 names its code" '.error.code == "unauthenticated"'
expect "queries with a bad token: 401" 401 "cct_0000" GET /api/v1/queries
expect "node route without a certificate: 401" 401 "" GET /api/v1/node/work
expect "node route with a user token: 401" 401 "$anna" GET /api/v1/node/work

# --- catalogues -------------------------------------------------------------
expect "catalogue bup" 204 node:bup PUT /api/v1/node/catalogue \
  '{"sector": "health", "categories": ["besök"], "period": {"from": "2020-01", "to": "2026-06"}}'
expect "catalogue skola" 204 node:skola PUT /api/v1/node/catalogue \
  '{"sector": "school", "categories": ["inskriven", "frånvaro"], "period": {"from": "2024-01", "to": "2025-12"}}'
expect "catalogue soc" 204 node:soc PUT /api/v1/node/catalogue \
  '{"sector": "social", "categories": [], "period": {"from": "2019-01", "to": "2026-01"}}'
expect "catalogue with an unknown field: 400" 400 node:soc PUT /api/v1/node/catalogue \
  '{"sector": "social", "categories": [], "period": null, "counts": 3}'
expect "catalogue with a bad category: 400" 400 node:soc PUT /api/v1/node/catalogue \
  '{"sector": "social", "categories": ["a,b"], "period": null}'
expect "catalogue that is not JSON: 400" 400 node:soc PUT /api/v1/node/catalogue '{'

# --- submission and the long poll --------------------------------------------
expect "work with wait=31: 400" 400 node:bup GET '/api/v1/node/work?wait=31'
expect "work with wait=-1: 400" 400 node:bup GET '/api/v1/node/work?wait=-1'
expect "work, nothing to do: empty at once" 200 node:bup GET '/api/v1/node/work?wait=0'
body_has "no tasks" '.tasks == []'

q='{"title": "Barn kända av tre", "period": {"from": "2025-01", "to": "2025-12"},
 "sets": [{"label": "bup", "nodes": ["bup"]},
  {"label": "skola", "nodes": ["skola"], "categories": ["inskriven"]},
  {"label": "soc", "nodes": ["soc"]}]}'

# bup waits for work; the submission must wake it well before the wait ends.
(
  start=$(date +%s)
  code=$(curl -s -o "$work/poll" -w '%{http_code}' --max-time 40 --cacert "$p/ca.crt" \
    --cert "$p/nodes/bup.crt" --key "$p/nodes/bup.key" "$base/api/v1/node/work?wait=25")
  echo "$code $(( $(date +%s) - start ))" >"$work/poll.status"
) &
poll_pid=$!
sleep 1
expect "malformed query: 400" 400 "$anna" POST /api/v1/queries '{"title": "x"}'
body_has "400 names the field" '.error.message | test("period")'
expect "query that is not JSON: 400" 400 "$anna" POST /api/v1/queries '{"title":'
expect "min_cell below the floor: 422" 422 "$anna" POST /api/v1/queries \
  '{"title": "x", "period": {"from": "2025-01", "to": "2025-12"}, "sets": [{"label": "a", "nodes": ["bup"]}], "min_cell": 3}'
body_has "422 is unprocessable" '.error.code == "unprocessable"'
expect "unknown node: 422" 422 "$anna" POST /api/v1/queries \
  '{"title": "x", "period": {"from": "2025-01", "to": "2025-12"}, "sets": [{"label": "a", "nodes": ["nobody"]}]}'
expect "period outside the catalogue: 422" 422 "$anna" POST /api/v1/queries \
  '{"title": "x", "period": {"from": "2023-01", "to": "2023-12"}, "sets": [{"label": "a", "nodes": ["skola"]}]}'
expect "an auditor may not submit: 403" 403 "$rut" POST /api/v1/queries "$q"
expect "submit" 201 "$anna" POST /api/v1/queries "$q"
body_has "201 says awaiting_approval" '.status == "awaiting_approval" and (.id | test("^[0-9a-f]{32}$"))'
id=$(jq -r .id "$work/body")
wait "$poll_pid"
read -r poll_code poll_secs <"$work/poll.status"
if [ "$poll_code" = 200 ] && [ "$poll_secs" -lt 10 ] &&
   [ "$(jq -r --arg id "$id" '.tasks[0].kind == "approve" and .tasks[0].query_id == $id and (.tasks[0].attribute_key | length) == 64 and .tasks[0].nodes == ["bup","skola","soc"]' "$work/poll")" = true ]; then
  ok "held poll woken by the submission with an approve task (${poll_secs}s)"
else
  bad "held poll woken by the submission ($poll_code after ${poll_secs}s)"; head -c 400 "$work/poll"; echo
fi

# --- visibility -------------------------------------------------------------
expect "owner reads the status" 200 "$anna" GET "/api/v1/queries/$id"
body_has "status document" '.status == "awaiting_approval" and .owner == "anna" and (.chains | length) == 3 and .nodes[0].approval == "pending"'
expect "another analyst: 404" 404 "$bo" GET "/api/v1/queries/$id"
expect "another analyst's result: 404" 404 "$bo" GET "/api/v1/queries/$id/result"
expect "another analyst's list" 200 "$bo" GET /api/v1/queries
body_has "does not show it" '.queries == []'
expect "owner's list" 200 "$anna" GET /api/v1/queries
if [ "$(jq -r --arg id "$id" '.queries[0].id == $id and .queries[0].owner == "anna"' "$work/body")" = true ]; then
  ok "owner's list shows the query"; else bad "owner's list shows the query"; fi
expect "an auditor reads it" 200 "$rut" GET "/api/v1/queries/$id"
expect "malformed id: 400" 400 "$anna" GET /api/v1/queries/ABC
expect "unknown id: 404" 404 "$anna" GET /api/v1/queries/00000000000000000000000000000000
expect "result before release: 409" 409 "$anna" GET "/api/v1/queries/$id/result"
expect "result.csv before release: 409" 409 "$anna" GET "/api/v1/queries/$id/result.csv"

# --- approvals --------------------------------------------------------------
expect "bad decision: 400" 400 node:bup POST "/api/v1/node/queries/$id/decision" '{"decision": "maybe"}'
expect "approve with a reason: 400" 400 node:bup POST "/api/v1/node/queries/$id/decision" '{"decision": "approve", "reason": "x"}'
expect "steps before approval: 409" 409 node:bup PUT "/api/v1/node/queries/$id/batches/0/0?offset=0" 'xxxx'
for n in bup skola soc; do
  expect "approve $n" 204 node:$n POST "/api/v1/node/queries/$id/decision" '{"decision": "approve"}'
done
expect "approve again: 204 (the same decision)" 204 node:bup POST "/api/v1/node/queries/$id/decision" '{"decision": "approve"}'
expect "reject after approving: 409" 409 node:bup POST "/api/v1/node/queries/$id/decision" '{"decision": "reject", "reason": "changed my mind"}'
expect "status" 200 "$anna" GET "/api/v1/queries/$id"
body_has "running" '.status == "running"'
expect "skola's work" 200 node:skola GET '/api/v1/node/work?wait=0'
body_has "step (1, 0) for skola" '[.tasks[] | select(.kind == "step")] | length == 1 and .[0].chain == 1 and .[0].hop == 0 and .[0].input_size == 0'

# --- steps --------------------------------------------------------------------
expect "wrong node fetching a step: 403" 403 node:bup GET "/api/v1/node/queries/$id/batches/0/1"
expect "wrong node uploading a step: 403" 403 node:skola PUT "/api/v1/node/queries/$id/batches/0/0?offset=0" 'xxxx'
expect "fetching a step that is not ready: 409" 409 node:skola GET "/api/v1/node/queries/$id/batches/0/1"
expect "no such step: 404" 404 node:bup GET "/api/v1/node/queries/$id/batches/0/5"
expect "chain with a leading zero: 400" 400 node:bup GET "/api/v1/node/queries/$id/batches/00/1"
expect "hop not a number: 400" 400 node:bup GET "/api/v1/node/queries/$id/batches/0/x"
expect "query id in capitals: 400" 400 node:bup GET "/api/v1/node/queries/${id^^}/batches/0/1"
expect "upload without offset: 400" 400 node:bup PUT "/api/v1/node/queries/$id/batches/0/0" 'xxxx'
expect "upload at offset 5 first: 409" 409 node:bup PUT "/api/v1/node/queries/$id/batches/0/0?offset=5" 'xxxx'
head -c 3000 /dev/urandom >"$work/part"
upload() { # offset file -> status
  curl -s -o "$work/body" -w '%{http_code}' --cacert "$p/ca.crt" \
    --cert "$p/nodes/bup.crt" --key "$p/nodes/bup.key" -X PUT \
    -H 'Content-Type: application/octet-stream' --data-binary "@$2" \
    "$base/api/v1/node/queries/$id/batches/0/0?offset=$1"
}
head -c 1000 "$work/part" >"$work/p1"
tail -c 2000 "$work/part" >"$work/p2"
[ "$(upload 0 "$work/p1")" = 204 ] && ok "upload part 1" || bad "upload part 1"
[ "$(upload 7 "$work/p2")" = 409 ] && ok "upload at a wrong offset: 409" || bad "upload at a wrong offset: 409"
[ "$(upload 1000 "$work/p2")" = 204 ] && ok "upload part 2" || bad "upload part 2"
digest=$(sha256sum "$work/part" | cut -d' ' -f1)
expect "commit with a bad digest: 422" 422 node:bup POST "/api/v1/node/queries/$id/batches/0/0/commit" \
  "{\"size\": 3000, \"digest\": \"$(printf '%064d' 0)\"}"
body_has "422 says digest" '.error.message | test("digest")'
[ "$(upload 0 "$work/part")" = 204 ] && ok "upload again from 0" || bad "upload again from 0"
expect "commit of bytes that are no batch: 422" 422 node:bup POST "/api/v1/node/queries/$id/batches/0/0/commit" \
  "{\"size\": 3000, \"digest\": \"$digest\"}"
expect "commit with an unknown field: 400" 400 node:bup POST "/api/v1/node/queries/$id/batches/0/0/commit" \
  "{\"size\": 3000, \"digest\": \"$digest\", \"x\": 1}"
[ ! -e "$a/batches/$id/0-0.part" ] && ok "refused upload discarded" || bad "refused upload discarded"
expect "status after refusals" 200 "$anna" GET "/api/v1/queries/$id"
body_has "still running" '.status == "running"'

# --- failure ------------------------------------------------------------------
expect "forgotten while running: 409" 409 node:bup POST "/api/v1/node/queries/$id/forgotten"
expect "fail with a run of digits: 400" 400 node:soc POST "/api/v1/node/queries/$id/fail" '{"reason": "record 1912121212"}'
expect "fail by a node not in the query: 404" 404 node:soc POST "/api/v1/node/queries/00000000000000000000000000000000/fail" '{"reason": "x"}'
expect "soc fails the query" 204 node:soc POST "/api/v1/node/queries/$id/fail" '{"reason": "input did not verify"}'
expect "status after failure" 200 "$anna" GET "/api/v1/queries/$id"
body_has "failed naming soc" '.status == "failed" and (.reason | test("\"soc\"")) and .finished != null'
expect "result after failure: 409" 409 "$anna" GET "/api/v1/queries/$id/result"
[ ! -e "$a/batches/$id" ] && ok "no batches left" || bad "no batches left"
expect "forget for bup" 200 node:bup GET '/api/v1/node/work?wait=0'
if [ "$(jq -r --arg id "$id" '[.tasks[] | select(.kind == "forget" and .query_id == $id and .status == "failed")] | length == 1' "$work/body")" = true ]; then
  ok "forget handed to bup"; else bad "forget handed to bup"; cat "$work/body"; fi
expect "forget not repeated at once" 200 node:bup GET '/api/v1/node/work?wait=0'
body_has "no second forget" '[.tasks[] | select(.kind == "forget")] == []'
expect "bup says it forgot: 204" 204 node:bup POST "/api/v1/node/queries/$id/forgotten"
expect "saying it again: 204" 204 node:bup POST "/api/v1/node/queries/$id/forgotten"
expect "forgotten by a node not in the query: 404" 404 node:soc POST "/api/v1/node/queries/00000000000000000000000000000000/forgotten"

# --- audit and stop ---------------------------------------------------------
(
  curl -s -o /dev/null -w '%{http_code}' --max-time 40 --cacert "$p/ca.crt" \
    --cert "$p/nodes/skola.crt" --key "$p/nodes/skola.key" \
    "$base/api/v1/node/work?wait=30" >"$work/last.poll"
) &
held=$!
sleep 1
kill -TERM "$serve_pid"
if wait "$serve_pid"; then ok "SIGTERM with a held poll: exit 0"; else bad "SIGTERM with a held poll: exit 0"; fi
serve_pid=""
wait "$held"
[ "$(cat "$work/last.poll")" = 200 ] && ok "held poll answered at stop" || bad "held poll answered at stop ($(cat "$work/last.poll"))"
run "audit chain intact" "$agg" audit verify --dir "$a"
if grep -q '1912121212' "$a"/aggregator.db* "$work/serve.err" 2>/dev/null; then
  bad "the refused reason's digits reached the store or the log"; else ok "refused digits stored nowhere"; fi

echo "passed $passed, failed $failed"
[ "$failed" -eq 0 ]

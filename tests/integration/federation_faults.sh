#!/usr/bin/env bash
# Integration test: faults in a running federation (deploy/local-federation,
# real processes, mutual TLS), with a two-minute query deadline (one minute
# left too little margin for the tampered-batch case under ASan):
#   - a node offline past the deadline: the query fails naming it;
#   - the aggregator killed (-9) mid-query and restarted: the query
#     completes with the right result;
#   - a node killed (-9) mid-step and restarted: the query completes;
#   - a fake node (curl with a node's real certificate) uploads a batch
#     signed by the wrong node, a replayed batch, an oversized part, a part
#     at the wrong offset: refused (422/409/413) as docs/api.md says, and
#     the query still completes right afterwards;
#   - a tampered batch (a byte flipped in the file the aggregator stores
#     between steps): the next node refuses it and the query fails cleanly
#     naming the reason;
#   - a client certificate from another CA, a disabled node: refused;
#   - another analyst's query and results: 404; no credentials: 401; a
#     malformed query: 400 naming the field; a query against the policy: 422.
# Node order (sorted ids): bup, skola, soc; chain 0 runs bup -> skola -> soc.
fed_test_name=federation-faults
source "$(dirname "$0")/federation_lib.sh"

for b in "$aggbin" "$nodebin" "$clibin" "$synthbin" "$expectbin"; do
  [ -x "$b" ] || { echo "FAIL $b is not built"; failed=1; finish; }
done

children=${CC_FED_CHILDREN:-8000}
"$synthbin" --out "$work/synth" --children "$children" --seed 5 \
  --nodes bup:health,skola:school,soc:social >"$work/synth.out" 2>&1 ||
  { cat "$work/synth.out"; bad "crosscount-synth"; finish; }
truth="$work/synth/truth.json"
query="$work/synth/query.json"

fed_start --nodes bup:health,skola:school,soc:social,gone:other --auto-approve --deadline-minutes 2
for n in bup skola soc; do
  check "import $n" "$lf" import "$fed" "$n" "$work/synth/$n.csv" --on 2026-01-15
done

# submit FILE -> prints the new query's id
submit() {
  cli query submit "$1" 2>"$work/submit.err" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' 2>/dev/null
}
status_json() { cli query status "$1" 2>/dev/null; }
# Wait for a released query and check its table against the truth.
expect_released() { # id description
  local id=$1 d=$2 st
  st=$(wait_status "$id" 90 released failed rejected)
  if [ "$st" != released ]; then
    bad "$d: status $st, wanted released"
    status_json "$id" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("     reason:", d.get("reason"))'
    return
  fi
  ok "$d: released"
  cli query result "$id" >"$work/result-$id.json"
  if "$expectbin" "$truth" "$work/result-$id.json" >"$work/expect.out" 2>&1; then
    ok "$d: the released table equals the truth ($(tail -1 "$work/expect.out" | sed 's/^cc-disclosure-expect: //'))"
  else
    bad "$d: the released table against the truth"
    sed 's/^/     /' "$work/expect.out" | head -10
  fi
  check_query_gone "$id" "$d: nothing of the query left on disk"
}
accepted_count() { # id [signer]: batch.accepted entries in the audit log
  python3 - "$fed/aggregator/aggregator.db" "$1" "${2:-}" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=10)
n = 0
for (d,) in db.execute("SELECT detail FROM audit WHERE event = 'batch.accepted'"):
    d = json.loads(d)
    if d.get("query") == sys.argv[2] and sys.argv[3] in ("", d.get("signer")):
        n += 1
print(n)
PY
}
accepted_at_least() { [ "$(accepted_count "$1")" -ge "$2" ]; }
gone_pid() { ! kill -0 "$1" 2>/dev/null; }
held_at() { # node id: the node's query log holds the query for a person
  awk -v q="\"query_id\":\"$2\"" 'index($0, q) && index($0, "\"decision\":\"held\"") { f = 1 }
    END { exit !f }' "$fed/nodes/$1/queries.log" 2>/dev/null
}
wait_for() { # seconds command... (polls every 0.1 s)
  local limit=$1 deadline
  shift
  deadline=$((SECONDS + limit))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

# ---- 1. a node offline past the deadline (runs while 2. goes on) --------
check "stop node soc" "$lf" stop "$fed" soc
offline_start=$SECONDS
timeout 200 "$clibin" --aggregator "$url" --token "$token" --ca "$ca" \
  query submit "$query" --wait >"$work/offline.out" 2>"$work/offline.err" &
offline_pid=$!
extra_pids+=("$offline_pid")

# ---- 2. authentication, validation, certificates -------------------------
http_token=
expect_http 401 "GET /api/v1/queries without credentials" "$(http GET /api/v1/queries)"
check "401 says unauthenticated" grep -q '"unauthenticated"' "$work/body"
http_token="cct_$(printf '0%.0s' $(seq 64))"
expect_http 401 "GET /api/v1/queries with an unknown token" "$(http GET /api/v1/queries)"
http_token=$token
post_query() { # JSON text -> status (body in $work/body)
  http POST /api/v1/queries -H 'Content-Type: application/json' --data-binary "$1"
}
good_sets='"sets": [{"label": "bup", "nodes": ["bup"]}]'
expect_http 400 "a query with a month 13" \
  "$(post_query '{"title": "x", "period": {"from": "2025-13", "to": "2025-12"}, '"$good_sets"'}')"
check "the 400 names period.from" grep -q 'period.from' "$work/body"
expect_http 400 "a query with an unknown field" \
  "$(post_query '{"title": "x", "colour": "red", "period": {"from": "2025-01", "to": "2025-12"}, '"$good_sets"'}')"
check "the 400 names the unknown field" grep -q 'colour' "$work/body"
expect_http 400 "a query without sets" \
  "$(post_query '{"title": "x", "period": {"from": "2025-01", "to": "2025-12"}}')"
check "the 400 names sets" grep -q 'sets' "$work/body"
expect_http 400 "a body that is not JSON" "$(post_query '{"title": ')"
expect_http 422 "min_cell below the federation's floor" \
  "$(post_query '{"title": "x", "period": {"from": "2025-01", "to": "2025-12"}, '"$good_sets"', "min_cell": 2}')"
expect_http 422 "a node the federation does not know" \
  "$(post_query '{"title": "x", "period": {"from": "2025-01", "to": "2025-12"}, "sets": [{"label": "a", "nodes": ["nowhere"]}]}')"
expect_http 422 "an age-band grid the policy does not allow" \
  "$(post_query '{"title": "x", "period": {"from": "2025-01", "to": "2025-12"}, '"$good_sets"', "breakdown": ["age_band"], "age_bands": [[0, 4], [5, 17]]}')"

# Node routes: an analyst's token is not a node; a certificate from another
# CA is refused; a disabled node is refused.
expect_http 401 "a node route with an analyst's token and no certificate" \
  "$(http GET '/api/v1/node/work?wait=0')"
expect_http 200 "a node route with bup's certificate" "$(http_node bup GET '/api/v1/node/work?wait=0')"
{ "$src/deploy/pki" init "$work/otherpki" --name "another federation" &&
  "$src/deploy/pki" node "$work/otherpki" bup; } >/dev/null 2>&1
code=$(curl -s -o "$work/body" -w '%{http_code}' --max-time 30 --cacert "$ca" \
  --cert "$work/otherpki/nodes/bup.crt" --key "$work/otherpki/nodes/bup.key" \
  "$url/api/v1/node/work?wait=0")
case $code in
  000|401|403) ok "a certificate for bup from another CA is refused (HTTP $code)" ;;
  *) bad "a certificate for bup from another CA: HTTP $code" ;;
esac
check "disable node gone" "$aggbin" node disable gone --dir "$fed/aggregator"
expect_http 403 "the disabled node's certificate" "$(http_node gone GET '/api/v1/node/work?wait=0')"
expect_http 422 "a query naming the disabled node" \
  "$(post_query '{"title": "x", "period": {"from": "2025-01", "to": "2025-12"}, "sets": [{"label": "g", "nodes": ["gone"]}]}')"

# ---- 1. (continued) the offline node ---------------------------------------
wait "$offline_pid"
offline_rc=$?
extra_pids=()
if [ "$offline_rc" -eq 1 ] && [ $((SECONDS - offline_start)) -ge 115 ]; then
  ok "the query with soc offline failed after $((SECONDS - offline_start)) s (deadline 2 minutes)"
else
  bad "the query with soc offline: crosscount exit $offline_rc after $((SECONDS - offline_start)) s, wanted 1 after the 2-minute deadline"
fi
sed 's/^/     /' "$work/offline.err" | tail -2
check "the failure is the deadline and names soc" grep -qE 'failed: .*deadline.*\bsoc\b' "$work/offline.err"
check "the failure names only soc" bash -c '! grep -qE "\b(bup|skola)\b" "$1"' _ "$work/offline.err"
offline_id=$(sed -nE 's/.*query ([0-9a-f]{32}).*/\1/p' "$work/offline.err" | head -1)
[ -n "$offline_id" ] && check_query_gone "$offline_id" "offline: nothing of the failed query left on disk"
check "restart node soc" "$lf" restart "$fed" soc
sleep 3   # soc polls within its 2 s long poll

# ---- 3. the aggregator killed mid-query ------------------------------------
# skola is frozen (SIGSTOP) once the query runs, so the query is certainly
# mid-way (some batches accepted, the steps due at skola not) when the
# aggregator is killed.
id=$(submit "$query")
if [ -z "$id" ]; then bad "submit for the aggregator kill"; cat "$work/submit.err"; else
  st=$(wait_status "$id" 30 running)
  skola_pid=$(member_pid node:skola)
  kill -STOP "$skola_pid"
  if [ "$st" = running ] && wait_for 30 accepted_at_least "$id" 2; then
    sleep 2
    n_before=$(accepted_count "$id")
    agg_pid=$(member_pid aggregator)
    kill -KILL "$agg_pid"
    wait_for 10 gone_pid "$agg_pid"
    ok "aggregator killed with -9 while running, $n_before of 9 batches accepted"
    check "restart the aggregator" "$lf" restart "$fed" aggregator
    wait_for 20 bash -c 'curl -s -o /dev/null --max-time 2 --cacert "$1" "$2/api/v1/me"' _ "$ca" "$url"
    st=$(status_json "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
    if [ "$st" = running ]; then ok "after the restart the query is still running"; else bad "after the restart: $st"; fi
    kill -CONT "$skola_pid"
    expect_released "$id" "aggregator killed and restarted"
  else
    kill -CONT "$skola_pid"
    bad "the query did not reach running with accepted batches (status $st)"
  fi
fi
agg_query=$id

# ---- 4. another analyst ----------------------------------------------------
printf 'berits-password-%s\n' "$RANDOM$RANDOM" |
  "$aggbin" user add berit --role analyst --dir "$fed/aggregator" >/dev/null 2>&1
berit=$("$aggbin" token create berit --dir "$fed/aggregator" 2>/dev/null)
http_token=$berit
expect_http 404 "another analyst's query status" "$(http GET "/api/v1/queries/$agg_query")"
expect_http 404 "another analyst's result" "$(http GET "/api/v1/queries/$agg_query/result")"
expect_http 404 "another analyst's result.csv" "$(http GET "/api/v1/queries/$agg_query/result.csv")"
expect_http 200 "the other analyst's own list" "$(http GET /api/v1/queries)"
check "the other analyst's list does not show the query" bash -c '! grep -q "$1" "$2"' _ "$agg_query" "$work/body"
expect_http 404 "a query id that does not exist" "$(http GET "/api/v1/queries/$(printf 'ab%.0s' $(seq 16))")"
http_token=$token
expect_http 200 "the owner's result" "$(http GET "/api/v1/queries/$agg_query/result")"

# ---- 5. a node killed mid-step ---------------------------------------------
# skola is killed the moment its per-query key file appears: it is then
# computing its first step (the origin of its ~2/3-of-the-children chain).
id=$(submit "$query")
if [ -z "$id" ]; then bad "submit for the node kill"; cat "$work/submit.err"; else
  skola_pid=$(member_pid node:skola)
  if wait_for 30 test -e "$fed/nodes/skola/queries/$id.r"; then
    kill -KILL "$skola_pid"
    n_skola=$(accepted_count "$id" skola)
    ok "skola killed with -9 during its first step ($n_skola of its 3 batches accepted)"
    check "restart node skola" "$lf" restart "$fed" skola
    expect_released "$id" "node killed and restarted"
  else
    bad "skola never made a per-query key for $id"
  fi
fi

# ---- 6. fake uploads and a tampered batch on a stalled relay ---------------
# skola holds queries for a person (approval = manual); its worker is
# frozen before `crosscount-node approve` is run, so after the query starts
# chain 0 waits at hop 1 (skola's) with bup's hop-0 batch stored.
conf_manual() {
  sed -i 's/^approval = .*/approval = manual/' "$fed/nodes/skola/node.conf"
  "$lf" restart "$fed" skola
}
check "skola to manual approval" conf_manual
stall() { # -> prints the id of a query stalled at chain 0 hop 1
  local id
  id=$(submit "$query") || return 1
  [ -n "$id" ] || return 1
  wait_for 30 held_at skola "$id" || return 1
  kill -STOP "$(member_pid node:skola)"
  # The worker may have been frozen while holding its query log's lock;
  # approve then gives up after a bounded wait having decided nothing
  # (it records before it sends, SPEC 7.2): let the worker run a moment,
  # freeze it again and retry. The batch below proves approval.
  local tries=0
  until "$nodebin" approve --dir "$fed/nodes/skola" --by "Maria Berg" "$id" >&2; do
    tries=$((tries + 1))
    [ "$tries" -lt 5 ] || return 1
    kill -CONT "$(member_pid node:skola)"
    sleep 1
    kill -STOP "$(member_pid node:skola)"
  done
  wait_for 30 test -s "$fed/aggregator/batches/$id/0-0.batch" || return 1
  echo "$id"
}
# A batch rewritten as hop HOP and re-signed with another node's key.
resign() { # in out hop signer
  python3 - "$@" "$fed/pki" <<'PY'
import hashlib, struct, subprocess, sys, tempfile, os
src, out, hop, signer, pki = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
b = bytearray(open(src, "rb").read())
nrefs, count = struct.unpack(">HI", b[30:36])
body = b[:40 + 36 * nrefs + 96 * count]
body[26:28] = struct.pack(">H", hop)
cert = subprocess.run(["openssl", "x509", "-in", "%s/nodes/%s.crt" % (pki, signer),
                       "-outform", "DER"], check=True, capture_output=True).stdout
msg = b"crosscount-v1-batch-signature\x00" + hashlib.sha256(body).digest()
with tempfile.NamedTemporaryFile(delete=False) as f:
    f.write(msg)
sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", "%s/nodes/%s.key" % (pki, signer),
                      f.name], check=True, capture_output=True).stdout
os.unlink(f.name)
open(out, "wb").write(bytes(body) + struct.pack(">H", len(cert)) + cert +
                      struct.pack(">H", len(sig)) + sig)
PY
}
# upload_as NODE FILE CHAIN HOP: PUT at offset 0 then commit; prints
# "PUT-status COMMIT-status" (body of the last call in $work/body).
upload_as() {
  local n=$1 f=$2 c=$3 h=$4 put commit size digest
  put=$(http_node "$n" PUT "/api/v1/node/queries/$id/batches/$c/$h?offset=0" \
    -H 'Content-Type: application/octet-stream' --data-binary "@$f")
  size=$(stat -c %s "$f")
  digest=$(sha256sum "$f" | cut -c1-64)
  commit=$(http_node "$n" POST "/api/v1/node/queries/$id/batches/$c/$h/commit" \
    -H 'Content-Type: application/json' --data-binary "{\"size\": $size, \"digest\": \"$digest\"}")
  echo "$put $commit"
}

if id=$(stall); then
  ok "query $id stalled at chain 0 hop 1 (skola frozen after approving)"
  check "skola's query log names the person who approved, and the account" \
    bash -c '"$1" queries --dir "$2" --json | jq -e --arg id "$3" --arg me "$(id -un)" \
      '"'"'.[] | select(.id == $id) | .decision.by == "Maria Berg (as \($me))"'"'"' >/dev/null' \
    _ "$nodebin" "$fed/nodes/skola" "$id"
  b00="$fed/aggregator/batches/$id/0-0.batch"
  cp "$b00" "$work/0-0.batch"
  # Signed by the wrong node: a correct hop-1 header, signed with bup's key.
  resign "$work/0-0.batch" "$work/wrong-signer.batch" 1 bup
  r=$(upload_as skola "$work/wrong-signer.batch" 0 1)
  expect_http "204 422" "fake skola uploads a hop-1 batch signed by bup: PUT, commit" "$r"
  check "the refusal names the signer" grep -qiE 'signer|certificate|skola' "$work/body"
  sed 's/^/     /' "$work/body"; echo
  # Replayed: bup's hop-0 batch offered again as skola's hop-1 output...
  r=$(upload_as skola "$work/0-0.batch" 0 1)
  expect_http "204 422" "fake skola replays bup's hop-0 batch as hop 1: PUT, commit" "$r"
  # ...and uploaded again by bup to its step that is already accepted.
  r=$(http_node bup PUT "/api/v1/node/queries/$id/batches/0/0?offset=0" \
    -H 'Content-Type: application/octet-stream' --data-binary "@$work/0-0.batch")
  expect_http 409 "bup replays its accepted hop-0 batch" "$r"
  # A part at the wrong offset, an oversized part.
  r=$(http_node skola PUT "/api/v1/node/queries/$id/batches/0/1?offset=100" \
    -H 'Content-Type: application/octet-stream' --data-binary "@$work/0-0.batch")
  expect_http 409 "a part at an offset that is not the current length" "$r"
  head -c $(( (2 << 20) + 1 )) /dev/zero >"$work/big.part"
  r=$(http_node skola PUT "/api/v1/node/queries/$id/batches/0/1?offset=0" \
    -H 'Content-Type: application/octet-stream' --data-binary "@$work/big.part")
  case $r in
    413) ok "a part over CC_LIMIT_UPLOAD_PART (2 MiB + 1) is refused (413)" ;;
    000) ok "a part over CC_LIMIT_UPLOAD_PART (2 MiB + 1): connection closed" ;;
    *) bad "a part over CC_LIMIT_UPLOAD_PART: HTTP $r, wanted 413" ;;
  esac
  # Another node's certificate cannot upload skola's step.
  r=$(http_node soc PUT "/api/v1/node/queries/$id/batches/0/1?offset=0" \
    -H 'Content-Type: application/octet-stream' --data-binary "@$work/wrong-signer.batch")
  expect_http 403 "soc uploads the step due at skola" "$r"
  check "no refused upload left at the aggregator" \
    bash -c '! ls "$1" | grep -qv -E "^[0-9]+-[0-9]+\.batch$"' _ "$fed/aggregator/batches/$id"
  kill -CONT "$(member_pid node:skola)"
  expect_released "$id" "after the refused fake uploads"
else
  kill -CONT "$(member_pid node:skola)" 2>/dev/null
  bad "could not stall a query at chain 0 hop 1"
fi

if id=$(stall); then
  ok "query $id stalled at chain 0 hop 1 again"
  b00="$fed/aggregator/batches/$id/0-0.batch"
  # Flip the lowest bit of the first byte of an A in the middle of the
  # records: the encoding becomes "negative", never a valid element (SPEC
  # 5.5). The next node checks the signature before it multiplies (and so
  # checks) the elements (8.6), so the signature is what it refuses.
  python3 - "$b00" <<'PY'
import struct, sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
nrefs, count = struct.unpack(">HI", b[30:36])
off = 40 + 36 * nrefs + 96 * (count // 2) + 32
b[off] ^= 0x01
open(p, "r+b").write(b)
PY
  kill -CONT "$(member_pid node:skola)"
  st=$(wait_status "$id" 60 failed released)
  if [ "$st" = failed ]; then ok "the tampered batch fails the query"; else bad "tampered batch: status $st, wanted failed"; fi
  reason=$(status_json "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("reason"))')
  echo "     reason: $reason"
  check "the reason names the node that refused it or the producer" grep -qE '\b(skola|bup)\b' <<<"$reason"
  check "the reason says what was wrong" grep -qiE 'signature by .* does not verify' <<<"$reason"
  check "the reason names no file of the node" bash -c '! grep -q / <<<"$1"' _ "$reason"
  # skola logged its failure first (SPEC 7.4 item 4): the other steps of
  # the query offered with it (chain 1 hop 0, chain 2 hop 2) do not run.
  check "skola runs no step of the query after it failed it" \
    awk -v id="$id" 'index($0, id) && /reported failure/ { f = 1 }
      f && index($0, id) && /origin step of chain|relayed chain/ { bad = 1 }
      END { exit !(f && !bad) }' "$fed/logs/node-skola.log"
  check_query_gone "$id" "tampered: nothing of the failed query left on disk"
else
  kill -CONT "$(member_pid node:skola)" 2>/dev/null
  bad "could not stall a second query"
fi

# ---- 7. afterwards -----------------------------------------------------------
check "crosscount-aggregator audit verify" "$aggbin" audit verify --dir "$fed/aggregator"
check "every process of the federation still runs" \
  bash -c '[ "$(wc -l <"$1")" -eq 5 ] && while read -r _ p _; do kill -0 "$p" || exit 1; done <"$1"' _ "$fed/pids"
# Every query has ended and every node has had its forget (a node that
# missed one gets it again, SPEC 7.4 item 10): nothing is left.
node_files_left() { find "$fed"/nodes/*/queries -type f 2>/dev/null; }
no_node_files() { [ -z "$(node_files_left)" ]; }
if wait_for 45 no_node_files; then
  ok "no per-query file left at any node"
else
  bad "per-query files left at the nodes:"
  node_files_left | sed 's/^/     /'
fi
unforgotten() {
  sqlite3 -cmd ".timeout 5000" "$fed/aggregator/aggregator.db" "SELECT COUNT(*) FROM query_nodes n JOIN queries q ON q.id = n.query WHERE n.forgotten = 0 AND q.status IN ('released', 'failed', 'rejected')"
}
all_forgotten() { [ "$(unforgotten)" = 0 ]; }
if wait_for 45 all_forgotten; then
  ok "every node answered forgotten for every ended query"
else
  bad "forgets not answered: $(unforgotten)"
fi

finish

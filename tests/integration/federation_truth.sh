#!/usr/bin/env bash
# Integration test: a whole federation as real processes on loopback with
# mutual TLS (deploy/local-federation): four nodes (skola:school,
# soc:social, soc2:social, bup:health; the social services set is made of
# two nodes), crosscount-synth exports imported, queries submitted with the
# crosscount CLI (--wait). Every released table is checked against synth's
# ground truth: published counts exactly equal, withheld entries exactly
# those the disclosure module withholds for the true counts (primary and
# secondary suppression) and the released pattern safe under
# cc_disclosure_check (tests/integration/disclosure_expect.c); the digest
# recomputed; result.csv equal to the JSON; after release nothing of the
# query left on disk at the aggregator or the nodes; the audit chain
# verifies and holds every released digest.
fed_test_name=federation-truth
source "$(dirname "$0")/federation_lib.sh"

for b in "$aggbin" "$nodebin" "$clibin" "$synthbin" "$expectbin"; do
  [ -x "$b" ] || { echo "FAIL $b is not built"; failed=1; finish; }
done

children=${CC_FED_CHILDREN:-4000}
seed=11
year=2025
"$synthbin" --out "$work/synth" --children "$children" --seed "$seed" --year "$year" \
  >"$work/synth.out" 2>&1 || { cat "$work/synth.out"; bad "crosscount-synth"; finish; }

fed_start --nodes skola:school,soc:social,soc2:social,bup:health --auto-approve

# deploy/local-federation's own contract.
check_rc 0 "local-federation --help" "$lf" --help
check_rc 2 "local-federation start without --nodes" "$lf" start "$work/other"
check_rc 2 "local-federation start with a bad sector" "$lf" start "$work/other" --nodes a:school,b:police
check_rc 1 "local-federation start refuses the running federation" \
  "$lf" start "$fed" --nodes skola:school
cp "$work/last.out" "$work/refusal.txt"
check "the refusal says it is running" grep -q 'is running' "$work/refusal.txt"
check_rc 1 "local-federation import into an unknown node" \
  "$lf" import "$fed" nowhere "$work/synth/bup.csv"
check "start printed every field" python3 -c '
import json, os, sys
d = json.load(open(sys.argv[1]))
assert set(d) == {"aggregator_url", "token", "ca", "web_user", "web_password", "nodes", "dir"}, set(d)
assert sorted(d["nodes"]) == ["bup", "skola", "soc", "soc2"]
assert all(os.path.isfile(p + "/node.conf") for p in d["nodes"].values())
assert os.path.isfile(d["ca"]) and d["aggregator_url"].startswith("https://127.0.0.1:")
assert oct(os.stat(d["dir"] + "/federation.json").st_mode & 0o777) == "0o600"' "$work/fed.json"

# skola: column names from synth's manifest (Swedish headers); soc: given
# explicitly; soc2 and bup: the default names.
check "import skola (manifest says Swedish headers)" \
  "$lf" import "$fed" skola "$work/synth/skola.csv" --on 2026-01-15
check "import soc (--columns sv)" \
  "$lf" import "$fed" soc "$work/synth/soc.csv" --on 2026-01-15 --columns sv
check "import soc2" "$lf" import "$fed" soc2 "$work/synth/soc2.csv" --on 2026-01-15
check "import bup (--columns default)" \
  "$lf" import "$fed" bup "$work/synth/bup.csv" --on 2026-01-15 --columns default
check "skola's node.conf maps the Swedish columns" \
  grep -qx 'column.personnummer = Personnummer' "$fed/nodes/skola/node.conf"

# The queries: synth's default (three sets by age band and sex), no
# breakdown, one set only, categories with another grid, four sets by sex
# with a higher min_cell.
mkdir -p "$work/q"
cp "$work/synth/query.json" "$work/q/default.json"
cat >"$work/q/plain.json" <<'EOF'
{"title": "Utan uppdelning", "period": {"from": "2025-01", "to": "2025-12"},
 "sets": [{"label": "skola", "nodes": ["skola"]},
          {"label": "socialtjänst", "nodes": ["soc", "soc2"]},
          {"label": "bup", "nodes": ["bup"]}]}
EOF
cat >"$work/q/one.json" <<'EOF'
{"title": "Bara BUP", "period": {"from": "2025-01", "to": "2025-12"},
 "sets": [{"label": "bup", "nodes": ["bup"]}], "breakdown": ["sex"]}
EOF
cat >"$work/q/categories.json" <<'EOF'
{"title": "Frånvaro, placering, behandling", "period": {"from": "2025-03", "to": "2025-11"},
 "sets": [{"label": "frånvaro", "nodes": ["skola"], "categories": ["frånvaro", "särskilt_stöd"]},
          {"label": "placering eller insats", "nodes": ["soc2", "soc"], "categories": ["placering", "insats"]},
          {"label": "bup behandling", "nodes": ["bup"], "categories": ["behandling"]}],
 "breakdown": ["age_band"], "age_bands": [[6, 9], [10, 12], [13, 15]], "min_cell": 5}
EOF
cat >"$work/q/four.json" <<'EOF'
{"title": "Fyra mängder", "period": {"from": "2024-07", "to": "2025-06"},
 "sets": [{"label": "skola", "nodes": ["skola"]}, {"label": "soc", "nodes": ["soc"]},
          {"label": "soc2", "nodes": ["soc2"]}, {"label": "bup", "nodes": ["bup"]}],
 "breakdown": ["sex"], "min_cell": 8}
EOF

# CSV (SPEC 9.6) equal to the JSON table's cells.
csv_matches_json() { # result.json result.csv
  python3 - "$1" "$2" <<'PY'
import csv, io, json, sys
t = json.load(open(sys.argv[1], encoding="utf-8"))
raw = open(sys.argv[2], "rb").read()
assert raw.startswith(b"\xef\xbb\xbf"), "no byte order mark"
text = raw[3:].decode("utf-8")
assert "\r\n" in text and "\n" not in text.replace("\r\n", ""), "line ends are not CRLF"
rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
assert rows[0] == ["combination", "age_band", "sex", "count", "suppressed"], rows[0]
want = [[" + ".join(c["combination"]), c.get("age_band", ""), c.get("sex", ""),
         "" if c["count"] is None else str(c["count"]),
         "true" if c["suppressed"] else "false"] for c in t["cells"]]
got = rows[1:]
assert len(got) == len(want), "%d rows, %d cells" % (len(got), len(want))
for i, (g, w) in enumerate(zip(got, want)):
    assert g == w, "row %d: %r != %r" % (i + 1, g, w)
PY
}

# SPEC 9.6: digest = SHA-256 of the canonical JSON without "digest".
digest_matches() { # result.json
  python3 - "$1" <<'PY'
import hashlib, json, sys
t = json.load(open(sys.argv[1], encoding="utf-8"))
d = t.pop("digest")
c = json.dumps(t, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
h = hashlib.sha256(c.encode("utf-8")).hexdigest()
assert h == d, "digest %s, recomputed %s" % (d, h)
PY
}

released_ids=()
for name in default plain one categories four; do
  q="$work/q/$name.json"
  t="$work/truth-$name"
  # The truth of this query over the same people (same seed and flags:
  # the exports are byte-identical, checked).
  if ! "$synthbin" --out "$t" --children "$children" --seed "$seed" --year "$year" \
      --query "$q" >"$work/last.out" 2>&1; then
    bad "$name: crosscount-synth --query"; sed 's/^/     /' "$work/last.out"; continue
  fi
  check "$name: synth exports identical to the imported ones" \
    bash -c 'for f in skola soc soc2 bup; do cmp "$1/$f.csv" "$2/$f.csv" || exit 1; done' _ "$work/synth" "$t"

  res="$work/result-$name.json"
  start_s=$SECONDS
  if timeout 300 "$clibin" --aggregator "$url" --token "$token" --ca "$ca" \
      query submit "$q" --wait >"$res" 2>"$work/submit-$name.err"; then
    ok "$name: released ($((SECONDS - start_s)) s)"
  else
    bad "$name: crosscount query submit --wait"
    sed 's/^/     /' "$work/submit-$name.err" | tail -5
    continue
  fi
  id=$(jget "$res" 'd["id"]')
  released_ids+=("$id")
  if "$expectbin" "$t/truth.json" "$res" >"$work/expect-$name.out" 2>&1; then
    ok "$name: every published count equals the truth, withheld exactly as the disclosure module ($(tail -1 "$work/expect-$name.out" | sed 's/^cc-disclosure-expect: //'))"
  else
    bad "$name: released table against the truth"
    sed 's/^/     /' "$work/expect-$name.out" | head -20
  fi
  check "$name: digest is SHA-256 of the canonical table" digest_matches "$res"
  if cli query result "$id" --csv >"$work/result-$name.csv" 2>"$work/last.err"; then
    check "$name: result.csv equals the JSON table" csv_matches_json "$res" "$work/result-$name.csv"
  else
    bad "$name: crosscount query result --csv"
    sed 's/^/     /' "$work/last.err"
  fi
  check_query_gone "$id" "$name: no batch, token or per-query key of the query left on disk"
done

# The default query breaks down by age and sex: small cells exist, so the
# comparison above really exercised suppression.
if grep -qE ', [1-9][0-9]* withheld' "$work/expect-default.out" 2>/dev/null; then
  ok "default: some cells were withheld (suppression was exercised)"
else
  bad "default: no cell withheld; the test data does not exercise suppression"
fi

# The audit log (SPEC 13): the chain verifies, and for every released
# query it shows each node's approval, exactly k accepted batches per chain
# signed by the node due at that hop (8.2), the released digest, and the
# deletion of the intermediates. Read from the store itself (read-only).
check "crosscount-aggregator audit verify" "$aggbin" audit verify --dir "$fed/aggregator"
audit_checks() { # result.json
  python3 - "$fed/aggregator/aggregator.db" "$1" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
r = json.load(open(sys.argv[2], encoding="utf-8"))
qid = r["id"]
rows = [(e, a, json.loads(d)) for e, a, d in
        db.execute("SELECT event, actor, detail FROM audit ORDER BY seq")]
mine = [(e, a, d) for e, a, d in rows if d.get("query") == qid]
sub = [d for e, a, d in rows if e == "query.submitted" and d.get("query") == qid]
assert len(sub) == 1, "query.submitted entries: %d" % len(sub)
doc = json.loads(sub[0]["document"])
nodes = sorted({n for s in doc["sets"] for n in s["nodes"]})
k = len(nodes)
approved = sorted(d["node"] for e, a, d in mine if e == "query.approved")
assert approved == nodes, "approvals %s, nodes %s" % (approved, nodes)
acc = [(d["chain"], d["hop"], d["signer"]) for e, a, d in mine if e == "batch.accepted"]
want = sorted((c, h, nodes[(c + h) % k]) for c in range(k) for h in range(k))
assert sorted(acc) == want, "accepted batches %s, want %s" % (sorted(acc), want)
rel = [d for e, a, d in mine if e == "query.released"]
assert len(rel) == 1 and rel[0]["digest"] == r["digest"], "query.released %s" % rel
assert any(e == "query.deleted-intermediates" for e, a, d in mine), "no deletion entry"
PY
}
for name in default plain one categories four; do
  res="$work/result-$name.json"
  [ -s "$res" ] || continue
  check "$name: audit log: approvals, k batches per chain with the expected signers, released digest, deletion" \
    audit_checks "$res"
  # The nodes' local logs (SPEC 13: an outside anchor) hold the same digest.
  id=$(jget "$res" 'd["id"]')
  digest=$(jget "$res" 'd["digest"]')
  for n in $(jget "$work/q/$name.json" '" ".join(sorted({n for s in d["sets"] for n in s["nodes"]}))'); do
    check "$name: node $n's query log records the released digest" \
      grep -q "$digest" "$fed/nodes/$n/queries.log"
  done
done
# The same log over the API (docs/api.md): auditors only.
printf 'revisorns-losenord-%s\n' "$RANDOM$RANDOM" |
  "$aggbin" user add revisor --role auditor --dir "$fed/aggregator" >/dev/null 2>&1
auditor_token=$("$aggbin" token create revisor --dir "$fed/aggregator" 2>/dev/null)
expect_http 403 "GET /api/v1/audit as an analyst" "$(http_token=$token http GET /api/v1/audit)"
expect_http 200 "GET /api/v1/audit as an auditor" "$(http_token=$auditor_token http GET /api/v1/audit)"
cp "$work/body" "$work/audit.json"
check "GET /api/v1/audit: verified, and every released digest with its query" python3 - "$work/audit.json" "$work"/result-*.json <<'PY'
import json, sys
a = json.load(open(sys.argv[1], encoding="utf-8"))
assert a["verified"] is True and a["problem"] is None, (a["verified"], a["problem"])
released = [json.dumps(e, ensure_ascii=False) for e in a["entries"] if e["event"] == "query.released"]
for f in sys.argv[2:]:
    r = json.load(open(f, encoding="utf-8"))
    assert any(r["id"] in e and r["digest"] in e for e in released), "no query.released for " + r["id"]
PY
check "the audit log holds no identity-shaped number" python3 - "$fed/aggregator/aggregator.db" <<'PY'
import re, sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
text = "\n".join(a + " " + e + " " + d for a, e, d in
                 db.execute("SELECT actor, event, detail FROM audit"))
# Hashes and ids are hex: a run of ten or more digits standing alone
# (a personnummer in any written form) must not appear.
bad = re.findall(r"(?<![0-9a-f])[0-9]{6}-?[0-9]{4}(?![0-9a-f])", text)
assert not bad, "%d identity-shaped numbers" % len(bad)
PY

# stop: stops every member by pid, and never a process it did not start,
# even one whose pid is written in DIR/pids.
sleep 1000 </dev/null >/dev/null 2>&1 &
decoy=$!
extra_pids+=("$decoy")
decoy_start=$(awk '{ print $22 }' "/proc/$decoy/stat")
echo "node:decoy $decoy $decoy_start" >>"$fed/pids"
members=$(awk '$1 != "node:decoy" { print $2 }' "$fed/pids")
check "local-federation stop" "$lf" stop "$fed"
cp "$work/last.out" "$work/stop.txt"
check "stop names the aggregator and the four nodes" \
  bash -c '[ "$(grep -c "^stopped " "$1")" -eq 5 ]' _ "$work/stop.txt"
# (an exited process lingers until its parent, init here, reaps it)
check "every member is gone" bash -c 'for i in $(seq 50); do
  alive=0; for p in $1; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ "$alive" -eq 0 ] && exit 0; sleep 0.1; done; exit 1' _ "$members"
check "a process it did not start is left alone" kill -0 "$decoy"
check_rc 0 "stop again: nothing to stop" "$lf" stop "$fed"
cp "$work/last.out" "$work/stop2.txt"
check "stop again says nothing was running" grep -q 'nothing was running' "$work/stop2.txt"

finish

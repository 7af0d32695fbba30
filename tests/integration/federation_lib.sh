# Shared by the federation integration tests (sourced, not run): a local
# federation (deploy/local-federation) in a scratch directory, cleaned up
# on every exit, with pass/fail counting and small HTTP/JSON helpers.
#
# The caller sets fed_test_name before sourcing. Everything started is
# stopped by pid (deploy/local-federation stop, and the pids this file's
# helpers record for processes they start themselves).

set -uo pipefail

build=${CC_BUILD_DIR:?CC_BUILD_DIR must name the build directory}
build=$(cd "$build" && pwd)
src=${CC_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
lf="$src/deploy/local-federation"
aggbin="$build/aggregator/crosscount-aggregator"
nodebin="$build/node/crosscount-node"
clibin="$build/cli/crosscount"
synthbin="$build/deploy/synth/crosscount-synth"
expectbin="$build/tests/integration/cc-disclosure-expect"
export CROSSCOUNT_BUILD_DIR=$build CROSSCOUNT_NO_BUILD=1 CROSSCOUNT_STOP_GRACE=5

work=$(mktemp -d "/tmp/cc-${fed_test_name:-federation}-XXXXXX")
fed="$work/fed"
passed=0
failed=0
extra_pids=()       # background helpers this test started itself

# The interpreter itself, not a version manager's shim (which can cost a
# second per call).
py=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || py=python3
python3() { "$py" "$@"; }
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
check() { # description command...
  local d=$1
  shift
  if "$@" >"$work/last.out" 2>&1; then ok "$d"; else
    bad "$d"
    sed 's/^/     /' "$work/last.out" | head -30
  fi
}
check_rc() { # want description command...
  local want=$1 d=$2 rc
  shift 2
  "$@" >"$work/last.out" 2>&1
  rc=$?
  if [ "$rc" -eq "$want" ]; then ok "$d"; else
    bad "$d (exit $rc, wanted $want)"
    sed 's/^/     /' "$work/last.out" | head -20
  fi
}

fed_cleanup() {
  local rc=$? p
  trap - EXIT INT TERM
  for p in "${extra_pids[@]}"; do
    kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  if [ -f "$fed/pids" ]; then
    # A node left stopped (SIGSTOP) by a failed step must get TERM too.
    while read -r _ p _; do kill -CONT "$p" 2>/dev/null; done <"$fed/pids"
    "$lf" stop "$fed" >"$work/stop.out" 2>&1 || cat "$work/stop.out"
  fi
  if [ "$failed" -gt 0 ] || [ "$rc" -ne 0 ]; then
    for p in "$fed"/logs/*.log; do
      [ -f "$p" ] || continue
      echo "---- last lines of $p"
      tail -n 15 "$p" | sed 's/^/     /'
    done
  fi
  if [ "${CC_KEEP_WORK:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap fed_cleanup EXIT
trap 'exit 130' INT TERM

# Print the summary line and exit with the right status.
finish() {
  # Stop the federation first: a sanitizer build reports leaks at exit.
  if [ -f "$fed/pids" ]; then "$lf" stop "$fed" >/dev/null 2>&1; fi
  if grep -q -E 'ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:' \
      "$fed"/logs/*.log 2>/dev/null; then
    bad "a process of the federation reported a sanitizer error:"
    grep -h -A12 -E 'ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:' \
      "$fed"/logs/*.log | head -40 | sed 's/^/     /'
  else
    ok "no sanitizer report in any process's log"
  fi
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}

# jget FILE PYTHON-EXPRESSION-OF-d
jget() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1], encoding="utf-8")); v=eval(sys.argv[2]); print(v if not isinstance(v,(dict,list)) else json.dumps(v, ensure_ascii=False))' "$1" "$2"
}

# Start the federation; sets url token ca.
fed_start() { # start options...
  if ! timeout 300 "$lf" start "$fed" "$@" >"$work/fed.json" 2>"$work/start.err"; then
    echo "FAIL deploy/local-federation start"
    sed 's/^/     /' "$work/start.err"
    failed=$((failed + 1))
    finish
  fi
  ok "deploy/local-federation start $*"
  url=$(jget "$work/fed.json" 'd["aggregator_url"]')
  token=$(jget "$work/fed.json" 'd["token"]')
  ca=$(jget "$work/fed.json" 'd["ca"]')
}

cli() { "$clibin" --aggregator "$url" --token "$token" --ca "$ca" "$@"; }

# http METHOD PATH [curl options...]: prints the status; the body is in
# $work/body. Bearer token from $http_token if set.
http() {
  local m=$1 p=$2
  shift 2
  local -a auth=()
  [ -n "${http_token:-}" ] && auth=(-H "Authorization: Bearer $http_token")
  curl -s -o "$work/body" -w '%{http_code}' --max-time 30 --cacert "$ca" \
    -X "$m" "${auth[@]}" "$@" "$url$p"
}

# Like http, but as node ID with its certificate from the federation PKI
# (a "fake node": curl with the node's real key, not the node program).
http_node() { # id method path [curl options...]
  local id=$1 m=$2 p=$3
  shift 3
  curl -s -o "$work/body" -w '%{http_code}' --max-time 30 --cacert "$ca" \
    --cert "$fed/pki/nodes/$id.crt" --key "$fed/pki/nodes/$id.key" \
    -X "$m" "$@" "$url$p"
}

expect_http() { # want description status
  if [ "$3" = "$1" ]; then ok "$2 ($3)"; else
    bad "$2: HTTP $3, wanted $1"
    head -c 400 "$work/body" | sed 's/^/     /'
    echo
  fi
}

# The pid of a member ("aggregator" or "node:ID") from the federation's pids.
member_pid() { awk -v n="$1" '$1 == n { print $2 }' "$fed/pids"; }

# Wait (bounded) until query ID has status in the given set; prints it.
wait_status() { # id seconds status...
  local id=$1 limit=$2 st deadline
  shift 2
  deadline=$((SECONDS + limit))
  while :; do
    st=$(cli query status "$id" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])' 2>/dev/null)
    for s in "$@"; do
      if [ "$st" = "$s" ]; then echo "$st"; return 0; fi
    done
    if [ "$SECONDS" -ge "$deadline" ]; then echo "${st:-unknown}"; return 1; fi
    sleep 0.3
  done
}

# Nothing of query ID left on disk: no batches at the aggregator, no
# per-query file (r, batches) at any node. Waits (bounded) for `forget`
# to reach the nodes.
query_files_left() { # id
  find "$fed/aggregator" "$fed/nodes" -name "*$1*" 2>/dev/null
}
check_query_gone() { # id description
  local id=$1 d=$2 deadline=$((SECONDS + 45)) left
  while :; do
    left=$(query_files_left "$id")
    [ -n "$left" ] || break
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 0.5
  done
  if [ -z "$left" ] && [ ! -e "$fed/aggregator/batches/$id" ]; then ok "$d"; else
    bad "$d: still on disk:"
    echo "$left" | sed 's/^/     /'
  fi
}

#!/usr/bin/env bash
# The web UI's browser test: a real local federation (deploy/local-federation:
# aggregator and four node workers as processes on loopback with mutual TLS,
# crosscount-synth data imported, nodes that wait for a person to approve),
# driven through the UI by Debian's Chromium with playwright-core
# (tests/browser/ui.test.mjs). Prints one line per check, the screenshots'
# paths and "N passed, N failed"; exits non-zero if anything failed.
#
#   tests/browser/run.sh [BUILD_DIR]     (default: build)
#
# Needs what `deploy/setup --browser` installs: chromium, Node.js, and
# tests/browser/node_modules from package-lock.json (npm ci), with the
# chart library copied to aggregator/web/vendor/. The programs must be
# built in BUILD_DIR. Screenshots go to BUILD_DIR/browser-screenshots/.
# CC_KEEP_WORK=1 keeps the scratch directory (federation, logs).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd) || { echo "FAIL no build directory ${1:-build}"; echo "0 passed, 1 failed"; exit 1; }
lf="$root/deploy/local-federation"
aggbin="$build/aggregator/crosscount-aggregator"
nodebin="$build/node/crosscount-node"
synthbin="$build/deploy/synth/crosscount-synth"
export CROSSCOUNT_BUILD_DIR=$build CROSSCOUNT_NO_BUILD=1 CROSSCOUNT_STOP_GRACE=5

missing=()
for b in "$aggbin" "$nodebin" "$synthbin"; do [ -x "$b" ] || missing+=("$b (not built)"); done
[ -x /usr/bin/chromium ] || missing+=("/usr/bin/chromium")
command -v node >/dev/null || missing+=("node")
[ -f "$here/node_modules/playwright-core/package.json" ] || missing+=("tests/browser/node_modules/playwright-core")
[ -f "$here/node_modules/axe-core/axe.min.js" ] || missing+=("tests/browser/node_modules/axe-core")
[ -f "$root/aggregator/web/vendor/venn.esm.js" ] || missing+=("aggregator/web/vendor/venn.esm.js")
if [ ${#missing[@]} -gt 0 ]; then
  echo "FAIL missing: ${missing[*]} (run deploy/setup --browser and build first)"
  echo "0 passed, 1 failed"
  exit 1
fi

work=$(mktemp -d /tmp/cc-browser-XXXXXX)
fed="$work/fed"
shots="$build/browser-screenshots"

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -f "$fed/pids" ]; then
    "$lf" stop "$fed" >"$work/stop.out" 2>&1 || cat "$work/stop.out"
  fi
  if [ "$rc" -ne 0 ]; then
    for p in "$fed"/logs/*.log; do
      [ -f "$p" ] || continue
      echo "---- last lines of $p"
      tail -n 15 "$p" | sed 's/^/     /'
    done
  fi
  if [ "${CC_KEEP_WORK:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

setup_fail() { echo "FAIL $1"; sed 's/^/     /' "$2" | tail -20; echo "0 passed, 1 failed"; exit 1; }

"$synthbin" --out "$work/synth" --children "${CC_BROWSER_CHILDREN:-12000}" --seed 5 --year 2025 >"$work/synth.out" 2>&1 ||
  setup_fail "crosscount-synth" "$work/synth.out"
# Nodes that wait for a person: the test sees "awaiting approval", then
# approves one query and rejects another with crosscount-node.
timeout 300 "$lf" start "$fed" --nodes skola:school,soc:social,soc2:social,bup:health \
  --manual-approve >"$work/fed.json" 2>"$work/start.err" ||
  setup_fail "deploy/local-federation start" "$work/start.err"
for n in skola soc soc2 bup; do
  "$lf" import "$fed" "$n" "$work/synth/$n.csv" --on 2026-01-15 >"$work/import-$n.out" 2>&1 ||
    setup_fail "import $n" "$work/import-$n.out"
done
# A second and third user: an auditor (audit log, every query, no
# submitting) and an admin (both).
auditor_password=$(openssl rand -hex 12)
admin_password=$(openssl rand -hex 12)
printf '%s\n' "$auditor_password" | "$aggbin" user add revisor --role auditor --dir "$fed/aggregator" \
  >"$work/users.out" 2>&1 || setup_fail "user add revisor" "$work/users.out"
printf '%s\n' "$admin_password" | "$aggbin" user add admin --role admin --dir "$fed/aggregator" \
  >>"$work/users.out" 2>&1 || setup_fail "user add admin" "$work/users.out"

rm -rf "$shots"
mkdir -p "$shots"
CC_FED_JSON="$work/fed.json" \
CC_AUDITOR_USER=revisor CC_AUDITOR_PASSWORD="$auditor_password" \
CC_ADMIN_USER=admin CC_ADMIN_PASSWORD="$admin_password" \
CC_NODE_BIN="$nodebin" CC_SCREENSHOTS="$shots" CC_WORK="$work" CC_WEB_ROOT="$root/aggregator/web" \
  timeout 900 node "$here/ui.test.mjs"

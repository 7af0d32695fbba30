#!/usr/bin/env bash
# Integration test of `meson install`: installs the build into a temporary
# DESTDIR and checks what a system installation gets: the four programs
# (and nothing else in bindir), the systemd units pointing at them, the
# service accounts, the man pages, the documents and test vectors, and the
# example configurations, which the installed programs must accept in the
# production layout (config in etc/crosscount, a symbolic link to it in the
# data directory): the example node.conf imports a Swedish-headed export,
# the example aggregator.conf serves the installed web UI with its policy.
set -uo pipefail

build=${CC_BUILD_DIR:-build}
src=${CC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d)
agg_pid=""
cleanup() {
  if [ -n "$agg_pid" ] && kill -0 "$agg_pid" 2>/dev/null; then
    kill -TERM "$agg_pid" 2>/dev/null
    wait "$agg_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
check() { # description command...
  local d=$1
  shift
  if "$@" >"$work/last.out" 2>&1; then ok "$d"; else bad "$d"; sed 's/^/     /' "$work/last.out" | head -30; fi
}
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit; }

# The configured directories (absolute, as the installed files name them).
eval "$(meson introspect --buildoptions "$build" | python3 -c '
import json, os, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
p = o["prefix"]
def a(v): return v if os.path.isabs(v) else os.path.join(p, v)
print("prefix=%s bindir=%s mandir=%s datadir=%s unitopt=%s" % (
    p, a(o["bindir"]), a(o["mandir"]), a(o["datadir"]), o.get("systemdsystemunitdir", "")))
')"
unitdir=${unitopt:-$prefix/lib/systemd/system}
[ -n "$unitdir" ] || unitdir=$prefix/lib/systemd/system
docdir=$datadir/doc/crosscount
root="$work/root"

check "meson install into a DESTDIR" \
  meson install -C "$build" --no-rebuild --destdir "$root" --quiet
[ -d "$root$prefix" ] || { bad "nothing was installed under $root$prefix"; finish; }

# Nothing outside the prefix.
outside=$(cd "$root" && find . -type f | sed 's|^\.||' | grep -v "^$prefix/" || true)
if [ -z "$outside" ]; then ok "every installed file is under $prefix"; else
  bad "files outside the prefix:"; echo "$outside" | sed 's/^/     /'; fi

# --- programs
programs=(crosscount crosscount-node crosscount-aggregator crosscount-proto)
for p in "${programs[@]}"; do
  check "$bindir/$p is installed and runs (--help)" "$root$bindir/$p" --help
done
extra=$(ls "$root$bindir" | grep -vxF -f <(printf '%s\n' "${programs[@]}") || true)
if [ -z "$extra" ]; then ok "bindir holds only the four programs"; else
  bad "unexpected files in bindir: $extra"; fi

# --- systemd units and accounts
units=(crosscount-aggregator.service crosscount-node.service
       crosscount-node-import.service crosscount-node-import.timer)
for u in "${units[@]}"; do
  [ -f "$root$unitdir/$u" ] && ok "unit $u installed" || bad "unit $u missing in $unitdir"
done
if grep -n '@[a-z]*@' "$root$unitdir"/crosscount-* >"$work/subst.out"; then
  bad "units with unsubstituted @variables@:"; sed 's/^/     /' "$work/subst.out"
else ok "units have no unsubstituted @variables@"; fi
unit_value() { # unit key -> every value of key, one a line
  sed -n "s/^$2=//p" "$root$unitdir/$1"
}
for pair in crosscount-node.service:"crosscount-node run" \
            crosscount-node-import.service:"crosscount-node import" \
            crosscount-aggregator.service:"crosscount-aggregator serve"; do
  u=${pair%%:*}
  want="$bindir/${pair#*:}"
  exe=$(unit_value "$u" ExecStart)
  if [[ "$exe" == "$want "* ]] && [ -x "$root${exe%% *}" ]; then
    ok "$u runs the installed ${pair#*:}"
  else bad "$u: ExecStart=$exe (wanted $want ...)"; fi
done
for u in crosscount-node.service crosscount-node-import.service crosscount-aggregator.service; do
  svc=${u%.service}
  svc=${svc%-import}
  problems=""
  for kv in ProtectSystem=strict NoNewPrivileges=yes PrivateTmp=yes \
            CapabilityBoundingSet= SystemCallFilter=@system-service \
            ReadWritePaths=/var/lib/$svc StateDirectory=$svc User=$svc; do
    grep -qx "$kv" "$root$unitdir/$u" || problems+=" $kv"
  done
  if grep -E '^ReadWritePaths=' "$root$unitdir/$u" | grep -vqx "ReadWritePaths=/var/lib/$svc"; then
    problems+=" (another ReadWritePaths)"
  fi
  if [ -z "$problems" ]; then ok "$u is hardened (own user, strict, narrow ReadWritePaths, no capabilities)"
  else bad "$u lacks:$problems"; fi
done
if grep -qx 'OnCalendar=.*' "$root$unitdir/crosscount-node-import.timer" &&
   grep -qx 'Persistent=true' "$root$unitdir/crosscount-node-import.timer"; then
  ok "the import timer fires on a calendar and makes up missed nights"
else bad "crosscount-node-import.timer has no OnCalendar/Persistent"; fi
sysusers="$root$prefix/lib/sysusers.d/crosscount.conf"
if [ -f "$sysusers" ] &&
   grep -Eq '^u crosscount-node[[:space:]]' "$sysusers" &&
   grep -Eq '^u crosscount-aggregator[[:space:]]' "$sysusers"; then
  ok "sysusers.d/crosscount.conf declares both service accounts"
else bad "sysusers.d/crosscount.conf missing or incomplete"; fi

# --- man pages
for m in man8/crosscount-node.8 man8/crosscount-aggregator.8 man1/crosscount.1 man1/crosscount-proto.1; do
  f="$root$mandir/$m"
  if [ -f "$f" ] && groff -man -ww -z "$f" 2>"$work/groff.out" && [ ! -s "$work/groff.out" ]; then
    ok "man page $m installed and renders without warnings"
  else bad "man page $m"; [ -f "$work/groff.out" ] && sed 's/^/     /' "$work/groff.out"; fi
done
if [ -e "$root$mandir/man1/crosscount-synth.1" ]; then
  bad "crosscount-synth.1 installed, but crosscount-synth is not"
else ok "no man page for the uninstalled crosscount-synth"; fi

# --- documents and vectors
for d in README.md admin.md analyst.md review.md pki.md api.md SPEC.md; do
  [ -s "$root$docdir/$d" ] && ok "document $d installed" || bad "document $d missing in $docdir"
done
check "the installed crosscount-proto reproduces the installed test vectors" \
  bash -c '"$1" vectors | cmp - "$2"' _ "$root$bindir/crosscount-proto" "$root$docdir/vectors/v1.json"
check "the installed crosscount-proto passes its self-test" "$root$bindir/crosscount-proto" selftest

# --- the example node.conf, in the production layout
etc="$work/etc/crosscount"
mkdir -p "$etc" "$work/var/lib"
ex="$root$docdir/examples"
for e in node.conf aggregator.conf node-import.env; do
  [ -s "$ex/$e" ] && ok "example $e installed" || bad "example $e missing in $ex"
done
node="$root$bindir/crosscount-node"
ndir="$work/var/lib/crosscount-node"
id=$(sed -n 's/^id = //p' "$ex/node.conf")
sector=$(sed -n 's/^sector = //p' "$ex/node.conf")
check "crosscount-node init (the example's id $id, sector $sector)" \
  "$node" init --dir "$ndir" --id "$id" --sector "$sector"
cp "$ex/node.conf" "$etc/node.conf"
rm -f "$ndir/node.conf"
ln -s "$etc/node.conf" "$ndir/node.conf"
check "the example node.conf, linked from the node directory, is accepted (policy)" \
  "$node" policy --dir "$ndir"
if grep -q 'manual' "$work/last.out" && grep -q 'särskilt_stöd' "$work/last.out"; then
  ok "the node reads the example's policy (manual approval, its categories)"
else bad "policy output does not show the example's policy"; sed 's/^/     /' "$work/last.out"; fi
synth="$build/deploy/synth/crosscount-synth"
check "crosscount-synth writes a Swedish-headed school export" \
  "$synth" --out "$work/synth" --children 1500 --seed 5 --nodes "$id:school:sv"
check "the example's column mapping imports that export" \
  "$node" import --dir "$ndir" --on 2026-01-15 "$work/synth/$id.csv"
check "the node holds the data (status)" "$node" status --dir "$ndir"
grep -Eq '^persons +[1-9]' "$work/last.out" && ok "status shows persons" || bad "status shows no persons"
[ -L "$ndir/node.conf" ] && ok "node.conf is still the link to etc" || bad "node.conf was replaced"

# --- the example aggregator.conf, in the production layout, serving
pki="$work/pki"
check "deploy/pki makes a federation PKI" \
  bash -c '"$1" init "$2" --name "install test" && "$1" server "$2" aggregator' _ "$src/deploy/pki" "$pki"
agg="$root$bindir/crosscount-aggregator"
adir="$work/var/lib/crosscount-aggregator"
check "crosscount-aggregator init" "$agg" init --dir "$adir"
# Only the machine-specific lines change: where it listens and the TLS
# files; the web root gets the DESTDIR in front. The policy stays.
sed -e 's|^listen = .*|listen = 127.0.0.1|' -e 's|^port = .*|port = 0|' \
    -e "s|^cert = .*|cert = $pki/server/aggregator.crt|" \
    -e "s|^key = .*|key = $pki/server/aggregator.key|" \
    -e "s|^ca = .*|ca = $pki/ca.crt|" \
    -e "s|^web_root = |web_root = $root|" "$ex/aggregator.conf" >"$etc/aggregator.conf"
rm -f "$adir/aggregator.conf"
ln -s "$etc/aggregator.conf" "$adir/aggregator.conf"
password=$(openssl rand -hex 12)
check "user add" bash -c 'printf "%s\n" "$3" | "$1" user add ana --role analyst --dir "$2"' _ "$agg" "$adir" "$password"
token=$("$agg" token create ana --dir "$adir" 2>/dev/null)
[ -n "$token" ] && ok "token create" || bad "token create printed no token"
"$agg" serve --dir "$adir" >"$work/serve.out" 2>"$work/serve.err" &
agg_pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -nE 's|.*listening on https://127\.0\.0\.1:([0-9]+).*|\1|p' "$work/serve.out")
  [ -n "$port" ] && break
  kill -0 "$agg_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -n "$port" ]; then
  ok "the example aggregator.conf, linked from the directory, serves"
  url="https://127.0.0.1:$port"
  check "the installed web UI is served at /" \
    bash -c 'curl -sf --cacert "$1" "$2/" | grep -qi "<html"' _ "$pki/ca.crt" "$url"
  curl -sf --cacert "$pki/ca.crt" -H "Authorization: Bearer $token" "$url/api/v1/federation" >"$work/fed.json"
  check "the aggregator applies the example's policy" python3 - "$work/fed.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))["policy"]
assert p["age_band_grids"] == [[[0, 5], [6, 12], [13, 17]], [[0, 17]], [[6, 9], [10, 12], [13, 15]]], p
assert p["min_cell_floor"] == 5 and p["deadline_minutes"] == 1440 and p["max_period_months"] == 60, p
PY
  kill -TERM "$agg_pid"
  wait "$agg_pid"
  rc=$?
  agg_pid=""
  [ "$rc" -eq 0 ] && ok "serve stops cleanly on SIGTERM" || bad "serve exited $rc on SIGTERM"
else
  bad "the aggregator did not start with the example configuration"
  sed 's/^/     /' "$work/serve.err" | head -20
fi

finish

#!/usr/bin/env bash
# Integration test of the systemd units as `meson install` installs them:
# `systemd-analyze verify` (syntax, every directive known, the ExecStart
# programs present and executable, the Documentation= man pages found)
# must pass without a single message, and `systemd-analyze security` must
# rate each service at most 2.0 (lower is safer; systemd calls up to 3.9
# "OK"). The units are checked in an image of the installation: a DESTDIR
# holding the install plus the host's own target and slice units, which
# the units order themselves against.
set -uo pipefail

build=${CC_BUILD_DIR:-build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit; }

if ! command -v systemd-analyze >/dev/null; then
  bad "systemd-analyze is missing (deploy/setup installs the systemd package)"
  finish
fi

eval "$(meson introspect --buildoptions "$build" | python3 -c '
import json, os, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
p = o["prefix"]
def a(v): return v if os.path.isabs(v) else os.path.join(p, v)
print("prefix=%s mandir=%s unitopt=%s" % (p, a(o["mandir"]), o.get("systemdsystemunitdir", "")))
')"
unitdir=${unitopt:-$prefix/lib/systemd/system}
root="$work/root"
if meson install -C "$build" --no-rebuild --destdir "$root" --quiet >"$work/install.out" 2>&1; then
  ok "meson install into a DESTDIR"
else
  bad "meson install"; sed 's/^/     /' "$work/install.out"; finish
fi

# The host's targets and slices (sysinit.target, network-online.target,
# multi-user.target, timers.target, ...) inside the image.
hostunits=""
for d in /usr/lib/systemd/system /lib/systemd/system; do
  [ -f "$d/sysinit.target" ] && { hostunits=$d; break; }
done
[ -n "$hostunits" ] || { bad "the host has no systemd units (sysinit.target)"; finish; }
mkdir -p "$root/usr/lib/systemd/system"
cp -a "$hostunits"/*.target "$hostunits"/*.slice "$root/usr/lib/systemd/system/" 2>/dev/null
cp -an "$hostunits"/*.target.wants "$root/usr/lib/systemd/system/" 2>/dev/null

units=(crosscount-aggregator.service crosscount-node.service
       crosscount-node-import.service crosscount-node-import.timer)
for u in "${units[@]}"; do
  if [ ! -f "$root$unitdir/$u" ]; then bad "$u is not installed in $unitdir"; continue; fi
  # Documentation=man:... is looked up with man(1) in the image.
  if (cd "$root" && MANPATH="$root$mandir" SYSTEMD_LOG_COLOR=0 \
        systemd-analyze verify --root="$root" "${unitdir#/}/$u") >"$work/verify.out" 2>&1 &&
     [ ! -s "$work/verify.out" ]; then
    ok "systemd-analyze verify $u"
  else
    bad "systemd-analyze verify $u"; sed 's/^/     /' "$work/verify.out" | head -20
  fi
done

# The verifier is not silently lenient: a misspelt directive and a missing
# program are reported.
sed -e 's/^ProtectHome=yes$/ProtectHome=yes\nProtectHomme=yes/' \
    -e 's|crosscount-node run|crosscount-node-missing run|' \
    "$root$unitdir/crosscount-node.service" >"$root$unitdir/cc-broken.service"
(cd "$root" && MANPATH="$root$mandir" systemd-analyze verify --root="$root" \
   "${unitdir#/}/cc-broken.service") >"$work/broken.out" 2>&1
if grep -q "ProtectHomme" "$work/broken.out" && grep -q "crosscount-node-missing" "$work/broken.out"; then
  ok "verify reports a misspelt directive and a missing program"
else bad "verify did not report the broken unit"; sed 's/^/     /' "$work/broken.out"; fi
rm -f "$root$unitdir/cc-broken.service"

for u in crosscount-aggregator.service crosscount-node.service crosscount-node-import.service; do
  if (cd "$root" && SYSTEMD_LOG_COLOR=0 systemd-analyze security --offline=yes --root="$root" \
        --threshold=20 --no-pager "${unitdir#/}/$u") >"$work/security.out" 2>&1; then
    ok "$u: $(grep -o 'Overall exposure level.*' "$work/security.out")"
  else
    bad "$u: systemd-analyze security above 2.0"; grep -E '✗|Overall' "$work/security.out" | sed 's/^/     /'
  fi
done

finish

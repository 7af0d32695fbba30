#!/usr/bin/env bash
# Integration test for deploy/pki: builds a federation PKI in a temporary
# directory and checks the certificates with openssl itself: chains,
# extensions, file modes, refusals, and a real mutual-TLS handshake on
# loopback between openssl s_server (as the aggregator) and openssl
# s_client (as a node).
set -uo pipefail

src=${CC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
pki="$src/deploy/pki"
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi
  if [ -n "${KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
check() { # description command...
  local d=$1
  shift
  if "$@" >"$work/last.out" 2>&1; then ok "$d"; else bad "$d"; sed 's/^/     /' "$work/last.out" | head -20; fi
}
check_fails() { # description command...  (must exit non-zero)
  local d=$1
  shift
  if "$@" >"$work/last.out" 2>&1; then bad "$d (unexpectedly succeeded)"; else ok "$d"; fi
}
text() { openssl x509 -in "$1" -noout -text; }
has() { # file pattern: the certificate's text contains pattern (grep -E)
  text "$1" | grep -Eq -- "$2"
}
mode_is() { [ "$(stat -c %a "$1")" = "$2" ]; }

d="$work/pki"

# --- creation ---------------------------------------------------------------
check "help" "$pki" --help
check "init" "$pki" init "$d" --name "Test federation Örebro"
check "node skola" "$pki" node "$d" skola
check "node bup-1" "$pki" node "$d" bup-1 --days 30
check "server (default SAN)" "$pki" server "$d" aggregator
check "server (explicit SAN)" "$pki" server "$d" agg.example.se --dns agg.example.se --dns agg --ip 10.1.2.3 --ip ::1
check "client" "$pki" client "$d" anna

# --- layout and modes -------------------------------------------------------
for f in ca.key nodes/skola.key nodes/bup-1.key server/aggregator.key clients/anna.key; do
  check "mode 0600 $f" mode_is "$d/$f" 600
done
for f in ca.crt nodes/skola.crt server/aggregator.crt clients/anna.crt; do
  check "mode 0644 $f" mode_is "$d/$f" 644
done
check "no temporary files left" bash -c "! find '$d' -name '.pki-tmp*' | grep -q ."

# --- chains -----------------------------------------------------------------
for f in nodes/skola.crt nodes/bup-1.crt server/aggregator.crt server/agg.example.se.crt clients/anna.crt; do
  check "verify $f" openssl verify -CAfile "$d/ca.crt" "$d/$f"
done
check "verify node for TLS client purpose" openssl verify -purpose sslclient -CAfile "$d/ca.crt" "$d/nodes/skola.crt"
check "verify server for TLS server purpose" openssl verify -purpose sslserver -CAfile "$d/ca.crt" "$d/server/aggregator.crt"
check_fails "node cert is not a TLS server cert" openssl verify -purpose sslserver -CAfile "$d/ca.crt" "$d/nodes/skola.crt"
check_fails "server cert is not a TLS client cert" openssl verify -purpose sslclient -CAfile "$d/ca.crt" "$d/server/aggregator.crt"
check "key matches certificate (node)" bash -c \
  "[ \"\$(openssl pkey -in '$d/nodes/skola.key' -pubout)\" = \"\$(openssl x509 -in '$d/nodes/skola.crt' -noout -pubkey)\" ]"

# --- CA extensions ----------------------------------------------------------
check "CA: P-256" has "$d/ca.crt" 'NIST CURVE: P-256'
check "CA: SHA-256 signature" has "$d/ca.crt" 'Signature Algorithm: ecdsa-with-SHA256'
check "CA: basicConstraints critical CA:TRUE pathlen:0" bash -c \
  "openssl x509 -in '$d/ca.crt' -noout -text | grep -A1 'Basic Constraints: critical' | grep -q 'CA:TRUE, pathlen:0'"
check "CA: keyUsage critical keyCertSign,cRLSign" bash -c \
  "openssl x509 -in '$d/ca.crt' -noout -text | grep -A1 'Key Usage: critical' | grep -qx ' *Certificate Sign, CRL Sign'"
check "CA: subject name (UTF-8)" bash -c \
  "openssl x509 -in '$d/ca.crt' -noout -subject -nameopt utf8,sep_comma_plus | grep -qx 'subject=CN=Test federation Örebro'"
check "CA: about five years" bash -c \
  "openssl x509 -in '$d/ca.crt' -noout -checkend $((1820 * 86400)) && ! openssl x509 -in '$d/ca.crt' -noout -checkend $((1830 * 86400))"

# --- node ---------------------------------------------------------------------
n="$d/nodes/skola.crt"
check "node: CN=skola" bash -c "openssl x509 -in '$n' -noout -subject -nameopt sep_comma_plus | grep -qx 'subject=CN=skola'"
check "node: issuer is the CA" bash -c \
  "[ \"\$(openssl x509 -in '$n' -noout -issuer)\" = \"issuer=\$(openssl x509 -in '$d/ca.crt' -noout -subject | sed 's/^subject=//')\" ]"
check "node: keyUsage critical digitalSignature only" bash -c \
  "openssl x509 -in '$n' -noout -text | grep -A1 'X509v3 Key Usage: critical' | grep -qx ' *Digital Signature'"
check "node: EKU clientAuth only" bash -c \
  "openssl x509 -in '$n' -noout -text | grep -A1 'Extended Key Usage' | grep -qx ' *TLS Web Client Authentication'"
check "node: CA:FALSE" bash -c "openssl x509 -in '$n' -noout -text | grep -A1 'Basic Constraints: critical' | grep -q 'CA:FALSE'"
check "node: P-256 key" has "$n" 'NIST CURVE: P-256'
check "node: one year" bash -c \
  "openssl x509 -in '$n' -noout -checkend $((364 * 86400)) && ! openssl x509 -in '$n' -noout -checkend $((366 * 86400))"
check "node --days 30" bash -c \
  "openssl x509 -in '$d/nodes/bup-1.crt' -noout -checkend $((29 * 86400)) && ! openssl x509 -in '$d/nodes/bup-1.crt' -noout -checkend $((31 * 86400))"
check "serials differ" bash -c \
  "[ \"\$(openssl x509 -in '$d/nodes/skola.crt' -noout -serial)\" != \"\$(openssl x509 -in '$d/nodes/bup-1.crt' -noout -serial)\" ]"
check "serial is 128 bits" bash -c \
  "openssl x509 -in '$n' -noout -serial | grep -Eqx 'serial=[1-7][0-9A-F]{31}'"

# --- server and client --------------------------------------------------------
s="$d/server/aggregator.crt"
check "server: default SAN" bash -c \
  "openssl x509 -in '$s' -noout -ext subjectAltName | grep -qx ' *DNS:localhost, IP Address:127.0.0.1'"
check "server: EKU serverAuth only" bash -c \
  "openssl x509 -in '$s' -noout -text | grep -A1 'Extended Key Usage' | grep -qx ' *TLS Web Server Authentication'"
check "server: keyUsage digitalSignature" bash -c \
  "openssl x509 -in '$s' -noout -text | grep -A1 'X509v3 Key Usage: critical' | grep -qx ' *Digital Signature'"
check "server: explicit SAN" bash -c \
  "openssl x509 -in '$d/server/agg.example.se.crt' -noout -ext subjectAltName | grep -qx ' *DNS:agg.example.se, DNS:agg, IP Address:10.1.2.3, IP Address:0:0:0:0:0:0:0:1'"
check "server: CN=aggregator" bash -c "openssl x509 -in '$s' -noout -subject -nameopt sep_comma_plus | grep -qx 'subject=CN=aggregator'"
check "client: CN=anna, clientAuth" bash -c \
  "openssl x509 -in '$d/clients/anna.crt' -noout -subject -nameopt sep_comma_plus | grep -qx 'subject=CN=anna' &&
   openssl x509 -in '$d/clients/anna.crt' -noout -text | grep -A1 'Extended Key Usage' | grep -qx ' *TLS Web Client Authentication'"

# --- list ---------------------------------------------------------------------
check "list" bash -c "'$pki' list '$d' >'$work/list' && grep -Eq '^node +skola +valid +key ' '$work/list' &&
  grep -Eq '^server +aggregator +valid ' '$work/list' && grep -Eq '^client +anna +valid ' '$work/list' &&
  grep -Eq '^ca +ca +valid ' '$work/list' && [ \$(wc -l <'$work/list') -eq 7 ]"

# --- refusals -----------------------------------------------------------------
sum_before=$(cat "$d/ca.crt" "$d/ca.key" "$n" "$d/nodes/skola.key" "$s" | sha256sum)
check_fails "init refuses an existing CA" "$pki" init "$d"
check_fails "node refuses to overwrite" "$pki" node "$d" skola
check_fails "server refuses to overwrite" "$pki" server "$d" aggregator
check_fails "client refuses to overwrite" "$pki" client "$d" anna
check "nothing was changed by the refusals" \
  bash -c "[ \"\$(cat '$d/ca.crt' '$d/ca.key' '$n' '$d/nodes/skola.key' '$s' | sha256sum)\" = '$sum_before' ]"
for id in "" Skola "a b" "x/y" "../x" "abcdefghijklmnopqrstuvwxyz0123456" "sk_ola" "skåla" "-"; do
  if [ "$id" = "-" ]; then id="--"; fi
  check_fails "bad node id '$id' rejected" "$pki" node "$d" "$id"
done
check "32-character id accepted" "$pki" node "$d" "abcdefghijklmnopqrstuvwxyz012345"
check_fails "bad server name rejected" "$pki" server "$d" "../evil"
check_fails "bad --dns rejected" "$pki" server "$d" s2 --dns "bad host"
check_fails "bad --ip rejected" "$pki" server "$d" s3 --ip 300.1.1.1
check_fails "bad --days rejected" "$pki" node "$d" d1 --days 0
check_fails "non-numeric --days rejected" "$pki" node "$d" d2 --days 1x
check_fails "leaf may not outlive the CA" "$pki" node "$d" d3 --days 3000
check_fails "node without a CA" "$pki" node "$work/empty" n1
check_fails "unknown command" "$pki" frobnicate "$d"
check "failed attempts left no files" bash -c \
  "[ ! -e '$d/nodes/d1.crt' ] && [ ! -e '$d/nodes/d3.key' ] && [ ! -e '$d/server/s2.key' ] && ! find '$d' -name '.pki-tmp*' | grep -q ."

# A second, unrelated federation for the negative handshakes.
check "init other CA" "$pki" init "$work/other" --name "Other federation"
check "node in other CA" "$pki" node "$work/other" skola

# --- mutual TLS on loopback ----------------------------------------------------
# s_server binds port 0 and prints the port it got ("ACCEPT 127.0.0.1:N").
# -Verify 1 demands a client certificate; -verify_return_error refuses one
# that does not verify. Each server accepts one connection and exits; the
# timeout bounds it in any case.
start_server() { # log
  timeout 20 openssl s_server -accept 127.0.0.1:0 -cert "$d/server/aggregator.crt" \
    -key "$d/server/aggregator.key" -CAfile "$d/ca.crt" -Verify 1 -verify_return_error \
    -naccept 1 -www >"$1" 2>&1 &
  server_pid=$!
  port=""
  for _ in $(seq 1 100); do
    port=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$1")
    [ -n "$port" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
stop_server() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi
  server_pid=""
}
client() { # log extra-args...  (sends one HTTP request, prints the reply)
  local log=$1
  shift
  printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -connect "127.0.0.1:$port" \
    -CAfile "$d/ca.crt" -verify_return_error -verify_hostname localhost -servername localhost \
    -ign_eof "$@" >"$log" 2>&1
}

handshake() { # name tls-version-flag
  local name=$1 ver=$2
  if ! start_server "$work/srv-$name.log"; then bad "mTLS $name: server did not start"; stop_server; return; fi
  client "$work/cli-$name.log" "$ver" -cert "$d/nodes/skola.crt" -key "$d/nodes/skola.key"
  wait "$server_pid" 2>/dev/null
  server_pid=""
  if grep -q 'HTTP/1.0 200 ok' "$work/cli-$name.log" &&
     grep -q 'Verify return code: 0 (ok)' "$work/cli-$name.log" &&
     grep -q '^depth=0 CN = skola$' "$work/srv-$name.log"; then
    ok "mTLS $name: node skola authenticated, server verified"
  else
    bad "mTLS $name"
    sed 's/^/     /' "$work/cli-$name.log" | head -20
    sed 's/^/     /' "$work/srv-$name.log" | head -20
  fi
}
handshake tls1.3 -tls1_3
handshake tls1.2 -tls1_2

refused() { # tag description expected-server-error client-args...
  local tag=$1 name=$2 want=$3
  shift 3
  if ! start_server "$work/srv-$tag.log"; then bad "refuse $name: server did not start"; stop_server; return; fi
  client "$work/cli-$tag.log" "$@"
  wait "$server_pid" 2>/dev/null   # -naccept 1: it exits after this client
  server_pid=""
  if grep -q 'HTTP/1.0 200 ok' "$work/cli-$tag.log"; then
    bad "refuse $name: the server answered"
  elif ! grep -qi -- "$want" "$work/srv-$tag.log"; then
    bad "refuse $name: the server log does not say '$want'"
    sed 's/^/     /' "$work/srv-$tag.log" | head -20
  else
    ok "refuse $name"
  fi
}
refused nocert "client without certificate" "peer did not return a certificate" -tls1_3
refused otherca "client with another federation's certificate" "unable to get local issuer certificate" -tls1_3 \
  -cert "$work/other/nodes/skola.crt" -key "$work/other/nodes/skola.key"
refused purpose "client with the server certificate (no clientAuth)" "unsuitable certificate purpose" -tls1_2 \
  -cert "$d/server/aggregator.crt" -key "$d/server/aggregator.key"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

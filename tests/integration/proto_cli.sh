#!/usr/bin/env bash
# Integration test for crosscount-proto, the reviewers' tool: every command,
# its exit codes, that `vectors` is byte for byte protocol/vectors/v1.json,
# that tokens do not depend on the order of the keys (and equal the token
# under the product key), that `selftest` passes, that no message repeats an
# identity, and `inspect` on a batch built here from the SPEC 8.1 layout
# with the openssl command-line tool and signed with a deploy/pki node key.
set -uo pipefail

src=${CC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${CC_BUILD_DIR:?CC_BUILD_DIR must name the build directory}
tool="$build/protocol/crosscount-proto"
vectors="$src/protocol/vectors/v1.json"
work=$(mktemp -d)
cleanup() {
  if [ -n "${KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }

# run ARGS...: runs the tool, leaves $out, $err and $rc.
run() {
  "$tool" "$@" >"$work/out" 2>"$work/err"
  rc=$?
  out=$(cat "$work/out")
  err=$(cat "$work/err")
}
# expect DESCRIPTION RC [STDOUT]: checks the last run.
expect() {
  local d=$1 want_rc=$2
  if [ "$rc" != "$want_rc" ]; then
    bad "$d (exit $rc, expected $want_rc)"
    sed 's/^/     /' "$work/err" | head -5
    return
  fi
  if [ $# -ge 3 ] && [ "$out" != "$3" ]; then
    bad "$d (stdout '$out', expected '$3')"
    return
  fi
  ok "$d"
}
# The reason for a refused identity goes to stderr and never repeats it.
expect_private() { # description identity-digits
  if [ -z "$err" ]; then
    bad "$1: no reason on stderr"
  elif printf '%s' "$err" | tr -cd '0-9' | grep -q "$2"; then
    bad "$1: stderr repeats the identity"
  else
    ok "$1: reason given, identity not repeated"
  fi
}
json_values() { # key: every string value of "key" in v1.json, in order
  sed -n "s/^ *\"$1\": \"\\([^\"]*\\)\".*/\\1/p" "$vectors"
}

if [ ! -x "$tool" ]; then
  echo "FAIL $tool not built"
  echo "0 passed, 1 failed"
  exit 1
fi

# --- help and usage ----------------------------------------------------------
run --help
expect "--help" 0
case "$out" in *"usage: crosscount-proto"*) ok "--help prints usage" ;; *) bad "--help prints usage" ;; esac
for c in normalize token selftest vectors inspect; do
  run "$c" --help
  expect "$c --help" 0
  case "$out" in *"usage: crosscount-proto $c"*) ok "$c --help text" ;; *) bad "$c --help text" ;; esac
done
run
expect "no command" 2
run frobnicate
expect "unknown command" 2
case "$err" in *usage*) ok "unknown command prints usage on stderr" ;; *) bad "unknown command prints usage on stderr" ;; esac
run 191212121212
expect "identity given as a command" 2
expect_private "identity given as a command" 1912121212
run normalize --bogus 191212121212
expect "unknown option" 2
run normalize
expect "normalize without ID" 2
run normalize 191212121212 191212121212
expect "normalize with two IDs" 2
run normalize --on
expect "--on without value" 2
run selftest extra
expect "selftest with an argument" 2
run vectors --key 00
expect "vectors with an option" 2
run inspect
expect "inspect without file" 2
run token --ca x 191212121212
expect "token refuses --ca" 2

# --- normalize -----------------------------------------------------------------
run normalize 191212121212
expect "normalize 12 digits" 0 191212121212
run normalize 19121212-1212
expect "normalize YYYYMMDD-NNNC" 0 191212121212
run normalize --on 2020-06-01 121212-1212
expect "normalize YYMMDD-NNNC on 2020-06-01" 0 201212121212
run normalize --on 2010-06-01 121212-1212
expect "normalize YYMMDD-NNNC on 2010-06-01" 0 191212121212
run normalize --on=2020-06-01 121212+1212
expect "normalize YYMMDD+NNNC (100 or older)" 0 191212121212
run normalize --on 2020-06-01 1212121212
expect "normalize YYMMDDNNNC" 0 201212121212
run normalize 19860768-1239
expect "normalize samordningsnummer" 0 198607681239
run normalize -- 20121165-2464
expect "normalize after --" 0 201211652464
out=$(printf '20150304-2382\n' | "$tool" normalize - 2>/dev/null)
[ "$out" = 201503042382 ] && ok "normalize from stdin" || bad "normalize from stdin ('$out')"
run normalize 191212121213
expect "normalize bad check digit" 1
expect_private "normalize bad check digit" 19121212121
run normalize 19121312-1212
expect "normalize bad month" 1
expect_private "normalize bad month" 1912131212
run normalize 1912121212123
expect "normalize too long" 1
run normalize --on 2020-13-01 121212-1212
expect "normalize bad --on" 2

# --- token -------------------------------------------------------------------
mapfile -t elements < <(json_values element)
mapfile -t keys < <(sed -n '/"keys"/,/]/s/^ *"\([0-9a-f]\{64\}\)",\{0,1\}$/\1/p' "$vectors" | awk '!seen[$0]++')
mapfile -t products < <(json_values product_key)
mapfile -t tokens < <(json_values token)
if [ "${#keys[@]}" -ge 3 ] && [ "${#tokens[@]}" -ge 3 ] && [ "${#elements[@]}" -ge 5 ]; then
  ok "v1.json has keys, tokens and elements"
else
  bad "v1.json has keys, tokens and elements (${#keys[@]} keys, ${#tokens[@]} tokens)"
fi
k1=${keys[0]}; k2=${keys[1]}; k3=${keys[2]}

run token 191212121212
expect "token without key = H(id) of v1.json" 0 "${elements[0]}"
run token 19121212-1212
expect "token of another written form" 0 "${elements[0]}"
run token --key "$k1" 191212121212
expect "token, one key = v1.json" 0 "${tokens[0]}"
run token --key "$k1" --key "$k2" 191212121212
expect "token, two keys = v1.json" 0 "${tokens[1]}"
t12=$out
run token --key "$k2" --key "$k1" 191212121212
expect "token, two keys in the other order" 0 "$t12"
run token --key "${products[1]}" 191212121212
expect "token under the product key k1*k2" 0 "$t12"
run token --key "$k1" --key "$k2" --key "$k3" 191212121212
expect "token, three keys = v1.json" 0 "${tokens[2]}"
t123=$out
for order in "$k1 $k3 $k2" "$k2 $k1 $k3" "$k2 $k3 $k1" "$k3 $k1 $k2" "$k3 $k2 $k1"; do
  set -- $order
  run token --key "$1" --key "$2" --key="$3" 191212121212
  expect "token, three keys in order ${1:0:4} ${2:0:4} ${3:0:4}" 0 "$t123"
done
run token --key "${products[2]}" 191212121212
expect "token under the product key k1*k2*k3" 0 "$t123"
run token --on 2020-06-01 --key "$k1" 121212-1212
t_child=$out
run token --key "$k1" 201212121212
expect "token with --on for a 10-digit ID" 0 "$t_child"
out=$(printf '191212121212\n' | "$tool" token --key "$k1" - 2>/dev/null)
[ "$out" = "${tokens[0]}" ] && ok "token from stdin" || bad "token from stdin"

L=edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010
L1=eed3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010
Lm1=ecd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010
zero=0000000000000000000000000000000000000000000000000000000000000000
top=ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f
run token --key "$L" 191212121212
expect "token refuses key L" 2
run token --key "$L1" 191212121212
expect "token refuses key L+1" 2
run token --key "$top" 191212121212
expect "token refuses key 2^255-1" 2
run token --key "$zero" 191212121212
expect "token refuses key 0" 2
run token --key "${k1:0:62}" 191212121212
expect "token refuses a short key" 2
run token --key "${k1}00" 191212121212
expect "token refuses a long key" 2
run token --key "${k1:0:62}zz" 191212121212
expect "token refuses a non-hex key" 2
run token --key "$Lm1" 191212121212
expect "token accepts key L-1" 0
run token --key "$k1" 191212121213
expect "token with an invalid ID" 1
expect_private "token with an invalid ID" 19121212121
run token --key "$zero" 191212121213
expect "a bad key is reported before a bad ID" 2
run token
expect "token without ID" 2

# --- selftest and vectors ------------------------------------------------------
run selftest
expect "selftest" 0
npass=$(grep -c '^PASS ' "$work/out")
nfail=$(grep -c '^FAIL ' "$work/out")
[ "$npass" -ge 100 ] && [ "$nfail" = 0 ] && ok "selftest: $npass PASS lines, no FAIL" ||
  bad "selftest: $npass PASS, $nfail FAIL"
tail -n 1 "$work/out" | grep -qx "$npass passed, 0 failed" && ok "selftest count line" || bad "selftest count line"
for part in "RFC 9380 K.3" "RFC 9496 A.1" "RFC 9496 A.2" "RFC 9496 A.3" "RFC 9497 A.1.1" "crosscount v1"; do
  grep -q "^PASS $part" "$work/out" && ok "selftest covers $part" || bad "selftest covers $part"
done
"$tool" vectors >"$work/vectors.json"
if cmp -s "$work/vectors.json" "$vectors"; then
  ok "vectors = protocol/vectors/v1.json byte for byte"
else
  bad "vectors = protocol/vectors/v1.json byte for byte"
fi

# --- inspect -----------------------------------------------------------------
# A batch (SPEC 8.1) built here byte by byte, independently of batch.c:
# header, one reference (v, M_v), 64 records of valid elements taken from
# v1.json, then the trailer signed with openssl over
# "crosscount-v1-batch-signature" || 0x00 || SHA-256(header..records).
pki="$src/deploy/pki"
if ! "$pki" init "$work/pki" --name "proto_cli test" >/dev/null 2>&1 ||
   ! "$pki" node "$work/pki" skola >/dev/null 2>&1 ||
   ! "$pki" init "$work/other" --name "another federation" >/dev/null 2>&1; then
  bad "deploy/pki could not make a test PKI"
else
  ok "test PKI made with deploy/pki"
  attr_element=$(json_values element | sed -n 6p)  # first attribute: v = 00ff0000
  {
    printf 'CCB1'
    printf '0001' | xxd -r -p                       # version
    printf '0000' | xxd -r -p                       # flags
    printf '00112233445566778899aabbccddeeff' | xxd -r -p  # query id
    printf '0000' | xxd -r -p                       # chain
    printf '0000' | xxd -r -p                       # hop
    printf '0001' | xxd -r -p                       # nodes
    printf '0001' | xxd -r -p                       # nrefs
    printf '00000040' | xxd -r -p                   # count = 64
    printf '00000060' | xxd -r -p                   # record size = 96
    printf '00ff0000%s' "$attr_element" | xxd -r -p
    for i in $(seq 0 63); do
      printf '%s%s%s' "${elements[$((i % 5))]}" "${tokens[$((i % 3))]}" \
        "${elements[$(((i + 1) % 5))]}" | xxd -r -p
    done
  } >"$work/body"
  openssl x509 -in "$work/pki/nodes/skola.crt" -outform DER -out "$work/cert.der"
  { printf 'crosscount-v1-batch-signature'; printf '00' | xxd -r -p
    openssl dgst -sha256 -binary "$work/body"; } >"$work/msg"
  openssl dgst -sha256 -sign "$work/pki/nodes/skola.key" -out "$work/sig.der" "$work/msg"
  u16() { printf '%04x' "$1" | xxd -r -p; }
  { cat "$work/body"
    u16 "$(stat -c %s "$work/cert.der")"; cat "$work/cert.der"
    u16 "$(stat -c %s "$work/sig.der")"; cat "$work/sig.der"; } >"$work/batch"
  digest=$(openssl dgst -sha256 -r "$work/body" | cut -c1-64)

  run inspect "$work/batch"
  expect "inspect a signed batch" 0
  for want in "query id: *00112233445566778899aabbccddeeff" "records: *64" "hop: *0 (of 0..0, final" \
              "signer: *skola" "digest: *$digest" "00ff0000 *age: not broken down" "verified: *signature valid under the embedded certificate's key; certificate NOT checked"; do
    printf '%s\n' "$out" | grep -q "$want" && ok "inspect shows '$want'" || bad "inspect shows '$want'"
  done
  run inspect --ca "$work/pki/ca.crt" "$work/batch"
  expect "inspect --ca: signature and chain verify" 0
  printf '%s\n' "$out" | grep -q "verified: *yes" && ok "inspect --ca says verified" || bad "inspect --ca says verified"
  run inspect --ca "$work/other/ca.crt" "$work/batch"
  expect "inspect --ca with another federation's CA" 1
  printf '%s\n' "$out" | grep -q "verified: *FAILED" && ok "inspect reports the failed chain" || bad "inspect reports the failed chain"

  # Tampered: the query id changes, so the digest no longer matches the signature.
  { printf 'CCB1'; printf '00010000ff' | xxd -r -p
    tail -c +10 "$work/batch"; } >"$work/tampered"
  run inspect "$work/tampered"
  expect "inspect a tampered batch without --ca: the signature fails" 1
  printf '%s\n' "$out" | grep -q "verified: *FAILED" && ok "inspect without --ca reports the bad signature" || bad "inspect without --ca reports the bad signature"
  run inspect --ca "$work/pki/ca.crt" "$work/tampered"
  expect "inspect --ca a tampered batch" 1
  head -c 1000 "$work/batch" >"$work/truncated"
  run inspect "$work/truncated"
  expect "inspect a truncated batch" 1
  { cat "$work/batch"; printf 'x'; } >"$work/trailing"
  run inspect "$work/trailing"
  expect "inspect a batch with trailing bytes" 1
  { head -c 4 "$work/batch"; printf '0002' | xxd -r -p; tail -c +7 "$work/batch"; } >"$work/version2"
  run inspect "$work/version2"
  expect "inspect a batch of another version" 1
  run inspect "$work/does-not-exist"
  expect "inspect a missing file" 1
  run inspect --ca "$work/does-not-exist" "$work/batch"
  expect "inspect with a missing CA file" 1
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

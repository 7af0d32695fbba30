#!/usr/bin/env bash
# Integration test: crosscount-aggregator's commands, exit codes and file
# modes (init, node, user, token, audit verify, --help, usage errors), and
# `serve` on a free port with real mutual TLS (curl): sign-in with cookie
# and CSRF, bearer tokens, /api/v1/federation, node certificates from
# deploy/pki (enabled, disabled, another CA), unauthenticated and
# malformed requests, and a clean SIGTERM shutdown.
set -u
build=${CC_BUILD_DIR:?CC_BUILD_DIR must name the build directory}
src=${CC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
agg="$build/aggregator/crosscount-aggregator"
pki="$src/deploy/pki"
work=$(mktemp -d /tmp/cc-agg-cli-XXXXXX)
serve_pid=
cleanup() {
	if [ -n "$serve_pid" ] && kill -0 "$serve_pid" 2>/dev/null; then
		kill -KILL "$serve_pid" 2>/dev/null
		wait "$serve_pid" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # description command...
	local d=$1
	shift
	if "$@"; then ok; else bad "$d"; fi
}
# expect_rc WANT DESCRIPTION command... (output in $work/out, $work/err)
expect_rc() {
	local want=$1 d=$2 rc
	shift 2
	"$@" >"$work/out" 2>"$work/err" </dev/null
	rc=$?
	if [ "$rc" -eq "$want" ]; then ok; else
		bad "$d: exit $rc, wanted $want"
		sed 's/^/  | /' "$work/err" | head -5
	fi
}
mode_of() { stat -c %a "$1"; }
json_get() { # file python-expression-on-d
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

dir="$work/agg"

# --- help and usage errors (exit 2) ---
expect_rc 0 "--help" "$agg" --help
check "--help lists the commands" grep -q "token create" "$work/out"
for c in init serve "node add" "node disable" "node enable" "node list" \
    "user add" "user passwd" "user disable" "user list" "token create" \
    "token list" "token revoke" \
    "audit verify"; do
	# shellcheck disable=SC2086
	expect_rc 0 "$c --help" "$agg" $c --help
	check "$c --help shows its usage" grep -q "usage: crosscount-aggregator $c" "$work/out"
done
expect_rc 2 "no command" "$agg"
expect_rc 2 "unknown command" "$agg" frobnicate
expect_rc 2 "node without a verb" "$agg" node
expect_rc 2 "node with an unknown verb" "$agg" node remove x
expect_rc 2 "unknown option" "$agg" node list --dir "$dir" --bogus
expect_rc 2 "extra argument" "$agg" node list extra --dir "$dir"
expect_rc 2 "node add without --sector" "$agg" node add skola --dir "$dir"
expect_rc 2 "node add without id" "$agg" node add --sector school --dir "$dir"
expect_rc 2 "user add without --role" "$agg" user add anna --dir "$dir"
expect_rc 2 "user add bad role" "$agg" user add anna --role boss --dir "$dir"
expect_rc 2 "init: --cert alone" "$agg" init --dir "$dir" --cert x
expect_rc 2 "init: bad port" "$agg" init --dir "$dir" --port 70000
expect_rc 2 "--dir without value" "$agg" node list --dir
check "usage errors make nothing" test ! -e "$dir"
expect_rc 1 "node list before init" "$agg" node list --dir "$dir"
check "...says to run init" grep -q "no aggregator here" "$work/err"

# --- PKI ---
"$pki" init "$work/pki" >/dev/null &&
	"$pki" server "$work/pki" agg >/dev/null &&
	"$pki" node "$work/pki" skola >/dev/null &&
	"$pki" node "$work/pki" bup >/dev/null &&
	"$pki" init "$work/other" >/dev/null &&
	"$pki" node "$work/other" skola >/dev/null
check "deploy/pki made the certificates" test -f "$work/other/nodes/skola.crt"

# --- init ---
expect_rc 1 "init: missing certificate file" "$agg" init --dir "$dir" \
	--cert "$work/nope.crt" --key "$work/pki/server/agg.key" --ca "$work/pki/ca.crt"
check "...names the file" grep -q "nope.crt" "$work/err"
check "...and leaves nothing" test ! -e "$dir"
expect_rc 0 "init" "$agg" init --dir "$dir" --cert "$work/pki/server/agg.crt" \
	--key "$work/pki/server/agg.key" --ca "$work/pki/ca.crt" --port 0
check "init prints the attribute key" grep -Eq "attribute key Y = [0-9a-f]{64}" "$work/out"
check "dir is 0700" test "$(mode_of "$dir")" = 700
check "attribute.key is 0600" test "$(mode_of "$dir/attribute.key")" = 600
check "attribute.key is 32 bytes" test "$(stat -c %s "$dir/attribute.key")" = 32
check "aggregator.db is 0600" test "$(mode_of "$dir/aggregator.db")" = 600
check "batches/ is 0700" test "$(mode_of "$dir/batches")" = 700
check "aggregator.conf is commented" grep -q "^# The federation policy" "$dir/aggregator.conf"
check "aggregator.conf has port 0" grep -q "^port = 0" "$dir/aggregator.conf"
cp "$dir/attribute.key" "$work/key.before"
expect_rc 1 "init refuses an existing aggregator" "$agg" init --dir "$dir"
check "...saying so" grep -q "already holds an aggregator" "$work/err"
check "...and keeps the key" cmp -s "$dir/attribute.key" "$work/key.before"
export CROSSCOUNT_AGGREGATOR_DIR="$dir"

# --- nodes ---
expect_rc 0 "node add skola" "$agg" node add skola --sector school
expect_rc 0 "node add bup (options first)" "$agg" node add --sector=health bup
expect_rc 1 "node add twice" "$agg" node add skola --sector school
check "...already exists" grep -q "already exists" "$work/err"
expect_rc 1 "node add bad id" "$agg" node add Skola --sector school
expect_rc 1 "node add bad sector" "$agg" node add soc --sector skolan
expect_rc 1 "node disable unknown" "$agg" node disable nope
expect_rc 0 "node list" "$agg" node list
check "node list shows both" test "$(grep -cE '^(skola|bup) ' "$work/out")" = 2
expect_rc 0 "node list --json" "$agg" node list --json
check "node list --json parses" test "$(json_get "$work/out" 'len(d)')" = 2

# --- users and tokens ---
printf 'anna-password-1\n' >"$work/pw"
chmod 600 "$work/pw"
expect_rc 0 "user add from a file" "$agg" user add anna --role analyst \
	--password-file "$work/pw"
printf 'bertil-password-1\n' | "$agg" user add bertil --role auditor >"$work/out" 2>"$work/err"
check "user add from stdin" test $? -eq 0
printf 'short\n' | "$agg" user add cecilia --role admin >"$work/out" 2>"$work/err"
check "user add refuses a short password" test $? -eq 1
printf 'cecilia-password\n' | "$agg" user add cecilia --role admin >/dev/null 2>&1
expect_rc 1 "user add twice" "$agg" user add anna --role analyst --password-file "$work/pw"
expect_rc 1 "user add bad name" "$agg" user add "Anna B" --role analyst --password-file "$work/pw"
expect_rc 1 "user passwd unknown" "$agg" user passwd nobody --password-file "$work/pw"
expect_rc 0 "user list --json" "$agg" user list --json
check "user list: three users" test "$(json_get "$work/out" 'len(d)')" = 3
check "no password hash in the list" sh -c "! grep -q argon2 '$work/out'"
expect_rc 0 "token create" "$agg" token create anna --label "ci job"
token=$(cat "$work/out")
check "token is cct_ + 64 hex" sh -c "echo '$token' | grep -Eqx 'cct_[0-9a-f]{64}'"
check "the token itself is not stored" sh -c "! grep -aq '${token#cct_}' '$dir/aggregator.db'"
expect_rc 1 "token for an unknown user" "$agg" token create nobody
expect_rc 0 "user list counts the token" "$agg" user list --json
check "...one token for anna" test "$(json_get "$work/out" '[u["tokens"] for u in d if u["name"]=="anna"][0]')" = 1
expect_rc 0 "a second token" "$agg" token create anna --label "spare"
token2=$(cat "$work/out")
expect_rc 0 "token list --json" "$agg" token list anna --json
check "token list: both, with labels" test "$(json_get "$work/out" '",".join(sorted(t["label"] for t in d))')" = "ci job,spare"
check "token list: ids are 12 hex, the tokens themselves are not shown" sh -c "
	test \"\$(python3 -c 'import json,re,sys; print(all(re.fullmatch(\"[0-9a-f]{12}\", t[\"id\"]) for t in json.load(open(sys.argv[1]))))' '$work/out')\" = True &&
	! grep -q '${token#cct_}' '$work/out' && ! grep -q '${token2#cct_}' '$work/out'"
token2_id=$(python3 -c 'import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest()[:12])' "$token2")
check "token list: the id is the start of the token's SHA-256" grep -q "\"$token2_id\"" "$work/out"
expect_rc 1 "token list of an unknown user" "$agg" token list nobody
expect_rc 2 "token revoke without an id" "$agg" token revoke anna
expect_rc 1 "token revoke with a malformed id" "$agg" token revoke anna XYZ
expect_rc 1 "token revoke of another user's token" "$agg" token revoke bertil "$token2_id"
expect_rc 0 "audit verify" "$agg" audit verify
check "audit log has the registry changes" grep -Eq "intact: ([6-9]|[1-9][0-9]+) entries" "$work/out"

# --- serve ---
"$agg" serve >"$work/serve.out" 2>"$work/serve.err" &
serve_pid=$!
port=
for _ in $(seq 1 100); do
	port=$(sed -n 's#^crosscount-aggregator: listening on https://127\.0\.0\.1:\([0-9]*\)$#\1#p' "$work/serve.out")
	[ -n "$port" ] && break
	kill -0 "$serve_pid" 2>/dev/null || break
	sleep 0.1
done
check "serve prints its port" test -n "$port"
url="https://127.0.0.1:${port:-1}"
c() { curl -sS --max-time 20 --cacert "$work/pki/ca.crt" "$@"; }
# status_of ARGS... : prints the HTTP status (body in $work/body)
status_of() { c -o "$work/body" -w '%{http_code}' "$@"; }

check "no credentials: 401" test "$(status_of "$url/api/v1/me")" = 401
check "...as JSON error" test "$(json_get "$work/body" 'd["error"]["code"]')" = unauthenticated
check "unknown endpoint: 404" test "$(status_of "$url/api/v1/nope")" = 404

# Sign in: cookie + CSRF.
login() { # user password -> body in $work/login, cookies in $work/jar
	c -o "$work/login" -w '%{http_code}' -c "$work/jar" -D "$work/headers" \
		-H 'Content-Type: application/json' \
		-d "{\"username\":\"$1\",\"password\":\"$2\"}" "$url/api/v1/session"
}
check "wrong password: 401" test "$(login anna wrong-password-1)" = 401
cp "$work/login" "$work/login1"
login nobody wrong-password-1 >/dev/null
check "...same answer for an unknown user" cmp -s "$work/login" "$work/login1"
check "malformed JSON: 400" test "$(c -o "$work/body" -w '%{http_code}' \
	-H 'Content-Type: application/json' -d '{"username":' "$url/api/v1/session")" = 400
check "...a JSON error" test "$(json_get "$work/body" 'd["error"]["code"]')" = bad_request
check "login: 200" test "$(login anna anna-password-1)" = 200
check "cookie attributes" grep -qi '^Set-Cookie: cc_session=[0-9a-f]\{64\}; Secure; HttpOnly; SameSite=Strict; Path=/' "$work/headers"
csrf=$(json_get "$work/login" 'd["csrf"]')
check "login returns the role" test "$(json_get "$work/login" 'd["role"]')" = analyst
check "me with the cookie" test "$(status_of -b "$work/jar" "$url/api/v1/me")" = 200
check "...is anna" test "$(json_get "$work/body" 'd["username"]')" = anna
check "POST without CSRF: 403" test "$(status_of -b "$work/jar" \
	-H 'Content-Type: application/json' -d '{}' "$url/api/v1/queries")" = 403
check "...names the header" grep -q "X-CSRF-Token" "$work/body"
check "POST with CSRF reaches the handler (400: bad query)" test "$(status_of -b "$work/jar" \
	-H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' -d '{}' \
	"$url/api/v1/queries")" = 400
check "federation with the cookie" test "$(status_of -b "$work/jar" "$url/api/v1/federation")" = 200
check "federation lists the enabled nodes" test "$(json_get "$work/body" '",".join(n["id"] for n in d["nodes"])')" = "bup,skola"
check "federation has the default grids" test "$(json_get "$work/body" 'd["policy"]["age_band_grids"][0]')" = "[[0, 5], [6, 12], [13, 17]]"
check "logout: 204" test "$(status_of -b "$work/jar" -H "X-CSRF-Token: $csrf" -X DELETE "$url/api/v1/session")" = 204
check "the cookie is dead after logout" test "$(status_of -b "$work/jar" "$url/api/v1/me")" = 401

# Bearer token.
check "bearer token: 200" test "$(status_of -H "Authorization: Bearer $token" "$url/api/v1/me")" = 200
check "...is anna" test "$(json_get "$work/body" 'd["username"]')" = anna
check "bearer POST needs no CSRF (400: bad query)" test "$(status_of -H "Authorization: Bearer $token" \
	-H 'Content-Type: application/json' -d '{"title":' "$url/api/v1/queries")" = 400
check "...malformed JSON is a JSON error" test "$(json_get "$work/body" 'd["error"]["code"]')" = bad_request
check "wrong token: 401" test "$(status_of -H "Authorization: Bearer cct_$(printf '%064d' 0)" "$url/api/v1/me")" = 401
check "the second token: 200" test "$(status_of -H "Authorization: Bearer $token2" "$url/api/v1/me")" = 200
expect_rc 0 "token revoke while serving" "$agg" token revoke anna "$token2_id"
check "a revoked token: 401" test "$(status_of -H "Authorization: Bearer $token2" "$url/api/v1/me")" = 401
check "the other token still works" test "$(status_of -H "Authorization: Bearer $token" "$url/api/v1/me")" = 200
expect_rc 1 "token revoke twice" "$agg" token revoke anna "$token2_id"
expect_rc 0 "user disable while serving" "$agg" user disable anna
check "a disabled user's token: 401" test "$(status_of -H "Authorization: Bearer $token" "$url/api/v1/me")" = 401
check "a disabled user cannot sign in" test "$(login anna anna-password-1)" = 401

# Nodes.
nc() { # node [pki] -> status of GET /api/v1/node/work?wait=0
	status_of --cert "$work/${2:-pki}/nodes/$1.crt" --key "$work/${2:-pki}/nodes/$1.key" \
		"$url/api/v1/node/work?wait=0"
}
check "node route without a certificate: 401" test "$(status_of "$url/api/v1/node/work?wait=0")" = 401
check "enabled node: 200" test "$(nc skola)" = 200
check "...a task list" test "$(json_get "$work/body" 'd["tasks"]')" = "[]"
expect_rc 0 "node disable while serving" "$agg" node disable skola
check "disabled node: 403" test "$(nc skola)" = 403
check "...a JSON error" test "$(json_get "$work/body" 'd["error"]["code"]')" = forbidden
expect_rc 0 "node enable" "$agg" node enable skola
check "enabled again: 200" test "$(nc skola)" = 200
expect_rc 0 "node list after contact" "$agg" node list --json
check "last_seen is set" test "$(json_get "$work/out" '[n["last_seen"] is not None for n in d if n["id"]=="skola"][0]')" = True
nc skola other >/dev/null 2>&1
check "a certificate from another CA is refused" test "$(nc skola other 2>/dev/null)" = 000
check "a node certificate is no user" test "$(status_of --cert "$work/pki/nodes/bup.crt" \
	--key "$work/pki/nodes/bup.key" "$url/api/v1/me")" = 401

# Shutdown.
kill -TERM "$serve_pid"
rc=124
for _ in $(seq 1 100); do
	if ! kill -0 "$serve_pid" 2>/dev/null; then
		wait "$serve_pid"
		rc=$?
		break
	fi
	sleep 0.1
done
check "SIGTERM: exit 0 (got $rc)" test "$rc" -eq 0
serve_pid=
check "serve logged the shutdown" grep -q "SIGTERM received" "$work/serve.err"
# No token or session id (64 hex), no password hash, and none of the
# passwords this test typed (all "<name>-password..."); the word
# "password" in a refusal's reason is fine.
check "serve logged no secret" sh -c "! grep -Eq '[0-9a-f]{64}|argon2|[a-z]+-password' '$work/serve.err'"
check "serve logged the refused sign-in" grep -q "401 wrong user name or password" "$work/serve.err"
expect_rc 0 "audit verify after serving" "$agg" audit verify

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

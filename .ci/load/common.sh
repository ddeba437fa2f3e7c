# Shared by the load scripts in this folder; sourced, not run. Everything
# started here listens on 127.0.0.1 only and is stopped by stop_all, which
# the scripts run on exit.

set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d) # removed by stop_all unless KEEP_WORK is set
pids=()
loops=() # loop subshells; their children are stopped too
admin_token=load-admin-token-0123456789

for dir in /usr/local/go/bin "$HOME/go/bin"; do
	[ -x "$dir/go" ] && PATH="$dir:$PATH"
done

stop_all() {
	local pid
	for pid in "${loops[@]}"; do
		kill "$pid" 2>/dev/null || true
		pkill -TERM -P "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [ -n "${KEEP_WORK:-}" ]; then
		echo "load: work folder kept: $work" >&2
	else
		rm -rf "$work"
	fi
}

# build compiles patchbay and patchbay-load into $work/bin.
build() {
	mkdir -p "$work/bin"
	(cd "$repo" && go build -o "$work/bin/patchbay" ./cmd/patchbay &&
		go build -o "$work/bin/patchbay-load" ./cmd/patchbay-load)
}

# start_patchbay starts the server on free loopback ports with extra
# environment from the arguments, and sets pb_pid, api and sip.
start_patchbay() {
	mkdir -p "$work/data"
	env -i PATH="$PATH" PATCHBAY_DATA_DIR="$work/data" PATCHBAY_ADMIN_TOKEN=$admin_token \
		PATCHBAY_API_LISTEN=127.0.0.1:0 PATCHBAY_SIP_LISTEN=127.0.0.1:0 \
		PATCHBAY_MEDIA_PORTS=${LOAD_MEDIA_PORTS:-24000-27998} "$@" \
		"$work/bin/patchbay" serve 2>"$work/serve.log" &
	pb_pid=$!
	pids+=("$pb_pid")
	local i
	for i in $(seq 100); do
		api=$(sed -n 's/.*msg="patchbay serving" api_addr=\([^ ]*\).*/\1/p' "$work/serve.log")
		sip=$(sed -n 's/.*msg="sip listening" udp_addr=\([^ ]*\).*/\1/p' "$work/serve.log")
		[ -n "$api" ] && [ -n "$sip" ] && return 0
		kill -0 "$pb_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "load: patchbay did not start:" >&2
	cat "$work/serve.log" >&2
	exit 1
}

# start_app starts the tenant application (app.py) and sets app.
start_app() {
	python3 "$repo/.ci/load/app.py" "$work/app_counts" >"$work/app.port" &
	pids+=("$!")
	local i
	for i in $(seq 50); do
		app=$(head -1 "$work/app.port" 2>/dev/null || true)
		[ -n "$app" ] && app="http://127.0.0.1:$app" && return 0
		sleep 0.1
	done
	echo "load: the application did not start" >&2
	exit 1
}

# post PATH FIELD=VALUE... posts a form to the API as the account (or the
# operator before there is one) and prints the JSON answer.
post() {
	local path=$1 user=${acct:-admin} pass=${acct_token:-$admin_token} args=()
	shift
	for kv in "$@"; do args+=(--data-urlencode "$kv"); done
	curl -sf -u "$user:$pass" "${args[@]}" "http://$api$path"
}

json() { python3 -c "import sys,json; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }

# provision creates one account with the domains prox.test (calls proxied
# between users), app.test (calls run the application: Dial bob) and
# bad.test (the application answers garbage: calls fail), each letting
# alice (Secret-pass1) and bob (Secret-pass2) register and call.
provision() {
	local a cl d dom url
	a=$(post /2010-04-01/Accounts.json FriendlyName=load)
	acct=$(echo "$a" | json sid)
	acct_token=$(echo "$a" | json auth_token)
	local base=/2010-04-01/Accounts/$acct
	cl=$(post "$base/SIP/CredentialLists.json" FriendlyName=phones | json sid)
	post "$base/SIP/CredentialLists/$cl/Credentials.json" Username=alice \
		Password=Secret-pass1 >/dev/null
	post "$base/SIP/CredentialLists/$cl/Credentials.json" Username=bob \
		Password=Secret-pass2 >/dev/null
	for dom in prox.test app.test bad.test; do
		case $dom in
		app.test) url=(VoiceUrl="$app/dial" VoiceStatusCallbackUrl="$app/status") ;;
		bad.test) url=(VoiceUrl="$app/garbage") ;;
		*) url=() ;;
		esac
		d=$(post "$base/SIP/Domains.json" DomainName=$dom SipRegistration=true \
			"${url[@]}" | json sid)
		post "$base/SIP/Domains/$d/Auth/Registrations/CredentialListMappings.json" \
			CredentialListSid="$cl" >/dev/null
		post "$base/SIP/Domains/$d/Auth/Calls/CredentialListMappings.json" \
			CredentialListSid="$cl" >/dev/null
	done
}

# honest DOMAIN COUNT [flags] runs patchbay-load honest as alice calling bob.
honest() {
	local dom=$1 count=$2
	shift 2
	"$work/bin/patchbay-load" honest -target "$sip" -domain "$dom" -user alice \
		-password Secret-pass1 -callee bob -callee-password Secret-pass2 \
		-count "$count" "$@"
}

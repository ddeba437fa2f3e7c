#!/usr/bin/env bash
# Side-by-side SIP benchmark: the same sipp load, on loopback, against
# Patchbay's edge and against Kamailio 5.6 (sip/bench/kamailio.cfg):
#   1. REGISTERs with digest authentication per second,
#   2. calls per second through the stateful proxy (INVITE with 407,
#      200, ACK, BYE) to a registered callee,
#   3. Patchbay's resident memory with PATCHBAY_BENCH_DEVICES registered.
# Every case is bounded in time; everything started is stopped on exit.
#
# Usage: sip/bench/run.sh            (from anywhere in the repository)
# Load, the same for both servers (defaults in parentheses):
#   PATCHBAY_BENCH_SECONDS (20) PATCHBAY_BENCH_LIMIT (200) PATCHBAY_BENCH_RATE (20000)
#   PATCHBAY_BENCH_USERS (10000) PATCHBAY_BENCH_DEVICES (100000)
# Needs: go, sipp (apt-get install -y sip-tester), kamailio (apt-get install -y kamailio).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
export PATCHBAY_BENCH_SECONDS=${PATCHBAY_BENCH_SECONDS:-20}
export PATCHBAY_BENCH_LIMIT=${PATCHBAY_BENCH_LIMIT:-200}
export PATCHBAY_BENCH_RATE=${PATCHBAY_BENCH_RATE:-20000}
export PATCHBAY_BENCH_USERS=${PATCHBAY_BENCH_USERS:-10000}
export PATCHBAY_BENCH_DEVICES=${PATCHBAY_BENCH_DEVICES:-100000}
secs=$PATCHBAY_BENCH_SECONDS
scen=$root/testdata/sipp

for tool in go sipp kamailio; do
	command -v "$tool" >/dev/null || {
		echo "run.sh: $tool not found (apt-get install -y sip-tester kamailio; Go 1.26)" >&2
		exit 1
	}
done

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

# free_port prints a loopback port free for both UDP and TCP.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		if [ -z "$(ss -Hltun "sport = :$p")" ]; then
			echo "$p"
			return
		fi
	done
}

# users FROM TO CALLEE writes sipp injection lines for users FROM..TO-1.
users() {
	echo SEQUENTIAL
	local i
	for ((i = $1; i < $2; i++)); do
		printf 'u%06d;bench.test;[authentication username=u%06d password=pw%06d];%s\n' \
			"$i" "$i" "$i" "$3"
	done
}

# sipp_stat FILE COLUMN prints COLUMN of the last row of a sipp statistics file.
sipp_stat() {
	awk -F';' -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i }
		END { print $c }' "$1"
}

# load NAME SCENARIO CSV TARGET [extra sipp args] runs sipp for $secs and
# prints "successful-per-second failed".
load() {
	local name=$1 sf=$2 csv=$3 target=$4
	shift 4
	local t0 t1 ok bad
	t0=$(date +%s.%N)
	sipp -sf "$scen/$sf" -inf "$csv" -t u1 -i 127.0.0.1 -nostdin -m 100000000 \
		-r "$PATCHBAY_BENCH_RATE" -rp 1000 -l "$PATCHBAY_BENCH_LIMIT" -timeout "${secs}s" \
		-default_behaviors all,-bye -trace_stat -stf "$work/$name.csv" \
		-trace_err -error_file "$work/$name.err" "$@" "$target" >"$work/$name.out" 2>&1 || true
	t1=$(date +%s.%N)
	ok=$(sipp_stat "$work/$name.csv" 'SuccessfulCall(C)')
	bad=$(sipp_stat "$work/$name.csv" 'FailedCall(C)')
	echo "$(awk -v n="$ok" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }') $bad"
}

echo "== load: ${secs}s per case, sipp -l $PATCHBAY_BENCH_LIMIT -r $PATCHBAY_BENCH_RATE," \
	"$PATCHBAY_BENCH_USERS users, $PATCHBAY_BENCH_DEVICES devices; $(nproc) cores"

# Patchbay: the edge runs inside the sip package's benchmark binary.
(cd "$root" && go test -c -o "$work/sip.test" ./sip/)
for bench in 'SIPp(Register|Call)$' 'SIPpMemory$'; do
	# The memory figure needs a process of its own.
	(cd "$root/sip" && timeout 1200 "$work/sip.test" -test.run '^$' -test.bench "$bench" \
		-test.benchtime 1x -test.timeout 19m) | tee -a "$work/patchbay.txt"
done
pb_reg=$(awk '/BenchmarkSIPpRegister/ { for (i = 1; i < NF; i++) if ($(i+1) == "registrations/s") print $i }' "$work/patchbay.txt")
pb_call=$(awk '/BenchmarkSIPpCall/ { for (i = 1; i < NF; i++) if ($(i+1) == "calls/s") print $i }' "$work/patchbay.txt")
pb_rss=$(awk '/BenchmarkSIPpMemory/ { for (i = 1; i < NF; i++) if ($(i+1) == "MiB-RSS") print $i }' "$work/patchbay.txt")

# Kamailio: the same users (the same password rule), the same sipp runs.
port=$(free_port)
kamailio -f "$root/sip/bench/kamailio.cfg" -DD -E -l "udp:127.0.0.1:$port" \
	-l "tcp:127.0.0.1:$port" -m 1024 -M 32 >"$work/kamailio.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
	[ -n "$(ss -Hlun "sport = :$port")" ] && break
	sleep 0.1
done

users 1 $((PATCHBAY_BENCH_USERS + 1)) "" >"$work/users.csv"
read -r k_reg k_reg_failed < <(load k-register uac_register_auth.xml "$work/users.csv" \
	"127.0.0.1:$port")
echo "Kamailio register: $k_reg registrations/s, $k_reg_failed failed"

users 0 1 "" >"$work/callee.csv"
users 1 1001 u000000 >"$work/callers.csv"
sipp -sf "$scen/uac_register_auth.xml" -oocsf "$scen/uas_answer.xml" -inf "$work/callee.csv" \
	-t u1 -i 127.0.0.1 -nostdin -m 1 -d $(((secs + 10) * 1000)) -timeout "$((secs + 20))s" \
	"127.0.0.1:$port" >"$work/k-callee.out" 2>&1 &
callee=$!
pids+=($callee)
sleep 1
read -r k_call k_call_failed < <(load k-call uac_invite_auth.xml "$work/callers.csv" \
	"127.0.0.1:$port" -d 0)
echo "Kamailio call: $k_call calls/s, $k_call_failed failed"
kill "$callee" 2>/dev/null || true

echo
echo "| case | Patchbay | Kamailio 5.6 |"
echo "| --- | --- | --- |"
echo "| REGISTER with digest auth, per second | $pb_reg | $k_reg |"
echo "| calls through the proxy, per second | $pb_call | $k_call |"
echo "| resident memory, $PATCHBAY_BENCH_DEVICES registered devices (MiB) | $pb_rss | - |"

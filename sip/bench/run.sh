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
# Kamailio's UDP worker processes: PATCHBAY_BENCH_KAMAILIO_CHILDREN (4, its
# best on two cores); PATCHBAY_BENCH_KAMAILIO_ONLY=1 runs Kamailio's side only.
# Needs: go, sipp (apt-get install -y sip-tester), kamailio (apt-get install -y kamailio).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
export PATCHBAY_BENCH_SECONDS=${PATCHBAY_BENCH_SECONDS:-20}
export PATCHBAY_BENCH_LIMIT=${PATCHBAY_BENCH_LIMIT:-200}
export PATCHBAY_BENCH_RATE=${PATCHBAY_BENCH_RATE:-20000}
export PATCHBAY_BENCH_USERS=${PATCHBAY_BENCH_USERS:-10000}
export PATCHBAY_BENCH_DEVICES=${PATCHBAY_BENCH_DEVICES:-100000}
kamailio_children=${PATCHBAY_BENCH_KAMAILIO_CHILDREN:-4}
kamailio_only=${PATCHBAY_BENCH_KAMAILIO_ONLY:-}
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

# kamailio_cpu prints the CPU time, in seconds, used so far by every
# Kamailio process (utime and stime of /proc/PID/stat, in clock ticks).
kamailio_cpu() {
	local hz p total=0
	hz=$(getconf CLK_TCK)
	for p in $(pgrep -x kamailio); do
		total=$((total + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	awk -v t="$total" -v hz="$hz" 'BEGIN { printf "%.3f", t / hz }'
}

# child_cpu VAR sets VAR to the user plus system seconds of this shell's
# finished children (the second line of the times builtin, which has to
# run here: a command substitution is a shell of its own).
child_cpu() {
	times >"$work/times"
	printf -v "$1" '%s' "$(awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/)
		printf "%.3f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$work/times")"
}

# load NAME SCENARIO CSV TARGET [extra sipp args] runs sipp for $secs and
# prints "successful-per-second failed server-µs-per-call sipp-µs-per-call":
# the rate, and Kamailio's and this sipp's CPU time per successful call.
load() {
	local name=$1 sf=$2 csv=$3 target=$4
	shift 4
	local t0 t1 ok bad k0 k1 s0 s1
	t0=$(date +%s.%N)
	k0=$(kamailio_cpu)
	child_cpu s0
	sipp -sf "$scen/$sf" -inf "$csv" -t u1 -i 127.0.0.1 -nostdin -m 100000000 \
		-r "$PATCHBAY_BENCH_RATE" -rp 1000 -l "$PATCHBAY_BENCH_LIMIT" -timeout "${secs}s" \
		-default_behaviors all,-bye -trace_stat -stf "$work/$name.csv" \
		-trace_err -error_file "$work/$name.err" "$@" "$target" >"$work/$name.out" 2>&1 || true
	child_cpu s1
	k1=$(kamailio_cpu)
	t1=$(date +%s.%N)
	ok=$(sipp_stat "$work/$name.csv" 'SuccessfulCall(C)')
	bad=$(sipp_stat "$work/$name.csv" 'FailedCall(C)')
	awk -v n="$ok" -v a="$t0" -v b="$t1" -v bad="$bad" -v k0="$k0" -v k1="$k1" \
		-v s0="$s0" -v s1="$s1" 'BEGIN { printf "%.0f %d %.1f %.1f\n", n / (b - a), bad,
			(k1 - k0) * 1e6 / n, (s1 - s0) * 1e6 / n }'
}

echo "== load: ${secs}s per case, sipp -l $PATCHBAY_BENCH_LIMIT -r $PATCHBAY_BENCH_RATE," \
	"$PATCHBAY_BENCH_USERS users, $PATCHBAY_BENCH_DEVICES devices; $(nproc) cores"

# Patchbay: the edge runs inside the sip package's benchmark binary.
benches=()
if [ -z "$kamailio_only" ]; then
	benches=('SIPp(Register|Call)$' 'SIPpMemory$')
	(cd "$root" && go test -c -o "$work/sip.test" ./sip/)
fi
touch "$work/patchbay.txt"
for bench in "${benches[@]}"; do
	# The memory figure needs a process of its own.
	(cd "$root/sip" && timeout 1200 "$work/sip.test" -test.run '^$' -test.bench "$bench" \
		-test.benchtime 1x -test.timeout 19m) | tee -a "$work/patchbay.txt"
done
# metric BENCH UNIT prints the value a benchmark reported in UNIT ("-" if not run).
metric() {
	awk -v b="$1" -v u="$2" '$0 ~ b { for (i = 1; i < NF; i++) if ($(i+1) == u) { print $i; n++ } }
		END { if (!n) print "-" }' "$work/patchbay.txt"
}
pb_reg=$(metric BenchmarkSIPpRegister registrations/s)
pb_call=$(metric BenchmarkSIPpCall calls/s)
pb_reg_cpu=$(metric BenchmarkSIPpRegister server-CPU-µs/op)
pb_reg_sipp=$(metric BenchmarkSIPpRegister sipp-CPU-µs/op)
pb_call_cpu=$(metric BenchmarkSIPpCall server-CPU-µs/op)
pb_call_sipp=$(metric BenchmarkSIPpCall sipp-CPU-µs/op)
pb_rss=$(metric BenchmarkSIPpMemory MiB-RSS)

# Kamailio: the same users (the same password rule), the same sipp runs.
port=$(free_port)
kamailio -f "$root/sip/bench/kamailio.cfg" -DD -E -l "udp:127.0.0.1:$port" \
	-l "tcp:127.0.0.1:$port" -m 1024 -M 32 -n "$kamailio_children" >"$work/kamailio.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
	[ -n "$(ss -Hlun "sport = :$port")" ] && break
	sleep 0.1
done

users 1 $((PATCHBAY_BENCH_USERS + 1)) "" >"$work/users.csv"
read -r k_reg k_reg_failed k_reg_cpu k_reg_sipp < <(load k-register uac_register_auth.xml "$work/users.csv" \
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
read -r k_call k_call_failed k_call_cpu k_call_sipp < <(load k-call uac_invite_auth.xml "$work/callers.csv" \
	"127.0.0.1:$port" -d 0)
echo "Kamailio call: $k_call calls/s, $k_call_failed failed"
kill "$callee" 2>/dev/null || true

echo
echo "| case | Patchbay | Kamailio 5.6 ($kamailio_children UDP workers) |"
echo "| --- | --- | --- |"
echo "| REGISTER with digest auth, per second | $pb_reg | $k_reg |"
echo "| calls through the proxy, per second | $pb_call | $k_call |"
echo "| server CPU per REGISTER (µs) | $pb_reg_cpu | $k_reg_cpu |"
echo "| sipp CPU per REGISTER (µs) | $pb_reg_sipp | $k_reg_sipp |"
echo "| server CPU per call (µs) | $pb_call_cpu | $k_call_cpu |"
echo "| caller sipp CPU per call (µs) | $pb_call_sipp | $k_call_sipp |"
echo "| resident memory, $PATCHBAY_BENCH_DEVICES registered devices (MiB) | $pb_rss | - |"

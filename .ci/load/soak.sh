#!/usr/bin/env bash
# Soak test: run mixed SIP traffic through one patchbay serve for a while and
# sample its resident memory, its garbage collector's heap goal (five times
# the heap live at the last collection, at patchbay serve's GOGC=400),
# goroutines and open files every 10 seconds.
#
#   .ci/load/soak.sh [minutes]     (default 10)
#
# Traffic, all on 127.0.0.1, in loops until the time is up:
#   - patchbay-load honest on prox.test: register + call proxied to bob
#   - patchbay-load honest on app.test: the call runs the application (Dial
#     bob through the B2BUA, relayed media, CDRs, a status callback)
#   - patchbay-load honest on bad.test: the application answers garbage, so
#     every call fails (500) after the registration succeeds
#   - sipp registrations and unregistrations from 127.0.0.9, an
#     auth-exempt source (sipp 3.6 cannot answer a SHA-256 challenge)
# SOAK_TRAFFIC picks a subset (default "prox app bad sipp").
# Writes $SOAK_CSV (default ./soak.csv) and prints it as a table with the
# traffic's totals. Exit status 1 when the server died.

. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

minutes=${1:-10}
csv=${SOAK_CSV:-$PWD/soak.csv}
trap stop_all EXIT
trap 'exit 130' INT TERM

build
start_app
start_patchbay PATCHBAY_SIP_GUARD_REQUESTS_PER_SECOND=5000 PATCHBAY_SIP_GUARD_BURST=10000 \
	PATCHBAY_SIP_AUTH_EXEMPT_SOURCES=127.0.0.9/32
provision
echo "soak: patchbay pid $pb_pid, api $api, sip $sip, $minutes min" >&2

end=$(($(date +%s) + ${SOAK_SECONDS:-$((minutes * 60))}))
loops=()

# loop NAME CMD...: runs CMD repeatedly until the end time, appending its
# output to $work/NAME.out.
loop() {
	local name=$1
	shift
	while [ "$(date +%s)" -lt "$end" ]; do
		rc=0
		"$@" >>"$work/$name.out" 2>&1 || rc=$?
		echo "exit $rc" >>"$work/$name.out"
	done
}

printf 'SEQUENTIAL\n' >"$work/sipp.csv"
for i in $(seq 20); do printf 'sipp%d;prox.test\n' "$i" >>"$work/sipp.csv"; done

traffic=${SOAK_TRAFFIC:-prox app bad sipp}
for kind in $traffic; do
	case $kind in
	prox) loop prox honest prox.test 50 -interval 50ms & ;;
	app) loop app honest app.test 25 -interval 200ms & ;;
	bad) loop bad honest bad.test 10 -interval 500ms & ;;
	sipp) loop sipp sipp -sf "$repo/.ci/load/register_exempt.xml" -inf "$work/sipp.csv" \
		-i 127.0.0.9 -m 100 -r 20 -nostdin -timeout 30s -timeout_error \
		-trace_stat -stf "$work/sipp_stat.csv" "$sip" & ;;
	*) echo "soak: unknown traffic $kind (prox app bad sipp)" >&2; exit 2 ;;
	esac
	loops+=("$!")
done

# sample prints one CSV row: seconds, VmRSS kB, heap goal bytes,
# goroutines, open files.
sample() {
	local rss metrics goal gor fds
	rss=$(awk '/^VmRSS/{print $2}' "/proc/$pb_pid/status" 2>/dev/null || echo -)
	metrics=$(curl -sf "http://$api/metrics")
	goal=$(awk '/^go_memstats_next_gc_bytes /{printf "%d", $2}' <<<"$metrics")
	gor=$(awk '/^go_goroutines /{print $2}' <<<"$metrics")
	fds=$(ls "/proc/$pb_pid/fd" 2>/dev/null | wc -l)
	echo "$1,${rss:--},${goal:--},${gor:--},$fds"
}

echo "elapsed_s,rss_kb,heap_goal_bytes,goroutines,open_files" >"$csv"
start=$(date +%s)
while [ "$(date +%s)" -lt "$end" ]; do
	sample $(($(date +%s) - start)) >>"$csv"
	kill -0 "$pb_pid" 2>/dev/null || break
	sleep 10
done
for pid in "${loops[@]}"; do wait "$pid" 2>/dev/null || true; done
sleep 12 # the last calls end, media ports leave quarantine
sample $(($(date +%s) - start)) >>"$csv"

# totals NAME KIND: sums "honest: KIND x/y succeeded" lines of a loop.
totals() {
	grep -h "^honest: $2 " "$work/$1.out" 2>/dev/null |
		awk '{split($3, a, "/"); ok += a[1]; all += a[2]}
			END {printf "%d/%d", ok, all}'
}

echo
echo "| elapsed (s) | VmRSS (MiB) | GC heap goal (MiB) | goroutines | open files |"
echo "| ---: | ---: | ---: | ---: | ---: |"
tail -n +2 "$csv" | awk -F, '{printf "| %s | %.1f | %.1f | %s | %s |\n", $1, $2 / 1024,
	$3 / 1048576, $4, $5}'
echo
echo "| traffic | registrations ok | calls ok |"
echo "| --- | ---: | ---: |"
for name in prox app bad; do
	echo "| honest $name.test | $(totals $name registrations) | $(totals $name calls) |"
done
runs=$(grep -c '^exit ' "$work/sipp.out" || true)
clean=$(grep -c '^exit 0$' "$work/sipp.out" || true)
echo "| sipp, auth-exempt (runs of 100 register + unregister) | $clean/$runs runs clean | - |"
echo
echo "SIP edge counters at the end:"
curl -sf "http://$api/metrics" | grep -E '^patchbay_sip_(auth_failures|registrations|guard_drops)' |
	sed 's/^/  /' || true
echo "application requests: $(tr '\n' ' ' <"$work/app_counts" 2>/dev/null)"
echo "server warnings/errors logged: $(grep -c 'level=\(WARN\|ERROR\)' "$work/serve.log" || true)"
if ! kill -0 "$pb_pid" 2>/dev/null; then
	echo "soak: patchbay died; its log:" >&2
	tail -50 "$work/serve.log" >&2
	exit 1
fi

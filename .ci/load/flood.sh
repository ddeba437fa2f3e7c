#!/usr/bin/env bash
# Flood test: one source (127.0.0.2) sends SIP requests at a fixed rate
# (patchbay-load flood, default 50,000/s) for a while, as a scanner would,
# while an honest phone pair (127.0.0.1) registers and calls through
# Patchbay with its default guard settings (50 requests/s per source, burst
# 200). Prints the honest success rate and latency, the flood's answers,
# the guard's drops and the server's CPU time and memory.
#
#   .ci/load/flood.sh [seconds] [rate] [method]   (30, 50000, OPTIONS)
#
# A second run with method REGISTER floods the registrar instead.

. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

seconds=${1:-30}
rate=${2:-50000}
method=${3:-OPTIONS}
trap stop_all EXIT
trap 'exit 130' INT TERM

build
start_app
start_patchbay
provision
echo "flood: patchbay pid $pb_pid, api $api, sip $sip" >&2

cpu_ticks() { awk '{print $14 + $15}' "/proc/$pb_pid/stat"; }
ticks0=$(cpu_ticks)

"$work/bin/patchbay-load" flood -target "$sip" -source 127.0.0.2 -rate "$rate" \
	-duration "${seconds}s" -method "$method" -domain prox.test >"$work/flood.out" 2>&1 &
flood_pid=$!
pids+=("$flood_pid")
sleep 1 # the flood is under way before the honest traffic starts

# Honest rounds (register + call) spread over the flood: one every 200 ms.
rounds=$(((seconds - 2) * 5))
honest prox.test "$rounds" -interval 200ms >"$work/honest.out" 2>&1 || true
wait "$flood_pid" || true
ticks1=$(cpu_ticks)
hz=$(getconf CLK_TCK)

echo
echo "flood ($method from 127.0.0.2, $rate/s for ${seconds}s):"
sed 's/^/  /' "$work/flood.out"
echo "honest phone pair (127.0.0.1, $rounds rounds of register + call during the flood):"
sed 's/^/  /' "$work/honest.out"
echo "guard drops:"
curl -sf "http://$api/metrics" | grep '^patchbay_sip_guard_drops_total' | sed 's/^/  /'
echo "server: CPU $(awk -v t=$((ticks1 - ticks0)) -v hz="$hz" -v s="$seconds" \
	'BEGIN {printf "%.1f s over the run (%.0f%% of one core)", t / hz, 100 * t / hz / (s + 1)}'),\
 VmRSS $(awk '/^VmRSS/{printf "%.1f MiB", $2 / 1024}' "/proc/$pb_pid/status")"
! grep -q 'failed' "$work/honest.out"

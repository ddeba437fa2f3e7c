#!/bin/sh
# Side-by-side relay benchmark: Patchbay's media engine (behind the ng
# shim of rtpload) and rtpengine in userspace mode (--table=-1, no
# kernel forwarding), same load tool, same machine, same run, with a
# direct run (no relay) per RTP load as the latency baseline.
# Usage: media/bench/run.sh [calls...]   (default: 500 1000 2000 3000)
# Every process it starts is stopped on exit; each load run stops
# itself after DURATION.
set -eu
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-10s}
CALLS=${*:-500 1000 2000 3000}
BIN=$(mktemp -d)/rtpload
# Control ports: chosen per run so a lingering socket cannot block it.
NG_PB=127.0.0.1:$((61000 + $$ % 2000 * 2))
NG_RE=127.0.0.1:$((61001 + $$ % 2000 * 2))
go build -o "$BIN" ./media/bench/rtpload

"$BIN" serve-ng -listen "$NG_PB" -ports 20000-35999 -max-life 30m &
PB=$!
rtpengine --foreground --log-stderr --log-level=3 --interface=127.0.0.1 \
	--listen-ng="$NG_RE" --port-min=36000 --port-max=59999 --table=-1 \
	--num-threads=2 --delete-delay=0 2>/dev/null &
RE=$!
trap 'kill $PB $RE 2>/dev/null; wait $PB $RE 2>/dev/null || true' EXIT INT TERM
sleep 1

echo "# $(date -u +%FT%TZ) $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for mode in "" "-srtp"; do
	for n in $CALLS; do
		if [ -z "$mode" ]; then
			# The same traffic with no relay: the latency a relay adds is
			# its own figure minus this one.
			"$BIN" load -name direct -direct -calls "$n" -duration "$DURATION"
			sleep 1
		fi
		"$BIN" load -ng "$NG_PB" -name patchbay -calls "$n" -duration "$DURATION" \
			-pid $PB $mode
		sleep 1
		"$BIN" load -ng "$NG_RE" -name rtpengine -calls "$n" -duration "$DURATION" \
			-pid $RE $mode
		sleep 1
	done
done

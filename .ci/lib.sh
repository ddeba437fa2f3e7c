# Shared by .ci/serve and .ci/test: make a fresh Debian machine able to build
# and test Patchbay. Sourced, not run. Installs only what is missing.

set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=""
apt_install() {
	[ $# -gt 0 ] || return 0
	echo "patchbay: installing $* from Debian" >&2
	if [ -z "$apt_updated" ]; then
		as_root apt-get update -qq
		apt_updated=1
	fi
	as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# need_commands installs the Debian package that provides each missing
# command: need_commands gcc:gcc sipp:sip-tester ...
need_commands() {
	local missing=() pair
	for pair in "$@"; do
		command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
	done
	apt_install "${missing[@]}"
}

# go_version_ok tells whether the go on PATH is at least the go.mod version.
go_version_ok() {
	command -v go >/dev/null 2>&1 || return 1
	local want have
	want=$(awk '/^go /{print $2; exit}' "$repo/go.mod")
	have=$(go env GOVERSION 2>/dev/null | sed 's/^go//')
	[ -n "$have" ] && [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -1)" = "$want" ]
}

# ensure_go puts a Go toolchain of at least the go.mod version on PATH. When
# the machine has none (Debian ships an older one), Debian's Go fetches the
# official toolchain as a module from the configured Go module proxy, the way
# the go command itself switches toolchains.
ensure_go() {
	for dir in /usr/local/go/bin "$HOME/go/bin"; do
		[ -x "$dir/go" ] && PATH="$dir:$PATH"
	done
	go_version_ok && return 0

	need_commands go:golang-go gcc:gcc unzip:unzip
	local want mod dir
	want=$(awk '/^go /{print $2; exit}' "$repo/go.mod")
	mod="golang.org/toolchain@v0.0.1-go${want}.linux-$(dpkg --print-architecture)"
	echo "patchbay: fetching Go ${want} ($mod)" >&2
	dir=$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "$mod" |
		awk -F'"' '/"Dir"/{print $4}')
	[ -n "$dir" ] || { echo "patchbay: could not fetch $mod" >&2; exit 1; }
	chmod -R u+w "$dir"
	chmod +x "$dir"/bin/* "$dir"/pkg/tool/*/*
	PATH="$dir/bin:$PATH"
	go_version_ok || { echo "patchbay: $dir/bin/go is not Go $want" >&2; exit 1; }
}

ensure_build_tools() {
	ensure_go
	need_commands gcc:gcc
	export CGO_ENABLED=1 # github.com/mattn/go-sqlite3 is cgo
}

#!/usr/bin/env bash
# Shared by scripts/demo and scripts/test: install what is missing, build.
# Sourced, not run. Idempotent: a second run installs nothing and rebuilds
# only what changed.

TWS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TWS_BUILD=${TWS_BUILD:-$TWS_ROOT/build}

# Debian 12 packages twstack needs to build, test and run on virtual ports.
TWS_PKGS=(gcc libc6-dev pkg-config meson ninja-build python3
	dpdk libdpdk-dev libnuma-dev libsodium-dev
	gnuplot-nox	# tws-memcost --plot, tws-gen --plot
	iproute2 ethtool curl procps nftables tcpdump	# interop: namespaces, veth offloads, a kernel client, sysctl, dropped segments, captures
	nginx-light wrk tshark	# interop: the kernel-side server and load generator, capture decoding
	clang libclang-rt-14-dev)	# scripts/fuzz: libFuzzer, ASan, UBSan

tws_log() { printf '==> %s\n' "$*" >&2; }
tws_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

tws_missing_pkgs() {
	local p missing=()
	for p in "${TWS_PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	echo "${missing[@]}"
}

tws_install_deps() {
	command -v dpkg-query >/dev/null || tws_die "this script installs Debian packages; on another system install: ${TWS_PKGS[*]}"
	local missing
	missing=$(tws_missing_pkgs)
	if [ -z "$missing" ]; then
		tws_log "packages: all present"
		return 0
	fi
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null ||
			tws_die "missing packages: $missing; run as root or: apt-get install $missing"
		sudo=(sudo)
	fi
	tws_log "installing: $missing"
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -q >/dev/null ||
		tws_die "apt-get update failed (is the Debian mirror reachable?)"
	# nginx's package starts a server on the host's port 80 unless policy-rc.d says no:
	# the tests start their own nginx in a namespace, the host gets none.
	local policy=/usr/sbin/policy-rc.d made_policy=""
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# twstack scripts/lib.sh: no service starts while it installs packages\nexit 101\n' |
			"${sudo[@]}" tee "$policy" >/dev/null && "${sudo[@]}" chmod 755 "$policy" && made_policy=1
	fi
	local rc=0
	# shellcheck disable=SC2086
	"${sudo[@]}" apt-get install -y -q --no-install-recommends $missing >/dev/null || rc=1
	[ -n "$made_policy" ] && "${sudo[@]}" rm -f "$policy"
	[ $rc -eq 0 ] || tws_die "apt-get install $missing failed"
}

# tws_build [extra meson options]: configure once, then ninja.
tws_build() {
	if [ ! -f "$TWS_BUILD/build.ninja" ]; then
		tws_log "configuring $TWS_BUILD"
		meson setup "$TWS_BUILD" "$TWS_ROOT" --buildtype=release "$@" >/dev/null ||
			tws_die "meson setup failed (see $TWS_BUILD/meson-logs/meson-log.txt)"
	elif [ $# -gt 0 ]; then
		meson configure "$TWS_BUILD" "$@" >/dev/null || tws_die "meson configure $* failed"
	fi
	tws_log "building"
	ninja -C "$TWS_BUILD" >/dev/null || { ninja -C "$TWS_BUILD"; tws_die "build failed"; }
}

#!/usr/bin/env bash
# Install twstack into a scratch DESTDIR and build a program the way a load
# balancer would: with pkg-config's libtwstack flags, static and shared. TAP.
set -u
build=$1
src=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..4"
n=0
check() { n=$((n + 1)); if "$@" >"$tmp/log" 2>&1; then echo "ok $n - $desc"; else sed 's/^/# /' "$tmp/log"; echo "not ok $n - $desc"; fi; }

desc="meson install into a DESTDIR"
check meson install -C "$build" --destdir "$tmp/root" --no-rebuild --quiet
prefix=$(meson introspect "$build" --buildoptions | python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
pc=$(find "$tmp/root" -name libtwstack.pc | head -1)
# The .pc names the real prefix; point a copy at the DESTDIR (libdpdk.pc stays as it is).
mkdir -p "$tmp/pc"
[ -n "$pc" ] && sed "s|^prefix=.*|prefix=$tmp/root$prefix|" "$pc" > "$tmp/pc/libtwstack.pc"
export PKG_CONFIG_PATH=$tmp/pc
pcflags() { pkg-config "$@" libtwstack; }
desc="libtwstack.pc and tws_timer.h installed"
check test -n "$pc" -a -n "$(find "$tmp/root" -name tws_timer.h)"
desc="consumer links with pkg-config --libs (shared) and runs"
check bash -c "cc -o '$tmp/c_shared' '$src/consumer.c' $(pcflags --cflags) $(pcflags --libs) -Wl,-rpath,'$tmp/root$prefix/lib/x86_64-linux-gnu' -Wl,-rpath,'$tmp/root$prefix/lib' && '$tmp/c_shared'"
desc="consumer links libtwstack.a (DPDK shared, as Debian ships it) and runs"
check bash -c "cc -o '$tmp/c_static' '$src/consumer.c' $(pcflags --cflags) '$(pcflags --variable=libdir)/libtwstack.a' $(pkg-config --libs libdpdk) -lnuma -lm && '$tmp/c_static'"

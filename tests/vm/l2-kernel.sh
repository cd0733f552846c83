#!/bin/bash
# tests/vm/l2-kernel.sh - build (once) and locate the nested guest's kernel.
#
# The nested tests (tests/vm/nested/) run QEMU inside the nested VM (L1); the
# guest it boots (L2) needs a kernel that reaches /init quickly under nested
# TCG. This is linux-source-6.12 (srctree.sh) configured with tinyconfig +
# tests/vm/l2.config, built into $CACHE/l2-<source version>-<hash of the
# fragment and of this script>/, so only the first run on a machine pays for
# the build (~320 s on 2 cores). A finished build has:
#   build/     the O= tree
#   vmlinux    the ELF image QEMU boots with -kernel (PVH entry note)
#   done       written last
#
# Run: l2-kernel.sh    builds if needed, prints the path of vmlinux
#
# Environment: PCIPASS_JOBS (make -j, default: number of CPUs).
set -eu
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"

src=$("$VMDIR/srctree.sh")
ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
key=$(cat "$VMDIR/l2.config" "$0" | sha256sum | cut -c1-12)
out=$CACHE/l2-$ver-$key
jobs=${PCIPASS_JOBS:-$(nproc)}

if [ ! -e "$out/done" ]; then
	stage "l2 kernel: building $out (once; ~6 min on 2 cores)"
	rm -rf "$out"
	mkdir -p "$out/build"
	tmp=$out/build
	make -s -C "$src" O="$tmp" tinyconfig >/dev/null
	"$src/scripts/kconfig/merge_config.sh" -m -O "$tmp" "$tmp/.config" \
		"$VMDIR/l2.config" >"$out/merge.log" 2>&1
	make -s -C "$src" O="$tmp" olddefconfig >/dev/null
	# Options the fragment asked for and did not get are a mistake.
	grep -E '^CONFIG_[A-Z0-9_]+=[ym0-9-]' "$VMDIR/l2.config" | while read -r opt; do
		grep -qx "$opt" "$tmp/.config" ||
			echo "l2 kernel: warning: $opt did not take" >&2
	done
	if ! make -C "$src" O="$tmp" -j"$jobs" vmlinux >"$out/build.log" 2>&1; then
		tail -n 30 "$out/build.log" >&2
		die "l2 kernel build failed (log: $out/build.log)"
	fi
	readelf -n "$tmp/vmlinux" | grep -qE 'Xen.*(0x00000012|PHYS32_ENTRY)' ||
		die "l2 kernel: $tmp/vmlinux has no PVH entry note"
	cp "$tmp/vmlinux" "$out/vmlinux.tmp"
	strip --strip-debug "$out/vmlinux.tmp" 2>/dev/null || true
	mv "$out/vmlinux.tmp" "$out/vmlinux"
	touch "$out/done"
	stage "l2 kernel: built"
fi
echo "$out/vmlinux"

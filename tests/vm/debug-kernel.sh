#!/bin/bash
# tests/vm/debug-kernel.sh - build (once) and locate the debug-lane kernel.
#
# The kernel is linux-source-6.12 (srctree.sh) configured with
# x86_64_defconfig + kernel/configs/kvm_guest.config + tests/vm/debug.config
# (KUnit, KASAN, lockdep, kmemleak, fault injection), built out of the source
# tree into $CACHE/debug-<source version>-<hash of the fragment and of this
# script>/, so only the first run on a machine (or a change of the fragment)
# pays for the build. A finished build has:
#   build/           the O= tree, for `make -C build M=...` (module builds)
#   bzImage          the image the VMs boot
#   root/lib/modules/<kver>/   its modules, with modules.dep
#   done             written last
#
# Run:     debug-kernel.sh          builds if needed, prints KVER=, KERNEL=,
#                                   MODDIR=, KDIR= lines (like kernel.sh)
# Sourced: exports PCIPASS_KERNEL PCIPASS_MODDIR PCIPASS_KDIR PCIPASS_KVER.
#
# Environment: PCIPASS_JOBS (make -j, default: number of CPUs).

# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

pcipass_debug_kernel() {
	local src ver key out tmp jobs kver
	src=$("$VMDIR/srctree.sh") || return 1
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	key=$(cat "$VMDIR/debug.config" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-12)
	out=$CACHE/debug-$ver-$key
	jobs=${PCIPASS_JOBS:-$(nproc)}

	if [ ! -e "$out/done" ]; then
		stage "debug kernel: building $out (once; ~15 min on 2 cores)"
		rm -rf "$out"
		mkdir -p "$out/build"
		tmp=$out/build
		make -s -C "$src" O="$tmp" x86_64_defconfig >/dev/null
		"$src/scripts/kconfig/merge_config.sh" -m -O "$tmp" "$tmp/.config" \
			"$src/kernel/configs/kvm_guest.config" "$VMDIR/debug.config" \
			>"$out/merge.log" 2>&1
		make -s -C "$src" O="$tmp" olddefconfig >/dev/null
		# Options the fragment asked for and did not get are a mistake.
		grep -E '^CONFIG_[A-Z0-9_]+=[ym]' "$VMDIR/debug.config" | while read -r opt; do
			grep -qx "$opt" "$tmp/.config" ||
				echo "debug kernel: warning: $opt did not take" >&2
		done
		if ! make -C "$src" O="$tmp" -j"$jobs" bzImage modules \
			>"$out/build.log" 2>&1; then
			tail -n 30 "$out/build.log" >&2
			die "debug kernel build failed (log: $out/build.log)"
		fi
		make -s -C "$src" O="$tmp" INSTALL_MOD_PATH="$out/root" \
			modules_install >/dev/null
		cp "$tmp/arch/x86/boot/bzImage" "$out/bzImage"
		touch "$out/done"
		stage "debug kernel: built"
	fi

	kver=$(cat "$out/build/include/config/kernel.release")
	PCIPASS_KVER=$kver
	PCIPASS_KERNEL=$out/bzImage
	PCIPASS_MODDIR=$out/root/lib/modules/$kver
	PCIPASS_KDIR=$out/build
	export PCIPASS_KVER PCIPASS_KERNEL PCIPASS_MODDIR PCIPASS_KDIR
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -eu
	pcipass_debug_kernel
	echo "KVER=$PCIPASS_KVER"
	echo "KERNEL=$PCIPASS_KERNEL"
	echo "MODDIR=$PCIPASS_MODDIR"
	echo "KDIR=$PCIPASS_KDIR"
else
	pcipass_debug_kernel || return 1
fi

#!/bin/bash
# tests/vm/bench-kernel.sh - build (once) and locate the bench-lane kernel:
# the debug lane's kernel without its checking (no KASAN, lockdep,
# kmemleak, fault injection, DEBUG_*), with iommufd, the VFIO device cdev
# and gup_test, for `make bench` (tests/vm/bench.sh) only.
#
# It is built by the debug lane's own recipe, pcipass_debug_kernel() of
# tests/vm/debug-kernel.sh, read from there and run with the bench lane's
# names: the fragment is debug.config with tests/vm/bench.config on top
# (a symbol bench.config sets replaces its line in debug.config), the
# cache directory $CACHE/bench-<source version>-<hash of that fragment, of
# debug-kernel.sh and of this script>/. One recipe for both lanes; debug-kernel.sh is read,
# not changed, so the debug kernel's cache key (its own bytes) stays.
# A finished build has what a debug one has: build/, bzImage,
# root/lib/modules/<kver>/, done.
#
# Run:     bench-kernel.sh          builds if needed, prints KVER=, KERNEL=,
#                                   MODDIR=, KDIR= lines (like kernel.sh)
# Sourced: exports PCIPASS_KERNEL PCIPASS_MODDIR PCIPASS_KDIR PCIPASS_KVER.
#
# Environment: PCIPASS_JOBS (make -j, default: number of CPUs).

# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The fragment: debug.config minus what bench.config sets, then bench.config.
pcipass_bench_fragment() {
	local syms
	syms=$(sed -nE 's/^(# )?(CONFIG_[A-Za-z0-9_]+)[= ].*/\2/p' "$VMDIR/bench.config" |
		paste -sd'|')
	grep -vE "^(# )?($syms)[= ]" "$VMDIR/debug.config"
	cat "$VMDIR/bench.config"
}

# shellcheck disable=SC2016 # '$...': text of the recipe, not expansions
pcipass_bench_kernel_build() {
	local recipe fragment rc=0
	recipe=$(sed -n '/^pcipass_debug_kernel() {$/,/^}$/p' "$VMDIR/debug-kernel.sh")
	case "$recipe" in
	*'"$VMDIR/debug.config"'*'"${BASH_SOURCE[0]}"'*) ;;
	*) echo "bench kernel: no recipe in $VMDIR/debug-kernel.sh" >&2; return 1 ;;
	esac
	fragment=$(mktemp "${TMPDIR:-/tmp}/pcipass-bench-config.XXXXXX") || return 1
	pcipass_bench_fragment >"$fragment"
	# The fragment in place of debug.config, the lane's name for the
	# debug lane's, and a key that also covers the recipe's file (this
	# one is ${BASH_SOURCE[0]} of the function defined here).
	recipe=${recipe//'"$VMDIR/debug.config"'/'"$fragment"'}
	recipe=${recipe//debug/bench}
	recipe=${recipe//'"${BASH_SOURCE[0]}"'/'"$VMDIR/debug-kernel.sh" "${BASH_SOURCE[0]}"'}
	eval "$recipe" && pcipass_bench_kernel || rc=$?
	rm -f "$fragment"
	return "$rc"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -eu
	pcipass_bench_kernel_build
	echo "KVER=$PCIPASS_KVER"
	echo "KERNEL=$PCIPASS_KERNEL"
	echo "MODDIR=$PCIPASS_MODDIR"
	echo "KDIR=$PCIPASS_KDIR"
else
	pcipass_bench_kernel_build || return 1
fi

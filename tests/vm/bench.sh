#!/bin/bash
# tests/vm/bench.sh - `make bench`: boot the IOMMU VM once in bench mode
# (tests/vm/guest-bench.sh), where tests/bench/pcipass_bench measures the
# same operations through pcipass and through vfio-pci on edu, and print
# the table it gives (pcipass/vfio-pci ratios) on stdout.
#
# Outputs in build/bench/: results.txt (the table, with a header saying
# where it was measured), bench.log (the benchmark's progress and error
# messages, and the medians of every round), initramfs.cpio.gz, and vm/
# (the VM's logs, see run-vm.sh).
# Exit status 1 when the benchmark failed an operation, or the VM did not
# finish cleanly (parse-results.sh: completed, kernel log clean).
#
# Environment: PCIPASS_BENCH_ROUNDS (rounds, 10), PCIPASS_BENCH_SCALE
# (iterations x SCALE, 1; 0.1 for a quick look), PCIPASS_BENCH_DIR (instead
# of build/bench), PCIPASS_VM_TIMEOUT (1800 here), and those of
# mkinitramfs.sh and run-vm.sh.
set -eu
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"

BUILD=${PCIPASS_BENCH_DIR:-$TOP/build/bench}
OUT=$BUILD/vm
RESULTS=$BUILD/results.txt
ROUNDS=${PCIPASS_BENCH_ROUNDS:-10}
SCALE=${PCIPASS_BENCH_SCALE:-1}
BENCH=$TOP/tests/bench/pcipass_bench

[ -x "$BENCH" ] || die "$BENCH not built (make -C tests/bench)"
mkdir -p "$BUILD"
# An initramfs of its own, without the selftests: `make check` may be
# using build/vm/ at the same time.
export PCIPASS_INITRAMFS=$BUILD/initramfs.cpio.gz
export PCIPASS_SELFTESTS_OUT=$BUILD/no-selftests
export PCIPASS_ALLOW_NO_TESTS=1
export PCIPASS_VM_TIMEOUT=${PCIPASS_VM_TIMEOUT:-1800}
export PCIPASS_EXTRA_CMDLINE="${PCIPASS_EXTRA_CMDLINE:-} pcipassvm.bench_rounds=$ROUNDS pcipassvm.bench_scale=$SCALE"

"$VMDIR/mkinitramfs.sh" "$PCIPASS_INITRAMFS"
load=$(cut -d' ' -f1-3 /proc/loadavg)
stage "bench: $ROUNDS rounds, scale $SCALE (about a minute under TCG); host load $load"
# The VM's vCPUs are host threads: anything else running adds noise.
awk -v l="${load%% *}" 'BEGIN { exit !(l >= 0.5) }' &&
	echo "bench: note: the host is busy (load $load): expect noisy times" >&2
rc=0
"$VMDIR/run-vm.sh" iommu "$OUT" bench || rc=$?
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# The table is stdout of pcipass-bench; its stderr lines start with
# "pcipass-bench: " and go to bench.log.
section=$(tr -d '\r' <"$OUT/results.log" |
	sed -n '/^# pcipass-bench-begin$/,/^# pcipass-bench-end$/p' | sed '1d;$d')
grep '^pcipass-bench: ' <<<"$section" >"$BUILD/bench.log" || true
status=$(tr -d '\r' <"$OUT/results.log" | sed -n 's/^# pcipass-bench-exit: //p')
{
	echo "# make bench, $(date -u '+%Y-%m-%d %H:%M UTC'), $(git -C "$TOP" describe --always --dirty 2>/dev/null || echo '?')"
	echo "# host: $(nproc) CPUs, load $load before, $load_after after; $(qemu-system-x86_64 --version | head -n1)"
	echo "# VM: q35, intel-iommu intremap=on, TCG (${PCIPASS_QEMU_ACCEL:-tcg,thread=single}), 2 vCPUs, 1 GiB"
	echo "# TCG exaggerates the cost of every trap and MMIO access: read the ratios, not the times."
	grep -v '^pcipass-bench: ' <<<"$section" || true
} >"$RESULTS"

cat "$RESULTS"
echo
# Progress and per-round lines ("round N: ...") stay in bench.log.
ROUND_RE='^pcipass-bench: round [0-9]*: '
if grep -qv "$ROUND_RE" "$BUILD/bench.log"; then
	echo "bench: messages of the benchmark (also in $BUILD/bench.log):"
	grep -v "$ROUND_RE" "$BUILD/bench.log" | sed 's/^/  /'
fi
ok=yes
if ! verdict=$("$VMDIR/parse-results.sh" "$OUT" iommu) || [ "$rc" -ne 0 ]; then
	echo "$verdict"
	echo "bench: the VM did not finish cleanly (logs in $OUT)" >&2
	ok=no
fi
if [ "$status" != 0 ]; then
	echo "bench: pcipass-bench failed (exit status ${status:-none}; logs in $OUT)" >&2
	ok=no
fi
[ "$ok" = yes ] || exit 1
echo "bench: results in $RESULTS; VM finished, kernel log clean (logs in $OUT)"

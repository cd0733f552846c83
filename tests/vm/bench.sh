#!/bin/bash
# tests/vm/bench.sh - `make bench`: boot the IOMMU VM in bench mode
# (tests/vm/guest-bench.sh), where tests/bench/pcipass_bench measures the
# same operations through pcipass, vfio type1 and vfio-pci over iommufd,
# once per kernel:
#   bench  the bench kernel (tests/vm/bench-kernel.sh: the debug lane's tree
#          without its checking, with iommufd and gup_test; built once per
#          machine, ~15 min on 2 cores): all three stacks, the pin-only
#          floor, and pcipass with one pinning worker where pcipass has a
#          worker parameter
#   stock  Debian's 6.12 kernel: pcipass and vfio type1 (no iommufd there)
# and print the tables on stdout.
#
# Outputs in build/bench/: results.txt (the tables of every kernel, with a
# header saying where they were measured), results.md (the same tables
# alone, as in README.md), map-time.png (map time against size, per stack,
# from the first kernel run; map-time.dat its data), and per kernel K:
# K/bench.log (the benchmark's progress and error messages, and the
# medians of every round), K/initramfs.cpio.gz, K/vm/ (the VM's logs, see
# run-vm.sh), and for the bench kernel bench/src/ (the module's build).
# Exit status 1 when the benchmark failed an operation, or a VM did not
# finish cleanly (parse-results.sh: completed, kernel log clean).
#
# Environment: PCIPASS_BENCH_KERNELS ("bench stock"), PCIPASS_BENCH_ROUNDS
# (rounds, 4), PCIPASS_BENCH_SCALE (iterations x SCALE, 1; 0.1 for a quick
# look), PCIPASS_BENCH_WORKERS (pcipass's worker parameter, when its name
# has no "worker" in it), PCIPASS_BENCH_DIR (instead of build/bench),
# PCIPASS_VM_TIMEOUT (3600 here), PCIPASS_VM_MEM (4G here), and those of
# mkinitramfs.sh and run-vm.sh.
set -eu
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"

BUILD=${PCIPASS_BENCH_DIR:-$TOP/build/bench}
RESULTS=$BUILD/results.txt
ROUNDS=${PCIPASS_BENCH_ROUNDS:-4}
SCALE=${PCIPASS_BENCH_SCALE:-1}
KERNELS=${PCIPASS_BENCH_KERNELS:-bench stock}
BENCH=$TOP/tests/bench/pcipass_bench

[ -x "$BENCH" ] || die "$BENCH not built (make -C tests/bench)"
mkdir -p "$BUILD"
# Initramfs of its own, without the selftests: `make check` may be using
# build/vm/ at the same time.
export PCIPASS_SELFTESTS_OUT=$BUILD/no-selftests
export PCIPASS_ALLOW_NO_TESTS=1
export PCIPASS_VM_TIMEOUT=${PCIPASS_VM_TIMEOUT:-3600}
# Three stacks with 1 GiB each, one at a time, beside 1 GiB of hugetlbfs
# pages and 1 GiB of THP held for the whole run.
export PCIPASS_VM_MEM=${PCIPASS_VM_MEM:-4G}
# Two vCPUs that really run at once: pinning on several CPUs is measured.
export PCIPASS_QEMU_ACCEL=${PCIPASS_QEMU_ACCEL:-tcg,thread=multi}
CMDLINE="${PCIPASS_EXTRA_CMDLINE:-} hugepages=512 transparent_hugepage=madvise"
CMDLINE="$CMDLINE pcipassvm.bench_rounds=$ROUNDS pcipassvm.bench_scale=$SCALE"
[ -z "${PCIPASS_BENCH_WORKERS:-}" ] ||
	CMDLINE="$CMDLINE pcipassvm.bench_workers=$PCIPASS_BENCH_WORKERS"
export PCIPASS_EXTRA_CMDLINE=$CMDLINE

# bench_kernel: the bench kernel, and pcipass.ko built for it from a copy
# of the module's sources in $BUILD/bench/src (unchanged files keep their
# times: the build there is incremental); sets PCIPASS_KO.
bench_kernel() {
	local src=$BUILD/bench/src
	# shellcheck source=tests/vm/bench-kernel.sh
	. "$VMDIR/bench-kernel.sh"
	mkdir -p "$src"
	(cd "$TOP" && find drivers/pcipass include/uapi \( -name '*.[ch]' -o -name Kbuild \) \
		! -name '*.mod.c' -type f -print0 | tar -c --null -T - -f -) |
		tar -x -C "$src" -f -
	stage "bench: pcipass.ko for $PCIPASS_KVER"
	make -s -C "$PCIPASS_KDIR" M="$src/drivers/pcipass" modules >"$BUILD/bench/build.log" 2>&1 ||
		{ tail -n 20 "$BUILD/bench/build.log" >&2; die "pcipass.ko for the bench kernel failed to build"; }
	export PCIPASS_KO=$src/drivers/pcipass/pcipass.ko
	export PCIPASS_VM_MODULES="${PCIPASS_VM_MODULES:-} iommufd"
}

# run_kernel K: one boot of the VM with kernel K; its tables in $BUILD/K/.
run_kernel() {
	local k=$1 out=$BUILD/$1 rc=0 load load_after section status
	mkdir -p "$out"
	export PCIPASS_INITRAMFS=$out/initramfs.cpio.gz
	"$VMDIR/mkinitramfs.sh" "$PCIPASS_INITRAMFS"
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	stage "bench ($k kernel): $ROUNDS rounds, scale $SCALE; host load $load"
	# The VM's vCPUs are host threads: anything else running adds noise.
	awk -v l="${load%% *}" 'BEGIN { exit !(l >= 0.5) }' &&
		echo "bench: note: the host is busy (load $load): expect noisy times" >&2
	"$VMDIR/run-vm.sh" iommu "$out/vm" bench || rc=$?
	load_after=$(cut -d' ' -f1-3 /proc/loadavg)

	# The tables are stdout of pcipass-bench; its stderr lines start
	# with "pcipass-bench: " and go to bench.log.
	section=$(tr -d '\r' <"$out/vm/results.log" |
		sed -n '/^# pcipass-bench-begin$/,/^# pcipass-bench-end$/p' | sed '1d;$d')
	grep '^pcipass-bench: ' <<<"$section" >"$out/bench.log" || true
	grep -v '^pcipass-bench: ' <<<"$section" >"$out/results.md" || true
	sed -n 's/^pcipass-bench: plot: //p' "$out/bench.log" >"$out/map-time.dat"
	status=$(tr -d '\r' <"$out/vm/results.log" | sed -n 's/^# pcipass-bench-exit: //p')
	{
		echo "## make bench, $k kernel ($KVER), $(date -u '+%Y-%m-%d %H:%M UTC'), $(git -C "$TOP" describe --always --dirty 2>/dev/null || echo '?')"
		echo
		echo "Host: $(nproc) CPUs, load $load before, $load_after after; $(qemu-system-x86_64 --version | head -n1)."
		echo "VM: q35, intel-iommu intremap=on, TCG ($PCIPASS_QEMU_ACCEL), 2 vCPUs, $PCIPASS_VM_MEM" \
			"($(tr -d '\r' <"$out/vm/results.log" | sed -n 's/^# pcipass-bench: Mem/Mem/p'))."
		echo "TCG exaggerates the cost of every trap and MMIO access: read the ratios, not the times."
		echo
		cat "$out/results.md"
	} >"$out/results.txt"
	cat "$out/results.txt"
	echo
	# Progress and per-round lines stay in bench.log.
	if grep -vqE '^pcipass-bench: (round [0-9]*|plot): ' "$out/bench.log"; then
		echo "bench: messages of the benchmark (also in $out/bench.log):"
		grep -vE '^pcipass-bench: (round [0-9]*|plot): ' "$out/bench.log" | sed 's/^/  /'
	fi
	if ! verdict=$("$VMDIR/parse-results.sh" "$out/vm" iommu) || [ "$rc" -ne 0 ]; then
		echo "$verdict"
		echo "bench: the VM ($k kernel) did not finish cleanly (logs in $out/vm)" >&2
		return 1
	fi
	if [ "$status" != 0 ]; then
		echo "bench: pcipass-bench failed ($k kernel, exit status ${status:-none}; logs in $out/vm)" >&2
		return 1
	fi
	echo "bench: $k kernel: VM finished, kernel log clean (logs in $out/vm)"
}

# plot DAT PNG: map time against size, one colour per stack, a solid line
# for 4 KiB pages and a dashed one for THP.
plot() {
	local dat=$1 png=$2 lines="" stack series sep="" colour dash
	for stack in pcipass type1 iommufd; do
		case $stack in
		pcipass) colour='#d62728' ;;
		type1) colour='#1f77b4' ;;
		*) colour='#2ca02c' ;;
		esac
		for series in 4K THP; do
			grep -q "^$stack $series " "$dat" || continue
			dash=1
			[ "$series" = 4K ] || dash=2
			lines="$lines$sep'< grep \"^$stack $series \" $dat' using 3:(\$4/1e6)"
			lines="$lines with linespoints lc rgb '$colour' dt $dash pt 7 title '$stack, $series'"
			sep=", "
		done
	done
	[ -n "$lines" ] || { echo "bench: no map times to plot" >&2; return 0; }
	gnuplot <<GNUPLOT
set terminal pngcairo size 900,600
set output '$png'
set title 'DMA map time against size, one call (median; TCG, one boot)'
set logscale xy
set xtics ("4 KiB" 4096, "2 MiB" 2097152, "64 MiB" 67108864, "1 GiB" 1073741824)
set xrange [2048:2147483648]
set xlabel 'bytes mapped'
set ylabel 'ms'
set key top left
set grid
plot $lines
GNUPLOT
	echo "bench: plot in $png"
}

ok=yes
first=
: >"$BUILD/results.md"
: >"$RESULTS"
for k in $KERNELS; do
	(
		case "$k" in
		bench) bench_kernel ;;
		stock) export PCIPASS_KO=$TOP/drivers/pcipass/pcipass.ko ;;
		*) die "PCIPASS_BENCH_KERNELS: bench or stock, not $k" ;;
		esac
		# shellcheck source=tests/vm/kernel.sh
		. "$VMDIR/kernel.sh"
		run_kernel "$k"
	) || ok=no
	[ -r "$BUILD/$k/results.txt" ] || continue
	cat "$BUILD/$k/results.txt" >>"$RESULTS"
	echo >>"$RESULTS"
	cat "$BUILD/$k/results.md" >>"$BUILD/results.md"
	[ -n "$first" ] || first=$k
done
if [ -n "$first" ] && [ -s "$BUILD/$first/map-time.dat" ]; then
	cp "$BUILD/$first/map-time.dat" "$BUILD/map-time.dat"
	plot "$BUILD/map-time.dat" "$BUILD/map-time.png"
fi
[ "$ok" = yes ] || exit 1
echo "bench: results in $RESULTS"

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
# then (the nested stage) one boot of the nested VM (run-vm.sh nested,
# Debian's kernel) in bench mode, tests/vm/guest-bench-nested.sh: Debian's
# QEMU in it boots a small guest (L2) with -device vfio-pci on the NVMe
# controller, on pcipass and on vfio-pci in turn, and L2 times direct
# reads of the disk and L1 the guest's start; and print the tables on
# stdout.
#
# Outputs in build/bench/: results.txt (the tables of every kernel, with a
# header saying where they were measured), results.md (the same tables
# alone, as in README.md), map-time.png (map time against size, per stack,
# from the first kernel run; map-time.dat its data), and per kernel K:
# K/bench.log (the benchmark's progress and error messages, and the
# medians of every round), K/initramfs.cpio.gz, K/vm/ (the VM's logs, see
# run-vm.sh), and for the bench kernel bench/src/ (the module's build);
# for the nested stage nested/ (bench.log: its samples and messages,
# results.txt, results.md, initramfs-nested.cpio.gz, vm/).
# Exit status 1 when the benchmark failed an operation, or a VM did not
# finish cleanly (parse-results.sh: completed, kernel log clean).
#
# Environment: PCIPASS_BENCH_KERNELS ("bench stock"), PCIPASS_BENCH_ROUNDS
# (rounds, 4), PCIPASS_BENCH_SCALE (iterations x SCALE, 1; 0.1 for a quick
# look), PCIPASS_BENCH_WORKERS (pcipass's worker parameter, when its name
# has no "worker" in it), PCIPASS_BENCH_DIR (instead of build/bench),
# PCIPASS_VM_TIMEOUT (3600 here), PCIPASS_VM_MEM (4G here, preallocated:
# -mem-prealloc is added to PCIPASS_EXTRA_QEMU_ARGS), and those of
# mkinitramfs.sh and run-vm.sh. The nested stage: PCIPASS_BENCH_NESTED (1:
# after the kernels; 0: not at all; only: the nested stage alone),
# PCIPASS_BENCH_NESTED_ROUNDS (L2 boots per backend, 2),
# PCIPASS_BENCH_NESTED_SAMPLES (samples of each kind per boot, 5),
# PCIPASS_BENCH_NESTED_REPS (passes over the disk per sample, 4),
# PCIPASS_BENCH_NESTED_COUNT (4 KiB reads per sample, 512),
# PCIPASS_BENCH_NESTED_L2_MEM (L2's RAM, 512M); its VM has the nested VM's
# own memory and -accel (run-vm.sh: 2G, tcg,thread=single), not the
# values above.
set -eu
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"

BUILD=${PCIPASS_BENCH_DIR:-$TOP/build/bench}
RESULTS=$BUILD/results.txt
ROUNDS=${PCIPASS_BENCH_ROUNDS:-4}
SCALE=${PCIPASS_BENCH_SCALE:-1}
KERNELS=${PCIPASS_BENCH_KERNELS:-bench stock}
BENCH=$TOP/tests/bench/pcipass_bench
NESTED=${PCIPASS_BENCH_NESTED:-1}
case "$NESTED" in
0 | 1) ;;
only) KERNELS="" ;;
*) die "PCIPASS_BENCH_NESTED: 0, 1 or only, not $NESTED" ;;
esac
# What the user set, before the settings of the iommu VM's bench below.
USER_CMDLINE=${PCIPASS_EXTRA_CMDLINE:-}
USER_MEM=${PCIPASS_VM_MEM:-}
USER_ACCEL=${PCIPASS_QEMU_ACCEL:-}
USER_QEMU_ARGS=${PCIPASS_EXTRA_QEMU_ARGS:-}

[ -z "$KERNELS" ] || [ -x "$BENCH" ] || die "$BENCH not built (make -C tests/bench)"
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
# The host backs all the VM's RAM before it boots: a guest page's first
# use then costs no host page fault, which would otherwise land on
# whichever stack first touches it (the 1 GiB maps of fresh memory).
export PCIPASS_EXTRA_QEMU_ARGS="-mem-prealloc $USER_QEMU_ARGS"
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

# busy_note LOAD: the VM's vCPUs are host threads, so a host busy before
# a run (1-minute load from 0.5) adds noise: say so.
busy_note() {
	awk -v l="${1%% *}" 'BEGIN { exit !(l >= 0.5) }' &&
		echo "bench: note: the host is busy (load $1): expect noisy times" >&2
	return 0
}

# vm_section OUT NAME: the lines of OUT/vm/results.log between
# "# NAME-begin" and "# NAME-end"; vm_exit OUT NAME: the value of its
# "# NAME-exit: " line.
vm_section() {
	tr -d '\r' <"$1/vm/results.log" |
		sed -n "/^# $2-begin\$/,/^# $2-end\$/p" | sed '1d;$d'
}

vm_exit() {
	tr -d '\r' <"$1/vm/results.log" | sed -n "s/^# $2-exit: //p"
}

# vm_verdict OUT CONFIG WHAT RC STATUS: the verdict on a bench VM run in
# OUT/vm (run-vm.sh's exit status RC, the benchmark's STATUS): 0 when the
# VM finished cleanly and the benchmark succeeded.
vm_verdict() {
	local out=$1 config=$2 what=$3 rc=$4 status=$5 verdict
	if ! verdict=$("$VMDIR/parse-results.sh" "$out/vm" "$config") || [ "$rc" -ne 0 ]; then
		echo "$verdict"
		echo "bench: the VM ($what) did not finish cleanly (logs in $out/vm)" >&2
		return 1
	fi
	if [ "$status" != 0 ]; then
		echo "bench: $what failed (exit status ${status:-none}; logs in $out/vm)" >&2
		return 1
	fi
	echo "bench: $what: VM finished, kernel log clean (logs in $out/vm)"
}

# results_head WHAT LOAD LOAD-AFTER: the first lines of a results.txt: what
# was measured, when, at which commit, and on what host.
results_head() {
	echo "## make bench, $1, $(date -u '+%Y-%m-%d %H:%M UTC'), $(git -C "$TOP" describe --always --dirty 2>/dev/null || echo '?')"
	echo
	echo "Host: $(nproc) CPUs, load $2 before, $3 after; $(qemu-system-x86_64 --version | head -n1)."
}

# run_kernel K: one boot of the VM with kernel K; its tables in $BUILD/K/.
run_kernel() {
	local k=$1 out=$BUILD/$1 rc=0 load load_after section status
	mkdir -p "$out"
	export PCIPASS_INITRAMFS=$out/initramfs.cpio.gz
	"$VMDIR/mkinitramfs.sh" "$PCIPASS_INITRAMFS"
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	stage "bench ($k kernel): $ROUNDS rounds, scale $SCALE; host load $load"
	busy_note "$load"
	"$VMDIR/run-vm.sh" iommu "$out/vm" bench || rc=$?
	load_after=$(cut -d' ' -f1-3 /proc/loadavg)

	# The tables are stdout of pcipass-bench; its stderr lines start
	# with "pcipass-bench: " and go to bench.log.
	section=$(vm_section "$out" pcipass-bench)
	grep '^pcipass-bench: ' <<<"$section" >"$out/bench.log" || true
	grep -v '^pcipass-bench: ' <<<"$section" >"$out/results.md" || true
	sed -n 's/^pcipass-bench: plot: //p' "$out/bench.log" >"$out/map-time.dat"
	status=$(vm_exit "$out" pcipass-bench)
	{
		results_head "$k kernel ($KVER)" "$load" "$load_after"
		echo "VM: q35, intel-iommu intremap=on, TCG ($PCIPASS_QEMU_ACCEL), 2 vCPUs, $PCIPASS_VM_MEM preallocated" \
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
	vm_verdict "$out" iommu "$k kernel" "$rc" "$status"
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

# nested_table BENCH.LOG: the nested stage's tables (markdown) from its
# samples. Per backend the median of every sample of every boot; the
# ratio pcipass / vfio-pci is taken round by round (the medians of the two
# boots of a round) and given as the median of these with their range.
nested_table() {
	awk '
	function median(a, n,   i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function add(b, r, k, v) {
		all[b, k, ++nall[b, k]] = v
		per[b, r, k, ++nper[b, r, k]] = v
		if (!(r in seen)) { seen[r] = 1; rounds[++nr] = r }
	}
	# med(B, K[, R]): the median of the samples of backend B, kind K (in
	# round R).
	function med(b, k, r,   n, i, tmp) {
		n = r == "" ? nall[b, k] : nper[b, r, k]
		for (i = 1; i <= n; i++)
			tmp[i] = r == "" ? all[b, k, i] : per[b, r, k, i]
		return n ? median(tmp, n) : ""
	}
	# ratio(K): "median (min-max)" of the per-round ratios, in RATIO;
	# the median alone in RMED.
	function ratio(k,   i, n, r, p, v, x, lo, hi) {
		n = 0
		for (i = 1; i <= nr; i++) {
			r = rounds[i]
			p = med("pcipass", k, r)
			v = med("vfio", k, r)
			if (p == "" || v == "" || v == 0) continue
			x[++n] = p / v
			if (n == 1 || p / v < lo) lo = p / v
			if (n == 1 || p / v > hi) hi = p / v
		}
		if (!n) { RATIO = "n/a"; RMED = ""; return }
		RMED = median(x, n)
		RATIO = sprintf("%.2f (%.2f-%.2f)", RMED, lo, hi)
	}
	# row(LABEL, KIND, FORMAT, UNIT[, NORATIO])
	function row(label, k, fmt, unit, noratio,   p, v) {
		p = med("pcipass", k, "")
		v = med("vfio", k, "")
		ratio(k)
		if (noratio) RATIO = "-"
		printf "| %s | %s | %s | %s |\n", label,
			p == "" ? "n/a" : sprintf(fmt, p) " " unit,
			v == "" ? "n/a" : sprintf(fmt, v) " " unit, RATIO
	}
	$1 != "nested-bench:" { next }
	$2 == "info" { v = $0; sub(/^nested-bench: info [^ ]* /, "", v); info[$3] = v; next }
	$2 != "sample" { next }
	$6 <= 0 || $7 < 0 { next }
	$5 == "start" {
		add($3, $4, "start", $6 / 100)
		add($3, $4, "before", ($6 - $7) / 100)
		add($3, $4, "kernel", $7 / 100)
		add($3, $4, "pinned", $8 / 1024)
		if ($9 != "" && $9 >= 0) add($3, $4, "huge", $9 / 1024)
		if ($10 != "") add($3, $4, "iommu", $10)
	}
	# A sample that took no measurable time (below 1 cs) is no sample.
	$5 == "seq" && $7 > 0 { add($3, $4, "seq", $6 / 1048576 / ($7 / 100)); seqmib = $6 / 1048576 }
	$5 == "lat" && $7 > 0 { add($3, $4, "lat", $7 * 10000 / $6) }
	END {
		mem = info["l2mem"]
		sub(/M$/, " MiB", mem)
		sub(/G$/, " GiB", mem)
		printf "The nested guest (L2: %s of RAM, 1 vCPU) on the passed-through NVMe, Debian'"'"'s QEMU", mem
		printf " `-device vfio-pci`: %d boot%s per backend, %s samples of each kind per boot; medians of", nr,
			nr == 1 ? "" : "s", info["samples"]
		printf " every sample, the ratio the median of the per-round ratios (range); below 1 pcipass is"
		printf " faster, except for MiB/s, where above 1 it is.\n\n"
		print "| nested guest (L2), NVMe at 00:05.0 | pcipass | vfio-pci | pcipass / vfio-pci |"
		print "|---|--:|--:|--:|"
		row(sprintf("sequential read, bs=1M iflag=direct, %s x the %g MiB namespace", info["reps"],
			info["reps"] ? seqmib / info["reps"] : 0), "seq", "%.1f", "MiB/s")
		row("4 KiB read, bs=4k iflag=direct, one at a time (" info["count"] " per sample)", "lat", "%.0f", "us")
		row("start: QEMU start to L2'"'"'s /init, all " mem " of its RAM mapped", "start", "%.1f", "s")
		row("start, before L2'"'"'s kernel runs (QEMU, VFIO setup, RAM map, firmware)", "before", "%.1f", "s")
		row("start, L2'"'"'s kernel to its /init (L2'"'"'s uptime)", "kernel", "%.1f", "s")
		row("pinned once L2 runs (FOLL_PIN, all of L1)", "pinned", "%.0f", "MiB", 1)
		row("QEMU'"'"'s memory in transparent huge pages then (AnonHugePages)", "huge", "%.0f", "MiB", 1)
		row("IOMMU page-table pages the backend took (nr_iommu_pages)", "iommu", "%.0f", "pages", 1)
		ratio("seq")
		print ""
		print "| target | limit | measured (range over rounds) | verdict |"
		print "|---|--:|--:|---|"
		verdict = RMED == "" ? "not measured here" : (RMED >= 1 ? "met" : "**missed**")
		printf "| nested guest sequential read, pcipass / vfio-pci | >= 1.00 | %s | %s |\n", RATIO, verdict
	}' "$1"
}

# run_nested: the nested stage, one boot of the nested VM with Debian's
# kernel (run in a subshell); its tables in $BUILD/nested/.
run_nested() {
	local out=$BUILD/nested rc=0 load load_after section status
	export PCIPASS_KO=$TOP/drivers/pcipass/pcipass.ko
	# shellcheck source=tests/vm/kernel.sh
	. "$VMDIR/kernel.sh"
	mkdir -p "$out" "$BUILD/no-selftests"
	export PCIPASS_NESTED_INITRAMFS=$out/initramfs-nested.cpio.gz
	PCIPASS_NESTED=1 PCIPASS_NESTED_TESTS_OUT=$BUILD/no-selftests \
		"$VMDIR/mkinitramfs.sh" "$PCIPASS_NESTED_INITRAMFS"
	# The nested VM's own memory and accelerator, not the iommu VM's.
	if [ -n "$USER_MEM" ]; then export PCIPASS_VM_MEM=$USER_MEM; else unset PCIPASS_VM_MEM; fi
	if [ -n "$USER_ACCEL" ]; then export PCIPASS_QEMU_ACCEL=$USER_ACCEL; else unset PCIPASS_QEMU_ACCEL; fi
	export PCIPASS_EXTRA_QEMU_ARGS=$USER_QEMU_ARGS
	local rounds=${PCIPASS_BENCH_NESTED_ROUNDS:-2} samples=${PCIPASS_BENCH_NESTED_SAMPLES:-5}
	local reps=${PCIPASS_BENCH_NESTED_REPS:-4} count=${PCIPASS_BENCH_NESTED_COUNT:-512}
	local l2mem=${PCIPASS_BENCH_NESTED_L2_MEM:-512M}
	local cmdline="$USER_CMDLINE pcipassvm.nested_rounds=$rounds pcipassvm.nested_samples=$samples"
	export PCIPASS_EXTRA_CMDLINE="$cmdline pcipassvm.nested_reps=$reps pcipassvm.nested_count=$count pcipassvm.nested_l2mem=$l2mem"
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	stage "bench (nested): $rounds rounds of pcipass and vfio-pci, L2 with $l2mem; host load $load"
	busy_note "$load"
	"$VMDIR/run-vm.sh" nested "$out/vm" bench || rc=$?
	load_after=$(cut -d' ' -f1-3 /proc/loadavg)

	section=$(vm_section "$out" pcipass-nested-bench)
	printf '%s\n' "$section" >"$out/bench.log"
	nested_table "$out/bench.log" >"$out/results.md"
	status=$(vm_exit "$out" pcipass-nested-bench)
	{
		results_head "nested stage ($KVER in L1)" "$load" "$load_after"
		echo "L1: the nested VM (q35, intel-iommu intremap=on, TCG ${PCIPASS_QEMU_ACCEL:-tcg,thread=single}, 2 vCPUs," \
			"${PCIPASS_VM_MEM:-2G}); in it $(sed -n 's/^nested-bench: info qemu //p' "$out/bench.log" | head -n1)" \
			"(TCG) boots L2 with -device vfio-pci,host=0000:00:04.0 on pcipass (vfio_nodes=compat) and on vfio-pci (vfio_iommu_type1), in turn."
		echo "Nested TCG: read the ratios, not the times."
		echo
		cat "$out/results.md"
	} >"$out/results.txt"
	cat "$out/results.txt"
	echo
	if grep -q '^nested-bench: error' "$out/bench.log"; then
		echo "bench: errors of the nested stage (also in $out/bench.log):"
		grep '^nested-bench: error' "$out/bench.log" | sed 's/^/  /'
	fi
	vm_verdict "$out" nested "nested stage" "$rc" "$status"
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
if [ "$NESTED" != 0 ]; then
	(run_nested) || ok=no
	if [ -r "$BUILD/nested/results.txt" ]; then
		cat "$BUILD/nested/results.txt" >>"$RESULTS"
		echo >>"$RESULTS"
		cat "$BUILD/nested/results.md" >>"$BUILD/results.md"
	fi
fi
if [ -n "$first" ] && [ -s "$BUILD/$first/map-time.dat" ]; then
	cp "$BUILD/$first/map-time.dat" "$BUILD/map-time.dat"
	plot "$BUILD/map-time.dat" "$BUILD/map-time.png"
fi
[ "$ok" = yes ] || exit 1
echo "bench: results in $RESULTS"

#!/bin/sh
# tests/vm/guest-bench-nested.sh - bench mode of the nested VM (busybox sh,
# started by /init; the nested stage of `make bench`, tests/vm/bench.sh).
#
# What a guest sees of its passed-through NVMe controller, with Debian's
# QEMU (-device vfio-pci,host=0000:00:04.0,addr=05.0) on pcipass (its VFIO
# nodes at /dev/vfio: vfio_nodes=compat) and on the kernel's own vfio-pci
# (vfio_iommu_type1), same device, same boot: the backends take turns,
# one L2 boot each per round (pcipass first in odd rounds, vfio first in
# even ones). In each boot:
#   start  L1's time from QEMU's start to L2's first record (its /init:
#          l2_booted), L2's own uptime then, the pages pinned once L2
#          runs (QEMU maps all of L2's RAM for the device first), how
#          much of QEMU's memory is in transparent huge pages then, and
#          the IOMMU page-table pages the backend took (nr_iommu_pages)
#   seq    L2's samples of REPS passes over the whole namespace, bs=1M
#          iflag=direct
#   lat    L2's samples of COUNT 4 KiB reads (l2-init, pcipassl2.bench=)
# Everything goes to the results channel ($PCIPASS_RESULTS, /dev/ttyS1):
#   # pcipass-nested-bench-begin
#   nested-bench: info KEY VALUE...
#   nested-bench: sample BACKEND ROUND start CS L2-UPTIME-CS PINNED-KIB
#                 QEMU-ANON-HUGE-KIB IOMMU-PAGES
#   nested-bench: sample BACKEND ROUND seq BYTES CS
#   nested-bench: sample BACKEND ROUND lat COUNT CS
#   nested-bench: error MESSAGE     (and "# ..." diagnostics of lib.sh)
#   # pcipass-nested-bench-end
#   # pcipass-nested-bench-exit: STATUS
#   # pcipass-dmesg-begin / the whole kernel log / # pcipass-dmesg-end
#   # pcipass-vm-done
# (CS: centiseconds.) Kernel command line keys (set by bench.sh):
# pcipassvm.nested_rounds=N, pcipassvm.nested_samples=N (samples of each
# kind per boot), pcipassvm.nested_reps=N (passes per sample),
# pcipassvm.nested_count=N (4 KiB reads per sample),
# pcipassvm.nested_l2mem=SIZE (L2's RAM, QEMU -m).

R=${PCIPASS_RESULTS:-/dev/ttyS1}
exec >"$R" 2>&1
ROUNDS=2
SAMPLES=5
REPS=4
COUNT=512
read -r cmdline </proc/cmdline
for arg in $cmdline; do
	case "$arg" in
	pcipassvm.nested_rounds=*) ROUNDS=${arg#*=} ;;
	pcipassvm.nested_samples=*) SAMPLES=${arg#*=} ;;
	pcipassvm.nested_reps=*) REPS=${arg#*=} ;;
	pcipassvm.nested_count=*) COUNT=${arg#*=} ;;
	pcipassvm.nested_l2mem=*) PCIPASS_L2_MEM=${arg#*=} ;;
	esac
done
export PCIPASS_L2_MEM
# shellcheck source=tests/nested/lib.sh
. /nested/lib.sh

ERRORS=0
err() {
	ERRORS=$((ERRORS + 1))
	echo "nested-bench: error $*"
}

# iommu_pages: the kernel's IOMMU page-table pages (after pins()'s refresh).
iommu_pages() { awk '$1 == "nr_iommu_pages" { print $2 }' /proc/vmstat; }

# l2_console: the end of L2's console, after a failure.
l2_console() {
	diag "L2 console tail:"
	tr -d '\r' <"$DIR/console.log" | tail -n 30 | sed 's/^/#   /'
}

# boot BACKEND ROUND: one L2 boot with the NVMe controller on BACKEND.
boot() {
	backend_unload || { err "$1: cannot unload the backends"; return 1; }
	backend_use "$1"
	backend_load direct || { err "$1: no VFIO nodes at /dev/vfio"; return 1; }
	rebind "$NVME" "$DRV" || { err "$1: $NVME not on $DRV"; return 1; }
	base=$(pins)
	iommu_base=$(iommu_pages)
	echo "nested: bench $1 round $2" >/dev/kmsg
	l2_start "bench-$1-$2" "pcipassl2.read=0,1 pcipassl2.bench=$SAMPLES,$REPS,$COUNT" -no-reboot \
		-device "vfio-pci,host=$NVME,addr=05.0,id=nvme0"
	if ! l2_booted "$L2_TIMEOUT"; then
		err "$1 round $2: L2 did not reach its /init"
		kill -KILL "$QPID" 2>/dev/null
		l2_wait 30
		l2_console
		return 1
	fi
	start=$L2_BOOT_CS
	pinned=$((($(pins) - base) * 4))
	iommu=$(($(iommu_pages) - iommu_base))
	huge=$(awk '$1 == "AnonHugePages:" { print $2 }' "/proc/$QPID/smaps_rollup")
	l2_wait
	if [ "$QEXIT" -ne 0 ] || ! l2_has "end poweroff"; then
		err "$1 round $2: L2 did not power off by itself (QEMU exit $QEXIT)"
		l2_dump
		l2_console
		return 1
	fi
	l2 "error " | while read -r _ msg; do echo "nested-bench: error $1 round $2: L2: $msg"; done
	l2 "error " | grep -q . && ERRORS=$((ERRORS + 1))
	# The device works: L2's nvme driver read the image's sector 0.
	[ "$(l2 'read 0 ' | cut -d' ' -f3 | cut -c1-16)" = "$(printf 'PCIPASS0' | hexof)" ] ||
		err "$1 round $2: L2's sector 0 is not the image's"
	u=$(l2 'boot uptime=' | sed -n '1s/.*=//p')
	case "$u" in
	[0-9]*.[0-9][0-9]) cs_of "$u" ;;
	*) err "$1 round $2: no uptime in L2's first record"; return 1 ;;
	esac
	echo "nested-bench: sample $1 $2 start $start $CS $pinned ${huge:--1} $iommu"
	l2 "bench seq " | while read -r _ _ bytes cs; do
		echo "nested-bench: sample $1 $2 seq $bytes $cs"
	done
	l2 "bench lat " | while read -r _ _ n cs; do
		echo "nested-bench: sample $1 $2 lat $n $cs"
	done
	n=$(l2 'bench \(seq\|lat\) ' | wc -l)
	[ "$n" -eq $((2 * SAMPLES)) ] || err "$1 round $2: L2 reported $n of $((2 * SAMPLES)) timings"
}

echo "# pcipass-nested-bench-begin"
echo "nested-bench: info kernel $(uname -r)"
echo "nested-bench: info cpus $(nproc)"
echo "nested-bench: info qemu $(qemu-system-x86_64 --version | head -n1)"
echo "nested-bench: info l2mem $L2_MEM"
echo "nested-bench: info rounds $ROUNDS"
echo "nested-bench: info samples $SAMPLES"
echo "nested-bench: info reps $REPS"
echo "nested-bench: info count $COUNT"
echo "nested-bench: info mem $(awk '$1 == "MemTotal:" { print $2, $3 }' /proc/meminfo)"
echo "pcipass-vm: bench: start" >/dev/kmsg
log_mark bench
r=1
while [ "$r" -le "$ROUNDS" ]; do
	order="pcipass vfio"
	[ $((r % 2)) -eq 1 ] || order="vfio pcipass"
	for b in $order; do
		boot "$b" "$r" || true
	done
	r=$((r + 1))
done
backend_unload
log_clean bench || err "a warning in L1's kernel log"
status=0
[ "$ERRORS" -eq 0 ] || status=1
echo "pcipass-vm: bench: exit $status" >/dev/kmsg
echo "# pcipass-nested-bench-end"
echo "# pcipass-nested-bench-exit: $status"
echo "# pcipass-dmesg-begin"
dmesg -s 8388608
echo "# pcipass-dmesg-end"
echo "# pcipass-vm-done"

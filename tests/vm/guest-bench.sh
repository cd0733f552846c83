#!/bin/sh
# tests/vm/guest-bench.sh - bench mode of the test VM (busybox sh, started by
# /init; `make bench` -> tests/vm/bench.sh). Everything goes to the results
# channel ($PCIPASS_RESULTS, /dev/ttyS1):
#   # pcipass-bench: vm=... kernel=... cpus=...
#   # pcipass-bench-begin / the table of pcipass-bench / # pcipass-bench-end
#   # pcipass-bench-exit: STATUS
#   # pcipass-dmesg-begin / the whole kernel log / # pcipass-dmesg-end
#   # pcipass-vm-done
# Loads pcipass (no ids=: the benchmark binds edu itself, to pcipass and to
# vfio-pci in turn), vfio-pci, vfio_iommu_type1 and, where the kernel has
# it (the bench kernel), iommufd, then runs /usr/bin/pcipass-bench on edu.
# Kernel command line keys (set by bench.sh): pcipassvm.bench_rounds=N,
# pcipassvm.bench_scale=X (iterations x X), pcipassvm.bench_workers=PARAM
# (pcipass's worker parameter, when not found by name).

R=${PCIPASS_RESULTS:-/dev/ttyS1}
EDU=${PCIPASS_EDU:-0000:00:03.0}
ROUNDS=4
SCALE=1
WORKERS=
read -r cmdline </proc/cmdline
for arg in $cmdline; do
	case "$arg" in
	pcipassvm.bench_rounds=*) ROUNDS=${arg#*=} ;;
	pcipassvm.bench_scale=*) SCALE=${arg#*=} ;;
	pcipassvm.bench_workers=*) WORKERS=${arg#*=} ;;
	esac
done

{
	echo "# pcipass-bench: vm=$PCIPASS_VM kernel=$(uname -r) cpus=$(nproc)"
	status=0
	if ! command -v pcipass-bench >/dev/null; then
		echo "# pcipass-setup-error: pcipass-bench is not in the initramfs"
		status=1
	elif ! modprobe pcipass || ! modprobe vfio-pci || ! modprobe vfio_iommu_type1; then
		echo "# pcipass-setup-error: cannot load pcipass, vfio-pci and vfio_iommu_type1"
		status=1
	else
		# /dev/iommu and the VFIO device cdevs, where the kernel has them.
		modprobe iommufd 2>/dev/null
		echo "# pcipass-bench: $(grep -E '^(MemTotal|HugePages_Total|Hugepagesize)' /proc/meminfo |
			awk '{ printf "%s%s %s%s", s, $1, $2, $3 ? " " $3 : ""; s = ", " }')"
		echo "pcipass-vm: bench: start" >/dev/kmsg
		# The table on stdout; progress, errors and (-v) the medians
		# of every round on stderr.
		echo "# pcipass-bench-begin"
		pcipass-bench -v -d "$EDU" -r "$ROUNDS" -s "$SCALE" ${WORKERS:+-w "$WORKERS"}
		status=$?
		echo "# pcipass-bench-end"
		echo "pcipass-vm: bench: exit $status" >/dev/kmsg
		rmmod vfio-pci vfio_iommu_type1 pcipass 2>/dev/null
	fi
	echo "# pcipass-bench-exit: $status"
	echo "# pcipass-dmesg-begin"
	dmesg -s 8388608
	echo "# pcipass-dmesg-end"
	echo "# pcipass-vm-done"
} >"$R" 2>&1

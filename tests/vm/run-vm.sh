#!/bin/bash
# tests/vm/run-vm.sh CONFIG OUTDIR [run|demo|bench] - boot one test VM under QEMU
# (TCG) and wait for it to power off.
#
# CONFIG: iommu   q35 + intel-iommu (intremap=on, snoop-control=on),
#                 intel_iommu=on
#         nointremap  q35 + intel-iommu (intremap=off): MSI not isolated,
#                 no snoop control
#         noiommu q35 without an IOMMU, intel_iommu=off
#         nested  as iommu, with 2 GiB and an e1000e more, booting the
#                 nested initramfs (Debian's QEMU and a small guest kernel
#                 inside: tests/nested/)
# Devices (fixed addresses, checked by the guest's /init):
#   00:03.0 edu (1234:11e8)   00:04.0 nvme (1b36:0010, serial pcipass0,
#   16 MiB raw image OUTDIR/nvme.img, sector 0 = "PCIPASS0" x 64)
#   00:05.0 pci-serial (1b36:0002)   00:06.0 pcie-root-port (1b36:000c, a
#   bridge, driven by pcieport; in the noiommu VM a pci-testdev (1b36:0005)
#   behind it at 01:00.0, nothing elsewhere)
#   iommu only: 00:08.0 pcie-root-port, behind it 02:00.0 an SR-IOV nvme
#   (1b36:0010, serial pcipassvf, subsystem ppsubsys8, 2 VFs at 02:00.1-2
#   once enabled; 16 MiB OUTDIR/nvme-sriov.img, sector 0 = "PCIPASVF" x 64)
#   nointremap only: 00:09.0 pcie-root-port (native hotplug: pciehp), an
#   e1000e (8086:10d3, AER) behind it at 02:00.0
#   nested only: 00:07.0 e1000e (8086:10d3, no option ROM, on a hub port
#   that leads nowhere)
#   nointremap only: 00:0a.0 and 00:0b.0 pcie-root-ports, each with a
#   pci-testdev (QEMU ids hpa, hpb) at 03:00.0 and 04:00.0 that the hotplug
#   tests unplug and plug again through the host agent
# Writes OUTDIR/console.log (ttyS0: kernel console), OUTDIR/results.log
# (ttyS1: test output, see guest-run.sh), OUTDIR/qemu.log (QEMU's own
# stderr), OUTDIR/qemu.cmd, OUTDIR/host-agent.log (nointremap: the host
# agent, tests/vm/host-agent.py, with QMP on OUTDIR/qmp.sock) and
# OUTDIR/vm-status (config=, mode=, qemu_exit=,
# timed_out=, wall_seconds=, timeout=, boot_retries=).
# Exit status: 0 when QEMU exited by itself (a power-off, or a panic:
# panic=-1 plus -no-reboot; parse-results.sh tells them apart), 1 when the
# VM had to be killed or QEMU failed.
#
# Environment:
#   PCIPASS_INITRAMFS       initramfs (default build/vm/initramfs.cpio.gz,
#                           built with mkinitramfs.sh when missing)
#   PCIPASS_NESTED_INITRAMFS  the nested VM's (default
#                           build/vm/initramfs-nested.cpio.gz, built with
#                           PCIPASS_NESTED=1 mkinitramfs.sh when missing)
#   PCIPASS_NESTED_BACKEND  nested: what serves QEMU's VFIO ioctls in the
#                           VM: pcipass (default) or vfio (Debian's vfio-pci)
#   PCIPASS_NESTED_VFIO_PARAM  nested: the pcipass module parameter that
#                           registers /dev/vfio/vfio and /dev/vfio/GROUP
#   PCIPASS_VM_TIMEOUT      seconds before a hung VM is killed (600)
#   PCIPASS_TEST_TIMEOUT    per test executable, in the guest (300)
#   PCIPASS_EXTRA_QEMU_ARGS more QEMU arguments (split on white space)
#   PCIPASS_EXTRA_CMDLINE   more kernel command line
#   PCIPASS_QEMU_ACCEL      -accel value (tcg,thread=single)
#   PCIPASS_VM_MEM          -m value (1G; nested 2G; make bench 4G)
#   PCIPASS_QEMU_CPU        -cpu value (max; the debug lane gives
#                           max,la57=off: see tests/check.sh)
#   PCIPASS_PVH=0           boot the bzImage, not its vmlinux (see kernel.sh)
#   PCIPASS_KERNEL, PCIPASS_MODDIR, PCIPASS_KVER: see kernel.sh
set -eu
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
	die "usage: $0 iommu|nointremap|noiommu|nested OUTDIR [run|demo|bench]"
fi
CONFIG=$1
OUTDIR=$2
MODE=${3:-run}
case "$MODE" in run | demo | bench) ;; *) die "mode must be run, demo or bench, not $MODE" ;; esac

# shellcheck source=tests/vm/kernel.sh
. "$VMDIR/kernel.sh"

INITRD=${PCIPASS_INITRAMFS:-$TOP/build/vm/initramfs.cpio.gz}
VM_TIMEOUT=${PCIPASS_VM_TIMEOUT:-600}
TEST_TIMEOUT=${PCIPASS_TEST_TIMEOUT:-300}
MEM=${PCIPASS_VM_MEM:-1G}
DEVICES=()
# One TCG thread for both vCPUs. Under multi-threaded TCG (QEMU 7.2) a
# vCPU of a loaded machine now and then stops taking its timer interrupts
# for good ("rcu_preempt kthread timer wakeup didn't happen", "Possible
# timer handling issue on cpu=N", every 26 s until the VM is killed): seen
# in a stock and a debug VM in one day of runs, never with thread=single.
# The VMs use about one core each either way on this 2-core machine.
ACCEL=${PCIPASS_QEMU_ACCEL:-tcg,thread=single}

BEHIND_BRIDGE=()
RP6_OPTS=
SRIOV=0
# Devices the host agent may unplug and plug again (JSON, see host-agent.py).
HOTPLUG=
case "$CONFIG" in
iommu)
	# snoop-control=on: domains can force snooping (nointremap has not).
	MACHINE=(-machine "q35,kernel-irqchip=split" -device "intel-iommu,intremap=on,snoop-control=on")
	CMDLINE="intel_iommu=on"
	# Two functions behind the root port with no reset of their own, as
	# a GPU and its HDMI audio: only a bus reset of both resets either.
	# Without ACS the root port (pcieport) shares their IOMMU group, the
	# usual GPU layout. Bus 1 is enumerated after bus 0: no group of bus 0
	# is renumbered, group 4 (the root port's) gains the two functions.
	RP6_OPTS=",disable-acs=on"
	BEHIND_BRIDGE=(-device "pci-testdev,bus=rp6,addr=00.0,multifunction=on"
		-device "pci-testdev,bus=rp6,addr=00.1")
	# An SR-IOV NVMe (QEMU's docs/system/devices/nvme.rst) behind a root
	# port of its own, for extended config space and ARI: PF 02:00.0,
	# VFs 02:00.1-2 once enabled. One namespace in the subsystem, shared
	# by the PF and its VFs (sector 0 "PCIPASVF" x 64). Per VF at most 2
	# queues (admin + 1 I/O) and 1 interrupt: the flexible resources
	# are 4 and 2, the PF keeps 64 - 4 I/O queues and 65 - 2 vectors.
	# The root port goes to 08.0: nothing else moves, but its IOMMU
	# group (5) comes before the ICH9 functions' (now 6).
	SRIOV=1
	DEVICES=(-device "pcie-root-port,id=rp8,chassis=8,addr=08.0"
		-device "nvme-subsys,id=ppsubsys8"
		-device "nvme,id=ppnvme8,serial=pcipassvf,subsys=ppsubsys8,bus=rp8,addr=00.0,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2"
		-device "nvme-ns,drive=nvm8,bus=ppnvme8,nsid=1")
	;;
nointremap)
	# VT-d without interrupt remapping: MSI is not isolated.
	MACHINE=(-machine "q35,kernel-irqchip=split" -device "intel-iommu,intremap=off"
		-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off)
	CMDLINE="intel_iommu=on"
	# An e1000e behind a root port of its own: both have the AER
	# capability, so the error report tests inject its errors
	# (aer_inject). Without the ICH9's ACPI hotplug the root ports' own
	# (pciehp) serves their slots. Bus 2, after rp6's bus 1.
	DEVICES=(-device "pcie-root-port,id=rp9,chassis=9,addr=09.0"
		-netdev "hubport,id=net9,hubid=9"
		-device "e1000e,id=hp9,bus=rp9,addr=00.0,romfile=,netdev=net9")
	# Two slots the hotplug tests empty and fill again through the host
	# agent (QMP device_del/device_add): a pci-testdev in each, buses 3
	# and 4. No driver claims them.
	DEVICES+=(-device "pcie-root-port,id=rpa,chassis=10,addr=0a.0"
		-device "pci-testdev,id=hpa,bus=rpa,addr=00.0"
		-device "pcie-root-port,id=rpb,chassis=11,addr=0b.0"
		-device "pci-testdev,id=hpb,bus=rpb,addr=00.0")
	# A 1 GiB map during a hot-unplug: pcipass refuses maps larger
	# than the RAM.
	MEM=2G
	HOTPLUG='{"hpa": {"driver": "pci-testdev", "bus": "rpa", "addr": "00.0"},
	 "hpb": {"driver": "pci-testdev", "bus": "rpb", "addr": "00.0"}}'
	;;
noiommu)
	MACHINE=(-machine q35)
	CMDLINE="intel_iommu=off"
	# A device alone behind the root port, with no reset of its own: its
	# reset is a secondary bus reset through the bridge (no IOMMU, so no
	# group to share with the bridge).
	BEHIND_BRIDGE=(-device "pci-testdev,bus=rp6,addr=00.0")
	;;
nested)
	MACHINE=(-machine "q35,kernel-irqchip=split" -device "intel-iommu,intremap=on")
	CMDLINE="intel_iommu=on"
	INITRD=${PCIPASS_NESTED_INITRAMFS:-$TOP/build/vm/initramfs-nested.cpio.gz}
	# QEMU itself, the guest's RAM (pinned) and a bigger initramfs.
	MEM=${PCIPASS_VM_MEM:-2G}
	# Nested TCG is slow: several guest boots per test executable.
	VM_TIMEOUT=${PCIPASS_VM_TIMEOUT:-5400}
	TEST_TIMEOUT=${PCIPASS_TEST_TIMEOUT:-2400}
	# The second device type. No option ROM: the nested guest's
	# firmware would run it. A hub port as its peer: without one the
	# link goes down soon after it came up.
	DEVICES=(-netdev "hubport,id=net7,hubid=7"
		-device "e1000e,addr=07.0,romfile=,netdev=net7")
	BACKEND=${PCIPASS_NESTED_BACKEND:-pcipass}
	case "$BACKEND" in
	pcipass | vfio) ;;
	*) die "PCIPASS_NESTED_BACKEND must be pcipass or vfio, not $BACKEND" ;;
	esac
	CMDLINE="$CMDLINE pcipassvm.backend=$BACKEND"
	[ -z "${PCIPASS_NESTED_VFIO_PARAM:-}" ] ||
		CMDLINE="$CMDLINE pcipassvm.vfioparam=$PCIPASS_NESTED_VFIO_PARAM"
	;;
*) die "CONFIG must be iommu, nointremap, noiommu or nested, not $CONFIG" ;;
esac

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
SRIOV_IMG=$OUTDIR/nvme-sriov.img
# (QEMU creates every -drive before the devices that use them.)
[ "$SRIOV" = 0 ] || DEVICES+=(-drive "file=$SRIOV_IMG,if=none,id=nvm8,format=raw")
case "$OUTDIR" in *,*) die "QEMU options cannot take a path with a comma: $OUTDIR" ;; esac
rm -f "$OUTDIR"/{console.log,results.log,qemu.log,vm-status,dmesg.log,totals,console.boot-failure.log}
if [ ! -r "$INITRD" ]; then
	if [ "$CONFIG" = nested ]; then
		PCIPASS_NESTED=1 "$VMDIR/mkinitramfs.sh" "$INITRD"
	else
		"$VMDIR/mkinitramfs.sh" "$INITRD"
	fi
fi

# A fresh disk every boot (tests may write to it).
IMG=$OUTDIR/nvme.img
make_disk() {
	rm -f "$IMG"
	truncate -s 16M "$IMG"
	# shellcheck disable=SC2046 # 64 arguments wanted
	printf 'PCIPASS0%.0s' $(seq 64) | dd of="$IMG" conv=notrunc status=none
	[ "$SRIOV" = 0 ] || {
		rm -f "$SRIOV_IMG"
		truncate -s 16M "$SRIOV_IMG"
		# shellcheck disable=SC2046 # 64 arguments wanted
		printf 'PCIPASVF%.0s' $(seq 64) |
			dd of="$SRIOV_IMG" conv=notrunc status=none
	}
}

# The host agent: QMP on a socket of OUTDIR, requests read from results.log.
AGENT_ARGS=()
if [ -n "$HOTPLUG" ]; then
	printf '%s\n' "$HOTPLUG" >"$OUTDIR/hotplug.json"
	AGENT_ARGS=(-qmp "unix:$OUTDIR/qmp.sock,server=on,wait=off")
	CMDLINE="$CMDLINE pcipassvm.hostagent=1"
fi

CMDLINE="console=ttyS0 loglevel=7 log_buf_len=4M panic=-1 no_timer_check $CMDLINE"
CMDLINE="$CMDLINE pcipassvm.vm=$CONFIG pcipassvm.mode=$MODE pcipassvm.timeout=$TEST_TIMEOUT"
CMDLINE="$CMDLINE ${PCIPASS_EXTRA_CMDLINE:-}"

# The IOMMU (in MACHINE) must come before the PCI devices.
# shellcheck disable=SC2206 # PCIPASS_EXTRA_QEMU_ARGS is split on purpose
QEMU=(qemu-system-x86_64 -no-user-config -nodefaults -display none -no-reboot
	-accel "$ACCEL" -cpu "${PCIPASS_QEMU_CPU:-max}" -smp 2 -m "$MEM"
	"${MACHINE[@]}"
	-device "edu,addr=03.0"
	-drive "file=$IMG,if=none,id=nvm,format=raw"
	-device "nvme,serial=pcipass0,drive=nvm,addr=04.0"
	-device "pci-serial,addr=05.0"
	-device "pcie-root-port,id=rp6,chassis=6,addr=06.0$RP6_OPTS"
	"${BEHIND_BRIDGE[@]}"
	"${DEVICES[@]}"
	-serial "file:$OUTDIR/console.log"
	-serial "file:$OUTDIR/results.log"
	-kernel "$(pcipass_boot_image "$PCIPASS_KERNEL")" -initrd "$INITRD" -append "$CMDLINE"
	"${AGENT_ARGS[@]}"
	${PCIPASS_EXTRA_QEMU_ARGS:-})
printf '%q ' "${QEMU[@]}" >"$OUTDIR/qemu.cmd"
echo >>"$OUTDIR/qemu.cmd"

# Under multi-threaded TCG the guest kernel very rarely dies while booting
# (seen: 1 boot in ~100, an "Oops: int3" while a static key was patched at
# "sched_clock: Marking stable"; also a timer check panic on a loaded host).
# Such a boot never reached /init, so pcipass played no part in it: it is
# retried once (recorded as boot_retries= in vm-status, the failed console
# kept as console.boot-failure.log). Anything after /init started counts.
attempt=0
while :; do
	attempt=$((attempt + 1))
	rm -f "$OUTDIR"/{console.log,results.log,qemu.log,qmp.sock,host-agent.log}
	make_disk
	stage "vm $CONFIG: booting ($MODE, timeout ${VM_TIMEOUT}s) -> $OUTDIR"
	start=$(date +%s.%N)
	rc=0
	# timeout(1) runs QEMU in a process group of its own, which a ^C on
	# the terminal does not reach: pass INT/TERM on.
	timeout -k 10 "$VM_TIMEOUT" "${QEMU[@]}" </dev/null >"$OUTDIR/qemu.log" 2>&1 &
	tpid=$!
	apid=
	if [ -n "$HOTPLUG" ]; then
		python3 "$VMDIR/host-agent.py" "$OUTDIR/results.log" "$OUTDIR/qmp.sock" \
			"$OUTDIR/hotplug.json" "$OUTDIR/host-agent.log" </dev/null >/dev/null 2>&1 &
		apid=$!
	fi
	trap 'kill -TERM "$tpid" $apid 2>/dev/null; exit 130' INT TERM
	wait "$tpid" || rc=$?
	# The agent ends when QEMU's QMP socket closes.
	[ -z "$apid" ] || wait "$apid" || true
	trap - INT TERM
	end=$(date +%s.%N)
	wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
	timed_out=no
	case $rc in 124 | 137) timed_out=yes ;; esac
	if [ "$attempt" -eq 1 ] && [ "$rc" -eq 0 ] &&
		! grep -q '^pcipass-init: ' "$OUTDIR/console.log" &&
		grep -qE 'Kernel panic|Oops|BUG:' "$OUTDIR/console.log"; then
		cp "$OUTDIR/console.log" "$OUTDIR/console.boot-failure.log"
		stage "vm $CONFIG: guest kernel died before /init ($(grep -m1 -E 'Kernel panic|Oops|BUG:' \
			"$OUTDIR/console.log" | tr -d '\r')), retrying once"
		continue
	fi
	break
done
printf 'config=%s\nmode=%s\nqemu_exit=%s\ntimed_out=%s\nwall_seconds=%s\ntimeout=%s\nboot_retries=%s\n' \
	"$CONFIG" "$MODE" "$rc" "$timed_out" "$wall" "$VM_TIMEOUT" "$((attempt - 1))" >"$OUTDIR/vm-status"
if [ "$timed_out" = yes ]; then
	stage "vm $CONFIG: KILLED after ${VM_TIMEOUT}s (hung?)"
	exit 1
elif [ "$rc" -ne 0 ]; then
	stage "vm $CONFIG: QEMU failed (exit $rc) after ${wall}s: $(tail -n3 "$OUTDIR/qemu.log")"
	exit 1
fi
stage "vm $CONFIG: powered off after ${wall}s"

#!/bin/sh
# tests/vm/guest-demo-nested.sh - demo mode of the nested VM (busybox sh,
# started by /init; `make demo` -> tests/vm/demo.sh). Everything goes to
# the results channel ($PCIPASS_RESULTS, /dev/ttyS1), which the host prints.
#
# Shows the host side with pcipass-tool, gives the NVMe controller to the
# backend (pcipass, or vfio-pci with PCIPASS_NESTED_BACKEND=vfio), starts
# Debian's QEMU with -device vfio-pci,host=0000:00:04.0,addr=05.0, and
# shows what the nested guest's own drivers made of it: its lspci-style
# line at 00:05.0, the bytes its nvme driver read, its MSI-X interrupts;
# pcipass-tool stat while QEMU holds the device; the device after QEMU quit.

R=${PCIPASS_RESULTS:-/dev/ttyS1}
exec >"$R" 2>&1
# shellcheck source=tests/nested/lib.sh
. /nested/lib.sh

say() { printf '\n### %s\n' "$*"; }
run() {
	echo "\$ $*"
	"$@"
	rc=$?
	[ "$rc" -eq 0 ] || echo "(exit status $rc)"
}

# An lspci line from one of L2's "pci" records: ADDR VEN:DEV CLASS DRIVER.
lspci_line() {
	# shellcheck disable=SC2086 # the record's fields
	set -- $1
	case "$3" in
	0108*) cls="Non-Volatile memory controller [0108]" ;;
	0200*) cls="Ethernet controller [0200]" ;;
	0600*) cls="Host bridge [0600]" ;;
	0601*) cls="ISA bridge [0601]" ;;
	0106*) cls="SATA controller [0106]" ;;
	0c05*) cls="SMBus [0c05]" ;;
	*) cls="Class [$(echo "$3" | cut -c1-4)]" ;;
	esac
	case "$2" in
	1b36:0010) name="Red Hat, Inc. QEMU NVM Express Controller" ;;
	8086:29c0) name="Intel Corporation 82G33/G31/P35/P31 Express DRAM Controller" ;;
	8086:2918) name="Intel Corporation 82801IB (ICH9) LPC Interface Controller" ;;
	8086:2922) name="Intel Corporation 82801IR/IO/IH (ICH9R/DO/DH) 6 port SATA Controller [AHCI mode]" ;;
	8086:2930) name="Intel Corporation 82801I (ICH9 Family) SMBus Controller" ;;
	*) name="Device" ;;
	esac
	drv=""
	[ "$4" = - ] || drv="  (driver: $4)"
	echo "${1#0000:} $cls: $name [$2]$drv"
}

say "pcipass demo: a nested guest's own nvme driver uses a device served by $BACKEND"
echo "L1 (this VM): kernel $(uname -r), $(nproc) CPUs, QEMU's intel-iommu with interrupt remapping"
echo "L2 (the guest): $(basename "$L2_KERNEL") $(du -k "$L2_KERNEL" | cut -f1) KiB, booted by $(qemu-system-x86_64 --version | head -n1)"

say "Loading $BACKEND, moving the NVMe controller $NVME to $DRV"
if ! backend_load direct; then
	echo "The $BACKEND backend serves no VFIO nodes in this build."
	[ "$BACKEND" != pcipass ] ||
		echo "(pcipass's VFIO compatibility layer is not there yet: try PCIPASS_NESTED_BACKEND=vfio make demo)"
	echo "# pcipass-dmesg-begin"
	dmesg -s 8388608
	echo "# pcipass-dmesg-end"
	echo "# pcipass-vm-done"
	exit 0
fi
rebind "$NVME" "$DRV"
run pcipass-tool check
run pcipass-tool list --group
echo "\$ ls -l $NODES"
ls -l "$NODES"
[ "$BACKEND" != pcipass ] || { echo "\$ grep vfio /proc/modules"; grep vfio /proc/modules || echo "(no vfio module loaded)"; }

base=$(pins)
say "Starting the guest"
echo "\$ qemu-system-x86_64 -accel tcg -machine q35 -cpu max -m 128M -kernel vmlinux ..." \
	"-device vfio-pci,host=$NVME,addr=05.0"
l2_start demo "pcipassl2.read=0,1 pcipassl2.end=hold" -no-reboot \
	-device "vfio-pci,host=$NVME,addr=05.0,id=nvme0"
if ! l2_until ready; then
	l2_dump
	kill -KILL "$QPID" 2>/dev/null
	sed 's/^/qemu: /' "$DIR/qemu.log"
else
	say "The guest's PCI devices (its lspci, from sysfs)"
	l2 "pci " | while read -r _ rec; do lspci_line "$rec"; done

	say "Sector 0 of the disk, as the guest's nvme driver read it"
	l2 "read 0 " | cut -d' ' -f3 | xxd -r -p | hexdump -C | head -n 4
	echo "...  (the image's sector 0 is \"PCIPASS0\" 64 times)"

	say "The guest's interrupts (/proc/interrupts: name, chip, count)"
	l2 "irq " | sed 's/^irq //'

	say "The host while QEMU holds the device"
	run pcipass-tool stat

	say "QEMU quits (QMP)"
	nested-qmp "$DIR/qmp.sock" '{"execute":"quit"}' >/dev/null
	l2_wait 60
	pins_back "$base" && echo "pinned pages: back to $base"
	echo "command register of $NVME: 0x$(pci_cmd "$NVME"), driver $(driver_of "$NVME")"
	echo "\$ pcipass-tool list | grep -A1 $NVME"
	pcipass-tool list | grep -A1 "^$NVME"
fi

echo "# pcipass-dmesg-begin"
dmesg -s 8388608
echo "# pcipass-dmesg-end"
echo "# pcipass-vm-done"

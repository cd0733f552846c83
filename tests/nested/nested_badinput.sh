#!/bin/sh
# tests/nested/nested_badinput.sh - QEMU refuses what it must refuse, with
# its own clear message, and leaves nothing behind:
#   - host= naming a device not on the backend (edu, on pci-stub),
#   - a group that is not viable (ICH9 SMBus 00:1f.3 on the backend, its
#     group peer 00:1f.2 on ahci, a driver that does DMA; pci-stub would
#     not do: vfio counts it as harmless),
#   - a locked-memory limit smaller than the guest's RAM (QEMU as root
#     without CAP_IPC_LOCK, RLIMIT_MEMLOCK 64 MiB, guest 128 MiB).
# The guest never runs (-S): each QEMU must exit by itself within 300 s.
# TAP; run in the nested VM (tests/vm/run-vm.sh nested).

# shellcheck source=tests/nested/lib.sh
. /nested/lib.sh

EDU=${PCIPASS_EDU:-0000:00:03.0}
SATA=0000:00:1f.2
SMBUS=0000:00:1f.3
TESTS="unbound unbound-clean nonviable nonviable-clean memlock memlock-clean log"
echo "1..7"
log_mark badinput
if ! backend_load direct; then
	for t in $TESTS; do fail "$t" "the $BACKEND backend serves no VFIO nodes"; done
	tap_end
fi
base=$(pins)

# qemu_refuses NAME PATTERN QEMU-ARGS...: QEMU exits non-zero by itself and
# its message matches PATTERN (grep -E).
qemu_refuses() {
	name=$1 pat=$2
	shift 2
	l2_start "$name" "" -S "$@"
	l2_wait 300
	if [ "$QEXIT" -ne 0 ] && [ "$QEXIT" -ne 124 ] && grep -qE "$pat" "$DIR/qemu.log"; then
		diag "QEMU said: $(grep -E "$pat" "$DIR/qemu.log" | head -n 2 | tr '\n' ' ')"
		return 0
	fi
	diag "QEMU exit $QEXIT, no /$pat/ in its message:"
	sed 's/^/#   qemu: /' "$DIR/qemu.log"
	return 1
}

# Not on the backend: its group has no node.
modprobe pci-stub
edu_drv=$(driver_of "$EDU")
rebind "$EDU" pci-stub
check "unbound: host=$EDU (on pci-stub): QEMU fails to open its group" \
	qemu_refuses unbound "$EDU.*(No such file|not viable|failed)" \
	-device "vfio-pci,host=$EDU,addr=05.0"
unbound_clean() {
	pins_back "$base" && [ "$(driver_of "$EDU")" = pci-stub ]
}
check "unbound-clean: pins back to $base, edu still on pci-stub" unbound_clean
if [ "$edu_drv" = - ]; then rebind "$EDU" ""; else rebind "$EDU" "$edu_drv"; fi

# Not viable: a group member on a host driver.
sata_drv=$(driver_of "$SATA")
smbus_drv=$(driver_of "$SMBUS")
if [ "$(group_of "$SATA")" != "$(group_of "$SMBUS")" ]; then
	skip "nonviable: host=$SMBUS, a non-viable group" "$SATA and $SMBUS are in different groups"
	skip "nonviable-clean" "no test"
else
	modprobe ahci
	rebind "$SATA" ahci
	rebind "$SMBUS" "$DRV"
	cmd_save "$SMBUS"
	check "nonviable: host=$SMBUS with $SATA on ahci: QEMU says the group is not viable" \
		qemu_refuses nonviable "not viable" -device "vfio-pci,host=$SMBUS,addr=05.0"
	nonviable_clean() {
		pins_back "$base" && quiesced "$SMBUS" && [ "$(driver_of "$SMBUS")" = "$DRV" ]
	}
	check "nonviable-clean: pins back to $base, $SMBUS quiesced and on $DRV" nonviable_clean
	rebind "$SMBUS" ""
	rebind "$SATA" ""
	[ "$sata_drv" = ahci ] || rmmod ahci
	[ "$sata_drv" = - ] || rebind "$SATA" "$sata_drv"
	[ "$smbus_drv" = - ] || rebind "$SMBUS" "$smbus_drv"
fi

# Too little locked memory for the guest's RAM.
rebind "$NVME" "$DRV"
cmd_save "$NVME"
LAUNCH="nested-memlock-exec $((64 << 20))"
check "memlock: RLIMIT_MEMLOCK 64 MiB, guest RAM 128 MiB, no CAP_IPC_LOCK: QEMU fails to map the guest's RAM" \
	qemu_refuses memlock "vfio.*(Cannot allocate memory|-12|memory listener|DMA)" \
	-device "vfio-pci,host=$NVME,addr=05.0"
LAUNCH=""
memlock_clean() {
	pins_back "$base" && released "$NVME"
}
check "memlock-clean: pins back to $base, the NVMe controller quiesced, on $DRV, its group free" \
	memlock_clean
check "log: no warning in L1's kernel log" log_clean badinput
tap_end

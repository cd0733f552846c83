#!/bin/sh
# tests/nested/nested_reboot.sh - the nested guest with INTx (its kernel
# booted with pci=nomsi), through a guest reboot, with QEMU started under
# `pcipass-tool run` (the VFIO nodes at /dev/vfio in a private mount
# namespace only), then SIGKILL of QEMU while the guest uses the device.
#
# L2's first boot reads sectors 8-9 (written by L1), fills sector 16 with a
# token and reboots; QEMU's system reset resets the device; the second
# boot finds the token in sector 16, reads sectors 8-9 again and keeps
# reading the disk ("then=hold"); L1 kills QEMU, checks the device came
# back and reads sector 16.
# TAP; run in the nested VM (tests/vm/run-vm.sh nested).

# shellcheck source=tests/nested/lib.sh
. /nested/lib.sh

TESTS="ready boots intx-addr intx-read intx-irq reboot-found reboot-read
kill pins released readback log"
echo "1..12"
log_mark reboot
if ! backend_load ns; then
	for t in $TESTS; do fail "$t" "the $BACKEND backend serves no VFIO nodes"; done
	tap_end
fi
if [ -e /dev/vfio/vfio ] && [ "$BACKEND" = pcipass ]; then
	diag "/dev/vfio/vfio exists outside the namespace: this test would not show that pcipass-tool run works"
fi
prepare_disk || diag "L1 could not prepare the disk"
cmd_save "$NVME"
base=$(pins)
tok=$(token)
diag "backend $BACKEND, QEMU under '$LAUNCH', pins before: $base, token $tok"

# No -no-reboot: L2's reboot is QEMU's system reset.
l2_start reboot "pci=nomsi pcipassl2.read=8,2 pcipassl2.write=16 pcipassl2.token=$tok pcipassl2.end=reboot pcipassl2.then=hold" \
	-device "vfio-pci,host=$NVME,addr=05.0,id=nvme0"
check "ready: QEMU under pcipass-tool run ran L2 through a reboot, the second boot holds" \
	l2_until ready $((2 * L2_TIMEOUT))
nboots=$(l2 "boot " | wc -l)
if [ "$nboots" -eq 2 ] && [ "$(l2 'end ' | tr '\n' ' ')" = "end reboot end hold " ]; then
	pass "boots: L2 booted twice: it rebooted once"
else
	diag "$nboots boots, ends: $(l2 'end ' | tr '\n' ' ')"
	fail "boots: L2 booted twice: it rebooted once"
fi
check "intx-addr: L2 sees the NVMe controller at 0000:00:05.0, driven by its nvme driver" \
	l2_pci 0000:00:05.0 1b36:0010 nvme
if l2_read_matches 8 0 1 && l2_read_matches 9 1 1; then
	pass "intx-read: with INTx, L2's nvme driver read sectors 8-9 byte for byte as L1 wrote them"
else
	fail "intx-read: with INTx, L2's nvme driver read sectors 8-9 byte for byte as L1 wrote them"
fi
intx_irq() {
	# Both boots: an IO-APIC line for nvme that counts, and no MSI.
	[ "$(l2 'irq nvme' | grep -c ' IO-APIC [1-9]')" -ge 1 ] &&
		! l2 'irq nvme' | grep -q 'PCI-MSI' && return 0
	diag "nvme interrupts: $(l2 'irq ' | tr '\n' ';')"
	return 1
}
check "intx-irq: L2's nvme interrupt is INTx (IO-APIC) and counts" intx_irq
reboot_found() {
	[ "$(l2 'wrote 16' | wc -l)" -eq 1 ] && [ "$(l2 'found 16' | wc -l)" -eq 1 ] &&
		return 0
	diag "wrote: $(l2 'wrote 16' | wc -l), found: $(l2 'found 16' | wc -l)"
	return 1
}
check "reboot-found: the second boot found what the first wrote to sector 16" reboot_found
if l2_read_matches 8 0 2 && l2_read_matches 9 1 2; then
	pass "reboot-read: after the reset the second boot read sectors 8-9 byte for byte"
else
	fail "reboot-read: after the reset the second boot read sectors 8-9 byte for byte"
fi
[ "$T_FAILED" -eq 0 ] || { l2_dump; diag "L2 console tail:"; tr -d '\r' <"$DIR/console.log" | tail -n 20 | sed 's/^/#   /'; }

# L2 reads a new page every second: kill QEMU in the middle of it.
kill -KILL "$QPID"
wait "$QPID"
QEXIT=$?
l2_reaped
check "kill: QEMU died of SIGKILL while L2 used the device" [ "$QEXIT" -eq 137 ]
check "pins: after SIGKILL the pins are back to $base" pins_back "$base"
check "released: the NVMe controller is quiesced, on $DRV, its group free" released "$NVME"
got=$(l1_sector 16)
want=$(pattern "$tok")
if [ "$got" = "$want" ]; then
	pass "readback: L1's nvme driver reads L2's pattern from sector 16"
else
	diag "sector 16: $got" | cut -c1-120
	diag "expected:  $want" | cut -c1-120
	fail "readback: L1's nvme driver reads L2's pattern from sector 16"
fi
check "log: no warning in L1's kernel log" log_clean reboot
tap_end

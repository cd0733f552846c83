#!/bin/sh
# tests/nested/nested_nvme.sh - the nested guest's own drivers use an NVMe
# controller and an e1000e handed to it with -device vfio-pci, both in one
# VFIO container (one QEMU), with MSI-X; then QEMU lets go of them at the
# guest's power-off.
#
# L1 writes random bytes to sectors 8-9 and zeros to sector 16 through its
# own nvme driver and gives both devices to the backend; L2 (QEMU with
# -device vfio-pci,host=$NVME,addr=05.0 and host=$NET,addr=06.0) reads
# sectors 8-9, fills sector 16 with a token from its command line, brings
# its e1000e link up and powers off; L1 then reads sector 16 back.
# TAP; run in the nested VM (tests/vm/run-vm.sh nested).

# shellcheck source=tests/nested/lib.sh
. /nested/lib.sh

TESTS="qemu nvme-addr nvme-read nvme-write nvme-msix net-probe net-msix
pins released readback log novfio"
echo "1..12"
log_mark nvme
if ! backend_load direct; then
	for t in $TESTS; do fail "$t # the $BACKEND backend serves no VFIO nodes"; done
	tap_end
fi
prepare_disk || diag "L1 could not prepare the disk"
rebind "$NET" "$DRV" || diag "$NET not on $DRV"
cmd_save "$NVME"
cmd_save "$NET"
base=$(pins)
tok=$(token)
diag "backend $BACKEND, nodes in $NODES, pins before: $base, token $tok"

l2_start nvme "pcipassl2.read=8,2 pcipassl2.write=16 pcipassl2.token=$tok pcipassl2.net=1" \
	-no-reboot \
	-device "vfio-pci,host=$NVME,addr=05.0,id=nvme0" \
	-device "vfio-pci,host=$NET,addr=06.0,id=net0"
l2_wait "$L2_TIMEOUT"

if [ "$QEXIT" -eq 0 ] && l2_has "end poweroff"; then
	pass "qemu: QEMU ran L2 with both devices in one container to its power-off"
else
	l2_dump
	fail "qemu: QEMU ran L2 with both devices in one container to its power-off"
fi
check "nvme-addr: L2 sees the NVMe controller at 0000:00:05.0, driven by its nvme driver" \
	l2_pci 0000:00:05.0 1b36:0010 nvme
if l2_read_matches 8 0 && l2_read_matches 9 1; then
	pass "nvme-read: L2's nvme driver read sectors 8-9 byte for byte as L1 wrote them"
else
	fail "nvme-read: L2's nvme driver read sectors 8-9 byte for byte as L1 wrote them"
fi
check "nvme-write: L2 wrote its pattern to sector 16" l2_has "wrote 16"
nvme_msix() {
	l2_irqs_count PCI-MSIX-0000:00:05.0 '^nvme0q0$' &&
		l2_irqs_count PCI-MSIX-0000:00:05.0 '^nvme0q[1-9]'
}
check "nvme-msix: L2's nvme MSI-X vectors count (admin and I/O queue)" nvme_msix
net_probe() {
	l2_pci 0000:00:06.0 8086:10d3 e1000e && l2_has "net 0000:00:06.0 eth[0-9]* up"
}
check "net-probe: L2's e1000e driver probed the e1000e at 0000:00:06.0 and its link came up" \
	net_probe
check "net-msix: L2's e1000e MSI-X vectors fire" \
	l2_irqs_count PCI-MSIX-0000:00:06.0 "^eth"
[ "$T_FAILED" -eq 0 ] || { l2_dump; diag "L2 console tail:"; tr -d '\r' <"$DIR/console.log" | tail -n 20 | sed 's/^/#   /'; }

check "pins: after L2's power-off the pins are back to $base" pins_back "$base"
if released "$NVME" && released "$NET"; then
	pass "released: both devices quiesced, on $DRV, their groups free"
else
	fail "released: both devices quiesced, on $DRV, their groups free"
fi
got=$(l1_sector 16)
want=$(pattern "$tok")
if [ "$got" = "$want" ]; then
	pass "readback: L1's nvme driver reads L2's pattern from sector 16"
else
	diag "sector 16: $got" | cut -c1-120
	diag "expected:  $want" | cut -c1-120
	fail "readback: L1's nvme driver reads L2's pattern from sector 16"
fi
check "log: no warning in L1's kernel log" log_clean nvme
if [ "$BACKEND" = pcipass ]; then
	novfio() {
		! grep -E '^vfio(_iommu_type1|_pci|_pci_core)? ' /proc/modules
	}
	check "novfio: no vfio module loaded" novfio
else
	skip "novfio: no vfio module loaded" "the vfio backend is vfio"
fi
tap_end

#!/bin/sh
# tests/nested/nested_nvme.sh - the nested guest's own drivers use an NVMe
# controller and an e1000e handed to it with -device vfio-pci, both in one
# VFIO container (one QEMU), with MSI-X; QMP device_del takes the e1000e
# away while the guest runs; then QEMU lets go of the NVMe controller at
# the guest's power-off.
#
# L1 writes random bytes to sectors 8-9 and zeros to sector 16 through its
# own nvme driver and gives both devices to the backend. QEMU gets
# -device vfio-pci,host=$NVME,addr=05.0 and the e1000e behind a PCIe root
# port at 06.0 (so that it can be unplugged: ACPI hotplug, L2 ejects it).
# L2 reads sectors 8-9, fills sector 16 with a token from its command line,
# brings its e1000e link up, reports, and waits ("end=unplug"); L1 checks
# the report, sends device_del for the e1000e; L2 sees it go and waits;
# L1 checks that the e1000e is released while QEMU runs on and tells L2 to
# power off (l2_send); then checks that the NVMe controller is released
# and reads sector 16 back.
# TAP; run in the nested VM (tests/vm/run-vm.sh nested).

# shellcheck source=tests/nested/lib.sh
. /nested/lib.sh

TESTS="ready nvme-addr nvme-read nvme-write nvme-msix net-probe net-msix busy
device-del unplugged del-released poweroff pins released readback log novfio"
echo "1..17"
log_mark nvme
if ! backend_load direct; then
	for t in $TESTS; do fail "$t" "the $BACKEND backend serves no VFIO nodes"; done
	tap_end
fi
prepare_disk || diag "L1 could not prepare the disk"
rebind "$NET" "$DRV" || diag "$NET not on $DRV"
cmd_save "$NVME"
cmd_save "$NET"
base=$(pins)
tok=$(token)
diag "backend $BACKEND, nodes in $NODES, pins before: $base, token $tok"

l2_start nvme "pcipassl2.read=8,2 pcipassl2.write=16 pcipassl2.token=$tok pcipassl2.net=1 pcipassl2.end=unplug" \
	-no-reboot \
	-device "vfio-pci,host=$NVME,addr=05.0,id=nvme0" \
	-device "pcie-root-port,id=rp1,chassis=1,addr=06.0" \
	-device "vfio-pci,host=$NET,bus=rp1,id=net0"

check "ready: QEMU runs L2 with both devices in one container, L2 did its I/O" l2_until ready
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
	l2_pci 0000:01:00.0 8086:10d3 e1000e && l2_has "net 0000:01:00.0 eth[0-9]* up"
}
check "net-probe: L2's e1000e driver probed the e1000e (at 01:00.0, behind the root port) and its link came up" \
	net_probe
check "net-msix: L2's e1000e MSI-X vectors fire" l2_irqs_count PCI-MSIX-0000:01:00.0 "^eth"
busy() {
	group_busy "$NVME" && group_busy "$NET" && return 0
	diag "a group node opens while QEMU holds it"
	return 1
}
check "busy: while QEMU holds them, their group nodes do not open" busy

qmp_del() {
	nested-qmp -t 300 -e DEVICE_DELETED "$DIR/qmp.sock" \
		'{"execute":"device_del","arguments":{"id":"net0"}}' >"$DIR/qmp.log" 2>&1 &&
		grep -q '"device": "net0"' "$DIR/qmp.log" && return 0
	sed 's/^/#   qmp: /' "$DIR/qmp.log"
	return 1
}
check "device-del: QMP device_del of the e1000e: QEMU answers and reports DEVICE_DELETED" qmp_del
# DEVICE_DELETED comes when L2 ejected the slot; L2's /init looks every
# second.
unplugged() { l2_until waiting 300 && l2_has "removed 0000:01:00.0"; }
check "unplugged: L2 saw the e1000e go" unplugged
del_released() {
	kill -0 "$QPID" 2>/dev/null || { diag "QEMU is gone"; return 1; }
	released "$NET"
}
check "del-released: with QEMU still running, the e1000e is quiesced, on $DRV, its group free" \
	del_released

# L2 waits for this after the unplug: it must not take long now.
l2_send poweroff
if [ "$T_FAILED" -eq 0 ]; then l2_wait "$L2_TIMEOUT"; else l2_wait 120; fi
poweroff_ok() { [ "$QEXIT" -eq 0 ] && l2_has "end poweroff"; }
check "poweroff: L2 powered off and QEMU exited by itself" poweroff_ok
[ "$T_FAILED" -eq 0 ] || { l2_dump; diag "L2 console tail:"; tr -d '\r' <"$DIR/console.log" | tail -n 20 | sed 's/^/#   /'; }

check "pins: after L2's power-off the pins are back to $base" pins_back "$base"
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

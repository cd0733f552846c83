#!/bin/sh
# tests/nested/nested_lifecycle.sh - QEMU lets go of its devices while the
# nested guest uses them: QMP device_del of one (QEMU runs on), then
# SIGKILL of QEMU with the other in use.
#
# L2 gets the NVMe controller at 00:05.0 and the e1000e behind a PCIe root
# port (00:06.0, so that it can be unplugged: ACPI hotplug, L2 ejects it),
# brings the link up, then keeps reading the disk ("end=hold"). L1 sends
# device_del for the e1000e, checks it is released while QEMU still holds
# the NVMe controller, then kills QEMU and checks everything came back.
# TAP; run in the nested VM (tests/vm/run-vm.sh nested).

# shellcheck source=tests/nested/lib.sh
. /nested/lib.sh

TESTS="ready busy device-del unplugged del-released kill kill-pins
kill-released log"
echo "1..9"
log_mark lifecycle
if ! backend_load direct; then
	for t in $TESTS; do fail "$t # the $BACKEND backend serves no VFIO nodes"; done
	tap_end
fi
rebind "$NVME" "$DRV" || diag "$NVME not on $DRV"
rebind "$NET" "$DRV" || diag "$NET not on $DRV"
cmd_save "$NVME"
cmd_save "$NET"
base=$(pins)
diag "backend $BACKEND, pins before: $base"

l2_start lifecycle "pcipassl2.read=8,1 pcipassl2.net=1 pcipassl2.end=hold" \
	-no-reboot \
	-device "vfio-pci,host=$NVME,addr=05.0,id=nvme0" \
	-device "pcie-root-port,id=rp1,chassis=1,addr=06.0" \
	-device "vfio-pci,host=$NET,bus=rp1,id=net0"

ready() {
	l2_until ready && l2_pci 0000:00:05.0 1b36:0010 nvme &&
		l2_pci 0000:01:00.0 8086:10d3 e1000e
}
check "ready: L2 drives both devices (nvme at 00:05.0, e1000e at 01:00.0) and holds" ready
busy() {
	group_busy "$NVME" && group_busy "$NET" && return 0
	diag "a group node opens while QEMU holds it"
	return 1
}
check "busy: while QEMU holds them, their groups do not open" busy

qmp_del() {
	nested-qmp -t 120 -e DEVICE_DELETED "$DIR/qmp.sock" \
		'{"execute":"device_del","arguments":{"id":"net0"}}' >"$DIR/qmp.log" 2>&1 &&
		grep -q '"device": "net0"' "$DIR/qmp.log" && return 0
	sed 's/^/#   qmp: /' "$DIR/qmp.log"
	return 1
}
check "device-del: QMP device_del of the e1000e: QEMU answers and reports DEVICE_DELETED" qmp_del
check "unplugged: L2 saw the e1000e go" l2_until "removed 0000:01:00.0" 60
del_released() {
	kill -0 "$QPID" 2>/dev/null || { diag "QEMU is gone"; return 1; }
	released "$NET"
}
check "del-released: with QEMU still running, the e1000e is quiesced, on $DRV, its group free" \
	del_released

# L2 still reads the disk every second: kill QEMU in the middle of it.
kill -KILL "$QPID"
wait "$QPID"
QEXIT=$?
check "kill: QEMU died of SIGKILL" [ "$QEXIT" -eq 137 ]
check "kill-pins: after SIGKILL the pins are back to $base" pins_back "$base"
check "kill-released: the NVMe controller is quiesced, on $DRV, its group free" released "$NVME"
check "log: no warning in L1's kernel log" log_clean lifecycle
[ "$T_FAILED" -eq 0 ] || { l2_dump; diag "L2 console tail:"; tr -d '\r' <"$DIR/console.log" | tail -n 20 | sed 's/^/#   /'; }
tap_end

#!/bin/bash
# tests/vm/demo.sh - `make demo`: boot the IOMMU VM in demo mode and print
# what the guest shows (tests/vm/guest-demo.sh) on stdout.
#
# Builds build/vm/initramfs.cpio.gz, runs the VM with outputs in
# build/vm/demo/, prints the guest's demo output without the kernel log,
# then checks that the VM finished with a clean kernel log (exit 1 if not).
# Environment: as for mkinitramfs.sh and run-vm.sh.
set -eu
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"

BUILD=${PCIPASS_BUILD_DIR:-$TOP/build/vm}
OUT=$BUILD/demo
export PCIPASS_INITRAMFS=$BUILD/initramfs.cpio.gz
# The demo needs the module (and pcipass-tool when built), not the tests.
export PCIPASS_ALLOW_NO_TESTS=1

"$VMDIR/mkinitramfs.sh" "$PCIPASS_INITRAMFS"
rc=0
"$VMDIR/run-vm.sh" iommu "$OUT" demo || rc=$?

tr -d '\r' <"$OUT/results.log" |
	sed -e '/^# pcipass-dmesg-begin$/,/^# pcipass-dmesg-end$/d' -e '/^# pcipass-/d'
echo
if ! verdict=$("$VMDIR/parse-results.sh" "$OUT" iommu) || [ "$rc" -ne 0 ]; then
	echo "$verdict"
	echo "demo: the VM did not finish cleanly (logs in $OUT)" >&2
	exit 1
fi
echo "demo: VM finished, kernel log clean (logs in $OUT)"

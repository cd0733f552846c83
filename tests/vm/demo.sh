#!/bin/bash
# tests/vm/demo.sh [nested|edu] - `make demo` (nested) and `make demo-edu`:
# boot a VM in demo mode and print what the guest shows on stdout.
#
# nested (the default): the nested VM (run-vm.sh nested); in it Debian's
#   QEMU runs a small guest on the NVMe controller given to pcipass
#   (tests/vm/guest-demo-nested.sh; PCIPASS_NESTED_BACKEND=vfio: on
#   vfio-pci instead). Outputs in build/vm/demo-nested/.
# edu: the iommu VM; a sample VMM drives QEMU's edu device through
#   pcipass: DMA and MSI (tests/vm/guest-demo.sh). Outputs in build/vm/demo/.
# Builds the initramfs, runs the VM, prints the guest's demo output
# without the kernel log, then checks that the VM finished with a clean
# kernel log (exit 1 if not).
# Environment: as for mkinitramfs.sh and run-vm.sh.
set -eu
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"

WHAT=${1:-nested}
BUILD=${PCIPASS_BUILD_DIR:-$TOP/build/vm}
# The demo needs the module (and pcipass-tool when built), not the tests.
export PCIPASS_ALLOW_NO_TESTS=1

case "$WHAT" in
nested)
	OUT=$BUILD/demo-nested
	CONFIG=nested
	export PCIPASS_NESTED_INITRAMFS=$BUILD/initramfs-nested.cpio.gz
	PCIPASS_NESTED=1 "$VMDIR/mkinitramfs.sh" "$PCIPASS_NESTED_INITRAMFS"
	;;
edu)
	OUT=$BUILD/demo
	CONFIG=iommu
	export PCIPASS_INITRAMFS=$BUILD/initramfs.cpio.gz
	"$VMDIR/mkinitramfs.sh" "$PCIPASS_INITRAMFS"
	;;
*) die "usage: $0 [nested|edu]" ;;
esac
rc=0
"$VMDIR/run-vm.sh" "$CONFIG" "$OUT" demo || rc=$?

tr -d '\r' <"$OUT/results.log" |
	sed -e '/^# pcipass-dmesg-begin$/,/^# pcipass-dmesg-end$/d' -e '/^# pcipass-/d'
echo
if ! verdict=$("$VMDIR/parse-results.sh" "$OUT" "$CONFIG") || [ "$rc" -ne 0 ]; then
	echo "$verdict"
	echo "demo: the VM did not finish cleanly (logs in $OUT)" >&2
	exit 1
fi
echo "demo: VM finished, kernel log clean (logs in $OUT)"

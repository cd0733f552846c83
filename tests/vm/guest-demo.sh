#!/bin/sh
# tests/vm/guest-demo.sh - demo mode of the test VM (busybox sh, started by
# /init; `make demo` -> tests/vm/demo.sh). Everything goes to the results
# channel ($PCIPASS_RESULTS, /dev/ttyS1), which the host prints.
#
# Loads pcipass for the edu device, lists the PCI devices from sysfs, shows
# that edu is bound to pcipass with bus mastering off, shows /dev/pcipass,
# runs pcipass-tool (see the marked block), and unloads the module.

R=${PCIPASS_RESULTS:-/dev/ttyS1}
exec >"$R" 2>&1
EDU=${PCIPASS_EDU:-0000:00:03.0}

say() { printf '\n### %s\n' "$*"; }
run() {
	echo "\$ $*"
	"$@"
	rc=$?
	[ "$rc" -eq 0 ] || echo "(exit status $rc)"
}

# lspci without lspci: address, vendor:device, class, driver, IOMMU group.
pci_list() {
	printf '%-13s %-9s %-6s %-12s %s\n' ADDRESS ID CLASS DRIVER IOMMU-GROUP
	for d in /sys/bus/pci/devices/*; do
		v=$(cat "$d/vendor") dev=$(cat "$d/device") cls=$(cat "$d/class")
		drv=-
		[ ! -e "$d/driver" ] || drv=$(basename "$(readlink "$d/driver")")
		grp=-
		[ ! -e "$d/iommu_group" ] || grp=$(basename "$(readlink "$d/iommu_group")")
		printf '%-13s %-9s %-6s %-12s %s\n' "${d##*/}" "${v#0x}:${dev#0x}" \
			"$(echo "$cls" | cut -c3-6)" "$drv" "$grp"
	done
}

# The PCI command register (config offset 4) of a device, decoded.
pci_command() {
	cmd=$(od -An -tx2 -j4 -N2 "/sys/bus/pci/devices/$1/config" | tr -d ' ')
	c=$((0x$cmd))
	echo "command register of $1 = 0x$cmd:" \
		"I/O $((c & 1)), memory $((c >> 1 & 1)), bus master $((c >> 2 & 1))," \
		"INTx disabled $((c >> 10 & 1))"
}

say "pcipass demo: kernel $(uname -r), VM with ${PCIPASS_VM} (edu at $EDU)"

say "PCI devices before loading pcipass"
pci_list

say "Loading pcipass for the edu device (1234:11e8)"
run modprobe pcipass ids=1234:11e8

say "PCI devices after loading pcipass"
pci_list

say "edu is bound to pcipass"
run readlink "/sys/bus/pci/devices/$EDU/driver"
if [ "$(basename "$(readlink "/sys/bus/pci/devices/$EDU/driver")")" = pcipass ]; then
	echo "yes: $EDU is driven by pcipass"
else
	echo "NO: $EDU is not bound to pcipass"
fi

say "Bus mastering stays off until a user opens the device"
pci_command "$EDU"

say "The character device"
run ls -l /dev/pcipass

say "pcipass-tool"
if command -v pcipass-tool >/dev/null; then
	# ---- pcipass-tool demo: add subcommands below (one `run` per step) ----
	run pcipass-tool --version
	run pcipass-tool check
	run pcipass-tool list --group
	run pcipass-tool info "$EDU"
	# ---- end of the pcipass-tool demo -------------------------------------
else
	echo "(pcipass-tool is not in the initramfs: build tools/pcipass/pcipass-tool)"
fi

say "A VMM hands edu to a guest: DMA through the IOMMU, MSI to an eventfd"
if command -v pcipass-edu-vmm >/dev/null; then
	run pcipass-edu-vmm "$EDU"
	pci_command "$EDU"
else
	echo "(samples/pcipass/edu_vmm is not built)"
fi

say "Kernel messages about pcipass"
dmesg | grep -i pcipass | grep -v "ommand line:"

say "Unloading pcipass"
run rmmod pcipass
pci_command "$EDU"

echo "# pcipass-dmesg-begin"
dmesg -s 8388608
echo "# pcipass-dmesg-end"
echo "# pcipass-vm-done"

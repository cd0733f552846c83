#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/pcipass/tests/fake-sysfs.sh - test pcipass-tool without a VM.
#
# Builds a fake /sys (PCI devices, drivers, IOMMU groups, the pcipass
# module, debugfs) and a fake /proc in a temporary directory, runs a small
# "kernel" in the background that acts on writes to unbind, bind and
# drivers_probe the way the PCI core does, and checks every subcommand:
# output, JSON, exit statuses, refusals that change nothing, and undo.
#
# Usage: [KEEP=1] [BUILD_ONLY=1] tests/fake-sysfs.sh [PATH-TO-pcipass-tool]
# KEEP=1 keeps the fake tree (its path is printed last) for a look around;
# BUILD_ONLY=1 builds it and runs nothing.
# Prints "N passed, N failed" last; exits non-zero when a test fails.

set -u

TOOL=$(realpath "${1:-$(dirname "$0")/../pcipass-tool}")
[ -x "$TOOL" ] || { echo "no pcipass-tool at $TOOL: build it first" >&2; exit 2; }

W=$(mktemp -d /tmp/pcipass-tool-test.XXXXXX)
T=$W/sys
P=$W/proc
EMU_PID=
cleanup() {
	[ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null &&
		wait "$EMU_PID" 2>/dev/null
	if [ -n "${KEEP:-}" ]; then echo "# kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT

export PCIPASS_TOOL_SYSFS=$T PCIPASS_TOOL_PROCFS=$P
export PCIPASS_TOOL_RUNDIR=$W/run/pcipass PCIPASS_TOOL_SYSCONFDIR=$W/etc
export PCIPASS_TOOL_DEV=$W/dev/pcipass PCIPASS_TOOL_PCIIDS=$W/pci.ids
export PCIPASS_TOOL_MODULES=$W/modules PCIPASS_TOOL_KVM=$W/dev/kvm

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
nok() { failed=$((failed + 1)); echo "not ok - $*"; }

# run ARGS...: sets $out, $err, $rc
run() {
	out=$("$TOOL" "$@" 2>"$W/stderr")
	rc=$?
	err=$(cat "$W/stderr")
}

# expect_rc N DESCRIPTION
expect_rc() {
	if [ "$rc" = "$1" ]; then ok "$2 (exit $rc)"; else
		nok "$2: exit $rc, expected $1"; echo "$out" | sed 's/^/#   /'
		echo "$err" | sed 's/^/#   /'
	fi
}

# has TEXT HAYSTACK DESCRIPTION
has() {
	if grep -qF -- "$1" <<<"$2"; then ok "$3"; else
		nok "$3: no '$1' in:"; echo "$2" | sed 's/^/#   /'
	fi
}

hasnt() {
	if grep -qF -- "$1" <<<"$2"; then
		nok "$3: unexpected '$1' in:"; echo "$2" | sed 's/^/#   /'
	else ok "$3"; fi
}

# same A B DESCRIPTION
same() {
	if [ "$1" = "$2" ]; then ok "$3"; else nok "$3: '$1' != '$2'"; fi
}

json_ok() {
	if python3 -c 'import json,sys; json.load(sys.stdin)' <<<"$1" 2>/dev/null
	then ok "$2"; else nok "$2: not JSON:"; echo "$1" | sed 's/^/#   /'; fi
}

# jq-like: json_get JSON PYTHON-EXPRESSION-ON-d
json_get() {
	python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$2" <<<"$1" 2>&1
}

# poke FILE OFFSET BYTE...: write bytes (hex) into a binary file
poke() {
	local f=$1 off=$2 b s=
	shift 2
	for b in "$@"; do s="$s\\x$b"; done
	printf "$s" | dd of="$f" bs=1 seek=$((off)) conv=notrunc status=none
}

# le16 FILE OFFSET VALUE / le32 FILE OFFSET VALUE
le16() { poke "$1" "$2" $(printf '%02x %02x' $(($3 & 255)) $(($3 >> 8 & 255))); }
le32() { le16 "$1" "$2" $(($3 & 65535)); le16 "$1" $(($2 + 2)) $(($3 >> 16)); }

# dev ADDR VENDOR DEVICE CLASS HEADER-TYPE GROUP DRIVER: a fake device
dev() {
	local d=$T/bus/pci/devices/$1 c
	mkdir -p "$d"
	echo "0x$2" >"$d/vendor"
	echo "0x$3" >"$d/device"
	echo "0x$2" >"$d/subsystem_vendor"
	echo "0x1100" >"$d/subsystem_device"
	echo "0x$4" >"$d/class"
	echo "0x02" >"$d/revision"
	echo "-1" >"$d/numa_node"
	echo "11" >"$d/irq"
	echo "(null)" >"$d/driver_override"
	c=$d/config
	head -c 4096 /dev/zero >"$c"
	le16 "$c" 0 "0x$2"
	le16 "$c" 2 "0x$3"
	poke "$c" 8 02 "${4:4:2}" "${4:2:2}" "${4:0:2}"
	poke "$c" 14 "$5"
	poke "$c" 0x3d 01
	for i in $(seq 0 12); do
		echo "0x0000000000000000 0x0000000000000000 0x0000000000000000"
	done >"$d/resource"
	if [ "$6" != - ]; then
		mkdir -p "$T/kernel/iommu_groups/$6/devices"
		echo identity >"$T/kernel/iommu_groups/$6/type"
		ln -s "../../../../kernel/iommu_groups/$6" "$d/iommu_group"
		ln -s "../../../../bus/pci/devices/$1" \
			"$T/kernel/iommu_groups/$6/devices/$1"
	fi
	if [ "$7" != - ]; then
		echo "$7" >"$d/.natural"
		ln -s "../../drivers/$7" "$d/driver"
		ln -s "../../devices/$1" "$T/bus/pci/drivers/$7/$1"
	fi
}

# resource ADDR LINE START END FLAGS
resource() {
	sed -i "$(($2 + 1))s/.*/$(printf '0x%016x 0x%016x 0x%016x' "$3" "$4" "$5")/" \
		"$T/bus/pci/devices/$1/resource"
}

build_tree() {
	local c
	rm -rf "$T" "$P" "$W/run" "$W/etc" "$W/dev"
	mkdir -p "$T/bus/pci/devices" "$T/class/iommu" "$T/module" \
		"$T/kernel/debug/pcipass" "$P/self" "$W/dev" "$W/run"
	: >"$T/bus/pci/drivers_probe"
	for drv in nvme ahci lpc_ich pcieport serial pcipass; do
		mkdir -p "$T/bus/pci/drivers/$drv"
		: >"$T/bus/pci/drivers/$drv/bind"
		: >"$T/bus/pci/drivers/$drv/unbind"
	done
	mkdir -p "$T/module/pcipass/parameters"
	echo "" >"$T/module/pcipass/parameters/ids"
	echo N >"$T/module/pcipass/parameters/allow_noiommu"
	mkdir -p "$T/class/iommu/dmar0/intel-iommu"
	echo "f0000000000ffe" >"$T/class/iommu/dmar0/intel-iommu/ecap"

	dev 0000:00:00.0 8086 29c0 060000 00 0 -
	dev 0000:00:01.0 1b36 000c 060400 01 1 pcieport
	dev 0000:00:03.0 1234 11e8 00ff00 00 3 -
	dev 0000:00:04.0 1b36 0010 010802 00 4 nvme
	dev 0000:00:05.0 1b36 0002 070002 00 2 serial
	dev 0000:00:1f.0 8086 2918 060100 00 5 lpc_ich
	dev 0000:00:1f.2 8086 2922 010601 00 5 ahci
	dev 0000:00:1f.3 8086 2930 0c0500 00 5 -
	dev 0000:01:00.0 8086 10d3 020000 00 6 pcipass

	# edu: BAR 0 mem32 1 MiB; MSI (4 vectors, 64-bit, maskable) and
	# PCI Express (v2 endpoint, FLR); AER v2 and ACS v1
	resource 0000:00:03.0 0 0xfea00000 0xfeafffff 0x40200
	c=$T/bus/pci/devices/0000:00:03.0/config
	poke "$c" 6 10
	poke "$c" 0x34 40
	poke "$c" 0x40 05 50
	le16 "$c" 0x42 0x0184
	poke "$c" 0x50 10 00
	le16 "$c" 0x52 0x0002
	le32 "$c" 0x54 0x10000000
	le32 "$c" 0x100 0x15020001
	le32 "$c" 0x150 0x0001000d
	echo "flr bus" >"$T/bus/pci/devices/0000:00:03.0/reset_method"

	# nvme: BAR 0 mem64 16 KiB, ROM 256 KiB; MSI-X (65 vectors), PM
	resource 0000:00:04.0 0 0xfebf0000 0xfebf3fff 0x140204
	resource 0000:00:04.0 6 0xfeb80000 0xfebbffff 0x46200
	c=$T/bus/pci/devices/0000:00:04.0/config
	poke "$c" 6 10
	poke "$c" 0x34 40
	poke "$c" 0x40 11 60
	le16 "$c" 0x42 0x0040
	le32 "$c" 0x44 0x2000
	le32 "$c" 0x48 0x3000
	poke "$c" 0x60 01 00 03 00
	echo "flr" >"$T/bus/pci/devices/0000:00:04.0/reset_method"

	# pci-serial: BAR 0 io, 8 bytes, prefetchable memory BAR 2
	resource 0000:00:05.0 0 0xc000 0xc007 0x40101
	resource 0000:00:05.0 2 0xfe000000 0xfe003fff 0x14220c

	cat >"$P/cpuinfo" <<-EOF
	processor	: 0
	vendor_id	: GenuineIntel
	flags		: fpu vme de pse msr vmx hypervisor
	EOF
	mkdir -p "$P/sys/kernel"
	echo 6.12.117+deb12-amd64 >"$P/sys/kernel/osrelease"
	echo "BOOT_IMAGE=/boot/vmlinuz root=/dev/vda1 ro intel_iommu=on quiet" >"$P/cmdline"
	cat >"$P/interrupts" <<-EOF
	           CPU0
	  24:          0  IR-PCI-MSI-0000:00:04.0    0-edge      nvme0q0
	EOF
	echo "CapEff:	0000000000000000" >"$P/self/status"
}

link() {
	ln -s "../../drivers/$2" "$T/bus/pci/devices/$1/driver"
	ln -s "../../devices/$1" "$T/bus/pci/drivers/$2/$1"
}

# The "kernel": unbind, bind and drivers_probe, as the PCI core does them.
emulate() {
	local f a d drv ovr
	while :; do
		for f in "$T"/bus/pci/drivers/*/unbind; do
			a=$(cat "$f" 2>/dev/null)
			[ -n "$a" ] || continue
			: >"$f"
			rm -f "$T/bus/pci/devices/$a/driver" "$(dirname "$f")/$a"
		done
		for f in "$T"/bus/pci/drivers/*/bind; do
			a=$(cat "$f" 2>/dev/null)
			[ -n "$a" ] || continue
			: >"$f"
			drv=$(basename "$(dirname "$f")")
			d=$T/bus/pci/devices/$a
			[ -e "$d/driver" ] || link "$a" "$drv"
		done
		a=$(cat "$T/bus/pci/drivers_probe" 2>/dev/null)
		if [ -n "$a" ]; then
			: >"$T/bus/pci/drivers_probe"
			d=$T/bus/pci/devices/$a
			ovr=$(cat "$d/driver_override")
			case "$ovr" in
			""|"(null)") drv=$(cat "$d/.natural" 2>/dev/null) ;;
			*) drv=$ovr ;;
			esac
			# a driver that does not honour driver_override
			[ -e "$W/emu.ignore_override" ] &&
				drv=$(cat "$d/.natural" 2>/dev/null)
			if [ ! -e "$d/driver" ] && [ -n "$drv" ] &&
			   [ -d "$T/bus/pci/drivers/$drv" ]; then
				link "$a" "$drv"
			fi
		fi
		sleep 0.02
	done
}

driver_of() {
	local l
	l=$(readlink "$T/bus/pci/devices/$1/driver") && basename "$l"
}

override_of() {
	cat "$T/bus/pci/devices/$1/driver_override"
}

# snapshot: everything a command may change
snapshot() {
	(cd "$W" && find sys/bus sys/kernel/iommu_groups run etc -printf '%p %l\n' 2>/dev/null | sort
	 for d in sys/bus/pci/devices/*; do
		echo "$d $(cat "$d/driver_override")"
	 done) >"$W/snap.$1"
}

build_tree
[ -n "${BUILD_ONLY:-}" ] && { KEEP=1; exit 0; }
emulate &
EMU_PID=$!

echo "# global"
run --help
expect_rc 0 "--help"
has "Exit status:" "$out" "--help documents the exit statuses"
run --version
expect_rc 0 "--version"
has "pcipass-tool " "$out" "--version prints the name"
run
expect_rc 2 "no command"
run frobnicate
expect_rc 2 "unknown command"
has "frobnicate: unknown command" "$err" "unknown command is named"
run list --bogus
expect_rc 2 "unknown option"
run check --persist
expect_rc 2 "option of another command"
run list extra
expect_rc 2 "unexpected argument"
run info
expect_rc 2 "info without a device"
run help bind
expect_rc 0 "help bind"
has "bind [--group [--yes]] [--persist] [--owner USER] [--force] DEVICE" "$out" "help bind shows its usage"
run --json frobnicate
expect_rc 2 "--json unknown command"
json_ok "$out" "--json usage error is a JSON document"
same "$(json_get "$out" 'd["exit_status"], d["error"]')" \
	"(2, 'frobnicate: unknown command (try pcipass-tool --help)')" \
	"JSON error document has exit_status and error"

echo "# option parsing (getopt_long)"
run -jg list
expect_rc 0 "combined short flags: -jg list"
same "$(json_get "$out" 'len(d["groups"]) > 0')" "True" "-jg: JSON and by group"
run list -gj
expect_rc 0 "combined short flags after the command: list -gj"
json_ok "$out" "list -gj is JSON"
run --json=yes list
expect_rc 2 "--json=yes: a flag takes no value"
run list --gro
expect_rc 0 "an unambiguous long option prefix: --gro"
run -x list
expect_rc 2 "unknown short option"
has "-x: unknown option" "$err" "unknown short option is named"
run bind --owner
expect_rc 2 "--owner without its value"
has "needs a value" "$err" "missing value: says so"
run list -- -not-an-option
expect_rc 2 "after --, a word is an argument"
# every option of the man page's OPTIONS section is in --help
man=$(dirname "$TOOL")/pcipass-tool.8
run --help
for opt in $(sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$man" | grep -oE '\\-\\-[a-z]+' | sed 's/\\//g' | sort -u); do
	has "$opt" "$out" "--help lists $opt (man page OPTIONS)"
done
for opt in $(sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$man" | grep -oE '^\.BR \\-[a-zA-Z] ' | sed 's/^\.BR \\//; s/ $//' | sort -u); do
	has "$opt, --" "$out" "--help lists $opt (man page OPTIONS)"
done

echo "# list"
run list
expect_rc 0 "list"
has "0000:00:03.0 Unclassified device [00ff]: Device [1234:11e8] (rev 02)" \
	"$out" "list: edu as lspci -nn shows it"
has "0000:00:04.0 Non-Volatile memory controller [0108]: Device [1b36:0010] (rev 02)" \
	"$out" "list: nvme with built-in class name"
line=$(grep -A1 '^0000:00:04.0' <<<"$out" | tail -1)
same "$line" "	IOMMU group 4, driver nvme: needs bind" "list: nvme needs bind"
line=$(grep -A1 '^0000:00:03.0' <<<"$out" | tail -1)
same "$line" "	IOMMU group 3, no driver: needs bind" "list: edu needs bind"
line=$(grep -A1 '^0000:01:00.0' <<<"$out" | tail -1)
same "$line" "	IOMMU group 6, driver pcipass: ready" "list: bound device is ready"
line=$(grep -A1 '^0000:00:1f.2' <<<"$out" | tail -1)
same "$line" "	IOMMU group 5, driver ahci: not viable: group 5 also holds 0000:00:1f.0 bound to lpc_ich" \
	"list: group shared with a host driver is not viable"
line=$(grep -A1 '^0000:00:01.0' <<<"$out" | tail -1)
has "not viable: PCI bridge (header type 1)" "$line" "list: bridge is never passable"

cat >"$W/pci.ids" <<-EOF
	# test pci.ids
	1234  Technical Corp.
	1b36  Red Hat, Inc.
	$(printf '\t')0010  QEMU NVM Express Controller
	$(printf '\t')0011  QEMU PVPanic device
	8086  Intel Corporation
	C 01  Mass storage controller
	$(printf '\t')08  Non-Volatile memory controller
	$(printf '\t\t')02  NVM Express
EOF
run list
has "0000:00:04.0 Non-Volatile memory controller [0108]: Red Hat, Inc. QEMU NVM Express Controller [1b36:0010] (rev 02)" \
	"$out" "list: names from pci.ids"
has "0000:00:03.0 Unclassified device [00ff]: Technical Corp. Device [1234:11e8]" \
	"$out" "list: known vendor, unknown device"

run list --group
expect_rc 0 "list --group"
has "IOMMU group 5 (3 devices):" "$out" "list --group: group header"
grp5=$(sed -n '/^IOMMU group 5/,/^$/p' <<<"$out")
has "	0000:00:1f.3 " "$grp5" "list --group: member listed under its group"

run --json list
expect_rc 0 "list --json"
json_ok "$out" "list --json is JSON"
same "$(json_get "$out" '[(x["address"], x["iommu_group"], x["driver"], x["verdict"]) for x in d["devices"] if x["address"] == "0000:00:04.0"]')" \
	"[('0000:00:04.0', 4, 'nvme', 'needs-bind')]" "list --json: nvme fields"
same "$(json_get "$out" 'len(d["devices"]), d["command"], d["exit_status"]')" \
	"(9, 'list', 0)" "list --json: every device, envelope"
same "$(json_get "$out" '[x["vendor_id"] + ":" + x["device_id"] for x in d["devices"] if x["class"] == "0108"]')" \
	"['1b36:0010']" "list --json: ids and class"
run list --json --group
json_ok "$out" "list --group --json is JSON"
same "$(json_get "$out" '[[y["address"] for y in g["devices"]] for g in d["groups"] if g["iommu_group"] == 5]')" \
	"[['0000:00:1f.0', '0000:00:1f.2', '0000:00:1f.3']]" "list --group --json: group 5"

echo "# info"
run info 00:03.0
expect_rc 0 "info BB:DD.F"
has "BAR 0: mem32, 1 MiB (0x100000) at 0xfea00000" "$out" "info: edu BAR 0"
has "[040] MSI: 4 vectors, 64-bit, per-vector masking" "$out" "info: MSI cap"
has "[050] PCI Express: v2 Endpoint, FLR" "$out" "info: PCIe cap"
has "[100] Advanced Error Reporting: v2" "$out" "info: AER ext cap"
has "[150] Access Control Services: v1" "$out" "info: ACS ext cap"
has "Interrupts: INTx pin A (irq 11); MSI: 4 vectors" "$out" "info: interrupts"
has "Reset methods: flr bus" "$out" "info: reset methods"
has "IOMMU group 3: 0000:00:03.0 (no driver)" "$out" "info: group members"
has "bound to no driver, not pcipass" "$out" "info: reason not bound"
run info 1b36:0010
has "BAR 0: mem64, 16 KiB (0x4000) at 0xfebf0000" "$out" "info: nvme mem64 BAR"
has "ROM: 256 KiB" "$out" "info: ROM"
has "[040] MSI-X: 65 vectors, table in BAR 0 at 0x2000, PBA in BAR 0 at 0x3000" \
	"$out" "info: MSI-X table size"
has "[060] Power Management: v3" "$out" "info: PM cap"
run info 0000:00:05.0
has "BAR 0: io, 8 B (0x8) at 0xc000" "$out" "info: io BAR"
has "BAR 2: mem64 prefetchable, 16 KiB" "$out" "info: prefetchable BAR"
has "Reset methods: none" "$out" "info: no reset method"
has "Warning: no reset method" "$out" "info: warns without reset method"
run info 00:1f.2
has "group 5 also holds 0000:00:1f.0 bound to lpc_ich" "$out" "info: group reason"
run --json info 00:03.0
json_ok "$out" "info --json is JSON"
same "$(json_get "$out" '[(b["index"], b["type"], b["size"], b["prefetchable"]) for b in d["devices"][0]["bars"]]')" \
	"[(0, 'mem32', 1048576, False)]" "info --json: bars"
same "$(json_get "$out" '[(c["offset"], c["id"], c["extended"]) for c in d["devices"][0]["capabilities"]]')" \
	"[(64, '05', False), (80, '10', False), (256, '0001', True), (336, '000d', True)]" \
	"info --json: capabilities"
same "$(json_get "$out" 'd["devices"][0]["interrupts"]["msi_vectors"], d["devices"][0]["reset_methods"]')" \
	"(4, ['flr', 'bus'])" "info --json: interrupts and reset"

echo "# bad devices"
for a in 00:1g.0 0:0:0:0 00:20.0 00:03.8 12345:11e8 foo 00:03 00:03.0.1; do
	run info "$a"
	expect_rc 2 "info $a: malformed"
	has "$a: malformed PCI address" "$err" "info $a: says so"
done
run info 00:09.0
expect_rc 3 "info: missing device"
same "$err" "pcipass-tool: 0000:00:09.0: no such PCI device" "info: names the device"
run info dead:beef
expect_rc 3 "info: no vendor:device match"
has "dead:beef: no PCI device has this vendor:device ID" "$err" "vendor:device no match"
run --json info 00:09.0
json_ok "$out" "--json error document"
same "$(json_get "$out" 'd["exit_status"], d["error"], d["command"]')" \
	"(3, '0000:00:09.0: no such PCI device', 'info')" "--json error fields"

echo "# bind refusals change nothing"
snapshot before
run bind 00:1f.2
expect_rc 6 "bind: split group refused"
has "IOMMU group 5 also holds 0000:00:1f.0, bound to lpc_ich; it would stay with the host" \
	"$err" "bind: explains the refusal"
run bind 00:01.0
expect_rc 6 "bind: bridge refused"
run bind 00:04.0 00:09.0
expect_rc 3 "bind: one device missing"
run bind 00:04.0 zz
expect_rc 2 "bind: one address malformed"
run --json bind 00:1f.2
json_ok "$out" "bind --json refusal is JSON"
snapshot after
if cmp -s "$W/snap.before" "$W/snap.after"; then ok "refusals changed nothing"
else nok "refusals changed something"; diff "$W/snap.before" "$W/snap.after"; fi

echo "# bind refuses what the host needs, and says why"
snapshot before
run bind 00:00.0
expect_rc 6 "bind of the host bridge refused"
has "0000:00:00.0: the host needs it: a host bridge: the CPU's own link to PCI; --force to bind it anyway" \
	"$err" "host bridge: says why"
D=$T/bus/pci/devices
echo 1 >"$D/0000:00:03.0/boot_vga"
run bind 00:03.0
expect_rc 6 "bind of the console GPU (boot_vga) refused"
has "the console GPU (boot_vga): the host would lose its display" "$err" "console GPU: says why"
run list
line=$(grep -A1 '^0000:00:03.0' <<<"$out" | tail -1)
same "$line" "	IOMMU group 3, no driver: needs bind; the host needs it: the console GPU (boot_vga): the host would lose its display" \
	"list says the host needs the console GPU"
run info 00:03.0
has "- the host needs it: the console GPU (boot_vga)" "$out" "info says the host needs it"
echo 0 >"$D/0000:00:03.0/boot_vga"
# nvme0n1p2 on the nvme is mounted on /home
mkdir -p "$D/0000:00:04.0/nvme/nvme0/nvme0n1/nvme0n1p2" "$T/class/block"
echo 259:0 >"$D/0000:00:04.0/nvme/nvme0/nvme0n1/dev"
echo 259:2 >"$D/0000:00:04.0/nvme/nvme0/nvme0n1/nvme0n1p2/dev"
ln -s ../../bus/pci/devices/0000:00:04.0/nvme/nvme0/nvme0n1 "$T/class/block/nvme0n1"
ln -s ../../bus/pci/devices/0000:00:04.0/nvme/nvme0/nvme0n1/nvme0n1p2 "$T/class/block/nvme0n1p2"
echo "30 1 259:2 / /home rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw" >"$P/self/mountinfo"
run bind 00:04.0
expect_rc 6 "bind of a storage controller with a mounted filesystem refused"
has "it holds filesystems in use: nvme0n1p2 is mounted on /home" "$err" "mounted: says which and where"
# through device-mapper: nvme0n1p2 holds dm-0, and dm-0 is mounted
mkdir -p "$T/devices/virtual/block/dm-0" "$D/0000:00:04.0/nvme/nvme0/nvme0n1/nvme0n1p2/holders"
echo 254:0 >"$T/devices/virtual/block/dm-0/dev"
ln -s ../../devices/virtual/block/dm-0 "$T/class/block/dm-0"
ln -s ../../../../../../../../devices/virtual/block/dm-0 \
	"$D/0000:00:04.0/nvme/nvme0/nvme0n1/nvme0n1p2/holders/dm-0"
echo "30 1 254:0 / / rw,relatime shared:1 - ext4 /dev/mapper/root rw" >"$P/self/mountinfo"
run bind 00:04.0
expect_rc 6 "bind of storage under a mounted device-mapper volume refused"
has "dm-0 is mounted on /" "$err" "device-mapper: says so"
: >"$P/self/mountinfo"
printf 'Filename\tType\tSize\tUsed\tPriority\n/dev/nvme0n1p2 partition 1024 0 -2\n' >"$P/swaps"
run bind 00:04.0
expect_rc 6 "bind of storage with active swap refused"
has "nvme0n1p2 is active swap" "$err" "swap: says so"
rm "$P/swaps"
# the default route through br0, whose port is the NIC at 00:05.0
mkdir -p "$T/class/net/eth0" "$T/class/net/br0" "$P/net"
ln -s ../../../bus/pci/devices/0000:00:05.0 "$T/class/net/eth0/device"
ln -s ../eth0 "$T/class/net/br0/lower_eth0"
printf 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\nbr0\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n' \
	>"$P/net/route"
run bind 00:05.0
expect_rc 6 "bind of the NIC of the default route refused"
has "the host's network: br0 carries the default route" "$err" "default route: says which interface"
: >"$P/net/route"
echo "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003     eth0" \
	>"$P/net/ipv6_route"
run bind 00:05.0
expect_rc 6 "bind of the NIC of the IPv6 default route refused"
has "eth0 carries the IPv6 default route" "$err" "IPv6 default route: says so"
rm -rf "$D/0000:00:03.0/boot_vga" "$D/0000:00:04.0/nvme" "$T/class/block"
snapshot after
if cmp -s "$W/snap.before" "$W/snap.after"; then ok "safety refusals changed nothing"
else nok "safety refusals changed something"; diff "$W/snap.before" "$W/snap.after"; fi
run bind --force 00:05.0
expect_rc 0 "bind --force takes the NIC anyway"
has "the host needs it: the host's network: eth0 carries the IPv6 default route; binding it (--force)" \
	"$err" "bind --force warns"
same "$(driver_of 0000:00:05.0)" pcipass "bind --force: on pcipass"
run unbind 00:05.0
expect_rc 0 "unbind the forced NIC"
run bind --force 00:01.0
expect_rc 6 "--force does not make a bridge passable"
rm -f "$P/net/ipv6_route"

echo "# bind and unbind"
run bind 00:04.0
expect_rc 0 "bind nvme"
has "0000:00:04.0: nvme -> pcipass" "$out" "bind: reports the move"
same "$(driver_of 0000:00:04.0)" pcipass "bind: nvme on pcipass"
same "$(override_of 0000:00:04.0)" pcipass "bind: driver_override set"
same "$(cat "$W/run/pcipass/0000:00:04.0.driver" 2>&1)" \
	"$(printf 'driver=nvme\noverride=')" "bind: state file remembers nvme"
run bind 00:04.0
expect_rc 0 "bind again"
has "already bound to pcipass" "$out" "bind again: nothing to do"
run list
line=$(grep -A1 '^0000:00:04.0' <<<"$out" | tail -1)
same "$line" "	IOMMU group 4, driver pcipass: ready" "list after bind: ready"
run unbind 0000:00:04.0
expect_rc 0 "unbind nvme"
has "0000:00:04.0: pcipass -> nvme" "$out" "unbind: reports the move"
same "$(driver_of 0000:00:04.0)" nvme "unbind: back on nvme"
same "$(override_of 0000:00:04.0)" "" "unbind: driver_override cleared"
[ -e "$W/run/pcipass/0000:00:04.0.driver" ] && nok "unbind: state file left" ||
	ok "unbind: state file removed"
run unbind 00:04.0
expect_rc 0 "unbind a device not on pcipass"
has "not bound to pcipass (nvme): nothing to do" "$out" "unbind: nothing to do"

run --json bind 1234:11e8
expect_rc 0 "bind by vendor:device"
json_ok "$out" "bind --json is JSON"
same "$(json_get "$out" '[(x["address"], x["from"], x["to"], x["changed"]) for x in d["devices"]]')" \
	"[('0000:00:03.0', None, 'pcipass', True)]" "bind --json fields"
run unbind 00:03.0
expect_rc 0 "unbind edu"
has "pcipass -> no driver" "$out" "unbind: edu had no driver, has none again"
same "$(driver_of 0000:00:03.0)" "" "unbind: edu left without a driver"

echo "# --group"
snapshot before
run bind --group 00:1f.2 </dev/null
expect_rc 6 "bind --group without an answer: refused"
has "bind --group moves 3 devices to pcipass:" "$err" "bind --group lists what it moves"
has "  0000:00:1f.0 (lpc_ich) ISA bridge" "$err" "bind --group names each device and its driver"
has "Proceed? [y/N]" "$err" "bind --group asks"
has "no answer: nothing changed (--yes to not ask)" "$err" "bind --group: no answer, says so"
out=$(echo n | "$TOOL" bind --group 00:1f.2 2>&1)
rc=$?
expect_rc 6 "bind --group answered no: refused"
has "not confirmed: nothing changed" "$out" "bind --group: no means no"
snapshot after
cmp -s "$W/snap.before" "$W/snap.after" && ok "bind --group unconfirmed changed nothing" ||
	nok "bind --group unconfirmed changed something"
run bind --yes 00:1f.2
expect_rc 2 "--yes without --group is a usage error"
out=$(echo y | "$TOOL" bind --group 00:1f.2 2>&1)
rc=$?
expect_rc 0 "bind --group answered yes"
run unbind --group 00:1f.2
expect_rc 0 "unbind --group after the answered bind"
run bind -gy 00:1f.2
expect_rc 0 "bind --group --yes (as -gy)"
for a in 0000:00:1f.0 0000:00:1f.2 0000:00:1f.3; do
	same "$(driver_of $a)" pcipass "bind --group: $a on pcipass"
done
snapshot before
run unbind 00:1f.2
expect_rc 6 "unbind of one device of a bound group refused"
has "the group would be split" "$err" "unbind: explains the refusal"
snapshot after
cmp -s "$W/snap.before" "$W/snap.after" && ok "unbind refusal changed nothing" ||
	nok "unbind refusal changed something"
run unbind --group 00:1f.2
expect_rc 0 "unbind --group"
same "$(driver_of 0000:00:1f.0)/$(driver_of 0000:00:1f.2)/$(driver_of 0000:00:1f.3)" \
	"lpc_ich/ahci/" "unbind --group: every device back"

echo "# --persist"
rule=$W/etc/udev/rules.d/90-pcipass-0000:00:04.0.rules
run bind --persist 00:04.0
expect_rc 0 "bind --persist"
has 'KERNEL=="0000:00:04.0", ATTR{driver_override}="pcipass"' "$(cat "$rule" 2>&1)" \
	"bind --persist: udev rule written"
run list
line=$(grep -A1 '^0000:00:04.0' <<<"$out" | tail -1)
same "$line" "	IOMMU group 4, driver pcipass: ready; at boot: pcipass (bind --persist)" \
	"list shows the persisted binding"
run info 00:04.0
has "At boot: pcipass (bind --persist: $rule)" "$out" "info shows the persisted binding"
run --json info 00:04.0
same "$(json_get "$out" 'd["devices"][0]["persist_rule"]')" "$rule" "info --json: persist_rule"
run info 00:03.0
has "At boot: not persisted" "$out" "info: a device without a rule is not persisted"
# a reboot loses /run: unbind finds the old driver in the rule
rm -rf "$W/run/pcipass"
run unbind --persist 00:04.0
expect_rc 0 "unbind --persist"
same "$(driver_of 0000:00:04.0)" nvme "unbind after reboot: back to nvme (from the rule)"
[ -e "$rule" ] && nok "unbind --persist: rule left" || ok "unbind --persist: rule removed"
# --persist on a device already on pcipass remembers the driver before it
run bind 00:04.0
run bind --persist 00:04.0
expect_rc 0 "bind --persist of a bound device"
has "already bound to pcipass" "$out" "bind --persist: nothing to move"
has "# pcipass-tool: driver=nvme" "$(cat "$rule" 2>&1)" \
	"bind --persist: rule names the driver before pcipass"
rm -rf "$W/run/pcipass"
run unbind --persist 00:04.0
expect_rc 0 "unbind --persist after reboot"
same "$(driver_of 0000:00:04.0)" nvme "unbind --persist: back to nvme"
[ -e "$rule" ] && nok "unbind --persist: rule left" || ok "unbind --persist: rule removed"
run unbind --persist 00:04.0
expect_rc 0 "unbind --persist without a rule"
has "no persist rule to remove" "$out" "unbind --persist: says there is no rule"

echo "# --owner"
own=$T/bus/pci/devices/0000:01:00.0/pcipass_owner
echo none >"$own"
printf 'root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n' >"$W/etc/passwd"
run info 01:00.0
has "Owner: none (root only)" "$out" "info: no owner"
run bind --owner alice 01:00.0
expect_rc 0 "bind --owner alice"
same "$(cat "$own")" 1000 "bind --owner: pcipass_owner holds alice's uid"
run info 01:00.0
has "Owner: uid 1000 (alice)" "$out" "info: the owner, with the name"
run --json list
same "$(json_get "$out" '[x["owner"] for x in d["devices"] if x["address"] == "0000:01:00.0"]')" \
	"['uid 1000 (alice)']" "list --json: owner"
run bind --owner bob 01:00.0
expect_rc 2 "bind --owner of an unknown user"
has "bob: no such user" "$err" "--owner: says there is no such user"
run bind --owner=none --persist 01:00.0
expect_rc 0 "bind --owner=none --persist"
same "$(cat "$own")" none "bind --owner=none: back to root only"
has 'DRIVER=="pcipass", ATTR{pcipass_owner}="none"' \
	"$(cat "$W/etc/udev/rules.d/90-pcipass-0000:01:00.0.rules" 2>&1)" \
	"bind --owner --persist: the rule sets the owner at boot"
rm -f "$W/etc/udev/rules.d/90-pcipass-0000:01:00.0.rules"
run bind -o 1000 00:04.0
expect_rc 5 "bind --owner with a pcipass without owners"
has "this pcipass has no owners" "$err" "--owner: says the driver has none"
same "$(driver_of 0000:00:04.0)" nvme "bind --owner failure undone: back on nvme"
rm "$own" "$W/etc/passwd"

echo "# failure is undone"
# the device does not bind to pcipass (no such driver dir to link to)
mv "$T/bus/pci/drivers/pcipass" "$T/bus/pci/drivers/.pcipass"
run bind 00:04.0
expect_rc 5 "bind without the pcipass driver"
has "the pcipass driver is not loaded" "$err" "bind: says pcipass is not loaded"
mv "$T/bus/pci/drivers/.pcipass" "$T/bus/pci/drivers/pcipass"
# the probe gives the device back to nvme: a bind that does not take
touch "$W/emu.ignore_override"
snapshot before
run bind 00:04.0
expect_rc 5 "bind that does not take"
has "0000:00:04.0: still on nvme, not pcipass" "$err" "bind: says it did not take"
has "undone: back on nvme" "$err" "bind: says it undid"
same "$(driver_of 0000:00:04.0)" nvme "undo: back on nvme"
snapshot after
cmp -s "$W/snap.before" "$W/snap.after" && ok "undone bind changed nothing" ||
	{ nok "undone bind changed something"; diff "$W/snap.before" "$W/snap.after"; }
rm "$W/emu.ignore_override"
# with no "kernel" running, unbind does not take
kill "$EMU_PID"; wait "$EMU_PID" 2>/dev/null
run bind 00:04.0
expect_rc 5 "bind whose unbind does not take"
has "0000:00:04.0: still on nvme after unbind" "$err" "bind: says unbind did not take"
same "$(override_of 0000:00:04.0)" "" "undo: driver_override restored"
[ -e "$W/run/pcipass/0000:00:04.0.driver" ] && nok "undo: state file left" ||
	ok "undo: state file removed"
: >"$T/bus/pci/drivers/nvme/unbind"
: >"$T/bus/pci/drivers_probe"
emulate &
EMU_PID=$!

echo "# permissions"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	chmod -R a+rX "$W"
	snapshot before
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$TOOL" bind 00:04.0 2>&1)
	rc=$?
	expect_rc 4 "bind as nobody: permission denied"
	has "Permission denied (run as root)" "$out" "bind as nobody: says so"
	snapshot after
	cmp -s "$W/snap.before" "$W/snap.after" && ok "denied bind changed nothing" ||
		nok "denied bind changed something"
else
	echo "# SKIP permission tests: need root and setpriv"
fi

echo "# stat"
cat >"$T/kernel/debug/pcipass/stat" <<-EOF
	ctx 1 pid 123 comm qemu mode iommu devices 1 pinned_bytes 8192 mappings 2 future_key 7
	dev 1 0000:00:03.0 irq_type msi newkey x
	irq 1 0000:00:03.0 msi 0 count 12
	irq 1 0000:00:03.0 msi 1 count 3 extra 1
	newrecord 1 whatever
	ctx 2 pid 456 comm other mode unset devices 0 pinned_bytes 0 mappings 0
	garbage
EOF
run stat
expect_rc 0 "stat"
has "context 1: pid 123 (qemu), mode iommu, 1 device, 8 KiB pinned in 2 mappings" \
	"$out" "stat: context line"
has "	0000:00:03.0: interrupts msi" "$out" "stat: device line"
has "		msi 1: 3" "$out" "stat: per-vector count"
has "total: 2 contexts, 1 device, 8 KiB pinned, 2 mappings" "$out" "stat: totals"
run --json stat
json_ok "$out" "stat --json is JSON"
same "$(json_get "$out" '[(c["id"], c["pid"], c["pinned_bytes"], [(a["address"], [(i["vector"], i["count"]) for i in a["interrupts"]]) for a in c["attached"]]) for c in d["contexts"]]')" \
	"[(1, 123, 8192, [('0000:00:03.0', [(0, 12), (1, 3)])]), (2, 456, 0, [])]" \
	"stat --json: contexts"
run info 00:03.0
has "attached to context 1 (pid 123, qemu)" "$out" "info: in use by a context"
out=$(timeout 2.5 "$TOOL" stat -w 1 2>&1)
n=$(grep -c '^Every 1s: pcipass-tool stat' <<<"$out")
[ "$n" -ge 2 ] && ok "stat -w 1 refreshes ($n times)" || nok "stat -w 1 refreshed $n times"
out=$(timeout 1.5 "$TOOL" --json stat -w 1 2>&1 | head -1)
json_ok "$out" "stat -w --json: one document a line"
run stat -w 0
expect_rc 2 "stat -w 0 is a usage error"
run stat --watch=0.05
expect_rc 2 "stat --watch=0.05 is below 0.1: a usage error"
out=$(timeout 1.4 "$TOOL" stat --watch=0.5 2>&1)
n=$(grep -c '^Every 0.5s: pcipass-tool stat' <<<"$out")
[ "$n" -ge 2 ] && ok "stat --watch=0.5 refreshes twice a second ($n times)" ||
	nok "stat --watch=0.5 refreshed $n times"
out=$(timeout 1.4 "$TOOL" stat -w0.5 2>&1)
n=$(grep -c '^Every 0.5s' <<<"$out")
[ "$n" -ge 2 ] && ok "stat -w0.5 ($n times)" || nok "stat -w0.5 refreshed $n times"
rm "$T/kernel/debug/pcipass/stat"
run stat
expect_rc 7 "stat without the file"
has "the loaded pcipass does not provide statistics" "$err" "stat: explains"
rmdir "$T/kernel/debug/pcipass"
run stat
expect_rc 7 "stat without debugfs"
has "debugfs is not mounted" "$err" "stat: debugfs not mounted"
mv "$T/module/pcipass" "$T/module/.pcipass"
run stat
expect_rc 7 "stat without the module"
has "pcipass is not loaded" "$err" "stat: module not loaded"
out=$(timeout 5 "$TOOL" stat -w 1 2>&1)
rc=$?
expect_rc 7 "stat -w without the module exits at once"
same "$(grep -c 'pcipass is not loaded' <<<"$out")" 1 "stat -w without the module says so once"
out=$(timeout 5 "$TOOL" --json stat -w 1 2>/dev/null)
rc=$?
expect_rc 7 "stat -w --json without the module exits at once"
same "$(json_get "$out" 'd["exit_status"], d["error"]')" \
	"(7, 'no statistics: pcipass is not loaded (modprobe pcipass)')" \
	"stat -w --json without the module: one error document"

echo "# check"
export COLUMNS=1000	# one line per check, for the greps below
run check
expect_rc 1 "check without the module: not ready"
has "FAIL  module" "$out" "check: module FAIL"
has "FAIL  device-node" "$out" "check: device node FAIL"
has "PASS  cpu-virt             vmx (Intel VT-x), nested under a hypervisor" "$out" \
	"check: cpu flags"
has "PASS  iommu                dmar0 (Intel VT-d); 7 IOMMU groups (default domain identity)" \
	"$out" "check: iommu"
has "PASS  interrupt-remapping  in use (IR-* chips in $P/interrupts); supported by dmar0" \
	"$out" "check: interrupt remapping from /proc/interrupts"
has "WARN  memlock" "$out" "check: memlock WARN without CAP_IPC_LOCK"
mv "$T/module/.pcipass" "$T/module/pcipass"
echo Y >"$T/module/pcipass/parameters/allow_noiommu"
run check
has "PASS  module               pcipass is loaded; 1 device bound" "$out" "check: module PASS" 
has "WARN  module-params        allow_noiommu=Y ids=" "$out" "check: unsafe parameter WARN"
echo "0000000000000000" >"$T/class/iommu/dmar0/intel-iommu/ecap"
: >"$P/interrupts"
run check
has "FAIL  interrupt-remapping  none" "$out" "check: no interrupt remapping"
echo "f0000000000ffe" >"$T/class/iommu/dmar0/intel-iommu/ecap"
run check
has "FAIL  interrupt-remapping  dmar0 supports interrupt remapping (ecap IR), but it is off" \
	"$out" "check: IR capable but off"
rm -rf "$T/class/iommu/dmar0" "$T/kernel/iommu_groups" "$T"/bus/pci/devices/*/iommu_group
run check
expect_rc 1 "check without IOMMU"
has "FAIL  iommu                no IOMMU" "$out" "check: no IOMMU"
touch "$W/dev/pcipass"
run --json check
expect_rc 1 "check --json"
json_ok "$out" "check --json is JSON"
same "$(json_get "$out" '[(c["name"], c["status"]) for c in d["checks"]], d["ready"]')" \
	"([('kernel', 'PASS'), ('cpu-virt', 'PASS'), ('iommu', 'FAIL'), ('boot-options', 'PASS'), ('interrupt-remapping', 'FAIL'), ('secure-boot', 'PASS'), ('module', 'PASS'), ('module-params', 'WARN'), ('device-node', 'FAIL'), ('memlock', 'WARN'), ('kvm', 'INFO')], False)" \
	"check --json: every check"

echo "# check: kernel, boot options, Secure Boot, module, ids=, kvm, width"
run check
has "PASS  kernel               Linux 6.12.117+deb12-amd64 (pcipass is for 6.12)" "$out" "check: kernel 6.12"
has "INFO  kvm                  no $W/dev/kvm: guests run with TCG, slowly" "$out" "check: /dev/kvm as information"
mknod "$W/dev/kvm" c 10 232 2>/dev/null && { run check
	has "INFO  kvm                  $W/dev/kvm is there" "$out" "check: /dev/kvm present"; }
echo 6.1.0-28-amd64 >"$P/sys/kernel/osrelease"
run check
has "WARN  kernel               Linux 6.1.0-28-amd64: pcipass is built and tested for 6.12 only" \
	"$out" "check: another kernel is a warning"
echo 6.12.117+deb12-amd64 >"$P/sys/kernel/osrelease"
# no IOMMU here: on Intel without intel_iommu=on, the fix with GRUB
echo "BOOT_IMAGE=/boot/vmlinuz root=/dev/vda1 ro quiet" >"$P/cmdline"
run check
has "FAIL  boot-options         Intel CPU: Debian's kernel needs intel_iommu=on; not given" \
	"$out" "check: Intel needs intel_iommu=on"
has "fix: add intel_iommu=on to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub; then run update-grub and reboot" \
	"$out" "check: the GRUB recipe"
hasnt "amd_iommu=on" "$out" "check: never advises amd_iommu=on"
sed -i 's/GenuineIntel/AuthenticAMD/' "$P/cpuinfo"
echo "BOOT_IMAGE=/boot/vmlinuz amd_iommu=on" >"$P/cmdline"
run check
has "WARN  boot-options         amd_iommu=on is not a valid value: the kernel ignores it" \
	"$out" "check: amd_iommu=on is not valid"
has "fix: remove amd_iommu=on (the AMD IOMMU is on by default) from GRUB_CMDLINE_LINUX_DEFAULT" \
	"$out" "check: says to remove it"
echo "BOOT_IMAGE=/boot/vmlinuz iommu=off" >"$P/cmdline"
run check
has "FAIL  boot-options         iommu=off: the IOMMU or interrupt remapping is off" \
	"$out" "check: iommu=off fails"
echo "BOOT_IMAGE=/boot/vmlinuz" >"$P/cmdline"
run check
has "PASS  boot-options         AMD CPU: the IOMMU is on by default" "$out" "check: AMD needs nothing"
sed -i 's/AuthenticAMD/GenuineIntel/' "$P/cpuinfo"
echo "BOOT_IMAGE=/boot/vmlinuz root=/dev/vda1 ro intel_iommu=on quiet" >"$P/cmdline"
# Secure Boot on, lockdown integrity, an unsigned pcipass.ko installed
mkdir -p "$T/firmware/efi/efivars" "$T/kernel/security" "$W/modules/6.12.117+deb12-amd64/updates/dkms"
printf '\x06\x00\x00\x00\x01' >"$T/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
echo "none [integrity] confidentiality" >"$T/kernel/security/lockdown"
ko=$W/modules/6.12.117+deb12-amd64/updates/dkms/pcipass.ko
head -c 4096 /dev/zero >"$ko"
echo "updates/dkms/pcipass.ko:" >"$W/modules/6.12.117+deb12-amd64/modules.dep"
run check
has "FAIL  secure-boot          Secure Boot on; lockdown integrity; module signatures enforced; $ko is not signed: it is refused" \
	"$out" "check: unsigned module under lockdown fails"
has "mokutil --import /var/lib/dkms/mok.pub" "$out" "check: says how to enroll the DKMS key"
printf 'sig~Module signature appended~\n' >>"$ko"
run check
has "PASS  secure-boot          Secure Boot on; lockdown integrity; module signatures enforced; pcipass.ko is signed" \
	"$out" "check: signed module passes"
printf '\x06\x00\x00\x00\x00' >"$T/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
echo "[none] integrity confidentiality" >"$T/kernel/security/lockdown"
run check
has "PASS  secure-boot          Secure Boot off; lockdown none; module signatures not enforced" \
	"$out" "check: Secure Boot off"
# the module: installed but not loaded, or not installed
mv "$T/module/pcipass" "$T/module/.pcipass"
run check
has "FAIL  module               pcipass is not loaded; it is installed: $ko" "$out" \
	"check: installed, not loaded"
has "fix: modprobe pcipass" "$out" "check: says to load it"
# ids= from modprobe.d: the nvme is still held by its driver
mkdir -p "$W/etc/modprobe.d"
echo "options pcipass ids=1b36:0010,1234:11e8 allow_noiommu=0" >"$W/etc/modprobe.d/pcipass.conf"
run check
has "WARN  ids                  ids=1b36:0010,1234:11e8: 2 devices match; still held by another driver: 0000:00:04.0 by nvme" \
	"$out" "check: an ids= device held by another driver"
has "softdep DRIVER pre: pcipass" "$out" "check: says how to make pcipass win"
rm -r "$W/etc/modprobe.d"
rm "$W/modules/6.12.117+deb12-amd64/modules.dep"
run check
has "pcipass is not loaded, and not installed for Linux 6.12.117+deb12-amd64" "$out" \
	"check: not installed"
has "apt install pcipass-dkms" "$out" "check: says how to install it"
mv "$T/module/.pcipass" "$T/module/pcipass"
echo 1234:11e8 >"$T/module/pcipass/parameters/ids"
run check
has "PASS  ids                  ids=1234:11e8: 1 device match, none held by another driver" \
	"$out" "check: ids= of the loaded module"
echo "" >"$T/module/pcipass/parameters/ids"
# lines fit the terminal
for cols in 80 100; do
	out=$(COLUMNS=$cols "$TOOL" check 2>&1)
	long=$(awk -v w="$cols" 'length($0) > w' <<<"$out")
	[ -z "$long" ] && ok "check: every line fits $cols columns" ||
		nok "check: lines longer than $cols columns: $long"
done
unset COLUMNS
out=$("$TOOL" check 2>&1)
long=$(awk 'length($0) > 80' <<<"$out")
[ -z "$long" ] && ok "check: 80 columns when not a terminal" || nok "check: long lines: $long"
has "      fix: " "$out" "check: the fix on its own line"

run list
has "not viable: PCI bridge (header type 1)" "$out" "list without IOMMU: bridge"
line=$(grep -A1 '^0000:00:04.0' <<<"$out" | tail -1)
same "$line" "	no IOMMU group, driver nvme: needs bind" \
	"list without IOMMU, allow_noiommu=Y: needs bind"
echo N >"$T/module/pcipass/parameters/allow_noiommu"
run list
line=$(grep -A1 '^0000:00:04.0' <<<"$out" | tail -1)
same "$line" "	no IOMMU group, driver nvme: not viable: no IOMMU group: the IOMMU is missing or disabled" \
	"list without IOMMU: not viable"
run bind 00:04.0
expect_rc 0 "bind without IOMMU (binding is safe; attaching is not)"
has "no IOMMU group" "$err" "bind without IOMMU warns"
run unbind 00:04.0
expect_rc 0 "unbind without IOMMU"

echo "# empty sysfs"
PCIPASS_TOOL_SYSFS=$W/nothing run list
expect_rc 0 "list with no PCI bus"
has "no PCI devices" "$out" "list says there are none"

echo "# run"
run run
expect_rc 2 "run without a command"
has "which command?" "$err" "run without a command says so"
run --json run -- true
expect_rc 2 "run --json"
run list --nodes "$W"
expect_rc 2 "--nodes is an option of run only"
mkdir -p "$W/vfio-nodes" "$W/dev/vfio"
export PCIPASS_TOOL_VFIO_NODES=$W/vfio-nodes PCIPASS_TOOL_VFIO_DIR=$W/dev/vfio
run run -- true
expect_rc 5 "run without a container node"
has "$W/vfio-nodes/vfio: No such file" "$err" "run names the missing node"
if [ "$(id -u)" = 0 ]; then
	mknod "$W/vfio-nodes/vfio" c 1 3
	mknod "$W/vfio-nodes/7" c 1 5
	: >"$W/dev/vfio/host-only"
	run run ls "$W/dev/vfio"
	expect_rc 0 "run ls"
	# shellcheck disable=SC2086 # the words, on one line
	same "$(echo $out)" "7 vfio" "run: the command sees the nodes at the VFIO path"
	same "$(ls "$W/dev/vfio")" "host-only" "run: the caller's namespace is unchanged"
	run run sh -c 'exit 3'
	expect_rc 3 "run exits with the status of the command"
	run run --nodes "$W/vfio-nodes" -- sh -c 'cat /proc/self/mountinfo' -x
	expect_rc 0 "run --nodes DIR -- COMMAND ARG -x (options after COMMAND are its own)"
	has " $W/dev/vfio " "$out" "run: the directory is mounted there"
	rm -f "$W/dev/vfio/host-only"
	rmdir "$W/dev/vfio"
	run run true
	expect_rc 0 "run when the VFIO directory is missing"
	same "$(test -d "$W/dev/vfio" && echo yes)" yes "run creates it"
	run run /nonexistent/command
	expect_rc 127 "run: a command that does not exist"
else
	ok "run: namespace tests skipped (need root) # SKIP"
fi
unset PCIPASS_TOOL_VFIO_NODES PCIPASS_TOOL_VFIO_DIR

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

# shellcheck shell=sh
# tests/nested/lib.sh - sourced by the nested tests (busybox sh in the
# nested VM, L1; installed as /nested/lib.sh).
#
# Owns: TAP output, the backend that serves QEMU's VFIO ioctls
# (PCIPASS_NESTED_BACKEND: pcipass, the default, or vfio = Debian's
# vfio-pci and vfio_iommu_type1), binding L1's devices, L1's own access to
# the NVMe disk, starting and waiting for QEMU with the nested guest (L2:
# /nested/vmlinux, /nested/l2-initramfs.cpio, tests/vm/l2-init) and timing
# its start (l2_booted, for make bench), reading what L2 reported, and the
# checks made after QEMU lets go of a device (pins, PCI command register,
# driver, group, kernel log).

BACKEND=${PCIPASS_NESTED_BACKEND:-pcipass}
NVME=${PCIPASS_NVME:-0000:00:04.0}
# shellcheck disable=SC2034 # used by the tests
NET=${PCIPASS_NET:-0000:00:07.0}
# The pcipass parameter that registers the real VFIO names (/dev/vfio/vfio,
# /dev/vfio/GROUP); pcipass's own are /dev/pcipass-vfio/*.
VFIO_PARAM=${PCIPASS_NESTED_VFIO_PARAM:-vfio_nodes=compat}
PCIPASS_NODES=/dev/pcipass-vfio
L2_KERNEL=/nested/vmlinux
L2_INITRD=/nested/l2-initramfs.cpio
# Seconds for one L2 boot to power off (nested TCG, 2 shared host cores).
# Measured: 30-60 s on an idle machine, 5-6 min with 12 jobs on 2 cores.
L2_TIMEOUT=${PCIPASS_L2_TIMEOUT:-900}
# L2's RAM (QEMU -m): every page of it is pinned and mapped for the device.
L2_MEM=${PCIPASS_L2_MEM:-128M}
WORK=/tmp/nested
mkdir -p "$WORK"

# backend_use pcipass|vfio: the backend of what follows (BACKEND, and DRV,
# the driver that holds the devices for it); the nested benchmark uses both
# in one boot (backend_unload between them).
backend_use() {
	case "$1" in
	vfio) DRV=vfio-pci ;;
	pcipass) DRV=pcipass ;;
	*) echo "Bail out! PCIPASS_NESTED_BACKEND=$1: expected pcipass or vfio"; exit 1 ;;
	esac
	BACKEND=$1
}
backend_use "$BACKEND"

# ---- TAP --------------------------------------------------------------------
# A test is "ID: description": the TAP line names it by ID (stable, the
# same whether it passes or fails), the description goes on a comment
# line before it.
T_N=0
T_FAILED=0
diag() { echo "# $*"; }
t_line() { # ok|"not ok" "ID: description" [DIRECTIVE]
	T_N=$((T_N + 1))
	[ "${2%%: *}" = "$2" ] || echo "# $2"
	echo "$1 $T_N ${2%%: *}${3:+ # $3}"
}
pass() { t_line ok "$1"; }
fail() { T_FAILED=$((T_FAILED + 1)); t_line "not ok" "$1" "${2:-}"; }
skip() { t_line ok "$1" "SKIP $2"; }
# check NAME COMMAND...: one test, passed when COMMAND succeeds.
check() {
	t_name=$1
	shift
	if "$@"; then pass "$t_name"; else fail "$t_name"; fi
}
tap_end() {
	[ "$T_FAILED" -eq 0 ] && exit 0
	exit 1
}

# ---- devices ----------------------------------------------------------------
driver_of() {
	if [ -e "/sys/bus/pci/devices/$1/driver" ]; then
		basename "$(readlink "/sys/bus/pci/devices/$1/driver")"
	else
		echo -
	fi
}

# rebind ADDR DRIVER: move ADDR to DRIVER ("" = whichever driver wants it)
# through driver_override; true when it got there within 10 s.
rebind() {
	d=/sys/bus/pci/devices/$1
	if [ -n "$2" ]; then echo "$2" >"$d/driver_override"; else echo >"$d/driver_override"; fi
	[ ! -e "$d/driver" ] || echo "$1" >"$d/driver/unbind"
	echo "$1" >/sys/bus/pci/drivers_probe 2>/dev/null
	[ -n "$2" ] || return 0
	i=0
	while [ "$(driver_of "$1")" != "$2" ]; do
		i=$((i + 1))
		[ $i -le 100 ] || { diag "$1 did not bind to $2 (driver: $(driver_of "$1"))"; return 1; }
		usleep 100000
	done
}

group_of() { basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"; }

pci_cmd() { od -An -tx2 -j4 -N2 "/sys/bus/pci/devices/$1/config" | tr -d ' '; }

# cmd_save ADDR: remember the PCI command register before QEMU has ADDR.
cmd_save() { pci_cmd "$1" >"$WORK/cmd.$1"; }

# quiesced ADDR: the device is quiet now that QEMU let go of it.
# pcipass: memory space and bus master off. vfio-pci restores the command
# register it saved at open, then clears bus master: so with vfio, bus
# master off, or the register as before QEMU (cmd_save) when QEMU never
# got as far as opening the device.
quiesced() {
	cmd=$(pci_cmd "$1")
	if [ "$BACKEND" = vfio ]; then
		[ $((0x$cmd & 4)) -eq 0 ] && return 0
		[ "$cmd" = "$(cat "$WORK/cmd.$1" 2>/dev/null)" ] && return 0
		diag "$1: PCI_COMMAND=0x$cmd (bus master on), before QEMU 0x$(cat "$WORK/cmd.$1" 2>/dev/null)"
		return 1
	fi
	[ $((0x$cmd & 6)) -eq 0 ] && return 0
	diag "$1: PCI_COMMAND=0x$cmd: memory $((0x$cmd >> 1 & 1)), bus master $((0x$cmd >> 2 & 1))"
	return 1
}

# Outstanding FOLL_PIN pins of the whole VM (exact after stat_refresh).
pins() {
	echo 1 >/proc/sys/vm/stat_refresh
	awk '$1 == "nr_foll_pin_acquired" { a = $2 } $1 == "nr_foll_pin_released" { r = $2 }
		END { print a - r }' /proc/vmstat
}

# pins_back BASELINE: pins come back to BASELINE within 10 s.
pins_back() {
	i=0
	while [ "$(pins)" -ne "$1" ]; do
		i=$((i + 1))
		[ $i -le 20 ] || { diag "pins: $(pins), expected $1"; return 1; }
		usleep 500000
	done
}

# ---- the backend ------------------------------------------------------------
# backend_load direct|ns: make QEMU's VFIO nodes available.
#   direct: at /dev/vfio (vfio; pcipass with $VFIO_PARAM)
#   ns:     where `pcipass-tool run` takes them from ($NODES): pcipass's own
#           /dev/pcipass-vfio; for vfio a bind mount of /dev/vfio
# Sets NODES (the directory QEMU's nodes are in, seen from outside) and
# LAUNCH (the command QEMU is started under). False, with a diagnostic,
# when the backend does not provide the nodes.
backend_load() {
	case "$BACKEND" in
	vfio)
		modprobe vfio-pci && modprobe vfio_iommu_type1 || return 1
		NODES=/dev/vfio
		LAUNCH=""
		if [ "$1" = ns ]; then
			mkdir -p /run/vfio-nodes
			grep -q ' /run/vfio-nodes ' /proc/mounts ||
				mount --bind /dev/vfio /run/vfio-nodes
			NODES=/run/vfio-nodes
			LAUNCH="pcipass-tool run --nodes $NODES --"
		fi
		;;
	pcipass)
		rmmod pcipass 2>/dev/null
		if [ "$1" = direct ]; then
			modprobe pcipass "$VFIO_PARAM" || {
				diag "modprobe pcipass $VFIO_PARAM failed: no VFIO compatibility layer in this pcipass?"
				modprobe pcipass
			}
			NODES=/dev/vfio
			LAUNCH=""
		else
			modprobe pcipass
			NODES=$PCIPASS_NODES
			LAUNCH="pcipass-tool run --"
		fi
		;;
	esac
	[ -c "$NODES/vfio" ] && return 0
	diag "no VFIO container node $NODES/vfio: the $BACKEND backend does not serve VFIO here"
	[ "$BACKEND" != pcipass ] ||
		diag "(expected until pcipass has its VFIO compatibility layer: /dev/pcipass-vfio/vfio, /dev/pcipass-vfio/GROUP, parameter $VFIO_PARAM)"
	return 1
}

# backend_unload: both backends' modules out (pcipass with vfio_nodes=compat
# does not load beside vfio, nor vfio beside it); their devices are left
# without a driver.
backend_unload() {
	rmmod pcipass 2>/dev/null
	for m in vfio_pci vfio_iommu_type1 vfio_pci_core vfio; do
		! grep -q "^$m " /proc/modules || rmmod "$m" || return 1
	done
}

# group_free ADDR: nobody holds ADDR's VFIO group (a group node opens once).
group_free() {
	g=$NODES/$(group_of "$1")
	[ -c "$g" ] || { diag "no group node $g"; return 1; }
	# shellcheck disable=SC3023 # busybox sh has <>
	if (exec 3<>"$g") 2>/dev/null; then return 0; fi
	diag "$g does not open: still held"
	return 1
}

group_busy() { ! (exec 3<>"$NODES/$(group_of "$1")") 2>/dev/null; }

# released ADDR: what a device must be once QEMU let go of it.
released() {
	r=0
	quiesced "$1" || r=1
	[ "$(driver_of "$1")" = "$DRV" ] || { diag "$1: driver $(driver_of "$1"), expected $DRV"; r=1; }
	group_free "$1" || r=1
	return $r
}

# ---- L1's view of the disk --------------------------------------------------
# l1_nvme: NVMe back to L1's own driver; prints its block device.
l1_nvme() {
	modprobe nvme
	rebind "$NVME" nvme || return 1
	i=0
	while :; do
		for b in /sys/bus/pci/devices/"$NVME"/nvme/nvme*/nvme*n1; do
			[ -e "$b" ] && [ -e "/dev/${b##*/}" ] && { echo "/dev/${b##*/}"; return 0; }
		done
		i=$((i + 1))
		[ $i -le 300 ] || { diag "no namespace from L1's nvme driver"; return 1; }
		usleep 100000
	done
}

hexof() { od -An -v -tx1 | tr -d ' \n'; }

# prepare_disk: L1 writes random bytes to sectors 8-9 ($WORK/lba8.bin) and
# zeros to sector 16 (the guest's write target), through its nvme driver,
# then gives the device to the backend.
prepare_disk() {
	b=$(l1_nvme) || return 1
	dd if=/dev/urandom of="$WORK/lba8.bin" bs=512 count=2 2>/dev/null
	if ! dd if="$WORK/lba8.bin" of="$b" bs=512 seek=8 count=2 oflag=direct \
		conv=fsync 2>/dev/null ||
		! dd if=/dev/zero of="$b" bs=512 seek=16 count=1 oflag=direct \
			conv=fsync 2>/dev/null; then
		diag "L1 could not write $b"
		return 1
	fi
	rebind "$NVME" "$DRV"
}

# l1_sector LBA: hex of a sector read by L1's nvme driver (device back to
# the backend afterwards).
l1_sector() {
	b=$(l1_nvme) || return 1
	dd if="$b" bs=512 skip="$1" count=1 iflag=direct 2>/dev/null | hexof
	rebind "$NVME" "$DRV" >/dev/null
}

# pattern TOKEN: hex of 64 copies of the 8-character TOKEN.
pattern() {
	i=0
	while [ $i -lt 64 ]; do printf '%s' "$1"; i=$((i + 1)); done | hexof
}

token() { head -c 6 /dev/urandom | base64 | tr '+/' 'xy' | cut -c1-8; }

# ---- QEMU and L2 -------------------------------------------------------------
# cs_of S.SS: the seconds S.SS (two decimals, as /proc/uptime has them)
# in centiseconds, in CS.
cs_of() { CS=$((${1%.*} * 100 + 1${1#*.} - 100)); }

# uptime_cs: L1's uptime in centiseconds, in UPTIME_CS (a shell builtin
# reads it: no process is started, for the times the benchmark takes).
uptime_cs() {
	read -r u _ </proc/uptime
	cs_of "$u"
	UPTIME_CS=$CS
}

# l2_start NAME L2-CMDLINE QEMU-ARGS...: start QEMU with L2 ($L2_MEM of
# RAM) in the background under $LAUNCH; outputs in $WORK/NAME/
# (console.log: L2's kernel, results.log: l2-init's records, qemu.log,
# qmp.sock). Sets QPID (QEMU's own pid: $LAUNCH executes it), DIR, and
# T_START_CS, L1's uptime in centiseconds just before QEMU started.
l2_start() {
	DIR=$WORK/$1
	l2_cmdline=$2
	shift 2
	rm -rf "$DIR"
	mkdir -p "$DIR"
	: >"$DIR/results.log"
	# L2's second serial port: its records come out of l2.out, L1's
	# commands go into l2.in (l2_send).
	mkfifo "$DIR/l2.in" "$DIR/l2.out"
	cat "$DIR/l2.out" >"$DIR/results.log" &
	RPID=$!
	echo "nested: $DIR: qemu start" >/dev/kmsg
	uptime_cs
	T_START_CS=$UPTIME_CS
	# shellcheck disable=SC2086 # LAUNCH is a command with arguments
	$LAUNCH qemu-system-x86_64 -nodefaults -no-user-config -display none \
		-vga none -accel tcg -machine q35 -cpu max -smp 1 -m "$L2_MEM" \
		-kernel "$L2_KERNEL" -initrd "$L2_INITRD" \
		-append "console=ttyS0 panic=-1 $l2_cmdline" \
		-serial "file:$DIR/console.log" -serial "pipe:$DIR/l2" \
		-qmp "unix:$DIR/qmp.sock,server=on,wait=off" \
		"$@" </dev/null >"$DIR/qemu.log" 2>&1 &
	QPID=$!
}

# l2_booted [SECONDS]: wait until L2's /init ran (its first record, "boot
# uptime=S"), looking ten times a second without starting a process (the
# wait is timed); sets L2_BOOT_CS, the centiseconds from QEMU's start to
# then. False when QEMU exits first or after SECONDS ($L2_TIMEOUT).
l2_booted() {
	mkfifo "$DIR/tick"
	deadline=$((T_START_CS + ${1:-$L2_TIMEOUT} * 100))
	while [ ! -s "$DIR/results.log" ]; do
		kill -0 "$QPID" 2>/dev/null || { diag "QEMU exited before L2's /init"; return 1; }
		uptime_cs
		if [ "$UPTIME_CS" -ge "$deadline" ]; then
			diag "L2's /init did not run within ${1:-$L2_TIMEOUT}s"
			qemu_stuck
			return 1
		fi
		# A read with a timeout on a FIFO nobody writes: a sleep of
		# 0.1 s inside the shell.
		# shellcheck disable=SC3045,SC3023 # busybox sh has read -t, <>
		read -r -t 0.1 _ <>"$DIR/tick"
	done
	uptime_cs
	# shellcheck disable=SC2034 # used by guest-bench-nested.sh
	L2_BOOT_CS=$((UPTIME_CS - T_START_CS))
}

# l2_send LINE: a command to L2 (l2-init reads it when it waits for one).
l2_send() { echo "$1" >"$DIR/l2.in"; }

# l2_reaped: QEMU has exited; the records reader gets its end of file (an
# open of l2.out for reading and writing frees a reader still waiting for
# a writer: a QEMU that never started).
l2_reaped() {
	# shellcheck disable=SC3023 # busybox sh has <>
	(exec 7<>"$DIR/l2.out")
	wait "$RPID"
}

# l2_wait [SECONDS]: wait for QEMU to exit (killed after SECONDS, default
# $L2_TIMEOUT); sets QEXIT (124: it had to be killed) and prints the time.
l2_wait() {
	deadline=$(($(cut -d. -f1 /proc/uptime) + ${1:-$L2_TIMEOUT}))
	while kill -0 "$QPID" 2>/dev/null; do
		if [ "$(cut -d. -f1 /proc/uptime)" -ge "$deadline" ]; then
			diag "QEMU still running after ${1:-$L2_TIMEOUT}s"
			qemu_stuck
			kill -KILL "$QPID"
			wait "$QPID"
			QEXIT=124
			l2_reaped
			diag "QEMU killed"
			return
		fi
		sleep 1
	done
	wait "$QPID"
	QEXIT=$?
	l2_reaped
	diag "QEMU exited with $QEXIT after $(awk -v a="$T_START_CS" '{ printf "%.0f", $1 - a / 100 }' /proc/uptime)s"
	[ "$QEXIT" -eq 0 ] || sed 's/^/#   qemu: /' "$DIR/qemu.log"
}

# qemu_stuck: what a QEMU that does not get on is doing: the kernel stack
# and state of each of its threads (is one waiting in the backend?), L2's
# records and its whole console, L1's last kernel messages.
qemu_stuck() {
	for t in /proc/"$QPID"/task/*; do
		[ -r "$t/stat" ] || continue
		diag "QEMU thread ${t##*/} ($(cat "$t/comm" 2>/dev/null)): state $(cut -d' ' -f3 "$t/stat"), wchan $(cat "$t/wchan" 2>/dev/null)"
		sed 's/^/#     /' "$t/stack" 2>/dev/null | head -n 12
	done
	l2_dump
	diag "L2 console:"
	tr -d '\r' <"$DIR/console.log" | tail -n 150 | sed 's/^/#   /'
	diag "L1 kernel log tail:"
	dmesg | tail -n 30 | sed 's/^/#   /'
}

# l2_until RECORD [SECONDS]: wait until L2 reported a line starting with
# RECORD (false when QEMU exits first or after SECONDS).
l2_until() {
	deadline=$(($(cut -d. -f1 /proc/uptime) + ${2:-$L2_TIMEOUT}))
	while ! l2 "$1" | grep -q .; do
		kill -0 "$QPID" 2>/dev/null || { diag "QEMU exited before L2 said '$1'"; return 1; }
		if [ "$(cut -d. -f1 /proc/uptime)" -ge "$deadline" ]; then
			diag "no '$1' from L2 after ${2:-$L2_TIMEOUT}s"
			qemu_stuck
			return 1
		fi
		sleep 1
	done
	diag "L2 said '$1' $(awk -v a="$T_START_CS" '{ printf "%.0f", $1 - a / 100 }' /proc/uptime)s after QEMU started" \
		"(L2's uptime at /init: $(l2 'boot uptime=' | sed 's/.*=//' | tr '\n' ' ')s)"
}

# l2 RECORD: L2's records starting with RECORD, without the prefix.
l2() { tr -d '\r' 2>/dev/null <"$DIR/results.log" | sed -n "s/^pcipass-l2: \\($1\\)/\\1/p"; }

# l2_has RECORD: L2 reported it.
l2_has() {
	l2 "$1" | grep -q . && return 0
	diag "L2 did not report '$1'"
	return 1
}

l2_dump() {
	diag "L2 records:"
	tr -d '\r' 2>/dev/null <"$DIR/results.log" | cut -c1-160 | sed 's/^/#   /'
}

# l2_pci ADDR VEN:DEV DRIVER: L2 saw that device at ADDR with that driver.
l2_pci() {
	l2 "pci $1 $2 [0-9a-f]* $3\$" | grep -q . && return 0
	diag "L2 has no '$1 $2 ... $3': $(l2 "pci $1" | tr '\n' ' ')"
	return 1
}

# l2_read_matches LBA FILE-OFFSET: L2's "read LBA" equals L1's sector.
l2_read_matches() { # LBA INDEX-IN-lba8.bin [BOOT]
	want=$(dd if="$WORK/lba8.bin" bs=512 skip="$2" count=1 2>/dev/null | hexof)
	got=$(l2 "read $1 " | sed -n "${3:-1}p" | cut -d' ' -f3)
	[ -n "$got" ] && [ "$got" = "$want" ] && return 0
	diag "sector $1: L2 read ${got:-nothing}" | cut -c1-120
	diag "sector $1: L1 wrote $want" | cut -c1-120
	return 1
}

# l2_irqs_count CHIP-PREFIX NAME-REGEX: an interrupt of L2 on that chip
# with that name has a non-zero count.
l2_irqs_count() {
	l2 "irq " | awk -v chip="$1" -v name="$2" '
		index($3, chip) == 1 && $2 ~ name && $4 > 0 { n++ } END { exit n ? 0 : 1 }' &&
		return 0
	diag "no counting '$2' interrupt on $1*: $(l2 'irq ' | tr '\n' ';')"
	return 1
}

# ---- L1's kernel log ---------------------------------------------------------
BAD='WARNING:|BUG:|Oops|Call Trace|general protection|Kernel panic|INFO: task .* blocked'
log_mark() { echo "nested: mark $1" >/dev/kmsg; }
# log_clean MARK: no warning in L1's kernel log since log_mark MARK.
log_clean() {
	lines=$(dmesg | sed -n "/nested: mark $1\$/,\$p" | grep -E "$BAD")
	[ -z "$lines" ] && return 0
	diag "L1 kernel log:"
	echo "$lines" | head -n 20 | sed 's/^/#   /'
	return 1
}

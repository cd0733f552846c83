#!/bin/bash
# tests/vm/mkinitramfs.sh OUT.cpio.gz - build the test VM's initramfs.
#
# Contents: static busybox and its applet links; /init (tests/vm/init) and
# /vm/guest-{run,demo,bench}.sh (nested: guest-{demo,bench}-nested.sh
# too); /lib/modules/$KVER with the distro modules the tests need
# (uncompressed, with their modules.dep closure) plus the project's module
# as extra/pcipass.ko, indexed by depmod so that `modprobe pcipass ids=...`
# works; every executable of the selftests output directory in /tests/;
# pcipass-tool in /usr/bin/ when it exists. Dynamic executables get their
# shared libraries (from ldd).
#
# Environment:
#   PCIPASS_KO             module to include (default drivers/pcipass/pcipass.ko;
#                          "none" to leave it out)
#   PCIPASS_KUNIT_KO       the KUnit test module to include as
#                          extra/pcipass_kunit.ko, with kunit.ko (debug lane;
#                          default none: guest-run.sh then runs no KUnit)
#   PCIPASS_KUNIT_VMS      the VM configurations that run KUnit (default:
#                          every one)
#   PCIPASS_KUNIT_FILTER   only the KUnit suites/cases matching this glob
#                          (kunit's filter_glob: "SUITE" or "SUITE.CASE")
#   PCIPASS_TEST_ARGS      arguments given to every test executable (e.g.
#                          "-r FIXTURE.TEST" to run one kselftest test)
#   PCIPASS_SELFTESTS_OUT  directory of test executables (tests/selftests/out)
#   PCIPASS_VM_TESTS       which of them each VM configuration runs, as
#                          "CONFIG:TEST,TEST... CONFIG:..." (default: every
#                          VM runs every test; a VM not named runs all)
#   PCIPASS_TOOL           pcipass-tool (default tools/pcipass/pcipass-tool)
#   PCIPASS_VM_MODULES     more distro modules to include (space-separated)
#   PCIPASS_ALLOW_NO_TESTS=1  go on when there is no test executable (else
#                          an error: a run without tests must not pass)
#   PCIPASS_NESTED=1       the nested VM's initramfs (run-vm.sh nested):
#                          also Debian's QEMU (qemu-system-x86_64, its shared
#                          libraries, its TCG module, SeaBIOS and the option
#                          ROMs a -kernel boot needs), the nested guest's
#                          kernel (l2-kernel.sh) and initramfs (l2-init and
#                          busybox) in /nested/, the nested tests' helpers;
#                          the test executables are then those of
#                          PCIPASS_NESTED_TESTS_OUT (tests/nested/out)
#   PCIPASS_L2_KERNEL      the nested guest's vmlinux (default: l2-kernel.sh)
#   PCIPASS_KERNEL/PCIPASS_MODDIR/PCIPASS_KVER: see kernel.sh
# Decompressed distro modules are cached in $CACHE/ko/, the busybox tree in
# $CACHE/busybox-*/.
set -eu
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/vm/kernel.sh
. "$VMDIR/kernel.sh"

[ $# -eq 1 ] || die "usage: $0 OUT.cpio.gz"
OUT=$1
KO=${PCIPASS_KO:-$TOP/drivers/pcipass/pcipass.ko}
NESTED=${PCIPASS_NESTED:-0}
if [ "$NESTED" = 1 ]; then
	SELFTESTS_OUT=${PCIPASS_NESTED_TESTS_OUT:-$TOP/tests/nested/out}
else
	SELFTESTS_OUT=${PCIPASS_SELFTESTS_OUT:-$TOP/tests/selftests/out}
fi
TOOL=${PCIPASS_TOOL:-$TOP/tools/pcipass/pcipass-tool}
BUSYBOX=/bin/busybox
# 8250_pci is built into Debian's kernel; it is listed in case a kernel
# builds it as a module.
MODULES="nvme vfio-pci vfio_iommu_type1 pci-stub virtio-iommu 8250_pci ahci aer_inject ${PCIPASS_VM_MODULES:-}"
# ahci: a driver that does DMA, on the ICH9 SATA function, makes a group
# not viable (the group tests; nested_badinput). The debug kernel has no
# ATA at all: there it is left out without a warning.
OPTIONAL_MODULES=" ahci aer_inject "
KUNIT_KO=${PCIPASS_KUNIT_KO:-none}
[ "$KUNIT_KO" = none ] || MODULES="$MODULES kunit"

stage "initramfs: $OUT (kernel $KVER)"
[ -x "$BUSYBOX" ] || die "$BUSYBOX missing (apt-get install busybox-static)"
if ldd "$BUSYBOX" >/dev/null 2>&1; then
	die "$BUSYBOX is dynamically linked: install busybox-static"
fi

mkdir -p "$(dirname "$OUT")"
ROOT=$(mktemp -d "$OUT.root.XXXXXX")
trap 'rm -rf "$ROOT" "$OUT.tmp.$$"' EXIT
MODROOT=$ROOT/lib/modules/$KVER

# --- base system -------------------------------------------------------------
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,mnt} \
	"$ROOT"/{var/log,vm,tests} "$MODROOT/extra"
chmod 1777 "$ROOT/tmp"
# busybox and its ~270 applet links, made once per busybox binary.
bbtree=$CACHE/busybox-$(stat -L -c '%s-%Y' "$BUSYBOX")
if [ ! -x "$bbtree/bin/busybox" ]; then
	mkdir -p "$CACHE"
	tmp=$(mktemp -d "$bbtree.tmp.XXXXXX")
	mkdir -p "$tmp"/{bin,sbin,usr/bin,usr/sbin}
	cp "$BUSYBOX" "$tmp/bin/busybox"
	while IFS= read -r applet; do
		[ "$applet" = bin/busybox ] || [ -e "$tmp/$applet" ] ||
			ln -s /bin/busybox "$tmp/$applet"
	done < <("$BUSYBOX" --list-full)
	mv -T "$tmp" "$bbtree" 2>/dev/null || rm -rf "$tmp"
fi
cp -a "$bbtree/." "$ROOT/"
# The kernel's built-in initramfs already has /dev/console; this only helps
# a kernel without one, and needs root.
mknod -m 600 "$ROOT/dev/console" c 5 1 2>/dev/null || true
cat >"$ROOT/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOT/etc/group"
echo pcipass-vm >"$ROOT/etc/hostname"
ln -s /proc/mounts "$ROOT/etc/mtab"
install -m 755 "$VMDIR/init" "$ROOT/init"
# Read by guest-run.sh.
[ -z "${PCIPASS_TEST_ARGS:-}" ] || printf '%s\n' "$PCIPASS_TEST_ARGS" >"$ROOT/vm/test-args"
[ -z "${PCIPASS_KUNIT_FILTER:-}" ] || printf '%s\n' "$PCIPASS_KUNIT_FILTER" >"$ROOT/vm/kunit-filter"
[ -z "${PCIPASS_KUNIT_VMS:-}" ] || printf '%s\n' "$PCIPASS_KUNIT_VMS" >"$ROOT/vm/kunit-vms"
for sel in ${PCIPASS_VM_TESTS:-}; do
	case "$sel" in
	*:*) ;;
	*) die "PCIPASS_VM_TESTS: '$sel' is not CONFIG:TEST,..." ;;
	esac
	for t in $(echo "${sel#*:}" | tr ',' ' '); do
		[ -x "$SELFTESTS_OUT/$t" ] || die "PCIPASS_VM_TESTS: no test executable $t in $SELFTESTS_OUT"
	done
	echo "${sel#*:}" | tr ',' '\n' >"$ROOT/vm/tests-${sel%%:*}"
done
install -m 755 "$VMDIR/guest-run.sh" "$VMDIR/guest-demo.sh" "$ROOT/vm/"
install -m 755 "$VMDIR/guest-bench.sh" "$ROOT/vm/"
[ "$NESTED" != 1 ] || install -m 755 "$VMDIR/guest-demo-nested.sh" "$VMDIR/guest-bench-nested.sh" "$ROOT/vm/"

# Copy an executable to ROOT/DEST plus, when dynamic, the libraries it needs.
copy_exe() { # SRC DEST
	install -D -m 755 "$1" "$ROOT/$2"
	local lib
	# ldd fails ("not a dynamic executable") for static ones: nothing to copy.
	for lib in $(ldd "$1" 2>/dev/null | grep -o '/[^ ]*' || true); do
		[ -e "$ROOT/$lib" ] || install -D -m 755 "$lib" "$ROOT/$lib"
	done
}

# --- distro modules ----------------------------------------------------------
declare -A MODPATH MODDEPS BUILTIN
modname() { # path -> module name with '-' as '_'
	local n=${1##*/}
	n=${n%%.ko*}
	echo "${n//-/_}"
}
while IFS= read -r line; do
	path=${line%%:*}
	n=${path##*/}
	n=${n%%.ko*}
	n=${n//-/_}
	MODPATH[$n]=$path
	MODDEPS[$n]=${line#*:}
done <"$PCIPASS_MODDIR/modules.dep"
if [ -r "$PCIPASS_MODDIR/modules.builtin" ]; then
	while IFS= read -r path; do
		n=${path##*/}
		n=${n%%.ko*}
		BUILTIN[${n//-/_}]=1
	done <"$PCIPASS_MODDIR/modules.builtin"
fi

declare -A WANT
queue=()
for m in $MODULES; do
	m=${m//-/_}
	if [ -n "${MODPATH[$m]:-}" ]; then
		queue+=("$m")
	elif [ -z "${BUILTIN[$m]:-}" ] && [ "${OPTIONAL_MODULES/ $m /}" = "$OPTIONAL_MODULES" ]; then
		echo "initramfs: warning: module $m is neither in modules.dep nor built in" >&2
	fi
done
while [ ${#queue[@]} -gt 0 ]; do
	m=${queue[0]}
	queue=("${queue[@]:1}")
	[ -z "${WANT[$m]:-}" ] || continue
	WANT[$m]=1
	for d in ${MODDEPS[$m]}; do
		queue+=("$(modname "$d")")
	done
done

kocache=$CACHE/ko/$(printf '%s' "$PCIPASS_MODDIR" | md5sum | cut -c1-12)
for m in "${!WANT[@]}"; do
	src=$PCIPASS_MODDIR/${MODPATH[$m]}
	rel=${MODPATH[$m]%.xz}
	rel=${rel%.zst}
	rel=${rel%.gz}
	cached=$kocache/$rel
	if [ ! -s "$cached" ] || [ "$src" -nt "$cached" ]; then
		mkdir -p "$(dirname "$cached")"
		case "$src" in
		*.xz) xz -dc "$src" >"$cached.$$" ;;
		*.zst) zstd -qdc "$src" >"$cached.$$" ;;
		*.gz) gzip -dc "$src" >"$cached.$$" ;;
		*) cp "$src" "$cached.$$" ;;
		esac
		mv -f "$cached.$$" "$cached"
	fi
	install -D -m 644 "$cached" "$MODROOT/$rel"
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ ! -r "$PCIPASS_MODDIR/$f" ] || cp "$PCIPASS_MODDIR/$f" "$MODROOT/"
done

# --- the project's module ----------------------------------------------------
if [ "$KO" != none ]; then
	[ -r "$KO" ] || die "module $KO not found (build it first, or set PCIPASS_KO=none)"
	vermagic=$(modinfo -F vermagic "$KO" 2>/dev/null | cut -d' ' -f1)
	[ "$vermagic" = "$KVER" ] ||
		die "$KO is built for '$vermagic', the VM kernel is $KVER (KDIR=$PCIPASS_KDIR)"
	install -m 644 "$KO" "$MODROOT/extra/pcipass.ko"
fi
if [ "$KUNIT_KO" != none ]; then
	[ -r "$KUNIT_KO" ] || die "KUnit module $KUNIT_KO not found"
	vermagic=$(modinfo -F vermagic "$KUNIT_KO" 2>/dev/null | cut -d' ' -f1)
	[ "$vermagic" = "$KVER" ] ||
		die "$KUNIT_KO is built for '$vermagic', the VM kernel is $KVER"
	install -m 644 "$KUNIT_KO" "$MODROOT/extra/pcipass_kunit.ko"
fi
depmod -b "$ROOT" "$KVER"

# --- tests and tools ---------------------------------------------------------
ntests=0
if [ -d "$SELFTESTS_OUT" ]; then
	for t in "$SELFTESTS_OUT"/*; do
		if [ ! -f "$t" ] || [ ! -x "$t" ]; then continue; fi
		copy_exe "$t" "tests/${t##*/}"
		ntests=$((ntests + 1))
	done
fi
if [ "$ntests" -eq 0 ]; then
	# A run without tests would pass on the VM-level checks alone.
	[ "${PCIPASS_ALLOW_NO_TESTS:-0}" = 1 ] ||
		die "no test executables in $SELFTESTS_OUT (make selftests; PCIPASS_ALLOW_NO_TESTS=1 to go on)"
	echo "initramfs: note: no test executables in $SELFTESTS_OUT" >&2
fi
[ ! -x "$TOOL" ] || copy_exe "$TOOL" usr/bin/pcipass-tool
# The sample VMM of `make demo`.
[ ! -x "$TOP/samples/pcipass/edu_vmm" ] ||
	copy_exe "$TOP/samples/pcipass/edu_vmm" usr/bin/pcipass-edu-vmm
# The benchmark of `make bench` (tests/vm/guest-bench.sh).
[ ! -x "$TOP/tests/bench/pcipass_bench" ] ||
	copy_exe "$TOP/tests/bench/pcipass_bench" usr/bin/pcipass-bench

# --- the nested guest (PCIPASS_NESTED=1) -------------------------------------
if [ "$NESTED" = 1 ]; then
	QEMU_BIN=$(command -v qemu-system-x86_64) ||
		die "qemu-system-x86_64 missing (apt-get install qemu-system-x86)"
	copy_exe "$QEMU_BIN" usr/bin/qemu-system-x86_64
	# TCG is a loadable module in Debian's QEMU.
	f=/usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so
	[ -r "$f" ] || die "$f missing (QEMU's TCG module)"
	copy_exe "$f" "${f#/}"
	# SeaBIOS and the option ROMs of a -kernel boot (PVH and bzImage),
	# at the paths QEMU searches (/usr/share/qemu, then /usr/share/seabios).
	for f in /usr/share/seabios/bios-256k.bin /usr/share/qemu/pvh.bin \
		/usr/share/qemu/linuxboot_dma.bin /usr/share/qemu/multiboot_dma.bin \
		/usr/share/qemu/kvmvapic.bin; do
		[ -r "$f" ] || die "$f missing (QEMU's firmware)"
		install -D -m 644 "$(readlink -f "$f")" "$ROOT/${f#/}"
	done
	L2_KERNEL=${PCIPASS_L2_KERNEL:-$("$VMDIR/l2-kernel.sh")}
	install -D -m 644 "$L2_KERNEL" "$ROOT/nested/vmlinux"
	# L2's initramfs: busybox and l2-init, uncompressed (decompressing
	# costs more than reading under nested TCG).
	L2ROOT=$ROOT/nested/l2root
	mkdir -p "$L2ROOT"/{proc,sys,dev,tmp}
	cp -a "$bbtree/." "$L2ROOT/"
	install -m 755 "$VMDIR/l2-init" "$L2ROOT/init"
	# No INET in L2's kernel: links come up over rtnetlink.
	[ -x "$TOP/tests/nested/bin/l2-linkup" ] ||
		die "tests/nested/bin/l2-linkup missing (make -C tests/nested)"
	install -m 755 "$TOP/tests/nested/bin/l2-linkup" "$L2ROOT/bin/l2-linkup"
	(cd "$L2ROOT" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc --owner=0:0 --quiet) >"$ROOT/nested/l2-initramfs.cpio"
	rm -rf "$L2ROOT"
	install -m 644 "$TOP/tests/nested/lib.sh" "$ROOT/nested/lib.sh"
	for f in nested-qmp nested-memlock-exec; do
		[ -x "$TOP/tests/nested/bin/$f" ] ||
			die "tests/nested/bin/$f missing (make -C tests/nested)"
		copy_exe "$TOP/tests/nested/bin/$f" "usr/bin/$f"
	done
fi

# --- archive -----------------------------------------------------------------
# Owned by root in the guest whoever builds it; sorted for a stable archive.
(cd "$ROOT" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) |
	gzip -1 >"$OUT.tmp.$$"
mv -f "$OUT.tmp.$$" "$OUT"
stage "initramfs: done, ${#WANT[@]} distro modules, $ntests tests, $(du -k "$OUT" | cut -f1) KiB"

#!/bin/bash
# tests/vm/kernel.sh - the kernel the VMs boot and the module is built for.
#
# Run:     kernel.sh            prints KVER=, KERNEL=, MODDIR=, KDIR= lines
#          kernel.sh kver|kernel|moddir|kdir   prints that one value
# Sourced: sets and exports KVER PCIPASS_KERNEL PCIPASS_MODDIR PCIPASS_KDIR.
#
# KVER is the newest installed linux-headers-6.12.*-amd64 (e.g.
# 6.12.117+deb12-amd64). The image is /boot/vmlinuz-$KVER with the modules in
# /lib/modules/$KVER; when that image is not installed, the package
# linux-image-$KVER-unsigned is downloaded (apt-get download) and unpacked
# into $CACHE/kernel-$KVER/ once, and used from there.
#
# Overrides (a debug-kernel lane): PCIPASS_KERNEL (image), PCIPASS_MODDIR
# (.../lib/modules/<kver>; KVER is then its last component unless PCIPASS_KVER
# is set), PCIPASS_KDIR (kernel build dir for `make -C`).

# shellcheck source=tests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

pcipass_kver() {
	if [ -n "${PCIPASS_KVER:-}" ]; then
		echo "$PCIPASS_KVER"
	elif [ -n "${PCIPASS_MODDIR:-}" ]; then
		basename "$PCIPASS_MODDIR"
	else
		dpkg-query -W -f='${Package} ${Status}\n' 'linux-headers-6.12.*' \
			'linux-image-6.12.*' 2>/dev/null |
			awk '/ install ok installed$/ {print $1}' |
			sed -nE 's/^linux-(headers|image)-(6\.12\.[0-9][^-]*-amd64)(-unsigned)?$/\2/p' |
			sort -uV | tail -n1
	fi
}

# Unpack linux-image-$KVER-unsigned into $CACHE/kernel-$KVER (once, atomically).
pcipass_fetch_kernel() {
	local kver=$1 dest=$CACHE/kernel-$1 tmp deb
	[ -d "$dest" ] && return 0
	stage "kernel: /boot/vmlinuz-$kver not installed, fetching linux-image-$kver-unsigned"
	mkdir -p "$CACHE"
	tmp=$(mktemp -d "$CACHE/kernel-$kver.tmp.XXXXXX")
	(cd "$tmp" && apt-get download -q "linux-image-$kver-unsigned") ||
		{ rm -rf "$tmp"; die "apt-get download linux-image-$kver-unsigned failed"; }
	deb=$(ls "$tmp"/*.deb)
	mkdir "$tmp/root"
	dpkg-deb -x "$deb" "$tmp/root"
	rm -f "$deb"
	# usrmerge'd packages ship usr/lib/modules: give it the classic path too.
	if [ ! -d "$tmp/root/lib/modules/$kver" ] &&
		[ -d "$tmp/root/usr/lib/modules/$kver" ]; then
		mkdir -p "$tmp/root/lib/modules"
		mv "$tmp/root/usr/lib/modules/$kver" "$tmp/root/lib/modules/"
	fi
	[ -r "$tmp/root/boot/vmlinuz-$kver" ] || die "no boot/vmlinuz-$kver in $deb"
	# The package has no modules.dep (its postinst makes it).
	depmod -b "$tmp/root" "$kver"
	mv -T "$tmp/root" "$dest" 2>/dev/null || [ -d "$dest" ] ||
		die "cannot create $dest"
	rm -rf "$tmp"
}

pcipass_kernel_resolve() {
	KVER=$(pcipass_kver)
	[ -n "$KVER" ] || die "no linux-headers-6.12.*-amd64 installed (run tests/vm/deps.sh)"
	local bootdir=${PCIPASS_BOOTDIR:-/boot} sysmods=${PCIPASS_SYSMODDIR:-/lib/modules}
	if [ -z "${PCIPASS_KERNEL:-}" ] || [ -z "${PCIPASS_MODDIR:-}" ]; then
		if [ -r "$bootdir/vmlinuz-$KVER" ] && [ -d "$sysmods/$KVER/kernel" ]; then
			: "${PCIPASS_KERNEL:=$bootdir/vmlinuz-$KVER}"
			: "${PCIPASS_MODDIR:=$sysmods/$KVER}"
		else
			pcipass_fetch_kernel "$KVER"
			: "${PCIPASS_KERNEL:=$CACHE/kernel-$KVER/boot/vmlinuz-$KVER}"
			: "${PCIPASS_MODDIR:=$CACHE/kernel-$KVER/lib/modules/$KVER}"
		fi
	fi
	if [ -z "${PCIPASS_KDIR:-}" ]; then
		if [ -d "$sysmods/$KVER/build" ]; then
			PCIPASS_KDIR=$sysmods/$KVER/build
		else
			PCIPASS_KDIR=/usr/src/linux-headers-$KVER
		fi
	fi
	[ -r "$PCIPASS_KERNEL" ] || die "kernel image $PCIPASS_KERNEL not readable"
	[ -r "$PCIPASS_MODDIR/modules.dep" ] || die "no modules.dep in $PCIPASS_MODDIR"
	export KVER PCIPASS_KERNEL PCIPASS_MODDIR PCIPASS_KDIR
}

# pcipass_boot_image IMAGE: the image QEMU should boot. A bzImage makes the
# guest decompress itself, which costs 1.5-2 s under TCG; an ELF vmlinux
# with a PVH entry note (CONFIG_PVH) boots directly. So the vmlinux is
# extracted from the bzImage once into $CACHE/vmlinux/ and used when it has
# that note; otherwise (or with PCIPASS_PVH=0) IMAGE itself.
pcipass_boot_image() {
	local img=$1 key out tmp off
	if [ "${PCIPASS_PVH:-1}" = 0 ] || ! command -v readelf >/dev/null; then
		echo "$img"
		return
	fi
	key=$(stat -L -c '%n %s %Y' "$img" | md5sum | cut -c1-16)
	out=$CACHE/vmlinux/$key
	if [ ! -e "$out" ] && [ ! -e "$out.none" ]; then
		mkdir -p "$CACHE/vmlinux"
		tmp=$(mktemp "$out.tmp.XXXXXX")
		# zstd (Debian's), xz, gzip: try each magic's offsets in turn.
		local fmt magic
		for fmt in zstd:'\x28\xb5\x2f\xfd' xz:'\xfd7zXZ\x00' gzip:'\x1f\x8b\x08'; do
			magic=${fmt#*:}
			fmt=${fmt%%:*}
			while read -r off; do
				# Trailing bytes after the stream make the tool fail;
				# the output is still whole: judge that, not the status.
				tail -c +$((off + 1)) "$img" | "$fmt" -dcq >"$tmp" 2>/dev/null || true
				if readelf -n "$tmp" 2>/dev/null |
					grep -qE 'Xen.*(0x00000012|PHYS32_ENTRY)'; then
					mv -f "$tmp" "$out"
					break 2
				fi
			done < <(LC_ALL=C grep -obUaP "$magic" "$img" | cut -d: -f1)
		done
		# Remember a kernel without a PVH entry, not to search it again.
		[ -e "$out" ] || { rm -f "$tmp"; touch "$out.none"; }
	fi
	if [ -e "$out" ]; then echo "$out"; else echo "$img"; fi
}

if (return 0 2>/dev/null); then
	pcipass_kernel_resolve
else
	set -eu
	pcipass_kernel_resolve
	case "${1:-}" in
	"") printf 'KVER=%s\nKERNEL=%s\nMODDIR=%s\nKDIR=%s\n' \
		"$KVER" "$PCIPASS_KERNEL" "$PCIPASS_MODDIR" "$PCIPASS_KDIR" ;;
	kver) echo "$KVER" ;;
	kernel) echo "$PCIPASS_KERNEL" ;;
	moddir) echo "$PCIPASS_MODDIR" ;;
	kdir) echo "$PCIPASS_KDIR" ;;
	*) die "usage: $0 [kver|kernel|moddir|kdir]" ;;
	esac
fi

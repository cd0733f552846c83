#!/bin/bash
# tests/deb/root.sh - a fresh Debian 12 root for the package test, made
# once per machine and kernel and cached.
#
# Prints the path of the root: $CACHE/deb-root-$KVER/root. It is
# debootstrap's minbase of bookworm plus what a host that builds modules
# has: the kernel of the VMs (linux-image-$KVER) and its headers, and
# initramfs-tools. The packages that pcipass-dkms and pcipass-tool depend
# on (dkms, adduser and theirs) are only downloaded into its apt cache, so
# that the test installs them as apt would on a real host, without the
# network. tests/deb/check.sh never changes the cached root: it works in an
# overlay on top of it.
#
# The first run needs the Debian mirror (PCIPASS_DEB_MIRROR, default
# http://deb.debian.org/debian) and takes a few minutes; later runs print
# the path at once. Needs root, debootstrap. The root's initramfs-tools
# uses MODULES=list, so that the initramfs of each test is small and fast.
set -eu
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"

KVER=$("$VMDIR/kernel.sh" kver)
MIRROR=${PCIPASS_DEB_MIRROR:-http://deb.debian.org/debian}
# What pcipass-dkms and pcipass-tool need from the archive (debian/control).
DEPS="dkms adduser"
BASE=$CACHE/deb-root-$KVER
ROOT=$BASE/root

if [ -e "$BASE/done" ]; then
	echo "$ROOT"
	exit 0
fi
[ "$(id -u)" = 0 ] || die "making the Debian root needs root"
command -v debootstrap >/dev/null || die "debootstrap is not installed"

rm -rf "$BASE"
mkdir -p "$BASE"
stage "deb root: debootstrap bookworm (minbase) into $ROOT"
debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >"$BASE/debootstrap.log" 2>&1 ||
	die "debootstrap failed: see $BASE/debootstrap.log"

# in_root CMD...: run in the root, with its own /proc, in a private mount
# namespace (the mount goes away with the command).
# shellcheck disable=SC2016 # expanded by the inner sh
in_root() {
	unshare --mount --pid --fork --propagation private sh -c \
		'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$ROOT" "$@"
}

cat >"$ROOT/etc/apt/sources.list" <<EOT
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOT
# No daemons start in the root.
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 755 "$ROOT/usr/sbin/policy-rc.d"
stage "deb root: linux-image-$KVER (or its -unsigned build), its headers, initramfs-tools; downloading $DEPS"
# shellcheck disable=SC2086 # $DEPS: a list of packages
{
	in_root apt-get update -q &&
	DEBIAN_FRONTEND=noninteractive in_root apt-get dist-upgrade -y -q &&
	# A security update's signed image can lag behind its unsigned build
	# (6.12.118: only linux-image-6.12.118+deb12-amd64-unsigned at first).
	image=linux-image-$KVER &&
	if ! in_root apt-cache show "$image" 2>/dev/null | grep -q '^Filename:'; then
		image=$image-unsigned
	fi &&
	DEBIAN_FRONTEND=noninteractive in_root apt-get install -y -q \
		--no-install-recommends initramfs-tools "$image" \
		"linux-headers-$KVER" &&
	DEBIAN_FRONTEND=noninteractive in_root apt-get install -y -q \
		--no-install-recommends --download-only $DEPS &&
	# A small initramfs (the modules its hooks ask for, like pcipass's):
	# each test run builds it four times.
	sed -i 's/^MODULES=.*/MODULES=list/' "$ROOT/etc/initramfs-tools/initramfs.conf" &&
	in_root update-initramfs -u -k "$KVER"
} >"$BASE/apt.log" 2>&1 || die "apt-get in the root failed: see $BASE/apt.log"
touch "$BASE/done"
stage "deb root: done ($(du -sh "$ROOT" | cut -f1))"
echo "$ROOT"

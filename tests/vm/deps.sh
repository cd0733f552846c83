#!/bin/bash
# tests/vm/deps.sh [bench] - make sure the Debian packages that the build,
# the lint and the VM tests need are installed (with "bench", also what
# `make bench` needs: gnuplot-nox, for its plot).
#
# As root: one `apt-get update` (only when something is missing) and one
# `apt-get install`. Otherwise: list what is missing, print the command, exit 1.
# Takes well under a second when everything is present (dpkg-query only; the
# apt-cache look-up of the newest headers is cached per apt list state).
set -eu
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"

# Tools (package: what it gives): qemu-system-x86 (qemu-system-x86_64),
# busybox-static (/bin/busybox, static, for the initramfs), cpio, xz-utils,
# zstd, kmod (depmod, modinfo), sparse, gcc/make/libc6-dev (module and static
# selftests), perl (checkpatch.pl, kernel-doc), shellcheck (lint of these
# scripts), linux-source-6.12 (checkpatch, kernel-doc, kselftest_harness.h),
# flex/bison/bc/libelf-dev/libssl-dev (a debug kernel build),
# python3-docutils (tests/rstcheck.py, the lint of Documentation/).
PKGS="qemu-system-x86 busybox-static cpio xz-utils zstd kmod sparse gcc make
libc6-dev perl shellcheck linux-source-6.12 flex bison bc libelf-dev libssl-dev
python3-docutils"
# The deb lane of make check (PCIPASS_LANES, default with it): make deb
# (dpkg-dev, debhelper, dh-dkms, fakeroot), lintian, and debootstrap for
# the Debian 12 root of tests/deb/ (dkms itself goes into that root).
case " ${PCIPASS_LANES:-deb stock debug} " in
*" deb "*) PKGS="$PKGS dpkg-dev debhelper dh-dkms fakeroot lintian debootstrap" ;;
esac

case " $* " in
*" bench "*) PKGS="$PKGS gnuplot-nox" ;;
esac

# Only the plain amd64 flavour, not -cloud-amd64 / -rt-amd64 / -common.
HDR_RE='^linux-headers-6\.12\.[0-9][^-]*-amd64$'

# INSTALLED: newline-separated names of the installed packages among $@.
list_installed() {
	INSTALLED=$(dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null |
		awk '/ install ok installed$/ {print $1}' || true)
}

installed() {
	printf '%s\n' "$INSTALLED" | grep -qxF "$1"
}

# Newest linux-headers-6.12.*-amd64 that apt knows about (empty if none).
# apt-cache takes ~1 s here, so remember the answer per state of the lists.
newest_headers() {
	local stamp cachef
	stamp=$(stat -c '%n %Y %s' /var/lib/apt/lists/*Packages* 2>/dev/null |
		md5sum | cut -c1-16)
	cachef=$CACHE/apt-newest-headers
	if [ -r "$cachef" ] && [ "$(head -n1 "$cachef")" = "$stamp" ]; then
		sed -n 2p "$cachef"
		return
	fi
	local name
	name=$(apt-cache pkgnames linux-headers-6.12. 2>/dev/null |
		grep -E "$HDR_RE" | sort -V | tail -n1 || true)
	# Best effort: a cache that cannot be written only costs time.
	if mkdir -p "$CACHE" 2>/dev/null &&
		printf '%s\n%s\n' "$stamp" "$name" 2>/dev/null >"$cachef.$$"; then
		mv -f "$cachef.$$" "$cachef"
	fi
	echo "$name"
}

# Sets MISSING (space-separated) from the fixed list plus the headers.
compute_missing() {
	MISSING=""
	local p
	# shellcheck disable=SC2086 # word splitting of the package list is wanted
	list_installed $PKGS 'linux-headers-6.12.*'
	for p in $PKGS; do
		installed "$p" || MISSING="$MISSING $p"
	done
	HEADERS=$(newest_headers)
	if [ -z "$HEADERS" ]; then
		# apt knows none (lists never fetched?): any installed one will do
		# until an update is run for another reason.
		HEADERS=$(printf '%s\n' "$INSTALLED" | grep -E "$HDR_RE" |
			sort -V | tail -n1 || true)
		[ -n "$HEADERS" ] || MISSING="$MISSING linux-headers-6.12.*-amd64"
	elif ! installed "$HEADERS"; then
		MISSING="$MISSING $HEADERS"
	fi
	MISSING=${MISSING# }
}

compute_missing
[ -z "$MISSING" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages: $MISSING" >&2
	echo "deps: as root run:" >&2
	echo "  apt-get update && DEBIAN_FRONTEND=noninteractive" \
		"apt-get install -y --no-install-recommends $MISSING" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
stage "deps: apt-get update (missing: $MISSING)"
apt-get update -qq
compute_missing # the lists changed: the newest headers may have too
case " $MISSING " in
*'*'*) die "apt knows no linux-headers-6.12.*-amd64 package" ;;
esac
stage "deps: apt-get install $MISSING"
# shellcheck disable=SC2086 # word splitting of the package list is wanted
apt-get install -y -qq --no-install-recommends $MISSING
compute_missing
[ -z "$MISSING" ] || die "still missing after apt-get install: $MISSING"
stage "deps: done"

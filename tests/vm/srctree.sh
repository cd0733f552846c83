#!/bin/bash
# tests/vm/srctree.sh - print the path of an extracted linux-source-6.12 tree.
#
# The tree is $CACHE/src-<package version>/linux-source-6.12, extracted from
# /usr/src/linux-source-6.12.tar.xz on first use (into a temporary directory,
# then renamed, so a half-extracted tree is never used). It provides
# scripts/checkpatch.pl, scripts/kernel-doc and
# tools/testing/selftests/kselftest_harness.h.
set -eu
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"

PKG=linux-source-6.12
TARBALL=/usr/src/$PKG.tar.xz

version=$(dpkg-query -W -f='${Version}' "$PKG" 2>/dev/null || true)
if [ -z "$version" ] || [ ! -r "$TARBALL" ]; then
	die "$PKG is not installed (run tests/vm/deps.sh)"
fi

dir=$CACHE/src-$version/$PKG
if [ ! -d "$dir" ]; then
	stage "srctree: extracting $TARBALL (once per version, ~20 s)"
	mkdir -p "$CACHE/src-$version"
	tmp=$(mktemp -d "$CACHE/src-$version/.extract.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	tar -xf "$TARBALL" -C "$tmp"
	[ -d "$tmp/$PKG" ] || die "$TARBALL has no top directory $PKG"
	# mv -T fails instead of moving into an existing directory: if another
	# run won the race, use its tree.
	mv -T "$tmp/$PKG" "$dir" 2>/dev/null || [ -d "$dir" ] ||
		die "cannot create $dir"
fi
echo "$dir"

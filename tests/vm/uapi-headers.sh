#!/bin/bash
# tests/vm/uapi-headers.sh - print the include directory of linux-source-6.12's
# user-space headers (`make headers`: include/uapi made fit for user space),
# made once into $CACHE/uapi-<source version>/ (~15 s).
#
# For user-space code that needs a UAPI newer than Debian 12's
# linux-libc-dev (6.1): tests/bench/ uses linux/iommufd.h and the VFIO
# device cdev ioctls of linux/vfio.h from it.
set -eu
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"

src=$("$VMDIR/srctree.sh")
ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
out=$CACHE/uapi-$ver
if [ ! -e "$out/done" ]; then
	stage "uapi headers: make headers into $out (once per version)"
	rm -rf "$out"
	mkdir -p "$out"
	make -s -C "$src" O="$out" headers >"$out/build.log" 2>&1 ||
		die "make headers failed (log: $out/build.log)"
	touch "$out/done"
fi
echo "$out/usr/include"

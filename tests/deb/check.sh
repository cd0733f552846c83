#!/bin/bash
# tests/deb/check.sh - the Debian packages install, work and purge cleanly
# on a fresh Debian 12.
#
# Builds them (make deb), runs lintian on them (no errors allowed), checks
# make install and make uninstall in a staging directory, then in
# an overlay on top of the cached Debian 12 root of tests/deb/root.sh (the
# cached root itself never changes), chrooted, in private mount, pid and
# network namespaces (no network: everything comes from the root's cache):
#   0. apt-get installs what the packages depend on (dkms, adduser and
#      theirs), without the network, from the root's cache;
#   1. apt-get installs both packages;
#   2. the postinst ran dkms add/build/install: pcipass.ko is built for the
#      root's 6.12 headers and installed, depmod knows it; the pcipass
#      group, the udev rule, the modprobe.d example and the tool are there;
#   3. with ids= set, update-initramfs puts pcipass.ko into the initramfs,
#      loads it from conf/modules (the softdeps it adds for the host
#      drivers of matching devices need PCI devices: a chroot has none);
#   4. apt-get purge removes both.
# The dependencies are installed first, and the overlay's upper layer is
# compared before and after steps 1-4: every file that changed must be
# bookkeeping (dpkg's database, logs, caches, the regenerated initramfs and
# module indexes, the pcipass group, DKMS's signing key, /run, a tmpfs on
# a host): anything else is a leftover and fails.
#
# Prints "ok"/"not ok" lines and "N passed, N failed" last. Needs root,
# unshare, overlayfs, debootstrap (first run), dpkg-buildpackage, lintian.
set -u
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/../vm/lib.sh"

OUT=$TOP/build/deb-test
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
nok() { failed=$((failed + 1)); echo "not ok - $*"; }
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit
}

KVER=$("$VMDIR/kernel.sh" kver) || { nok "no 6.12 kernel"; finish; }
BASE=$("$TOP/tests/deb/root.sh") || { nok "the Debian 12 root (tests/deb/root.sh)"; finish; }

stage "deb: make deb"
if make -s -C "$TOP" deb >"$OUT.build.log" 2>&1; then
	ok "make deb builds pcipass-dkms and pcipass-tool"
else
	nok "make deb (log: $OUT.build.log)"
	tail -n 20 "$OUT.build.log"
	finish
fi
DEBS="$TOP/build/deb/pcipass-dkms_1.0_all.deb $TOP/build/deb/pcipass-tool_1.0_amd64.deb"

stage "deb: lintian"
# shellcheck disable=SC2086 # a list of files
if lintian --fail-on error $DEBS >"$OUT.lintian.log" 2>&1; then
	ok "lintian: no errors ($(grep -c '^[WI]:' "$OUT.lintian.log") warnings and notes)"
else
	nok "lintian (log: $OUT.lintian.log)"
	grep '^E:' "$OUT.lintian.log"
fi

# make install and make uninstall, into a staging root (no depmod there).
stage "deb: make install and make uninstall into a DESTDIR"
S=$OUT.stage
rm -rf "$S"
KDIR=$("$VMDIR/kernel.sh" kdir)
if make -s -C "$TOP" install DESTDIR="$S" PREFIX=/usr KDIR="$KDIR" >"$OUT.install.log" 2>&1; then
	ok "make install DESTDIR=... PREFIX=/usr"
else
	nok "make install (log: $OUT.install.log)"
fi
if [ "$(uname -r)" != "$KVER" ]; then
	if grep -q "warning: installing pcipass.ko for kernel $KVER, but the running kernel is $(uname -r)" \
		"$OUT.install.log"; then
		ok "make install warns: $KVER is not the running kernel"
	else
		nok "make install did not warn that $KVER is not the running kernel"
	fi
fi
ko=$(cd "$S" 2>/dev/null && ls "lib/modules/$KVER/extra/"pcipass.ko* 2>/dev/null)
for f in "${ko:-lib/modules/$KVER/extra/pcipass.ko}" usr/sbin/pcipass-tool \
	usr/share/man/man8/pcipass-tool.8 usr/share/bash-completion/completions/pcipass-tool; do
	if [ -s "$S/$f" ]; then ok "make install: /$f"; else nok "make install: no /$f"; fi
done
if [ -d "$S" ] &&
	make -s -C "$TOP" uninstall DESTDIR="$S" PREFIX=/usr KDIR="$KDIR" >>"$OUT.install.log" 2>&1 &&
	[ -z "$(find "$S" ! -type d)" ]; then
	ok "make uninstall removes every file make install installed"
else
	nok "make uninstall left: $(find "$S" ! -type d | head -n 5 | tr '\n' ' ')"
fi
rm -rf "$S"

rm -rf "$OUT"
mkdir -p "$OUT/upper" "$OUT/work" "$OUT/root"
mkdir -p "$OUT/upper/tmp"
# shellcheck disable=SC2086 # a list of files
cp $DEBS "$OUT/upper/tmp/"

# What runs in the root: one line "RESULT ok|nok TEXT" per check.
cat >"$OUT/upper/tmp/in-root.sh" <<'EOT'
#!/bin/sh
set -u
KVER=$1
cd / || exit 1
r() { echo "RESULT $*"; }
check() { d=$1; shift; if "$@" >/dev/null 2>&1; then r ok "$d"; else r nok "$d"; fi; }
export DEBIAN_FRONTEND=noninteractive
if [ "$2" = deps ]; then
	# What the packages depend on, as apt finds it for them, first: the
	# snapshot taken after this is what the purge must come back to.
	apt-get install -y --no-install-recommends --mark-auto \
		$(dpkg-deb -f /tmp/pcipass-dkms_1.0_all.deb Depends | sed 's/([^)]*)//g; s/,/ /g') ||
		r nok "apt-get install the dependencies"
	exit 0
fi
if apt-get install -y --no-install-recommends \
	/tmp/pcipass-dkms_1.0_all.deb /tmp/pcipass-tool_1.0_amd64.deb; then
	r ok "apt-get install pcipass-dkms pcipass-tool (dependencies from the archive)"
else
	r nok "apt-get install pcipass-dkms pcipass-tool"
fi
check "dkms status: pcipass/1.0 installed for $KVER" \
	sh -c "dkms status pcipass/1.0 -k $KVER | grep -q ': installed'"
check "pcipass.ko built and installed in /lib/modules/$KVER/updates/dkms" \
	sh -c "ls /lib/modules/$KVER/updates/dkms/pcipass.ko* | grep -q ."
check "depmod knows it: modprobe finds pcipass for $KVER" \
	sh -c "modprobe -n -S $KVER --show-depends pcipass | grep -q updates/dkms/pcipass.ko"
check "modinfo: pcipass's ids= parameter" \
	sh -c "modinfo -k $KVER -F parm pcipass | grep -q '^ids:'"
check "the pcipass group exists" getent group pcipass
check "udev rule: /dev/pcipass to group pcipass, mode 0660" \
	grep -q 'KERNEL=="pcipass", SUBSYSTEM=="misc", GROUP="pcipass", MODE="0660"' \
	/lib/udev/rules.d/70-pcipass.rules
check "modprobe.d example for ids= (all commented out)" \
	sh -c "grep -q '^#options pcipass ids=' /etc/modprobe.d/pcipass.conf &&
	       ! grep -q '^[^#]' /etc/modprobe.d/pcipass.conf"
check "pcipass-tool runs: --version" sh -c "pcipass-tool --version | grep -q '^pcipass-tool 1.0'"
check "pcipass-tool: man page and bash completion" \
	test -s /usr/share/man/man8/pcipass-tool.8.gz -a \
	-s /usr/share/bash-completion/completions/pcipass-tool

# The initramfs hook, with ids= set; the softdep comes from a device
# found in sysfs, so give one for which the host has a module.
echo "options pcipass ids=1b36:0010" >/etc/modprobe.d/pcipass-test.conf
if update-initramfs -u -k "$KVER" >/tmp/initramfs.log 2>&1; then
	r ok "update-initramfs -u with ids= set"
else
	r nok "update-initramfs -u with ids= set"
	tail -n 5 /tmp/initramfs.log
fi
lsinitramfs "/boot/initrd.img-$KVER" >/tmp/initrd.list 2>/dev/null
check "initramfs holds pcipass.ko" grep -q 'updates/dkms/pcipass.ko' /tmp/initrd.list
check "initramfs holds the ids= configuration" \
	grep -q 'etc/modprobe.d/pcipass-test.conf' /tmp/initrd.list
mkdir -p /tmp/initrd
(cd /tmp/initrd && unmkinitramfs "/boot/initrd.img-$KVER" . >/dev/null 2>&1)
m=$(find /tmp/initrd -path '*/conf/modules' | head -n1)
check "initramfs loads pcipass from conf/modules" grep -qx pcipass "${m:-/nonexistent}"
rm -rf /tmp/initrd /tmp/initrd.list /tmp/initramfs.log /etc/modprobe.d/pcipass-test.conf

if apt-get purge -y pcipass-dkms pcipass-tool; then
	r ok "apt-get purge pcipass-dkms pcipass-tool"
else
	r nok "apt-get purge"
fi
check "no pcipass package left" sh -c "! dpkg -l 'pcipass*' 2>/dev/null | grep -q '^[a-z][a-z] '"
check "no pcipass.ko left" sh -c "! find /lib/modules -name 'pcipass.ko*' | grep -q ."
check "no DKMS tree or sources left" \
	sh -c "! ls -d /var/lib/dkms/pcipass /usr/src/pcipass-* 2>/dev/null | grep -q ."
check "depmod forgot it" sh -c "! grep -q pcipass /lib/modules/$KVER/modules.dep"
# the initramfs without pcipass again, as before
update-initramfs -u -k "$KVER" >/dev/null 2>&1
check "initramfs without pcipass after the purge" \
	sh -c "! lsinitramfs /boot/initrd.img-$KVER | grep -q pcipass"
rm -f /tmp/*.deb /tmp/in-root.sh
EOT
chmod +x "$OUT/upper/tmp/in-root.sh"

# in_root PHASE: the in-root script in the overlay, chrooted, in its own
# mount, pid and network namespaces; the overlay is mounted again each time.
in_root() {
	# shellcheck disable=SC2016 # expanded by the inner sh
	unshare --mount --pid --net --fork --propagation private sh -c '
		mount -t overlay overlay -o "lowerdir=$1,upperdir=$2/upper,workdir=$2/work" "$2/root" &&
		mount -t proc proc "$2/root/proc" &&
		exec chroot "$2/root" /tmp/in-root.sh "$3" "$4"' sh "$BASE" "$OUT" "$KVER" "$1" \
		>>"$OUT.log" 2>&1
}

# Every file of the upper layer (what the runs changed), with its checksum.
snapshot() {
	(cd "$OUT/upper" && find . ! -type d ! -path './tmp/*' | sed 's|^\./||' | sort |
		while IFS= read -r f; do
			if [ -f "$f" ] && [ ! -L "$f" ]; then
				echo "$f $(md5sum <"$f" | cut -c1-32)"
			else
				echo "$f $(stat -c %F "$f") $(readlink "$f")"
			fi
		done)
}

: >"$OUT.log"
stage "deb: the dependencies (dkms, adduser...) into a Debian 12 root"
in_root deps
snapshot >"$OUT.before"
stage "deb: install, check and purge in the Debian 12 root"
in_root test
while read -r tag res text; do
	[ "$tag" = RESULT ] || continue
	if [ "$res" = ok ]; then ok "$text"; else nok "$text (log: $OUT.log)"; fi
done <"$OUT.log"

# What install and purge changed, but bookkeeping: a leftover.
snapshot >"$OUT.after"
left=$(diff "$OUT.before" "$OUT.after" | sed -n 's/^[<>] \([^ ]*\).*/\1/p' | sort -u |
	grep -vE '^(var/lib/dpkg/|var/log/|var/cache/(debconf|apt|ldconfig)/|var/lib/apt/|etc/(group|gshadow)-?$|etc/\.pwd\.lock$|etc/ld\.so\.cache$|boot/initrd\.img-|(usr/)?lib/modules/[^/]+/modules\.|var/lib/initramfs-tools/|var/lib/dkms/mok\.(key|pub)$|run/)' || true)
if [ -z "$left" ]; then
	ok "the purge left nothing behind but bookkeeping and the pcipass group"
else
	nok "left behind (or changed) after the purge:"
	printf '%s\n' "$left" | head -n 20 | sed 's/^/#   /'
fi
grep -q '^pcipass:' "$OUT/upper/etc/group" 2>/dev/null &&
	echo "# the pcipass group stays after the purge, as system groups do"
finish

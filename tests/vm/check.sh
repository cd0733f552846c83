#!/bin/bash
# tests/vm/check.sh [CONFIG...] - the VM part of `make check`.
#
# Run after the Makefile has built the module, pcipass-tool and the
# selftests: resolves the VM kernel (kernel.sh), builds the initramfs
# (build/vm/initramfs.cpio.gz; build/vm/initramfs-nested.cpio.gz for the
# nested VM), boots the VMs (default: nested, iommu, nointremap, noiommu)
# with outputs in build/vm/<config>/, parses them (parse-results.sh) and
# prints the failures, a timing summary and, as its last line,
#   N passed, N failed
# summed over the VMs. Exits non-zero when anything failed.
#
# Environment: PCIPASS_VM_JOBS (VMs at once: 1 or 2; default 2, measured
# faster on 2 cores), PCIPASS_BUILD_DIR (instead of build/vm),
# PCIPASS_VM_STARTED (a file created once the initramfs are built, when
# nothing reads the build products any more: tests/check.sh then runs its
# host stages beside the VMs),
# PCIPASS_VERBOSE=1 (list passing tests too), and those of mkinitramfs.sh,
# run-vm.sh and kernel.sh.
set -eu
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"

# The nested VM takes longest: it starts first, beside the others.
CONFIGS=${*:-nested iommu nointremap noiommu}
JOBS=${PCIPASS_VM_JOBS:-2}
BUILD=${PCIPASS_BUILD_DIR:-$TOP/build/vm}
export PCIPASS_INITRAMFS=$BUILD/initramfs.cpio.gz
export PCIPASS_NESTED_INITRAMFS=$BUILD/initramfs-nested.cpio.gz

TIMINGS=""
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
timing() { TIMINGS="$TIMINGS$(printf '  %-28s %6ss' "$1" "$2")"$'\n'; }

# Whatever happens, the last line is the verdict.
FINAL=""
on_exit() {
	rc=$?
	if [ -z "$FINAL" ]; then
		echo "vm: check.sh stopped before it had a verdict (exit $rc)"
		echo "0 passed, 1 failed"
		exit 1
	fi
}
trap on_exit EXIT

t=$(now)
stage "vm: resolving the kernel"
# shellcheck source=tests/vm/kernel.sh
. "$VMDIR/kernel.sh"
timing "kernel ($KVER)" "$(since "$t")"

t=$(now)
if [ -n "$(echo " $CONFIGS " | sed 's/ nested / /g' | tr -d ' ')" ]; then
	"$VMDIR/mkinitramfs.sh" "$PCIPASS_INITRAMFS"
	timing "initramfs" "$(since "$t")"
fi
if [[ " $CONFIGS " == *" nested "* ]]; then
	# The nested guest's kernel is built once per machine (~6 min).
	t=$(now)
	PCIPASS_NESTED=1 "$VMDIR/mkinitramfs.sh" "$PCIPASS_NESTED_INITRAMFS"
	timing "initramfs (nested)" "$(since "$t")"
fi
[ -z "${PCIPASS_VM_STARTED:-}" ] || : >"$PCIPASS_VM_STARTED"

t=$(now)
pids=""
running=0
# The VMs run in the background, where a ^C does not reach them.
trap 'kill -TERM $pids 2>/dev/null; exit 130' INT TERM
for c in $CONFIGS; do
	if [ "$running" -ge "$JOBS" ]; then
		wait -n || true
		running=$((running - 1))
	fi
	"$VMDIR/run-vm.sh" "$c" "$BUILD/$c" run &
	pids="$pids $!"
	running=$((running + 1))
done
for p in $pids; do wait "$p" || true; done
trap - INT TERM
timing "VMs ($JOBS at a time)" "$(since "$t")"

passed=0 failed=0 skipped=0
for c in $CONFIGS; do
	echo "---- vm $c ($BUILD/$c)"
	"$VMDIR/parse-results.sh" "$BUILD/$c" "$c" || true
	p=0 f=1 s=0
	if [ -r "$BUILD/$c/totals" ]; then
		p=$(sed -n 's/^passed=//p' "$BUILD/$c/totals")
		f=$(sed -n 's/^failed=//p' "$BUILD/$c/totals")
		s=$(sed -n 's/^skipped=//p' "$BUILD/$c/totals")
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	wall=$(sed -n 's/^wall_seconds=//p' "$BUILD/$c/vm-status" 2>/dev/null || true)
	boot=$(sed -n 's/.*pcipass-init: mode=.* uptime=\([0-9.]*\)s.*/\1/p' \
		"$BUILD/$c/console.log" 2>/dev/null | head -n1)
	timing "vm $c (guest boot ${boot:-?}s)" "${wall:-?}"
done

echo "---- timing"
printf '%s' "$TIMINGS"
echo "  total $(($(date +%s) - PCIPASS_T0))s since the first stage"
echo "vm: $passed passed, $failed failed, $skipped skipped (configs: $CONFIGS)"
FINAL=1
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

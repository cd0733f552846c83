#!/bin/bash
# tests/check.sh - everything `make check` does, in order:
#
#   1. deps    install what is missing (tests/vm/deps.sh; as root)
#   2. build   pcipass.ko for the VM kernel, pcipass-tool, the selftests
#   3. host    make lint (checkpatch, kernel-doc, sparse, W=1) and the
#              pcipass-tool test on a fabricated sysfs; one test each
#   4. stock   the selftests in the VMs on Debian's kernel
#              (tests/vm/check.sh: iommu, nointremap, noiommu)
#
# Prints a line per stage with its time, the failures, and as its last
# line "N passed, N failed"; exits non-zero on any failure.
#
# Environment: PCIPASS_CONFIGS (VM configurations, default
# "iommu nointremap noiommu"), and those of tests/vm/*.sh.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
VMDIR=$TOP/tests/vm
LOG=$TOP/build/check
mkdir -p "$LOG"

PASSED=0
FAILED=0
TIMINGS=""
T0=$(date +%s)
export PCIPASS_T0=$T0

stage() { echo "== [$(($(date +%s) - T0))s] $*"; }
timing() { TIMINGS="$TIMINGS$(printf '  %-34s %5ss' "$1" "$2")"$'\n'; }

verdict() {
	echo "---- stage timings"
	printf '%s' "$TIMINGS"
	echo "  total $(($(date +%s) - T0))s"
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
	exit $?
}

# host_test NAME LOGFILE COMMAND...: one pass or fail, log shown on failure.
host_test() {
	local name=$1 log=$2 t
	shift 2
	t=$(date +%s)
	if "$@" >"$log" 2>&1; then
		PASSED=$((PASSED + 1))
		echo "ok   host: $name"
	else
		FAILED=$((FAILED + 1))
		echo "FAIL host: $name (log: $log)"
		tail -n 40 "$log" | sed 's/^/    | /'
	fi
	timing "$name" $(($(date +%s) - t))
}

t=$(date +%s)
stage "deps: checking packages"
if ! "$VMDIR/deps.sh"; then
	FAILED=$((FAILED + 1))
	echo "FAIL deps: missing packages (see above)"
	verdict
fi
timing "deps" $(($(date +%s) - t))

t=$(date +%s)
KDIR=$("$VMDIR/kernel.sh" kdir) || KDIR=""
stage "build: module (KDIR=$KDIR), tool, selftests"
if ! make -C "$TOP" -s KDIR="$KDIR" all selftests >"$LOG/build.log" 2>&1; then
	FAILED=$((FAILED + 1))
	echo "FAIL build (log: $LOG/build.log)"
	tail -n 40 "$LOG/build.log" | sed 's/^/    | /'
	timing "build" $(($(date +%s) - t))
	verdict
fi
timing "build" $(($(date +%s) - t))

stage "host: lint and the tool's sysfs test"
host_test "make lint" "$LOG/lint.log" make -C "$TOP" -s KDIR="$KDIR" lint
host_test "pcipass-tool on a fake sysfs" "$LOG/tool.log" \
	make -C "$TOP/tools/pcipass" -s test

t=$(date +%s)
stage "stock kernel: VMs"
# shellcheck disable=SC2086 # a list of configurations
"$VMDIR/check.sh" ${PCIPASS_CONFIGS:-iommu nointremap noiommu} |
	tee "$LOG/vm-stock.log"
last=$(tail -n 1 "$LOG/vm-stock.log")
if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
	PASSED=$((PASSED + BASH_REMATCH[1]))
	FAILED=$((FAILED + BASH_REMATCH[2]))
else
	FAILED=$((FAILED + 1))
	echo "FAIL stock kernel: the VM run gave no verdict"
fi
timing "stock kernel VMs" $(($(date +%s) - t))

verdict

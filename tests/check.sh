#!/bin/bash
# tests/check.sh - everything `make check` does:
#
#   1. deps    install what is missing (tests/vm/deps.sh; as root)
#   2. build   pcipass.ko for the VM kernel, pcipass-tool, the selftests;
#              for the debug lane also its kernel (tests/vm/debug-kernel.sh:
#              KUnit, KASAN, lockdep, kmemleak, fault injection; built once
#              per machine into the cache) and pcipass.ko and the KUnit
#              module tests/kunit/ built against it from a copy of the
#              sources in build/debug-src/ (W=1, no warnings)
#   3. the VM lanes, in the background, beside each other:
#      stock   the selftests in the VMs on Debian's kernel
#              (tests/vm/check.sh: iommu, nointremap, noiommu), and the
#              nested tests (tests/nested/: Debian's QEMU in the nested VM
#              runs a small guest on devices served by pcipass)
#      debug   the same VMs on the debug kernel (not nested), each test
#              executable in at least one of them (PCIPASS_DEBUG_VM_TESTS,
#              "CONFIG:TEST,... ...", empty: all in all), with the KUnit
#              suites and a kmemleak scan, outputs in build/vm-debug/
#              (Documentation/dev-tools/pcipass-testing.rst)
#   4. host, once the lanes have built their initramfs (nothing reads the
#      build products after that): make lint (checkpatch, kernel-doc,
#      sparse, W=1) and the pcipass-tool test on a fabricated sysfs, one
#      test each; then the deb lane (tests/deb/check.sh): make deb,
#      lintian without errors, install both into a Debian 12 root
#      (debootstrap'ed once per machine and cached; an overlay on it,
#      offline), check what DKMS built and installed, the group, udev
#      rule, modprobe.d example, initramfs hook, then purge and check
#      nothing is left; each check counts
#   5. the lanes' reports, as they finish
#
# Two cores run 2-3 VMs at once at full use (TCG); the lanes share them:
# the stock lane runs its VMs one after the other (nested first: it takes
# longest), the debug lane two at a time.
#
# Prints a line per stage with its time, the failures, and as its last
# line "N passed, N failed"; exits non-zero on any failure.
#
# Environment: PCIPASS_CONFIGS (VM configurations, default
# "nested iommu nointremap noiommu"), PCIPASS_LANES (default "deb stock
# debug"), PCIPASS_DEBUG_CONFIGS (the debug lane's VMs, default
# PCIPASS_CONFIGS without nested: nested TCG under KASAN is too slow),
# PCIPASS_STOCK_JOBS and PCIPASS_DEBUG_JOBS (VMs at once in each lane:
# default 1 and 2 when both run, else 2), PCIPASS_NESTED_BACKEND
# (pcipass, the default, or vfio: see tests/vm/README.md),
# and those of tests/vm/*.sh.
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

export PCIPASS_LANES=${PCIPASS_LANES:-deb stock debug}	# deps.sh reads it
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

CONFIGS=${PCIPASS_CONFIGS:-nested iommu nointremap noiommu}
LANES=${PCIPASS_LANES:-deb stock debug}
has_lane() { [[ " $LANES " == *" $1 "* ]]; }
STOCK_JOBS=2 DEBUG_JOBS=2
if has_lane stock && has_lane debug; then STOCK_JOBS=1; fi
STOCK_JOBS=${PCIPASS_STOCK_JOBS:-$STOCK_JOBS}
DEBUG_JOBS=${PCIPASS_DEBUG_JOBS:-$DEBUG_JOBS}
# The CPUs are the limit (two in CI, three VMs and the host stages): the
# debug lane yields to the stock lane, whose nested guest (TCG inside TCG)
# is the one whose timeouts a starved CPU breaks; it takes what is left,
# and the whole CPU once the stock lane is done.
DEBUG_NICE=${PCIPASS_DEBUG_NICE:-10}

# ---- the VM lanes, in the background ---------------------------------------
# lane_start NAME LOGFILE CONFIG...: tests/vm/check.sh with the environment
# as set, in the background; LANE_PID_<NAME> is its pid, its marker file
# (PCIPASS_VM_STARTED) $LOG/NAME.started.
LANE_NAMES=""
lane_start() {
	local name=$1 log=$2
	shift 2
	rm -f "$LOG/$name.started"
	PCIPASS_VM_STARTED=$LOG/$name.started nice -n "${LANE_NICE:-0}" \
		"$VMDIR/check.sh" "$@" >"$log" 2>&1 &
	printf -v "LANE_PID_$name" '%s' "$!"
	LANE_NAMES="$LANE_NAMES $name"
	stage "$name lane: VMs started in the background ($*; log: $log)"
}

# lanes_started: every lane started has built its initramfs (or ended).
lanes_started() {
	local name pid
	for name in $LANE_NAMES; do
		pid=LANE_PID_$name
		while [ ! -e "$LOG/$name.started" ] && kill -0 "${!pid}" 2>/dev/null; do
			sleep 1
		done
	done
}

# lane_end NAME LOGFILE TIMING-LABEL T0: wait for the lane, show its report,
# add its verdict to the totals.
lane_end() {
	local name=$1 log=$2 label=$3 t0=$4 pid last
	pid=LANE_PID_$name
	wait "${!pid}"
	stage "$name lane: done"
	cat "$log"
	last=$(tail -n 1 "$log")
	if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		PASSED=$((PASSED + BASH_REMATCH[1]))
		FAILED=$((FAILED + BASH_REMATCH[2]))
	else
		FAILED=$((FAILED + 1))
		echo "FAIL $name lane: the VM run gave no verdict"
	fi
	timing "$label" $(($(date +%s) - t0))
}

# The VMs run in the background, where a ^C does not reach them.
trap 'for n in $LANE_NAMES; do p=LANE_PID_$n; kill -TERM "${!p}" 2>/dev/null; done; exit 130' INT TERM

T_STOCK=$(date +%s)
if has_lane stock; then
	# shellcheck disable=SC2086 # a list of configurations
	PCIPASS_VM_JOBS=$STOCK_JOBS lane_start stock "$LOG/vm-stock.log" $CONFIGS
fi

# ---- the debug-kernel lane --------------------------------------------------
DSRC=$TOP/build/debug-src

# The debug kernel, built once per machine: the build prints nothing for
# many minutes, so say how far it got every minute.
debug_kernel() {
	local pid t0 log n
	t0=$(date +%s)
	# Yields to the stock lane as the debug VMs do (DEBUG_NICE).
	nice -n "$DEBUG_NICE" "$VMDIR/debug-kernel.sh" >"$LOG/debug-kernel.env" \
		2> >(tee "$LOG/debug-kernel.err" >&2) &
	pid=$!
	while ! wait_timeout "$pid" 60; do
		# The build log written since this run started.
		log=$(find "$CACHE" -maxdepth 2 -path '*/debug-*/build.log' \
			-newer "$LOG/debug-kernel.env" 2>/dev/null | head -n1)
		n=0
		[ -z "$log" ] || n=$(grep -cE '^ +(CC|AS)' "$log")
		stage "debug kernel: building, $n files compiled, $(($(date +%s) - t0))s so far"
	done
	wait "$pid"
}

# wait_timeout PID SECONDS: true once PID has exited, false on timeout.
wait_timeout() {
	local i
	for ((i = 0; i < $2; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 1
	done
	! kill -0 "$1" 2>/dev/null
}

# The module sources, copied to $DSRC so that the stock build products in
# drivers/pcipass/ stay as they are; unchanged files keep their times, so
# the build there is incremental.
debug_sources() {
	local f
	(cd "$TOP" && find Kbuild drivers/pcipass include tests/kunit \
		\( -name '*.[ch]' -o -name Kbuild \) ! -name '*.mod.c' -type f) |
		sort >"$LOG/debug-src.list"
	while IFS= read -r f; do
		mkdir -p "$DSRC/$(dirname "$f")"
		cmp -s "$TOP/$f" "$DSRC/$f" || cp -p "$TOP/$f" "$DSRC/$f"
	done <"$LOG/debug-src.list"
	# A source file gone from the tree goes from the copy too.
	(cd "$DSRC" && find . \( -name '*.[ch]' -o -name Kbuild \) \
		! -name '*.mod.c' -type f | sed 's|^\./||') |
		while IFS= read -r f; do
			grep -qxF "$f" "$LOG/debug-src.list" || rm -f "$DSRC/$f"
		done
}

# debug_lane_prepare: the kernel and the modules; false (counted) on failure.
debug_lane_prepare() {
	local t key val
	t=$(date +%s)
	CACHE=${PCIPASS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pcipass}
	stage "debug kernel: looking it up (the first run on a machine builds it: ~15-30 min)"
	if ! debug_kernel; then
		FAILED=$((FAILED + 1))
		echo "FAIL debug kernel: tests/vm/debug-kernel.sh failed (see above)"
		timing "debug kernel" $(($(date +%s) - t))
		return 1
	fi
	# Not exported: only the debug lane's VMs get them.
	while IFS='=' read -r key val; do
		case "$key" in
		KVER) D_KVER=$val ;;
		KERNEL) D_KERNEL=$val ;;
		MODDIR) D_MODDIR=$val ;;
		KDIR) D_KDIR=$val ;;
		esac
	done <"$LOG/debug-kernel.env"
	if grep -q 'building' "$LOG/debug-kernel.err"; then
		timing "debug kernel (built)" $(($(date +%s) - t))
	else
		timing "debug kernel (cached)" $(($(date +%s) - t))
	fi

	t=$(date +%s)
	stage "debug build: pcipass.ko and pcipass_kunit.ko for $D_KVER (W=1)"
	debug_sources
	if make -C "$D_KDIR" M="$DSRC" W=1 modules >"$LOG/debug-build.log" 2>&1 &&
		! grep -E 'warning:|error:' "$LOG/debug-build.log" >/dev/null; then
		PASSED=$((PASSED + 1))
		echo "ok   debug build: no warnings"
		timing "debug build" $(($(date +%s) - t))
		return 0
	fi
	FAILED=$((FAILED + 1))
	echo "FAIL debug build (log: $LOG/debug-build.log)"
	grep -E -A3 'warning:|error:' "$LOG/debug-build.log" | head -n 40 |
		sed 's/^/    | /'
	timing "debug build" $(($(date +%s) - t))
	return 1
}

T_DEBUG=$(date +%s)
DEBUG_READY=no
if has_lane debug && debug_lane_prepare; then
	DEBUG_READY=yes
	# shellcheck disable=SC2086 # a list of configurations
	DCONFIGS=${PCIPASS_DEBUG_CONFIGS:-$(printf '%s\n' $CONFIGS | grep -vx nested | paste -sd' ')}
	# KUnit tests pure logic: one VM is enough, the one with the least
	# else to do (nointremap), or the first.
	KUNIT_VMS=${PCIPASS_KUNIT_VMS:-}
	if [ -z "$KUNIT_VMS" ]; then
		KUNIT_VMS=${DCONFIGS%% *}
		[[ " $DCONFIGS " != *" nointremap "* ]] || KUNIT_VMS=nointremap
	fi
	# Each test executable runs at least once on the debug kernel, in the
	# VM where its paths are richest (the stock lane runs every one in
	# every VM): the fault injection sweep alone keeps the iommu VM busy
	# for minutes, so the others go to the two other VMs. A VM runs its
	# list in order: hotplug_test last, since the first hot-unplug gives
	# pciehp's own lockdep report (tests/vm/parse-results.sh, KNOWN),
	# which turns lockdep off.
	DTESTS=${PCIPASS_DEBUG_VM_TESTS-iommu:failnth_test,irq_test,release_test,reset_test,sriov_test,vfio_compat_test,uapi_test nointremap:access_test,dma_abuse_test,dma_file_test,dma_test,err_test,irq_test,module_test,region_stall_test,vfio_compat_test,hotplug_test noiommu:access_test,dma_test,irq_test,region_test,tool_test,vfio_compat_test}
	# la57=off: with 5-level paging an interrupt early in the debug
	# kernel's boot gives a KASAN wild-memory-access report (before any
	# pcipass code), and that report turns lockdep off for the run.
	# shellcheck disable=SC2086 # a list of configurations
	PCIPASS_KVER=$D_KVER PCIPASS_KERNEL=$D_KERNEL PCIPASS_MODDIR=$D_MODDIR \
		PCIPASS_KDIR=$D_KDIR \
		PCIPASS_KO=$DSRC/drivers/pcipass/pcipass.ko \
		PCIPASS_KUNIT_KO=$DSRC/tests/kunit/pcipass_kunit.ko \
		PCIPASS_KUNIT_VMS=$KUNIT_VMS \
		PCIPASS_EXPECT_KUNIT=1 \
		PCIPASS_QEMU_CPU=${PCIPASS_QEMU_CPU:-max,la57=off} \
		PCIPASS_VM_TESTS=$DTESTS \
		PCIPASS_BUILD_DIR=$TOP/build/vm-debug \
		PCIPASS_TEST_TIMEOUT=${PCIPASS_TEST_TIMEOUT:-1200} \
		PCIPASS_VM_TIMEOUT=${PCIPASS_VM_TIMEOUT:-1800} \
		PCIPASS_VM_JOBS=$DEBUG_JOBS LANE_NICE=$DEBUG_NICE \
		lane_start debug "$LOG/vm-debug.log" $DCONFIGS
fi

# ---- host stages, beside the VMs ---------------------------------------------
# lint's W=1 step cleans and rebuilds drivers/pcipass/: only once the lanes
# have copied what they boot.
lanes_started
stage "host: lint and the tool's sysfs test"
host_test "make lint" "$LOG/lint.log" make -C "$TOP" -s KDIR="$KDIR" lint
host_test "pcipass-tool on a fake sysfs" "$LOG/tool.log" \
	make -C "$TOP/tools/pcipass" -s test

if has_lane deb; then
	t=$(date +%s)
	stage "deb: the Debian packages in a Debian 12 root (tests/deb/check.sh)"
	"$TOP/tests/deb/check.sh" >"$LOG/deb.log" 2>&1
	last=$(tail -n 1 "$LOG/deb.log")
	grep -E '^(ok|not ok) ' "$LOG/deb.log" | sed 's/^/  /'
	if [[ $last =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		PASSED=$((PASSED + BASH_REMATCH[1]))
		FAILED=$((FAILED + BASH_REMATCH[2]))
		[ "${BASH_REMATCH[2]}" = 0 ] || echo "FAIL deb: see $LOG/deb.log"
	else
		FAILED=$((FAILED + 1))
		echo "FAIL deb: no verdict (log: $LOG/deb.log)"
		tail -n 20 "$LOG/deb.log" | sed 's/^/    | /'
	fi
	timing "deb packages" $(($(date +%s) - t))
fi

# ---- the lanes' reports ------------------------------------------------------
stage "waiting for the VM lanes"
if has_lane stock; then
	lane_end stock "$LOG/vm-stock.log" "stock kernel VMs" "$T_STOCK"
fi
if [ "$DEBUG_READY" = yes ]; then
	lane_end debug "$LOG/vm-debug.log" "debug kernel VMs" "$T_DEBUG"
fi
trap - INT TERM
verdict

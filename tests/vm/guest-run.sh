#!/bin/sh
# tests/vm/guest-run.sh - run mode of the test VM (busybox sh, started by
# /init with the PCIPASS_* environment).
#
# Runs every executable /tests/* in sorted order (or those named in
# /vm/tests-$PCIPASS_VM, in its order, when there is such a file), each
# under a timeout ($PCIPASS_TIMEOUT seconds, pcipassvm.timeout= on the
# kernel command line, default 300) and with the arguments in
# /vm/test-args if any (PCIPASS_TEST_ARGS of mkinitramfs.sh), and writes
# everything to the results channel $PCIPASS_RESULTS (/dev/ttyS1, the
# second QEMU serial port):
#   # pcipass-test: NAME           before a test executable runs
#   ...its stdout and stderr (kselftest TAP)...
#   # pcipass-t: UPTIME            before it starts, after each "ok"/"not ok"
#   # pcipass-timeout: NAME ...    when the timeout killed it
#   # pcipass-time: NAME START END guest uptime before and after
#   # pcipass-exit: NAME STATUS    after it (137 = killed by the timeout)
#   # pcipass-dmesg-begin / the whole kernel log / # pcipass-dmesg-end
#   # pcipass-vm-done
# The same test markers go to the kernel log, so that a kernel warning in
# the console log can be matched to the test that caused it.
#
# On a debug kernel (the debug lane), also:
#   - before the tests, when /lib/modules/$(uname -r)/extra/pcipass_kunit.ko
#     exists (and this VM is in /vm/kunit-vms, when there is such a list):
#     modprobe it (its KUnit suites run as it loads), copy each
#     suite's KTAP report from /sys/kernel/debug/kunit/pcipass_*/results,
#     unload it and pcipass:
#       # pcipass-kunit-load: STATUS          modprobe's exit status
#       # pcipass-kunit-begin: SUITE / KTAP / # pcipass-kunit-end: SUITE
#       # pcipass-kunit-time: START END
#   - when kmemleak is on: a scan (and clear) before the tests, so that
#     what boot left is not counted, and two scans after them, whose report
#     is copied whole:
#       # pcipass-kmemleak-begin / the report / # pcipass-kmemleak-end

R=${PCIPASS_RESULTS:-/dev/ttyS1}
T=${PCIPASS_TIMEOUT:-300}
KMEMLEAK=/sys/kernel/debug/kmemleak
KUNIT_KO=/lib/modules/$(uname -r)/extra/pcipass_kunit.ko
ARGS=$(cat /vm/test-args 2>/dev/null)

kunit_run() {
	start=$(cut -d' ' -f1 /proc/uptime)
	echo "pcipass-vm: test kunit: start" >/dev/kmsg
	# A filter, if any, must be kunit's before the tests load.
	[ ! -r /vm/kunit-filter ] ||
		modprobe kunit filter_glob="$(cat /vm/kunit-filter)"
	timeout -s KILL "$T" modprobe pcipass_kunit
	status=$?
	echo "# pcipass-kunit-load: $status"
	for d in /sys/kernel/debug/kunit/pcipass_*; do
		[ -r "$d/results" ] || continue
		echo "# pcipass-kunit-begin: ${d##*/}"
		cat "$d/results"
		echo "# pcipass-kunit-end: ${d##*/}"
	done
	# The tests that follow load pcipass with the parameters they want.
	rmmod pcipass_kunit 2>/dev/null
	rmmod pcipass 2>/dev/null
	echo "pcipass-vm: test kunit: exit $status" >/dev/kmsg
	echo "# pcipass-kunit-time: $start $(cut -d' ' -f1 /proc/uptime)"
}

# stamp: copy a test's output, with the uptime after each result line (the
# timing summary of parse-results.sh lists the slowest tests from these).
stamp() {
	awk 'function now(u, a) {
		getline u <"/proc/uptime"; close("/proc/uptime")
		split(u, a, " "); print "# pcipass-t: " a[1]; fflush()
	}
	BEGIN { now() }
	{ print; fflush() }
	/^(not )?ok / { now() }'
}

# kmemleak reports only objects older than 5 s, and an object only once
# its contents held still between two scans.
kmemleak_report() {
	sleep 6
	echo scan >"$KMEMLEAK"
	echo scan >"$KMEMLEAK"
	echo "# pcipass-kmemleak-begin"
	cat "$KMEMLEAK"
	echo "# pcipass-kmemleak-end"
}

{
	echo "# pcipass-vm: vm=$PCIPASS_VM kernel=$(uname -r) cpus=$(nproc)"
	if [ -w "$KMEMLEAK" ] && echo scan >"$KMEMLEAK" 2>/dev/null; then
		echo clear >"$KMEMLEAK"
	else
		KMEMLEAK=""
	fi
	if [ -e "$KUNIT_KO" ] && { [ ! -r /vm/kunit-vms ] ||
		grep -qw -- "$PCIPASS_VM" /vm/kunit-vms; }; then
		kunit_run
	fi
	# The VM's list (PCIPASS_VM_TESTS), in its order, else every test.
	if [ -r "/vm/tests-$PCIPASS_VM" ]; then
		list=$(sed 's|^|/tests/|' "/vm/tests-$PCIPASS_VM")
	else
		list=$(echo /tests/*)
	fi
	for t in $list; do
		if [ ! -f "$t" ] || [ ! -x "$t" ]; then continue; fi
		name=${t##*/}
		echo "# pcipass-test: $name"
		echo "pcipass-vm: test $name: start" >/dev/kmsg
		start=$(cut -d' ' -f1 /proc/uptime)
		# Own session and process group: when the test ends (or its
		# timeout kills it), whatever it left behind (a kselftest child
		# stuck in the kernel, say) is killed before the next test starts.
		cd /tmp || exit 1
		rm -f /tmp/.pcipass-out
		mkfifo /tmp/.pcipass-out
		stamp </tmp/.pcipass-out &
		spid=$!
		# shellcheck disable=SC2086 # ARGS is a list of arguments
		setsid timeout -s KILL "$T" "$t" $ARGS </dev/null >/tmp/.pcipass-out 2>&1 &
		pid=$!
		wait "$pid"
		status=$?
		kill -KILL -- "-$pid" 2>/dev/null
		wait "$spid"
		cd / || exit 1
		end=$(cut -d' ' -f1 /proc/uptime)
		echo "pcipass-vm: test $name: exit $status" >/dev/kmsg
		[ "$status" -ne 137 ] || echo "# pcipass-timeout: $name killed after ${T}s"
		echo "# pcipass-time: $name $start $end"
		echo "# pcipass-exit: $name $status"
	done
	[ -z "$KMEMLEAK" ] || kmemleak_report
	echo "# pcipass-dmesg-begin"
	dmesg -s 8388608
	echo "# pcipass-dmesg-end"
	echo "# pcipass-vm-done"
} >"$R" 2>&1

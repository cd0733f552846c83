#!/bin/sh
# tests/vm/guest-run.sh - run mode of the test VM (busybox sh, started by
# /init with the PCIPASS_* environment).
#
# Runs every executable /tests/* in sorted order, each under a timeout
# ($PCIPASS_TIMEOUT seconds, pcipassvm.timeout= on the kernel command line,
# default 300), and writes everything to the results channel
# $PCIPASS_RESULTS (/dev/ttyS1, the second QEMU serial port):
#   # pcipass-test: NAME           before a test executable runs
#   ...its stdout and stderr (kselftest TAP)...
#   # pcipass-timeout: NAME ...    when the timeout killed it
#   # pcipass-time: NAME START END guest uptime before and after
#   # pcipass-exit: NAME STATUS    after it (137 = killed by the timeout)
#   # pcipass-dmesg-begin / the whole kernel log / # pcipass-dmesg-end
#   # pcipass-vm-done
# The same test markers go to the kernel log, so that a kernel warning in
# the console log can be matched to the test that caused it.

R=${PCIPASS_RESULTS:-/dev/ttyS1}
T=${PCIPASS_TIMEOUT:-300}

{
	echo "# pcipass-vm: vm=$PCIPASS_VM kernel=$(uname -r) cpus=$(nproc)"
	for t in /tests/*; do
		if [ ! -f "$t" ] || [ ! -x "$t" ]; then continue; fi
		name=${t##*/}
		echo "# pcipass-test: $name"
		echo "pcipass-vm: test $name: start" >/dev/kmsg
		start=$(cut -d' ' -f1 /proc/uptime)
		# Own session and process group: when the test ends (or its
		# timeout kills it), whatever it left behind (a kselftest child
		# stuck in the kernel, say) is killed before the next test starts.
		cd /tmp || exit 1
		setsid timeout -s KILL "$T" "$t" </dev/null 2>&1 &
		pid=$!
		wait "$pid"
		status=$?
		kill -KILL -- "-$pid" 2>/dev/null
		cd / || exit 1
		end=$(cut -d' ' -f1 /proc/uptime)
		echo "pcipass-vm: test $name: exit $status" >/dev/kmsg
		[ "$status" -ne 137 ] || echo "# pcipass-timeout: $name killed after ${T}s"
		echo "# pcipass-time: $name $start $end"
		echo "# pcipass-exit: $name $status"
	done
	echo "# pcipass-dmesg-begin"
	dmesg -s 8388608
	echo "# pcipass-dmesg-end"
	echo "# pcipass-vm-done"
} >"$R" 2>&1

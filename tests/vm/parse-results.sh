#!/bin/bash
# tests/vm/parse-results.sh OUTDIR [CONFIG] - verdict on one VM run.
#
# Reads OUTDIR/results.log (guest-run.sh's markers and kselftest TAP),
# OUTDIR/console.log and OUTDIR/vm-status (run-vm.sh). Counts:
#   - each top-level TAP line of each test executable, named "BIN: TEST":
#     "ok" passes, "ok ... # SKIP" (or "not ok ... # SKIP") is skipped,
#     "not ok" fails (its diagnostic lines are printed);
#   - an executable that exits non-zero with no "not ok" line: one failure
#     named after it (exit 4, KSFT_SKIP, with no TAP line: one skip);
#   - an executable that started but never exited: one failure;
#   - "vm CONFIG completed": the guest reached its done marker, with no
#     setup error and no timeout;
#   - "vm CONFIG kernel log clean": no warning/bug/oops/lockdep/KASAN/...
#     line in the console log or the guest's dmesg (expected DMAR fault
#     reports are allowed) once the kernel started /init; a report from
#     before (the kernel's own boot, before any pcipass code can be loaded)
#     is printed as a NOTE;
#   - KUnit (debug lane): each leaf of each suite's KTAP report (a test
#     case, or each parameter of a parameterized one), named
#     "kunit SUITE: CASE[: PARAMETER]"; a failed modprobe of the test
#     module is one failure, and so is a missing KUnit run when
#     PCIPASS_EXPECT_KUNIT=1 and CONFIG is in PCIPASS_KUNIT_VMS (when set);
#   - "vm CONFIG kmemleak clean" when the guest scanned for leaks (debug
#     lane): the report must be empty; it is printed whole otherwise and
#     kept in OUTDIR/kmemleak.log.
# Prints FAIL/SKIP lines (PASS lines too with PCIPASS_VERBOSE=1), then
#   # pcipass-totals: config=CONFIG passed=N failed=N skipped=N
# and writes the same counts to OUTDIR/totals (passed=N lines, sourceable).
# Exits 1 when anything failed.
set -eu
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"

[ $# -ge 1 ] || die "usage: $0 OUTDIR [CONFIG]"
OUTDIR=$1
CONFIG=${2:-}
RESULTS=$OUTDIR/results.log
CONSOLE=$OUTDIR/console.log
DMESG=$OUTDIR/dmesg.log
KMEMLEAK=$OUTDIR/kmemleak.log
VERBOSE=${PCIPASS_VERBOSE:-0}
EXPECT_KUNIT=${PCIPASS_EXPECT_KUNIT:-0}

status_get() { # KEY -> value from vm-status (empty if none)
	sed -n "s/^$1=//p" "$OUTDIR/vm-status" 2>/dev/null | head -n1
}
[ -n "$CONFIG" ] || CONFIG=$(status_get config)
[ -n "$CONFIG" ] || CONFIG=$(basename "$OUTDIR")

touch "$RESULTS" "$CONSOLE"
: >"$DMESG"
rm -f "$KMEMLEAK"

# Kernel log lines that fail "kernel log clean" (extended regexps) ...
BAD='WARNING:|BUG:|Oops|Call Trace|general protection|KASAN|UBSAN'
BAD="$BAD|possible recursive locking|circular locking dependency"
BAD="$BAD|INFO: task .* blocked|kmemleak|Kernel panic"
BAD="$BAD|sleeping function called from invalid context|inconsistent lock state"
# KNOWN: one report is the kernel's, not pcipass's, and is not counted
# (scan() recognises it whole): 6.12's pciehp holds its slot's reset_lock
# (read) while it takes pci_rescan_remove_lock, and takes reset_lock again
# (read) under it after each device it unbinds or binds. Lockdep sees one
# lock class for every slot's reset_lock and reports a circle at a slot's
# first unplug with a device in it; only one pciehp thread handles a slot,
# so no two threads can hold one slot's lock in those two orders. Lockdep
# is off for the rest of the run after it: the debug lane runs
# hotplug_test last in its VM (tests/check.sh).
# ... unless they are one of these: DMA faults that tests provoke on purpose,
# kmemleak's start-up messages, the command line, the test markers.
ALLOW='DMAR: \[DMA (Read|Write)[^]]*\] Request device .*fault addr'
ALLOW="$ALLOW|DMAR: DRHD: handling fault status reg"
ALLOW="$ALLOW|kmemleak: (Kernel memory leak detector (initialized|disabled)|Automatic memory scanning thread)"
ALLOW="$ALLOW|(Kernel c|C)ommand line: |pcipass-vm: test [^ ]*: (start|exit)"

# ---- tests from results.log ---------------------------------------------------
# Output of the awk program, one record a line:
#   R <pass|fail|skip> <name>\t<reason>      a result
#   D <text>                                 a diagnostic line of the last fail
#   T <bin> <seconds> <exit>                 time of one executable
#   S <message>                              setup error
#   E done                                   the done marker was seen
#   K <modprobe status>                      KUnit ran
#   M leaks                                  a kmemleak report was taken
# The dmesg section is copied to $DMESG, the kmemleak one to $KMEMLEAK.
records=$(tr -d '\r' <"$RESULTS" | awk -v dmesg="$DMESG" -v kmemleak="$KMEMLEAK" '
function result(kind, name, reason) {
	printf "R %s %s\t%s\n", kind, name, reason
}
# A TAP result line, any indent: sets tap_notok, tap_desc, tap_dir.
function tap(line) {
	sub(/^ */, "", line)
	tap_notok = (line ~ /^not /)
	sub(/^(not )?ok [0-9]+ */, "", line)
	tap_dir = ""
	if (match(line, / *# */)) {
		tap_dir = substr(line, RSTART + RLENGTH)
		line = substr(line, 1, RSTART - 1)
	}
	tap_desc = line
}
# One KUnit leaf result.
function kresult(name) {
	if (toupper(tap_dir) ~ /^SKIP/) {
		sub(/^[Ss][Kk][Ii][Pp] */, "", tap_dir)
		result("skip", name, tap_dir)
	} else if (tap_notok) {
		kfail++
		kcasefail++
		result("fail", name, tap_dir)
		flushdiag()
	} else {
		result("pass", name, "")
	}
	nd = 0
}
function flushdiag(   i, from) {
	from = (nd > 60) ? nd - 60 : 0
	if (from > 0) printf "D ... (%d earlier lines)\n", from
	for (i = from; i < nd; i++) printf "D %s\n", diag[i]
}
BEGIN { cur = ""; nd = 0; indmesg = 0; inleak = 0; ksuite = ""; kstatus = "?" }
indmesg {
	if ($0 == "# pcipass-dmesg-end") { indmesg = 0; next }
	print > dmesg
	next
}
/^# pcipass-dmesg-begin$/ { indmesg = 1; next }
inleak {
	if ($0 == "# pcipass-kmemleak-end") { inleak = 0; next }
	print > kmemleak
	next
}
/^# pcipass-kmemleak-begin$/ { inleak = 1; printf "" > kmemleak; print "M leaks"; next }
/^# pcipass-kunit-load: / {
	kstatus = $3
	print "K " kstatus
	if (kstatus != 0)
		result("fail", "kunit: modprobe pcipass_kunit", "exit status " kstatus)
	next
}
/^# pcipass-kunit-time: / { printf "T kunit %.1f %s\n", $4 - $3, kstatus; next }
/^# pcipass-kunit-begin: / {
	ksuite = $3; kcase = ""; kparams = 0; kfail = 0; kcasefail = 0; nd = 0
	next
}
/^# pcipass-kunit-end: / { ksuite = ""; nd = 0; next }
# KTAP of a suite: the suite at indent 0, its cases at 4, parameters at 8.
ksuite != "" {
	if ($0 ~ /^        # Subtest: /) {
		kcase = $0
		sub(/^        # Subtest: /, "", kcase)
		kparams = 0; kcasefail = 0; nd = 0
	} else if ($0 ~ /^        (not )?ok [0-9]+/) {
		tap($0)
		kparams++
		kresult("kunit " ksuite ": " kcase ": " tap_desc)
	} else if ($0 ~ /^    (not )?ok [0-9]+/) {
		tap($0)
		if (kparams == 0)
			kresult("kunit " ksuite ": " tap_desc)
		else if (tap_notok && kcasefail == 0 && toupper(tap_dir) !~ /^SKIP/) {
			tap_dir = "failed outside its parameters " tap_dir
			kresult("kunit " ksuite ": " tap_desc)
		}
		kcase = ""; kparams = 0; kcasefail = 0; nd = 0
	} else if ($0 ~ /^(not )?ok [0-9]+/) {
		tap($0)
		if (tap_notok && kfail == 0) {
			tap_dir = "the suite failed " tap_dir
			kresult("kunit " ksuite)
		}
		nd = 0
	} else if ($0 !~ /^ *(KTAP version|1\.\.[0-9])/) {
		diag[nd++] = $0
	}
	next
}
/^# pcipass-vm-done$/ { print "E done"; next }
/^# pcipass-setup-error: / { sub(/^# pcipass-setup-error: /, ""); print "S " $0; next }
/^# pcipass-test: / {
	cur = $3; started[cur] = 1; order[++nbin] = cur
	stamp = ""; lastres = ""
	nres[cur] = 0; nfail[cur] = 0; nd = 0
	next
}
/^# pcipass-time: / { t[$3] = sprintf("%.1f", $5 - $4); next }
# After each result line: the time since the previous stamp is the time of that test.
/^# pcipass-t: / {
	if (lastres != "" && stamp != "")
		printf "U %.1f %s\n", $3 - stamp, lastres
	stamp = $3; lastres = ""
	next
}
/^# pcipass-exit: / {
	b = $3; st = $4; exited[b] = 1
	printf "T %s %s %s\n", b, (b in t) ? t[b] : "?", st
	if (st != 0 && nfail[b] == 0) {
		if (st == 4 && nres[b] == 0) {
			result("skip", b, "exit status 4 (KSFT_SKIP)")
		} else {
			why = (st == 137) ? "killed by the per-test timeout" : "exit status " st
			result("fail", b, why " with no failed TAP test")
			flushdiag()
		}
	}
	cur = ""; nd = 0
	next
}
cur != "" && /^(not )?ok [0-9]+/ {
	line = $0
	notok = (line ~ /^not /)
	sub(/^(not )?ok [0-9]+ */, "", line)
	directive = ""
	if (match(line, / *# */)) {
		directive = substr(line, RSTART + RLENGTH)
		line = substr(line, 1, RSTART - 1)
	}
	name = cur ": " ((line == "") ? "#" nres[cur] + 1 : line)
	nres[cur]++
	lastres = name
	if (toupper(directive) ~ /^SKIP/) {
		sub(/^[Ss][Kk][Ii][Pp] */, "", directive)
		result("skip", name, directive)
	} else if (notok) {
		nfail[cur]++
		result("fail", name, directive)
		flushdiag()
	} else {
		result("pass", name, "")
	}
	nd = 0
	next
}
cur != "" { diag[nd++] = $0 }
END {
	for (i = 1; i <= nbin; i++) {
		b = order[i]
		if (!(b in exited)) {
			result("fail", b, "started but never finished (VM hung or died)")
			if (b == cur) flushdiag()
		}
	}
}')

pass=0 fail=0 skip=0
last_fail=no
times=""
slow=""
setup_errors=""
done_seen=no
kunit_ran=no
leaks_taken=no
while IFS= read -r rec; do
	case "$rec" in
	"R "*)
		rest=${rec#R }
		kind=${rest%% *}
		rest=${rest#* }
		name=${rest%%$'\t'*}
		reason=${rest#*$'\t'}
		last_fail=no
		case "$kind" in
		pass)
			pass=$((pass + 1))
			[ "$VERBOSE" = 0 ] || echo "PASS $CONFIG: $name"
			;;
		skip)
			skip=$((skip + 1))
			echo "SKIP $CONFIG: $name${reason:+ # $reason}"
			;;
		fail)
			fail=$((fail + 1))
			last_fail=yes
			echo "FAIL $CONFIG: $name${reason:+ # $reason}"
			;;
		esac
		;;
	"D "*) [ "$last_fail" = no ] || printf '    | %s\n' "${rec#D }" ;;
	"T "*) times="$times ${rec#T }" ;;
	"U "*) slow="$slow${rec#U }"$'\n' ;;
	"S "*) setup_errors="$setup_errors${rec#S }"$'\n' ;;
	"E done") done_seen=yes ;;
	"K "*) kunit_ran=yes ;;
	"M leaks") leaks_taken=yes ;;
	esac
done <<<"$records"

# ---- vm CONFIG completed --------------------------------------------------------
if [ "$(status_get boot_retries)" != "" ] && [ "$(status_get boot_retries)" != 0 ]; then
	echo "NOTE $CONFIG: the guest kernel died before /init and was booted again" \
		"(see $OUTDIR/console.boot-failure.log)"
fi
timed_out=$(status_get timed_out)
qemu_exit=$(status_get qemu_exit)
why=""
[ "$timed_out" != yes ] || why="$why; killed after $(status_get timeout)s (hung)"
[ -z "$qemu_exit" ] || [ "$qemu_exit" = 0 ] || [ "$timed_out" = yes ] ||
	why="$why; QEMU exit status $qemu_exit"
[ -s "$OUTDIR/vm-status" ] || why="$why; no vm-status (VM not run?)"
[ -z "$setup_errors" ] || why="$why; setup errors"
[ "$done_seen" = yes ] || why="$why; no done marker"
grep -q 'Kernel panic' "$CONSOLE" && why="$why; kernel panic"
if [ -z "$why" ]; then
	pass=$((pass + 1))
	[ "$VERBOSE" = 0 ] || echo "PASS $CONFIG: vm $CONFIG completed"
else
	fail=$((fail + 1))
	echo "FAIL $CONFIG: vm $CONFIG completed # ${why#; }"
	[ -z "$setup_errors" ] || printf '%s' "$setup_errors" | sed 's/^/    | setup: /'
	if [ -s "$OUTDIR/qemu.log" ]; then
		sed 's/^/    | qemu: /' "$OUTDIR/qemu.log" | tail -n 10
	fi
	echo "    | last console lines ($CONSOLE):"
	tr -d '\r' <"$CONSOLE" | tail -n 25 | sed 's/^/    | /'
fi

# ---- KUnit expected but not run --------------------------------------------------
case " ${PCIPASS_KUNIT_VMS:-$CONFIG} " in
*" $CONFIG "*) ;;
*) EXPECT_KUNIT=0 ;;
esac
if [ "$EXPECT_KUNIT" = 1 ] && [ "$kunit_ran" = no ]; then
	fail=$((fail + 1))
	echo "FAIL $CONFIG: kunit ran # no KUnit results from the guest (pcipass_kunit.ko missing from the initramfs?)"
fi

# ---- vm CONFIG kmemleak clean ---------------------------------------------------
if [ "$leaks_taken" = yes ]; then
	# Its one-line summary in the kernel log is this check's to report.
	ALLOW="$ALLOW|kmemleak: [0-9]+ new suspected memory leaks"
	if ! grep -q '[^[:space:]]' "$KMEMLEAK" 2>/dev/null; then
		pass=$((pass + 1))
		[ "$VERBOSE" = 0 ] || echo "PASS $CONFIG: vm $CONFIG kmemleak clean"
	else
		fail=$((fail + 1))
		echo "FAIL $CONFIG: vm $CONFIG kmemleak clean # $(grep -c '^unreferenced object' "$KMEMLEAK") unreferenced object(s) ($KMEMLEAK):"
		sed 's/^/    | /' "$KMEMLEAK"
	fi
fi

# ---- vm CONFIG kernel log clean -------------------------------------------------
# Prints the offending lines (marked ">>") with context; at most 600 lines.
# PART: "run" counts the lines from the kernel's start of /init on, "boot"
# those before.
scan() { # FILE PART -> number of offending lines, context on fd 3
	tr -d '\r' <"$1" | awk -v bad="$BAD" -v allow="$ALLOW" -v part="$2" '
	BEGIN { phase = "boot" }
	/Run \/init as init process/ { phase = "run" }
	{ line[NR] = $0; if (phase == part && $0 ~ bad && $0 !~ allow) hit[NR] = 1 }
	END {
		# pciehp'"'"'s own report (see KNOWN above): both locks its, taken in
		# pciehp_(un)configure_device(), a chain of two (no "#2").
		for (i = 1; i <= NR; i++) {
			if (line[i] !~ /possible circular locking dependency detected/)
				continue
			for (j = i; j < NR && j < i + 200 && line[j] !~ /<\/TASK>/; j++)
				;
			blk = ""
			for (k = i; k <= j; k++)
				blk = blk "\n" line[k]
			if (blk ~ /is trying to acquire lock:\n[^\n]*\(&ctrl->reset_lock\)[^\n]*at: pciehp_(un)?configure_device/ &&
			    blk ~ /already holding lock:\n[^\n]*\(pci_rescan_remove_lock\)[^\n]*at: pciehp_(un)?configure_device/ &&
			    blk !~ /-> #2 /) {
				for (k = i - 2; k <= j; k++)
					delete hit[k]
				known++
			}
			i = j
		}
		n = 0; last = 0; out = 0
		for (i = 1; i <= NR; i++) {
			if (!(i in hit)) continue
			n++
			from = i - 3; if (from <= last) from = last + 1; if (from < 1) from = 1
			to = i + 40; if (to > NR) to = NR
			if (last && from > last + 1 && out < 600) { print "    | ..." > "/dev/fd/3"; out++ }
			for (j = from; j <= to && out < 600; j++) {
				printf "    %s %s\n", (j in hit) ? ">>" : " |", line[j] > "/dev/fd/3"
				out++
			}
			if (to > last) last = to
		}
		print n, known + 0
	}'
}
tmpctx=$(mktemp)
trap 'rm -f "$tmpctx" "$tmpctx.c" "$tmpctx.b"' EXIT
n_dmesg=0
[ ! -s "$DMESG" ] || read -r n_dmesg _ < <(scan "$DMESG" run 3>"$tmpctx")
read -r n_console n_known < <(scan "$CONSOLE" run 3>"$tmpctx.c")
read -r n_boot _ < <(scan "$CONSOLE" boot 3>"$tmpctx.b")
if [ "$n_known" -gt 0 ]; then
	echo "NOTE $CONFIG: pciehp's own lockdep report (its reset_lock around pci_rescan_remove_lock, see parse-results.sh) seen $n_known time(s), not counted; lockdep is off from there"
fi
if [ "$n_boot" -gt 0 ]; then
	echo "NOTE $CONFIG: $n_boot report line(s) while the kernel booted, before /init (no pcipass code yet; not counted):"
	cat "$tmpctx.b"
	! grep -q 'Disabling lock debugging due to kernel taint' "$CONSOLE" ||
		echo "NOTE $CONFIG: that report turned lockdep off for the whole run"
fi
if [ "$n_dmesg" -eq 0 ] && [ "$n_console" -eq 0 ]; then
	pass=$((pass + 1))
	[ "$VERBOSE" = 0 ] || echo "PASS $CONFIG: vm $CONFIG kernel log clean"
else
	fail=$((fail + 1))
	echo "FAIL $CONFIG: vm $CONFIG kernel log clean # $n_console offending line(s) in console.log, $n_dmesg in the dmesg section"
	if [ "$n_dmesg" -gt 0 ]; then
		echo "    | in the guest's dmesg ($DMESG):"
		cat "$tmpctx"
	fi
	# The console shows what the dmesg snapshot cannot: a panic or a
	# warning after it, or everything when the VM never got that far.
	if [ "$n_console" -gt "$n_dmesg" ]; then
		echo "    | in the console log ($CONSOLE):"
		cat "$tmpctx.c"
	fi
fi

# ---- totals -------------------------------------------------------------------
if [ -n "$times" ]; then
	# shellcheck disable=SC2086 # triples of words
	set -- $times
	line="time $CONFIG:"
	while [ $# -ge 3 ]; do
		line="$line $1=${2}s"
		[ "$3" = 0 ] || line="$line(exit $3)"
		shift 3
	done
	echo "$line"
fi
if [ -n "$slow" ]; then
	# A test's time runs from the result before it (or from the start of
	# its executable).
	echo "slowest $CONFIG: $(printf '%s' "$slow" | sort -rn | head -n 5 |
		awk '{ t = $1; $1 = ""; printf "%s%s=%ss", (NR > 1 ? "; " : ""), substr($0, 2), t }')"
fi
printf 'passed=%s\nfailed=%s\nskipped=%s\n' "$pass" "$fail" "$skip" >"$OUTDIR/totals"
echo "# pcipass-totals: config=$CONFIG passed=$pass failed=$fail skipped=$skip"
[ "$fail" -eq 0 ]

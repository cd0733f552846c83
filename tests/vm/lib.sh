# shellcheck shell=bash
# tests/vm/lib.sh - common variables and helpers for the VM test bed.
#
# Sourced (never run) by every host-side script in tests/vm/. Owns:
#   TOP     top of the repository
#   VMDIR   tests/vm
#   CACHE   per-user cache of slow-to-make pieces (source tree, kernel, modules)
#   stage   one log line per stage, with seconds since the run started
#   die     print an error and exit 1

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VMDIR=$TOP/tests/vm
CACHE="${PCIPASS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pcipass}"
export TOP VMDIR CACHE

# All scripts of one run share the same time origin.
PCIPASS_T0=${PCIPASS_T0:-$(date +%s)}
export PCIPASS_T0

# stage NAME... : "== [12s] NAME" on stderr (stdout of some scripts is data).
stage() {
	echo "== [$(($(date +%s) - PCIPASS_T0))s] $*" >&2
}

die() {
	echo "${0##*/}: error: $*" >&2
	exit 1
}

// SPDX-License-Identifier: GPL-2.0
/*
 * nested-memlock-exec: run a command without CAP_IPC_LOCK and with a
 * locked-memory limit, so that a VMM run as root is held to
 * RLIMIT_MEMLOCK the way an unprivileged one is.
 *
 *   nested-memlock-exec BYTES COMMAND [ARG...]
 *
 * Drops CAP_IPC_LOCK from the bounding set (so that exec as root does not
 * grant it back), from the ambient, inheritable, permitted and effective
 * sets, sets RLIMIT_MEMLOCK (soft and hard) to BYTES and executes COMMAND.
 * Exit status 126/127 when that fails (127: COMMAND not found).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

static int drop_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	unsigned int word = CAP_IPC_LOCK / 32, bit = 1u << (CAP_IPC_LOCK % 32);

	if (prctl(PR_CAPBSET_DROP, CAP_IPC_LOCK, 0, 0, 0) ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0))
		return -1;
	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[word].effective &= ~bit;
	data[word].permitted &= ~bit;
	data[word].inheritable &= ~bit;
	return syscall(SYS_capset, &hdr, data);
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	char *end;

	if (argc < 3) {
		fprintf(stderr, "usage: nested-memlock-exec BYTES COMMAND [ARG...]\n");
		return 126;
	}
	errno = 0;
	rl.rlim_cur = strtoull(argv[1], &end, 0);
	rl.rlim_max = rl.rlim_cur;
	if (errno || *end || end == argv[1]) {
		fprintf(stderr, "nested-memlock-exec: %s: not a number\n", argv[1]);
		return 126;
	}
	if (drop_ipc_lock() || setrlimit(RLIMIT_MEMLOCK, &rl)) {
		fprintf(stderr, "nested-memlock-exec: %s\n", strerror(errno));
		return 126;
	}
	execvp(argv[2], argv + 2);
	fprintf(stderr, "nested-memlock-exec: %s: %s\n", argv[2], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}

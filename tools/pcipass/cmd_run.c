// SPDX-License-Identifier: GPL-2.0
/*
 * pcipass-tool run: start a command in a private mount namespace in which
 * pcipass's VFIO-compatible device nodes (/dev/pcipass-vfio/vfio and
 * /dev/pcipass-vfio/<group>) appear at /dev/vfio, so that an unmodified
 * VMM (which opens /dev/vfio/vfio and /dev/vfio/<group>) uses pcipass on
 * a host whose own /dev/vfio belongs to the vfio modules.
 *
 * The directory of nodes is bind-mounted onto /dev/vfio as a whole, not
 * node by node: a group whose devices are bound to pcipass after the
 * command started appears in it too. Nothing outside the namespace
 * changes, except that /dev/vfio is created (empty) when it is missing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcipass-tool.h"

static int check_nodes(const char *dir)
{
	char path[4096];
	struct stat st;

	if (stat(dir, &st))
		return fail(errno == EACCES ? EX_PERM : EX_FAIL,
			    "%s: %s (is pcipass loaded, with its VFIO compatibility nodes?)",
			    dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail(EX_FAIL, "%s: not a directory", dir);
	if (fmt_path(path, sizeof(path), "%s/vfio", dir))
		return fail(EX_USAGE, "%s: path too long", dir);
	if (stat(path, &st))
		return fail(EX_FAIL, "%s: %s (no VFIO container node)", path,
			    strerror(errno));
	if (!S_ISCHR(st.st_mode))
		return fail(EX_FAIL, "%s: not a character device", path);
	return 0;
}

int cmd_run(struct opts *o)
{
	const char *nodes = o->nodes ? o->nodes : vfio_nodes_dir();
	const char *target = vfio_dir();
	char **argv;
	int ret, i;

	ret = check_nodes(nodes);
	if (ret)
		return ret;

	if (unshare(CLONE_NEWNS))
		return fail(errno == EPERM ? EX_PERM : EX_FAIL,
			    "unshare(CLONE_NEWNS): %s%s", strerror(errno),
			    errno == EPERM ? " (run needs CAP_SYS_ADMIN)" : "");
	/* Nothing mounted below may propagate back to the host's namespace. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return fail(EX_FAIL, "making / private in the new namespace: %s",
			    strerror(errno));
	if (mkdir(target, 0755) && errno != EEXIST)
		return fail(errno == EACCES ? EX_PERM : EX_FAIL,
			    "mkdir %s: %s", target, strerror(errno));
	if (mount(nodes, target, NULL, MS_BIND, NULL))
		return fail(EX_FAIL, "bind-mounting %s on %s: %s", nodes,
			    target, strerror(errno));

	argv = xcalloc(o->nargs + 1, sizeof(*argv));
	for (i = 0; i < o->nargs; i++)
		argv[i] = o->args[i];
	fflush(NULL);
	execvp(argv[0], argv);
	ret = errno;
	free(argv);
	/* The statuses of env(1) and the shells. */
	return fail(ret == ENOENT ? 127 : 126, "%s: %s", o->args[0],
		    strerror(ret));
}

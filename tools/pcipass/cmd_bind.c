// SPDX-License-Identifier: GPL-2.0
/*
 * pcipass-tool bind and unbind: move devices to pcipass and back.
 *
 * bind: remember the current driver in RUNDIR/<addr>.driver, write
 * "pcipass" to driver_override, unbind from the current driver, write the
 * address to /sys/bus/pci/drivers_probe. unbind: restore driver_override,
 * unbind from pcipass, probe the driver it had before. Both refuse to split
 * an IOMMU group between pcipass and host drivers (unless --group), check
 * everything they can before changing anything, and undo what they did
 * when a step fails. --persist writes (or removes) a udev rule.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pcipass-tool.h"

#define SETTLE_MS	3000

struct plan {
	struct pci_dev *dev;
	char from[NAME_LEN];		/* driver now ("" none) */
	char to[NAME_LEN];		/* driver wanted ("" none, "?" any) */
	char saved_override[NAME_LEN];	/* driver_override to restore */
	bool skip;			/* nothing to do */
	bool done;			/* changed: undo on failure */
	bool state_written;
	char rule[512];			/* --persist: the udev rule */
	bool rule_existed;
	bool rule_done;
};

static void dev_path(const struct pci_dev *dev, const char *attr, char *buf,
		     size_t len)
{
	fmt_path(buf, len, "%s/bus/pci/devices/%s/%s", sysfs_root(), dev->addr,
		 attr);
}

static void drv_path(const char *drv, const char *attr, char *buf, size_t len)
{
	fmt_path(buf, len, "%s/bus/pci/drivers/%s%s%s", sysfs_root(), drv,
		 attr ? "/" : "", attr ? attr : "");
}

static void state_path(const struct pci_dev *dev, char *buf, size_t len)
{
	fmt_path(buf, len, "%s/%s.driver", run_dir(), dev->addr);
}

static void rule_path(const struct pci_dev *dev, char *buf, size_t len)
{
	persist_rule_path(dev, buf, len);
}

static void current_driver(const struct pci_dev *dev, char *buf, size_t len)
{
	char path[512];

	dev_path(dev, "driver", path, sizeof(path));
	if (read_link_name(path, buf, len))
		buf[0] = '\0';
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Wait until @dev is bound to @want ("" none, "?" any): probes may be async. */
static bool settle(const struct pci_dev *dev, const char *want, char *now,
		   size_t len)
{
	int waited;

	for (waited = 0;; waited += 50) {
		current_driver(dev, now, len);
		if (!strcmp(want, "?") || !strcmp(now, want))
			return true;
		if (waited >= SETTLE_MS)
			return false;
		sleep_ms(50);
	}
}

/* Unbind @dev from driver @drv, and wait until it is gone. */
static int unbind_from(const struct pci_dev *dev, const char *drv)
{
	char path[512], now[NAME_LEN];
	int ret;

	drv_path(drv, "unbind", path, sizeof(path));
	ret = write_text(path, dev->addr);
	if (ret)
		return fail(errno_status(ret), "%s: writing it to %s: %s",
			    dev->addr, path, strerror(-ret));
	if (!settle(dev, "", now, sizeof(now)))
		return fail(EX_FAIL, "%s: still on %s after unbind; see dmesg",
			    dev->addr, now);
	return 0;
}

static int write_attr(const char *path, const char *val, const char *addr)
{
	int ret = write_text(path, val);

	if (ret)
		return fail(errno_status(ret), "%s: writing \"%s\" to %s: %s",
			    addr, val[0] == '\n' ? "\\n" : val, path,
			    strerror(-ret));
	return 0;
}

/* Create @dir and its parents. */
static int mkdirs(const char *dir)
{
	char tmp[512], *p;

	if (fmt_path(tmp, sizeof(tmp), "%s", dir))
		return -ENAMETOOLONG;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

/* Can we create files in @dir (or, when it is missing, in a parent)? */
static int dir_writable(const char *dir)
{
	char tmp[512], *slash;

	if (fmt_path(tmp, sizeof(tmp), "%s", dir))
		return -ENAMETOOLONG;
	while (access(tmp, F_OK)) {
		slash = strrchr(tmp, '/');
		if (!slash || slash == tmp)
			return access("/", W_OK) ? -errno : 0;
		*slash = '\0';
	}
	return access(tmp, W_OK | X_OK) ? -errno : 0;
}

static int need_writable(const char *path, const char *addr)
{
	if (access(path, W_OK) == 0)
		return 0;
	if (errno == EACCES || errno == EPERM || errno == EROFS)
		return fail(EX_PERM, "%s: cannot write %s: %s (run as root)",
			    addr, path, strerror(errno));
	return fail(EX_FAIL, "%s: %s: %s", addr, path, strerror(errno));
}

static int need_dir(const char *dir, const char *addr)
{
	int ret = dir_writable(dir);

	if (!ret)
		return 0;
	return fail(errno_status(ret), "%s: cannot create files in %s: %s%s",
		    addr, dir, strerror(-ret),
		    errno_status(ret) == EX_PERM ? " (run as root)" : "");
}

static bool in_plan(struct plan *plan, int n, const char *addr)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(plan[i].dev->addr, addr))
			return true;
	return false;
}

/*
 * The devices to act on: those named and, with --group, the other PCI
 * devices of their IOMMU groups (bind: all but bridges; unbind: those
 * bound to pcipass).
 */
static struct plan *make_plan(struct pci_list *list, struct opts *o,
			      bool binding, int *n, int *status)
{
	struct pci_dev **devs;
	struct group_member *m;
	struct plan *plan;
	int ndevs, i, j, nm;

	*n = 0;
	*status = pci_select(list, o->nargs, o->args, &devs, &ndevs);
	if (*status)
		return NULL;
	plan = xcalloc(list->n + 1, sizeof(*plan));
	for (i = 0; i < ndevs; i++)
		plan[(*n)++].dev = devs[i];
	free(devs);
	for (i = 0; o->group && i < ndevs; i++) {
		if (plan[i].dev->group < 0)
			continue;
		nm = pci_group_members(list, plan[i].dev->group, &m);
		for (j = 0; j < nm; j++) {
			if (!m[j].dev || in_plan(plan, *n, m[j].addr))
				continue;
			if (binding && pci_is_bridge(m[j].dev))
				continue;
			if (!binding && strcmp(m[j].driver, PCIPASS_DRIVER))
				continue;
			plan[(*n)++].dev = m[j].dev;
		}
		free(m);
	}
	return plan;
}

/*
 * Would moving @dev leave member @m of its group on the other side? With
 * --group every member is in the plan already, but a bridge (never moved)
 * bound to a driver that does DMA: the hint then says so, not "--group".
 */
static int split_group(struct plan *plan, int n, const struct pci_dev *dev,
		       const struct group_member *m, bool binding, bool group)
{
	if (!strcmp(m->addr, dev->addr) || in_plan(plan, n, m->addr))
		return 0;
	if (binding && !driver_is_harmless(m->driver))
		return fail(EX_REFUSED,
			    "%s: IOMMU group %d also holds %s, bound to %s;"
			    " it would stay with the host: %s",
			    dev->addr, dev->group, m->addr, m->driver,
			    group ? "bridges are not moved: unbind it, or bind it to pci-stub" :
			    "bind it too, bind it to pci-stub, or use --group");
	if (!binding && !strcmp(m->driver, PCIPASS_DRIVER))
		return fail(EX_REFUSED,
			    "%s: IOMMU group %d also holds %s, bound to pcipass;"
			    " the group would be split: unbind it too%s",
			    dev->addr, dev->group, m->addr,
			    group ? "" : ", or use --group");
	return 0;
}

/* Would acting on the plan leave a group split? */
static int check_groups(struct pci_list *list, struct plan *plan, int n,
			bool binding, bool group)
{
	struct group_member *m;
	int i, j, nm, status = 0;

	for (i = 0; i < n; i++) {
		struct pci_dev *dev = plan[i].dev;

		if (plan[i].skip || dev->group < 0)
			continue;
		nm = pci_group_members(list, dev->group, &m);
		for (j = 0; j < nm; j++) {
			int st = split_group(plan, n, dev, &m[j], binding,
					     group);

			if (!status)
				status = st;
		}
		free(m);
		if (status)
			return status;
	}
	return 0;
}

/* RUNDIR/<addr>.driver: "driver=NAME" and "override=NAME" lines. */
static int write_state(struct plan *p)
{
	char path[512], text[256];
	FILE *f;
	int ret;

	ret = mkdirs(run_dir());
	if (ret)
		return fail(errno_status(ret), "%s: creating %s: %s",
			    p->dev->addr, run_dir(), strerror(-ret));
	state_path(p->dev, path, sizeof(path));
	snprintf(text, sizeof(text), "driver=%s\noverride=%s\n", p->from,
		 p->saved_override);
	unlink(path);
	f = fopen(path, "we");
	if (!f || fputs(text, f) < 0 || fclose(f)) {
		ret = errno;
		return fail(errno_status(ret), "%s: writing %s: %s",
			    p->dev->addr, path, strerror(ret));
	}
	p->state_written = true;
	return 0;
}

/* Read "key=value" from a state file, or from "# pcipass-tool: key=value"
 * lines of a persist rule.
 */
static bool read_key(const char *path, const char *key, char *val,
		     size_t len)
{
	char *line = NULL, *p;
	size_t cap = 0, klen = strlen(key);
	bool found = false;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0) {
		p = line;
		if (!strncmp(p, "# pcipass-tool: ", 16))
			p += 16;
		if (strncmp(p, key, klen) || p[klen] != '=')
			continue;
		p += klen + 1;
		p[strcspn(p, "\n")] = '\0';
		snprintf(val, len, "%s", p);
		found = true;
	}
	free(line);
	fclose(f);
	return found;
}

/*
 * The driver @dev had before pcipass ("" none, "?" unknown) and the
 * driver_override to restore: from the state file, else from the rule of
 * bind --persist.
 */
static void driver_before(const struct pci_dev *dev, char *drv, char *ovr)
{
	char path[512], val[NAME_LEN];

	snprintf(drv, NAME_LEN, "?");
	ovr[0] = '\0';
	state_path(dev, path, sizeof(path));
	if (read_key(path, "driver", val, sizeof(val))) {
		str_copy(drv, val, NAME_LEN);
		if (read_key(path, "override", val, sizeof(val)) &&
		    strcmp(val, PCIPASS_DRIVER))
			str_copy(ovr, val, NAME_LEN);
	} else {
		rule_path(dev, path, sizeof(path));
		if (read_key(path, "driver", val, sizeof(val)))
			str_copy(drv, val, NAME_LEN);
	}
	if (!strcmp(drv, PCIPASS_DRIVER))
		snprintf(drv, NAME_LEN, "?");
}

/* The udev rule that keeps @dev on pcipass; written atomically. */
static int write_rule(struct plan *p, const char *owner)
{
	char dir[512], tmp[600], text[2600], before[NAME_LEN], ovr[NAME_LEN];
	char owner_rule[256] = "";
	const struct pci_dev *dev = p->dev;
	int ret;
	FILE *f;

	/* a device already on pcipass: the driver it had before that */
	if (p->skip)
		driver_before(dev, before, ovr);
	else
		str_copy(before, p->from, sizeof(before));

	rule_path(dev, p->rule, sizeof(p->rule));
	fmt_path(dir, sizeof(dir), "%s/udev/rules.d", sysconf_dir());
	ret = mkdirs(dir);
	if (ret)
		return fail(errno_status(ret), "%s: creating %s: %s",
			    dev->addr, dir, strerror(-ret));
	p->rule_existed = path_exists(p->rule);
	if (owner)
		snprintf(owner_rule, sizeof(owner_rule),
			 "ACTION==\"bind\", SUBSYSTEM==\"pci\", KERNEL==\"%s\", DRIVER==\"pcipass\", ATTR{pcipass_owner}=\"%s\"\n",
			 dev->addr, owner);
	snprintf(text, sizeof(text),
		 "# Written by pcipass-tool bind --persist: keeps %s [%04x:%04x] on pcipass\n"
		 "# across reboots. Remove with: pcipass-tool unbind --persist %s\n"
		 "# pcipass-tool: driver=%s\n"
		 "ACTION==\"add\", SUBSYSTEM==\"pci\", KERNEL==\"%s\", ATTR{driver_override}=\"pcipass\", RUN{builtin}+=\"kmod load pcipass\"\n"
		 "ACTION==\"add\", SUBSYSTEM==\"pci\", KERNEL==\"%s\", TEST==\"driver\", RUN+=\"/bin/sh -c 'echo $kernel > /sys$devpath/driver/unbind; echo $kernel > /sys/bus/pci/drivers_probe'\"\n"
		 "%s",
		 dev->addr, dev->vendor, dev->device, dev->addr, before,
		 dev->addr, dev->addr, owner_rule);
	fmt_path(tmp, sizeof(tmp), "%s.tmp", p->rule);
	f = fopen(tmp, "we");
	if (!f || fputs(text, f) < 0 || fclose(f) || rename(tmp, p->rule)) {
		ret = errno;
		unlink(tmp);
		return fail(errno_status(ret), "%s: writing %s: %s", dev->addr,
			    p->rule, strerror(ret));
	}
	p->rule_done = !p->rule_existed;
	return 0;
}

/* Put @p's device back on @drv ("" none), with driver_override @ovr. */
static int move_to(struct plan *p, const char *drv, const char *ovr)
{
	const char *addr = p->dev->addr;
	char path[512], now[NAME_LEN];
	int ret;

	dev_path(p->dev, "driver_override", path, sizeof(path));
	ret = write_attr(path, ovr[0] ? ovr : "\n", addr);
	if (ret)
		return ret;
	current_driver(p->dev, now, sizeof(now));
	if (now[0] && strcmp(now, drv)) {
		ret = unbind_from(p->dev, now);
		if (ret)
			return ret;
	}
	if (!drv[0] || !strcmp(now, drv))
		return 0;
	fmt_path(path, sizeof(path), "%s/bus/pci/drivers_probe", sysfs_root());
	ret = write_attr(path, addr, addr);
	if (ret)
		return ret;
	if (!strcmp(drv, "?") || settle(p->dev, drv, now, sizeof(now)))
		return 0;
	/* Another driver (e.g. pcipass through ids=) won: bind explicitly. */
	if (now[0] && unbind_from(p->dev, now))
		return EX_FAIL;
	drv_path(drv, "bind", path, sizeof(path));
	write_text(path, addr);
	if (settle(p->dev, drv, now, sizeof(now)))
		return 0;
	return fail(EX_FAIL, "%s: did not bind to %s (it is bound to %s)", addr,
		    drv, now[0] ? now : "no driver");
}

/* Undo whatever was done, newest first; best effort. */
static void undo(struct plan *plan, int n, bool binding)
{
	char path[512];
	int i;

	for (i = n - 1; i >= 0; i--) {
		struct plan *p = &plan[i];

		if (p->rule_done)
			unlink(p->rule);
		if (!p->done)
			continue;
		if (binding)
			move_to(p, p->from, p->saved_override);
		else
			move_to(p, PCIPASS_DRIVER, PCIPASS_DRIVER);
		state_path(p->dev, path, sizeof(path));
		if (binding && p->state_written)
			unlink(path);
		fprintf(stderr, "%s: %s: undone: back on %s\n", PROG,
			p->dev->addr, binding ?
			(p->from[0] ? p->from : "no driver") : PCIPASS_DRIVER);
	}
	if (binding)
		rmdir(run_dir());	/* if bind made it: only when empty */
}

static void json_result(struct plan *plan, int n, bool persist)
{
	int i;

	json_arr("devices");
	for (i = 0; i < n; i++) {
		json_obj(NULL);
		json_str("address", plan[i].dev->addr);
		json_str("from", plan[i].from[0] ? plan[i].from : NULL);
		json_str("to", plan[i].to[0] && strcmp(plan[i].to, "?") ?
			 plan[i].to : NULL);
		json_bool("changed", !plan[i].skip);
		if (plan[i].rule[0])
			json_str("persist_rule", plan[i].rule);
		else
			json_null("persist_rule");
		json_end();
	}
	json_end();
	json_bool("persist", persist);
}

/* Refuse the devices the host runs on, unless --force. */
static int check_host_needs(struct plan *plan, int n, bool force)
{
	char why[REASON_LEN];
	int i;

	for (i = 0; i < n; i++) {
		if (plan[i].skip || !host_needs(plan[i].dev, why, sizeof(why)))
			continue;
		if (!force)
			return fail(EX_REFUSED,
				    "%s: the host needs it: %s; --force to bind it anyway",
				    plan[i].dev->addr, why);
		warn("%s: the host needs it: %s; binding it (--force)",
		     plan[i].dev->addr, why);
	}
	return 0;
}

/* bind --group: say what moves, and ask. */
static int confirm_group(struct plan *plan, int n)
{
	char desc[1024], answer[16];
	int i, moving = 0;

	for (i = 0; i < n; i++)
		moving += !plan[i].skip;
	if (!moving)
		return 0;
	fprintf(stderr, "%s: bind --group moves %d device%s to pcipass:\n",
		PROG, moving, moving == 1 ? "" : "s");
	for (i = 0; i < n; i++) {
		if (plan[i].skip)
			continue;
		pci_describe(plan[i].dev, desc, sizeof(desc));
		fprintf(stderr, "  %s (%s) %s\n", plan[i].dev->addr,
			plan[i].from[0] ? plan[i].from : "no driver", desc);
	}
	fprintf(stderr, "Proceed? [y/N] ");
	fflush(stderr);
	if (!fgets(answer, sizeof(answer), stdin)) {
		fprintf(stderr, "\n");
		return fail(EX_REFUSED,
			    "bind --group: no answer: nothing changed (--yes to not ask)");
	}
	if (answer[0] != 'y' && answer[0] != 'Y')
		return fail(EX_REFUSED, "bind --group: not confirmed: nothing changed");
	return 0;
}

/* Everything bind needs is there and writable: checked before any change. */
static int bind_preflight(struct plan *plan, int n, struct opts *o)
{
	char path[512], dir[512];
	int i, status = 0;

	drv_path(PCIPASS_DRIVER, NULL, path, sizeof(path));
	if (!path_exists(path))
		return fail(EX_FAIL, "the pcipass driver is not loaded (no %s): modprobe pcipass",
			    path);
	for (i = 0; i < n && !status; i++) {
		struct plan *p = &plan[i];

		if (p->skip && !o->persist)
			continue;
		if (!p->skip) {
			dev_path(p->dev, "driver_override", path,
				 sizeof(path));
			status = need_writable(path, p->dev->addr);
			if (!status && p->from[0]) {
				drv_path(p->from, "unbind", path,
					 sizeof(path));
				status = need_writable(path, p->dev->addr);
			}
			if (!status) {
				fmt_path(path, sizeof(path),
					 "%s/bus/pci/drivers_probe",
					 sysfs_root());
				status = need_writable(path, p->dev->addr);
			}
			if (!status)
				status = need_dir(run_dir(), p->dev->addr);
		}
		if (!status && o->persist) {
			fmt_path(dir, sizeof(dir), "%s/udev/rules.d",
				 sysconf_dir());
			status = need_dir(dir, p->dev->addr);
		}
	}
	return status;
}

/* --owner USER: "none", a uid, or a name from /etc/passwd, as a uid. */
static int parse_owner(const char *user, char *uid, size_t len)
{
	char path[512], *line = NULL, *name, *x, *num, *save;
	size_t cap = 0;
	bool found = false;
	FILE *f;

	if (!strcmp(user, "none") || (user[0] && strspn(user, "0123456789") ==
				       strlen(user))) {
		snprintf(uid, len, "%s", user);
		return 0;
	}
	fmt_path(path, sizeof(path), "%s/passwd", sysconf_dir());
	f = fopen(path, "re");
	while (f && !found && getline(&line, &cap, f) > 0) {
		name = strtok_r(line, ":", &save);
		x = strtok_r(NULL, ":", &save);
		num = strtok_r(NULL, ":", &save);
		if (name && x && num && !strcmp(name, user)) {
			snprintf(uid, len, "%s", num);
			found = true;
		}
	}
	free(line);
	if (f)
		fclose(f);
	if (!found)
		return fail(EX_USAGE, "--owner: %s: no such user (in %s); give a uid, or none",
			    user, path);
	return 0;
}

/* pcipass_owner of a device now on pcipass. */
static int set_owner(struct plan *p, const char *uid)
{
	char path[512];

	dev_path(p->dev, "pcipass_owner", path, sizeof(path));
	if (!path_exists(path))
		return fail(EX_FAIL, "%s: this pcipass has no owners (no %s): update pcipass",
			    p->dev->addr, path);
	if (write_attr(path, uid, p->dev->addr))
		return EX_FAIL;
	note("%s: owner %s", p->dev->addr, uid);
	return 0;
}

int cmd_bind(struct opts *o)
{
	char owner_buf[32];
	const char *owner = NULL;
	struct pci_list list;
	struct plan *plan;
	int n, i, status;

	if (o->owner) {
		status = parse_owner(o->owner, owner_buf, sizeof(owner_buf));
		if (status)
			return status;
		owner = owner_buf;
	}
	status = pci_scan(&list);
	if (status)
		return status;
	plan = make_plan(&list, o, true, &n, &status);
	if (!plan)
		goto out_list;
	for (i = 0; i < n; i++) {
		struct plan *p = &plan[i];

		memcpy(p->from, p->dev->driver, NAME_LEN);
		memcpy(p->saved_override, p->dev->override, NAME_LEN);
		snprintf(p->to, sizeof(p->to), "%s", PCIPASS_DRIVER);
		p->skip = !strcmp(p->from, PCIPASS_DRIVER);
		if (pci_is_bridge(p->dev) && !status)
			status = fail(EX_REFUSED, "%s: a PCI bridge (header type %d): not passable",
				      p->dev->addr, p->dev->header_type);
	}
	if (!status)
		status = check_host_needs(plan, n, o->force);
	if (!status)
		status = check_groups(&list, plan, n, true, o->group);
	if (!status)
		status = bind_preflight(plan, n, o);
	if (!status && o->group && !o->yes)
		status = confirm_group(plan, n);
	if (status)
		goto out;

	for (i = 0; i < n && !status; i++) {
		struct plan *p = &plan[i];
		char path[512], now[NAME_LEN];

		if (p->dev->group < 0 && !p->skip)
			warn("%s: no IOMMU group: only allow_noiommu=1 lets pcipass attach it",
			     p->dev->addr);
		if (p->skip) {
			note("%s: already bound to pcipass", p->dev->addr);
			continue;
		}
		status = write_state(p);
		if (status)
			break;
		p->done = true;
		dev_path(p->dev, "driver_override", path, sizeof(path));
		status = write_attr(path, PCIPASS_DRIVER, p->dev->addr);
		if (!status && p->from[0])
			status = unbind_from(p->dev, p->from);
		if (!status) {
			fmt_path(path, sizeof(path), "%s/bus/pci/drivers_probe",
				 sysfs_root());
			status = write_attr(path, p->dev->addr, p->dev->addr);
		}
		if (!status && !settle(p->dev, PCIPASS_DRIVER, now,
				       sizeof(now)))
			status = fail(EX_FAIL, "%s: still on %s, not pcipass; see dmesg",
				      p->dev->addr, now[0] ? now : "no driver");
		if (!status)
			note("%s: %s -> pcipass", p->dev->addr,
			     p->from[0] ? p->from : "no driver");
	}
	for (i = 0; i < n && !status && owner; i++)
		status = set_owner(&plan[i], owner);
	for (i = 0; i < n && !status && o->persist; i++) {
		status = write_rule(&plan[i], owner);
		if (!status)
			note("%s: wrote %s", plan[i].dev->addr, plan[i].rule);
	}
	if (status) {
		undo(plan, n, true);
		goto out;
	}
	if (json_mode())
		json_result(plan, n, o->persist);
out:
	free(plan);
out_list:
	pci_list_free(&list);
	return status;
}

static int unbind_preflight(struct plan *plan, int n, struct opts *o)
{
	char path[512];
	int i, status = 0;

	for (i = 0; i < n && !status; i++) {
		struct plan *p = &plan[i];

		if (o->persist) {
			rule_path(p->dev, p->rule, sizeof(p->rule));
			if (path_exists(p->rule)) {
				char dir[512];

				fmt_path(dir, sizeof(dir), "%s/udev/rules.d",
					 sysconf_dir());
				status = need_writable(dir, p->dev->addr);
			} else {
				p->rule[0] = '\0';
			}
		}
		if (p->skip || status)
			continue;
		if (p->to[0] && strcmp(p->to, "?")) {
			drv_path(p->to, NULL, path, sizeof(path));
			if (!path_exists(path)) {
				status = fail(EX_FAIL, "%s: driver %s is not loaded (modprobe %s)",
					      p->dev->addr, p->to, p->to);
				break;
			}
		}
		dev_path(p->dev, "driver_override", path, sizeof(path));
		status = need_writable(path, p->dev->addr);
		if (!status && p->from[0]) {
			drv_path(p->from, "unbind", path, sizeof(path));
			status = need_writable(path, p->dev->addr);
		}
		if (!status) {
			fmt_path(path, sizeof(path), "%s/bus/pci/drivers_probe",
				 sysfs_root());
			status = need_writable(path, p->dev->addr);
		}
	}
	return status;
}

int cmd_unbind(struct opts *o)
{
	struct pci_list list;
	struct plan *plan;
	int n, i, status;

	status = pci_scan(&list);
	if (status)
		return status;
	plan = make_plan(&list, o, false, &n, &status);
	if (!plan)
		goto out_list;
	for (i = 0; i < n; i++) {
		struct plan *p = &plan[i];

		memcpy(p->from, p->dev->driver, NAME_LEN);
		p->skip = strcmp(p->from, PCIPASS_DRIVER) &&
			  strcmp(p->dev->override, PCIPASS_DRIVER);
		if (p->skip)
			snprintf(p->to, sizeof(p->to), "%s", p->from);
		else
			driver_before(p->dev, p->to, p->saved_override);
	}
	status = check_groups(&list, plan, n, false, o->group);
	if (!status)
		status = unbind_preflight(plan, n, o);
	if (status)
		goto out;

	for (i = 0; i < n && !status; i++) {
		struct plan *p = &plan[i];
		char now[NAME_LEN];

		if (p->skip) {
			note("%s: not bound to pcipass (%s): nothing to do",
			     p->dev->addr,
			     p->from[0] ? p->from : "no driver");
			continue;
		}
		p->done = true;
		status = move_to(p, p->to, p->saved_override);
		if (status)
			break;
		current_driver(p->dev, now, sizeof(now));
		if (!strcmp(now, PCIPASS_DRIVER)) {
			status = fail(EX_FAIL, "%s: pcipass took it again (is it in ids=?)",
				      p->dev->addr);
			break;
		}
		snprintf(p->to, sizeof(p->to), "%s", now);
		note("%s: pcipass -> %s", p->dev->addr,
		     now[0] ? now : "no driver (it had none before bind)");
	}
	if (status) {
		undo(plan, n, false);
		goto out;
	}
	for (i = 0; i < n; i++) {
		char path[512];

		state_path(plan[i].dev, path, sizeof(path));
		if (plan[i].done)
			unlink(path);
	}
	for (i = 0; i < n && o->persist; i++) {
		struct plan *p = &plan[i];

		if (!p->rule[0]) {
			note("%s: no persist rule to remove", p->dev->addr);
			continue;
		}
		if (unlink(p->rule) && errno != ENOENT) {
			status = fail(errno_status(errno), "%s: removing %s: %s",
				      p->dev->addr, p->rule, strerror(errno));
			break;
		}
		note("%s: removed %s", p->dev->addr, p->rule);
	}
	if (!status && json_mode())
		json_result(plan, n, o->persist);
out:
	free(plan);
out_list:
	pci_list_free(&list);
	return status;
}

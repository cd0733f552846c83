// SPDX-License-Identifier: GPL-2.0
/*
 * pcipass-tool stat: the live contexts of pcipass, their devices, pinned
 * memory, mappings and interrupts per vector, from the debugfs file
 * /sys/kernel/debug/pcipass/stat. Owns its parser: one record a line,
 * "TYPE CTX-ID [positional fields] KEY VALUE...":
 *
 *   ctx 1 pid 123 comm qemu mode iommu devices 1 pinned_bytes 8192 mappings 2
 *   dev 1 0000:00:03.0 irq_type msi
 *   irq 1 0000:00:03.0 msi 0 count 12
 *
 * Unknown record types and unknown keys are ignored, so the file can grow.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pcipass-tool.h"

#define MAX_TOKENS	128

const char *stat_path(char *buf, size_t len)
{
	fmt_path(buf, len, "%s/kernel/debug/pcipass/stat", sysfs_root());
	return buf;
}

static bool to_ll(const char *s, long long *val)
{
	char *end;

	errno = 0;
	*val = strtoll(s, &end, 0);
	return !errno && end != s && !*end;
}

static struct stat_ctx *get_ctx(struct stats *st, long long id)
{
	struct stat_ctx *c;
	int i;

	for (i = 0; i < st->nctx; i++)
		if (st->ctx[i].id == id)
			return &st->ctx[i];
	st->ctx = xrealloc(st->ctx, (st->nctx + 1) * sizeof(*st->ctx));
	c = &st->ctx[st->nctx++];
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->pid = -1;
	c->devices = -1;
	c->pinned_bytes = -1;
	c->mappings = -1;
	return c;
}

static struct stat_dev *get_dev(struct stat_ctx *c, const char *addr)
{
	struct stat_dev *d;
	int i;

	for (i = 0; i < c->ndevs; i++)
		if (!strcmp(c->devs[i].addr, addr))
			return &c->devs[i];
	c->devs = xrealloc(c->devs, (c->ndevs + 1) * sizeof(*c->devs));
	d = &c->devs[c->ndevs++];
	memset(d, 0, sizeof(*d));
	snprintf(d->addr, sizeof(d->addr), "%s", addr);
	return d;
}

static void ctx_record(struct stat_ctx *c, char **tok, int n)
{
	long long v;
	int i;

	for (i = 0; i + 1 < n; i += 2) {
		const char *k = tok[i], *val = tok[i + 1];

		if (!strcmp(k, "comm"))
			snprintf(c->comm, sizeof(c->comm), "%s", val);
		else if (!strcmp(k, "mode"))
			snprintf(c->mode, sizeof(c->mode), "%s", val);
		else if (!to_ll(val, &v))
			continue;
		else if (!strcmp(k, "pid"))
			c->pid = v;
		else if (!strcmp(k, "devices"))
			c->devices = v;
		else if (!strcmp(k, "pinned_bytes"))
			c->pinned_bytes = v;
		else if (!strcmp(k, "mappings"))
			c->mappings = v;
	}
}

static void irq_record(struct stat_dev *d, char **tok, int n)
{
	struct stat_irq *q = NULL;
	long long vec, v;
	int i;

	if (n < 2 || !to_ll(tok[1], &vec))
		return;
	for (i = 0; i < d->nirqs; i++)
		if (!strcmp(d->irqs[i].type, tok[0]) && d->irqs[i].vector == vec)
			q = &d->irqs[i];
	if (!q) {
		d->irqs = xrealloc(d->irqs, (d->nirqs + 1) * sizeof(*d->irqs));
		q = &d->irqs[d->nirqs++];
		memset(q, 0, sizeof(*q));
		snprintf(q->type, sizeof(q->type), "%s", tok[0]);
		q->vector = (int)vec;
	}
	for (i = 2; i + 1 < n; i += 2)
		if (!strcmp(tok[i], "count") && to_ll(tok[i + 1], &v))
			q->count = v;
}

/* Parse the whole file; malformed lines are skipped. */
int stat_parse(FILE *f, struct stats *st)
{
	char *line = NULL, *tok[MAX_TOKENS], *save;
	size_t cap = 0;
	long long id;
	int n, i;

	memset(st, 0, sizeof(*st));
	while (getline(&line, &cap, f) > 0) {
		struct stat_ctx *c;
		struct stat_dev *d;

		n = 0;
		for (tok[n] = strtok_r(line, " \t\n", &save);
		     tok[n] && n < MAX_TOKENS - 1;
		     tok[n] = strtok_r(NULL, " \t\n", &save))
			n++;
		if (n < 2 || !to_ll(tok[1], &id))
			continue;
		if (!strcmp(tok[0], "ctx")) {
			ctx_record(get_ctx(st, id), tok + 2, n - 2);
			continue;
		}
		if (n < 3 || (strcmp(tok[0], "dev") && strcmp(tok[0], "irq")))
			continue;
		c = get_ctx(st, id);
		d = get_dev(c, tok[2]);
		if (!strcmp(tok[0], "irq")) {
			irq_record(d, tok + 3, n - 3);
			continue;
		}
		for (i = 3; i + 1 < n; i += 2)
			if (!strcmp(tok[i], "irq_type"))
				snprintf(d->irq_type, sizeof(d->irq_type), "%s",
					 tok[i + 1]);
	}
	free(line);
	return ferror(f) ? -EIO : 0;
}

void stat_free(struct stats *st)
{
	int i, j;

	for (i = 0; i < st->nctx; i++) {
		for (j = 0; j < st->ctx[i].ndevs; j++)
			free(st->ctx[i].devs[j].irqs);
		free(st->ctx[i].devs);
	}
	free(st->ctx);
	memset(st, 0, sizeof(*st));
}

/* Why the statistics file cannot be read, as an exit status. */
static int explain_missing(const char *path, int err)
{
	char dir[512];
	DIR *d;

	if (err == EACCES || err == EPERM)
		return fail(EX_PERM, "%s: permission denied (debugfs is for root only)",
			    path);
	if (err != ENOENT)
		return fail(EX_FAIL, "%s: %s", path, strerror(err));
	if (!module_loaded())
		return fail(EX_NOSTAT, "no statistics: pcipass is not loaded (modprobe pcipass)");
	fmt_path(dir, sizeof(dir), "%s/kernel/debug", sysfs_root());
	d = opendir(dir);
	if (!d && (errno == EACCES || errno == EPERM))
		return fail(EX_PERM, "%s: permission denied (debugfs is for root only)",
			    dir);
	if (d)
		closedir(d);
	if (!dir_has_entries(dir))
		return fail(EX_NOSTAT, "debugfs is not mounted on %s: mount -t debugfs none %s",
			    dir, dir);
	return fail(EX_NOSTAT, "the loaded pcipass does not provide statistics (no %s)",
		    path);
}

int stat_read(struct stats *st)
{
	char path[512];
	FILE *f;
	int ret;

	memset(st, 0, sizeof(*st));
	stat_path(path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return explain_missing(path, errno);
	ret = stat_parse(f, st);
	fclose(f);
	if (ret)
		return fail(EX_FAIL, "%s: read error", path);
	return 0;
}

static void json_stats(const struct stats *st)
{
	long long devs = 0, pinned = 0, maps = 0;
	int i, j, k;

	json_arr("contexts");
	for (i = 0; i < st->nctx; i++) {
		const struct stat_ctx *c = &st->ctx[i];

		json_obj(NULL);
		json_int("id", c->id);
		if (c->pid >= 0)
			json_int("pid", c->pid);
		else
			json_null("pid");
		json_str("comm", c->comm[0] ? c->comm : NULL);
		json_str("mode", c->mode[0] ? c->mode : NULL);
		json_int("devices", c->devices >= 0 ? c->devices : c->ndevs);
		if (c->pinned_bytes >= 0)
			json_int("pinned_bytes", c->pinned_bytes);
		else
			json_null("pinned_bytes");
		if (c->mappings >= 0)
			json_int("mappings", c->mappings);
		else
			json_null("mappings");
		json_arr("attached");
		for (j = 0; j < c->ndevs; j++) {
			const struct stat_dev *d = &c->devs[j];

			json_obj(NULL);
			json_str("address", d->addr);
			json_str("irq_type", d->irq_type[0] ? d->irq_type : NULL);
			json_arr("interrupts");
			for (k = 0; k < d->nirqs; k++) {
				json_obj(NULL);
				json_str("type", d->irqs[k].type);
				json_int("vector", d->irqs[k].vector);
				json_int("count", (long long)d->irqs[k].count);
				json_end();
			}
			json_end();
			json_end();
		}
		json_end();
		json_end();
		devs += c->devices >= 0 ? c->devices : c->ndevs;
		pinned += c->pinned_bytes > 0 ? c->pinned_bytes : 0;
		maps += c->mappings > 0 ? c->mappings : 0;
	}
	json_end();
	json_obj("total");
	json_int("contexts", st->nctx);
	json_int("devices", devs);
	json_int("pinned_bytes", pinned);
	json_int("mappings", maps);
	json_end();
}

static void print_stats(const struct stats *st)
{
	long long devs = 0, pinned = 0, maps = 0, nd;
	char size[32];
	int i, j, k;

	if (!st->nctx)
		printf("no live contexts\n");
	for (i = 0; i < st->nctx; i++) {
		const struct stat_ctx *c = &st->ctx[i];

		nd = c->devices >= 0 ? c->devices : c->ndevs;
		printf("context %lld:", c->id);
		if (c->pid >= 0)
			printf(" pid %lld%s%s%s,", c->pid, c->comm[0] ? " (" : "",
			       c->comm, c->comm[0] ? ")" : "");
		if (c->mode[0])
			printf(" mode %s,", c->mode);
		printf(" %lld device%s", nd, nd == 1 ? "" : "s");
		if (c->pinned_bytes >= 0) {
			human_size(c->pinned_bytes, size, sizeof(size));
			printf(", %s pinned", size);
		}
		if (c->mappings >= 0)
			printf(" in %lld mapping%s", c->mappings,
			       c->mappings == 1 ? "" : "s");
		printf("\n");
		for (j = 0; j < c->ndevs; j++) {
			const struct stat_dev *d = &c->devs[j];

			printf("\t%s: interrupts %s\n", d->addr,
			       d->irq_type[0] ? d->irq_type : "unknown");
			for (k = 0; k < d->nirqs; k++)
				printf("\t\t%s %d: %llu\n", d->irqs[k].type,
				       d->irqs[k].vector, d->irqs[k].count);
		}
		devs += nd;
		pinned += c->pinned_bytes > 0 ? c->pinned_bytes : 0;
		maps += c->mappings > 0 ? c->mappings : 0;
	}
	human_size(pinned, size, sizeof(size));
	printf("total: %d context%s, %lld device%s, %s pinned, %lld mapping%s\n",
	       st->nctx, st->nctx == 1 ? "" : "s", devs, devs == 1 ? "" : "s",
	       size, maps, maps == 1 ? "" : "s");
}

static int stat_once(void)
{
	struct stats st;
	int ret;

	ret = stat_read(&st);
	if (ret)
		return ret;
	if (json_mode())
		json_stats(&st);
	else
		print_stats(&st);
	stat_free(&st);
	return EX_OK;
}

static void watch_json_error(int ret)
{
	json_begin();
	json_str("command", "stat");
	json_str("error", fail_message());
	json_int("exit_status", ret);
	json_end();
	json_flush(stdout, false);
}

/*
 * -w: like watch(1); one compact JSON document a line with --json. When
 * there are no statistics to begin with, says why once and exits.
 */
static int stat_watch(double seconds)
{
	struct timespec ts = {
		.tv_sec = (time_t)seconds,
		.tv_nsec = (long)((seconds - (time_t)seconds) * 1e9),
	};
	bool tty = isatty(STDOUT_FILENO);
	struct stats st;
	char stamp[64];
	time_t now;
	int ret;

	ret = stat_read(&st);
	if (ret) {
		if (json_mode())
			watch_json_error(ret);
		return ret;
	}
	stat_free(&st);
	for (;;) {
		now = time(NULL);
		strftime(stamp, sizeof(stamp), "%c", localtime(&now));
		if (json_mode()) {
			json_begin();
			json_str("command", "stat");
			ret = stat_once();
			if (ret) {
				watch_json_error(ret);
				nanosleep(&ts, NULL);
				continue;
			}
			json_int("exit_status", ret);
			json_end();
			json_flush(stdout, false);
		} else {
			if (tty)
				printf("\033[H\033[2J");
			printf("Every %gs: %s stat\t%s\n\n", seconds, PROG, stamp);
			stat_once();
			fflush(stdout);
		}
		nanosleep(&ts, NULL);
	}
	return EX_OK;
}

int cmd_stat(struct opts *o)
{
	if (o->watch)
		return stat_watch(o->watch);
	return stat_once();
}

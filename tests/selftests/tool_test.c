// SPDX-License-Identifier: GPL-2.0
/*
 * pcipass-tool as an admin uses it, in the test VMs: list (text and JSON)
 * against sysfs, check's verdict per VM, bind and unbind of the NVMe
 * controller, info against edu's config space and resources, and bad input
 * (clear message, non-zero exit, nothing changed). Runs the tool named by
 * $PCIPASS_TOOL (default "pcipass-tool", found in $PATH). Owns a tiny JSON
 * parser to check what --json prints.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "pcipass_util.h"

#define OUT_MAX		(1024 * 1024)
#define NVME_BLOCK	"/sys/block/nvme0n1"

/* ---- running the tool ------------------------------------------------ */

struct result {
	int status;		/* exit status, -1: did not exit */
	char *out, *err;
};

static char *slurp(FILE *f)
{
	char *buf = calloc(1, OUT_MAX + 1);
	size_t n;

	if (!buf)
		return NULL;
	rewind(f);
	n = fread(buf, 1, OUT_MAX, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Run the tool with up to 7 arguments (NULL-terminated). */
static struct result tool(const char *a1, ...)
{
	const char *argv[10] = { pp_env("PCIPASS_TOOL", "pcipass-tool"), a1 };
	struct result r = { .status = -1 };
	FILE *out = tmpfile(), *err = tmpfile();
	int argc = 2, wstatus;
	va_list ap;
	pid_t pid;

	va_start(ap, a1);
	while (a1 && argc < 9 && (argv[argc] = va_arg(ap, const char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	if (!out || !err)
		return r;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		/* nothing to answer with: bind --group must not wait */
		if (!freopen("/dev/null", "r", stdin))
			_exit(126);
		dup2(fileno(out), STDOUT_FILENO);
		dup2(fileno(err), STDERR_FILENO);
		execvp(argv[0], (char **)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (pid > 0 && waitpid(pid, &wstatus, 0) == pid && WIFEXITED(wstatus))
		r.status = WEXITSTATUS(wstatus);
	r.out = slurp(out);
	r.err = slurp(err);
	return r;
}

static void result_free(struct result *r)
{
	free(r->out);
	free(r->err);
}

/* The line of @text that starts with @prefix, copied into @buf. */
static bool line_starting(const char *text, const char *prefix, char *buf,
			  size_t len)
{
	const char *p = text;
	size_t n;

	while (p && *p) {
		if (!strncmp(p, prefix, strlen(prefix))) {
			n = strcspn(p, "\n");
			snprintf(buf, len, "%.*s", (int)n, p);
			return true;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

/* The line after the one that starts with @prefix. */
static bool line_after(const char *text, const char *prefix, char *buf,
		       size_t len)
{
	char first[1024];
	const char *p;

	if (!line_starting(text, prefix, first, sizeof(first)))
		return false;
	p = strstr(text, first);
	p = p ? strchr(p, '\n') : NULL;
	if (!p)
		return false;
	return line_starting(p + 1, "", buf, len);
}

/* ---- what sysfs says -------------------------------------------------- */

static void sysfs_attr(const char *addr, const char *attr, char *buf,
		       size_t len)
{
	char path[256];

	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s/%s", addr, attr);
	if (pp_read_file(path, buf, len))
		buf[0] = '\0';
}

/* IOMMU group number, -1 for none. */
static int sysfs_group(const char *addr)
{
	char path[256], target[256], *base;
	ssize_t n;

	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s/iommu_group", addr);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -1;
	target[n] = '\0';
	base = strrchr(target, '/');
	return atoi(base ? base + 1 : target);
}

static void sysfs_driver(const char *addr, char *buf, size_t len)
{
	if (pp_dev_driver(addr, buf, len))
		buf[0] = '\0';
}

/* "0x1b36" -> "1b36" */
static void sysfs_id(const char *addr, const char *attr, char *buf,
		     size_t len)
{
	char raw[32];

	sysfs_attr(addr, attr, raw, sizeof(raw));
	snprintf(buf, len, "%s", raw[0] == '0' && raw[1] == 'x' ? raw + 2 : raw);
}

/* Drivers and overrides of every device: what a command may change. */
static char *sysfs_snapshot(void)
{
	char *snap = calloc(1, OUT_MAX), drv[64], ovr[64];
	FILE *ls = popen("ls /sys/bus/pci/devices", "r");
	char addr[64];
	size_t off = 0;

	if (!snap || !ls)
		return snap;
	while (fscanf(ls, "%63s", addr) == 1 && off < OUT_MAX - 256) {
		sysfs_driver(addr, drv, sizeof(drv));
		sysfs_attr(addr, "driver_override", ovr, sizeof(ovr));
		off += snprintf(snap + off, OUT_MAX - off, "%s %s %s\n", addr,
				drv, ovr);
	}
	pclose(ls);
	return snap;
}

/* ---- a tiny JSON parser ----------------------------------------------- */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jval {
	enum jtype type;
	double num;
	bool b;
	char *str;		/* J_STR */
	int n;			/* J_ARR, J_OBJ */
	char **keys;		/* J_OBJ */
	struct jval **items;	/* J_ARR, J_OBJ */
};

struct jparser {
	const char *p;
	int depth;
};

static void jskip(struct jparser *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' ||
	       *j->p == '\r')
		j->p++;
}

static struct jval *jparse_value(struct jparser *j);

/* A string; \u escapes other than ASCII are kept as '?'. */
static char *jparse_string(struct jparser *j)
{
	size_t cap = 64, n = 0;
	char *s = malloc(cap);
	unsigned int u;
	int i;

	if (!s || *j->p != '"')
		goto bad;
	j->p++;
	while (*j->p != '"') {
		char c = *j->p++;

		if ((unsigned char)c < 0x20)
			goto bad;
		if (c == '\\') {
			c = *j->p++;
			switch (c) {
			case '"':
			case '\\':
			case '/':
				break;
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case 'n':
				c = '\n';
				break;
			case 'r':
				c = '\r';
				break;
			case 't':
				c = '\t';
				break;
			case 'u':
				for (u = 0, i = 0; i < 4; i++) {
					if (!isxdigit((unsigned char)j->p[i]))
						goto bad;
					u = u * 16 + (isdigit((unsigned char)j->p[i]) ?
						      j->p[i] - '0' :
						      tolower((unsigned char)j->p[i]) - 'a' + 10);
				}
				c = u && u < 0x80 ? (char)u : '?';
				j->p += 4;
				break;
			default:
				goto bad;
			}
		}
		if (n + 2 > cap) {
			char *ns = realloc(s, cap *= 2);

			if (!ns)
				goto bad;
			s = ns;
		}
		s[n++] = c;
	}
	j->p++;
	s[n] = '\0';
	return s;
bad:
	free(s);
	return NULL;
}

static bool jadd(struct jval *v, char *key, struct jval *item)
{
	char **keys = realloc(v->keys, (v->n + 1) * sizeof(*keys));
	struct jval **items;

	if (!keys)
		return false;
	v->keys = keys;
	items = realloc(v->items, (v->n + 1) * sizeof(*items));
	if (!items)
		return false;
	v->items = items;
	v->keys[v->n] = key;
	v->items[v->n++] = item;
	return true;
}

static struct jval *jparse_container(struct jparser *j, struct jval *v)
{
	char close = v->type == J_OBJ ? '}' : ']';
	struct jval *item;
	char *key = NULL;

	j->p++;
	jskip(j);
	if (*j->p == close) {
		j->p++;
		return v;
	}
	for (;;) {
		jskip(j);
		if (v->type == J_OBJ) {
			key = jparse_string(j);
			jskip(j);
			if (!key || *j->p++ != ':')
				return NULL;
		}
		item = jparse_value(j);
		if (!item || !jadd(v, key, item))
			return NULL;
		jskip(j);
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p++ != close)
			return NULL;
		return v;
	}
}

static struct jval *jparse_value(struct jparser *j)
{
	struct jval *v = calloc(1, sizeof(*v));
	char *end;

	if (!v || ++j->depth > 64)
		return NULL;
	jskip(j);
	if (*j->p == '{' || *j->p == '[') {
		v->type = *j->p == '{' ? J_OBJ : J_ARR;
		v = jparse_container(j, v);
	} else if (*j->p == '"') {
		v->type = J_STR;
		v->str = jparse_string(j);
		if (!v->str)
			v = NULL;
	} else if (!strncmp(j->p, "true", 4) || !strncmp(j->p, "false", 5)) {
		v->type = J_BOOL;
		v->b = *j->p == 't';
		j->p += v->b ? 4 : 5;
	} else if (!strncmp(j->p, "null", 4)) {
		j->p += 4;
	} else if (*j->p == '-' || isdigit((unsigned char)*j->p)) {
		v->type = J_NUM;
		v->num = strtod(j->p, &end);
		j->p = end;
	} else {
		v = NULL;
	}
	j->depth--;
	return v;
}

/* Parse a whole document (trailing blanks allowed); NULL if not JSON. */
static struct jval *json_parse(const char *text)
{
	struct jparser j = { .p = text };
	struct jval *v = jparse_value(&j);

	jskip(&j);
	return v && !*j.p ? v : NULL;
}

static struct jval *jget(const struct jval *obj, const char *key)
{
	int i;

	for (i = 0; obj && obj->type == J_OBJ && i < obj->n; i++)
		if (!strcmp(obj->keys[i], key))
			return obj->items[i];
	return NULL;
}

static const char *jstr(const struct jval *obj, const char *key)
{
	const struct jval *v = jget(obj, key);

	return v && v->type == J_STR ? v->str : NULL;
}

/* A number member; @def when missing or null. */
static double jnum(const struct jval *obj, const char *key, double def)
{
	const struct jval *v = jget(obj, key);

	return v && v->type == J_NUM ? v->num : def;
}

/* The element of array @arr whose @key is the string @val. */
static struct jval *jfind(const struct jval *arr, const char *key,
			  const char *val)
{
	int i;

	for (i = 0; arr && arr->type == J_ARR && i < arr->n; i++)
		if (jstr(arr->items[i], key) &&
		    !strcmp(jstr(arr->items[i], key), val))
			return arr->items[i];
	return NULL;
}

/* Leaked on purpose in a short-lived test process: no json_free(). */

/* ---- the tests -------------------------------------------------------- */

#define NOT_IN_VM	"not in a pcipass test VM (PCIPASS_VM unset)"

static bool in_vm(void)
{
	return getenv("PCIPASS_VM");
}

struct qdev {
	const char *addr;
	const char *id;		/* "vvvv:dddd" */
};

static void qemu_devices(struct qdev d[3])
{
	d[0] = (struct qdev){ pp_edu_addr(), "1234:11e8" };
	d[1] = (struct qdev){ pp_nvme_addr(), "1b36:0010" };
	d[2] = (struct qdev){ pp_serial_addr(), "1b36:0002" };
}

TEST(json_parser_rejects_what_is_not_json)
{
	/* the validator itself, so the JSON tests cannot pass vacuously */
	ASSERT_NE(NULL, json_parse("{\"a\": [1, -2.5e3, true, null, \"x\\n\"]}"));
	EXPECT_EQ(NULL, json_parse("{\"a\": 1,}"));
	EXPECT_EQ(NULL, json_parse("{\"a\" 1}"));
	EXPECT_EQ(NULL, json_parse("[1, 2"));
	EXPECT_EQ(NULL, json_parse("{\"a\": \"tab\there\"}"));
	EXPECT_EQ(NULL, json_parse("{} {}"));
	EXPECT_EQ(NULL, json_parse(""));
}

TEST(list_shows_the_qemu_devices)
{
	char line[1024], want[256], drv[64];
	struct qdev d[3];
	struct result r;
	int i, group;

	if (!in_vm())
		SKIP(return, NOT_IN_VM);
	/* Whatever a test before left: without allow_noiommu, as loaded. */
	if (pp_vm_is("noiommu") && pp_module_loaded())
		ASSERT_EQ(0, pp_write_file("/sys/module/pcipass/parameters/allow_noiommu",
					   "0"));
	qemu_devices(d);
	r = tool("list", NULL);
	ASSERT_EQ(0, r.status) TH_LOG("stderr: %s", r.err);
	for (i = 0; i < 3; i++) {
		ASSERT_TRUE(line_starting(r.out, d[i].addr, line, sizeof(line)))
			TH_LOG("no %s in:\n%s", d[i].addr, r.out);
		snprintf(want, sizeof(want), "[%s]", d[i].id);
		EXPECT_NE(NULL, strstr(line, want)) TH_LOG("%s", line);

		ASSERT_TRUE(line_after(r.out, d[i].addr, line, sizeof(line)));
		group = sysfs_group(d[i].addr);
		if (group >= 0)
			snprintf(want, sizeof(want), "\tIOMMU group %d, ", group);
		else
			snprintf(want, sizeof(want), "\tno IOMMU group, ");
		EXPECT_EQ(0, strncmp(line, want, strlen(want)))
			TH_LOG("%s: \"%s\", want \"%s...\"", d[i].addr, line,
			       want);
		sysfs_driver(d[i].addr, drv, sizeof(drv));
		if (drv[0])
			snprintf(want, sizeof(want), "driver %s: ", drv);
		else
			snprintf(want, sizeof(want), "no driver: ");
		EXPECT_NE(NULL, strstr(line, want))
			TH_LOG("%s: \"%s\", want \"%s\"", d[i].addr, line, want);
	}
	/* no IOMMU: nothing is viable, and list says why */
	if (pp_vm_is("noiommu")) {
		ASSERT_TRUE(line_after(r.out, pp_nvme_addr(), line,
				       sizeof(line)));
		EXPECT_NE(NULL, strstr(line, "not viable: no IOMMU group"))
			TH_LOG("%s", line);
	}
	result_free(&r);
}

TEST(list_json_matches_sysfs)
{
	char vendor[32], device[32], cls[32], drv[64];
	struct jval *doc, *devs, *dev;
	FILE *ls;
	char addr[64];
	struct result r;
	int n = 0;

	if (!in_vm())
		SKIP(return, NOT_IN_VM);
	r = tool("--json", "list", NULL);
	ASSERT_EQ(0, r.status) TH_LOG("stderr: %s", r.err);
	doc = json_parse(r.out);
	ASSERT_NE(NULL, doc) TH_LOG("not JSON:\n%s", r.out);
	EXPECT_STREQ("list", jstr(doc, "command"));
	EXPECT_EQ(0, jnum(doc, "exit_status", -1));
	devs = jget(doc, "devices");
	ASSERT_NE(NULL, devs);
	ASSERT_EQ(J_ARR, devs->type);

	ls = popen("ls /sys/bus/pci/devices", "r");
	ASSERT_NE(NULL, ls);
	while (fscanf(ls, "%63s", addr) == 1) {
		n++;
		dev = jfind(devs, "address", addr);
		ASSERT_NE(NULL, dev) TH_LOG("%s missing from list --json", addr);
		sysfs_id(addr, "vendor", vendor, sizeof(vendor));
		sysfs_id(addr, "device", device, sizeof(device));
		sysfs_id(addr, "class", cls, sizeof(cls));
		cls[4] = '\0';		/* class and subclass */
		EXPECT_STREQ(vendor, jstr(dev, "vendor_id"));
		EXPECT_STREQ(device, jstr(dev, "device_id"));
		EXPECT_STREQ(cls, jstr(dev, "class"));
		EXPECT_EQ(sysfs_group(addr), jnum(dev, "iommu_group", -1))
			TH_LOG("%s", addr);
		sysfs_driver(addr, drv, sizeof(drv));
		if (drv[0]) {
			EXPECT_STREQ(drv, jstr(dev, "driver"));
		} else {
			ASSERT_NE(NULL, jget(dev, "driver"));
			EXPECT_EQ(J_NULL, jget(dev, "driver")->type);
		}
		EXPECT_NE(NULL, jstr(dev, "verdict"));
	}
	pclose(ls);
	EXPECT_EQ(n, devs->n);
	EXPECT_LT(2, n);
	result_free(&r);
}

TEST(check_verdict_fits_the_vm)
{
	struct jval *doc, *checks, *c;
	char line[1024];
	struct result r;

	if (!in_vm())
		SKIP(return, NOT_IN_VM);
	ASSERT_EQ(0, pp_run("modprobe pcipass"));
	r = tool("check", NULL);
	if (pp_vm_is("iommu")) {
		EXPECT_EQ(0, r.status) TH_LOG("check:\n%s%s", r.out, r.err);
		EXPECT_EQ(NULL, strstr(r.out, "FAIL")) TH_LOG("%s", r.out);
		EXPECT_TRUE(line_starting(r.out, "PASS  iommu ", line,
					  sizeof(line))) TH_LOG("%s", r.out);
		EXPECT_TRUE(line_starting(r.out, "PASS  interrupt-remapping ",
					  line, sizeof(line)))
			TH_LOG("%s", r.out);
		EXPECT_TRUE(line_starting(r.out, "PASS  device-node ", line,
					  sizeof(line))) TH_LOG("%s", r.out);
	} else if (pp_vm_is("noiommu")) {
		EXPECT_EQ(1, r.status) TH_LOG("check:\n%s%s", r.out, r.err);
		EXPECT_TRUE(line_starting(r.out, "FAIL  iommu ", line,
					  sizeof(line))) TH_LOG("%s", r.out);
		EXPECT_TRUE(line_starting(r.out, "FAIL  interrupt-remapping ",
					  line, sizeof(line)))
			TH_LOG("%s", r.out);
		EXPECT_NE(NULL, strstr(r.out, "not ready")) TH_LOG("%s", r.out);
	} else if (pp_vm_is("nointremap")) {
		EXPECT_EQ(1, r.status) TH_LOG("check:\n%s%s", r.out, r.err);
		EXPECT_TRUE(line_starting(r.out, "PASS  iommu ", line,
					  sizeof(line))) TH_LOG("%s", r.out);
		EXPECT_TRUE(line_starting(r.out, "FAIL  interrupt-remapping ",
					  line, sizeof(line)))
			TH_LOG("%s", r.out);
	}
	/* the module is loaded: that check passes in every VM */
	EXPECT_TRUE(line_starting(r.out, "PASS  module ", line, sizeof(line)))
		TH_LOG("%s", r.out);
	/* what fails comes with a fix, on a line of its own after it */
	if (!pp_vm_is("iommu")) {
		const char *p = strstr(r.out, "FAIL  interrupt-remapping ");

		ASSERT_NE(NULL, p);
		p = strchr(p, '\n');
		while (p && !strncmp(p + 1, "                           ", 27))
			p = strchr(p + 1, '\n');	/* the detail, wrapped */
		ASSERT_NE(NULL, p);
		EXPECT_EQ(0, strncmp(p + 1, "      fix: ", 11)) TH_LOG("%s", r.out);
	}
	result_free(&r);

	r = tool("check", "--json", NULL);
	doc = json_parse(r.out);
	ASSERT_NE(NULL, doc) TH_LOG("not JSON:\n%s", r.out);
	EXPECT_EQ(r.status, jnum(doc, "exit_status", -1));
	checks = jget(doc, "checks");
	ASSERT_NE(NULL, checks);
	c = jfind(checks, "name", "iommu");
	ASSERT_NE(NULL, c);
	EXPECT_STREQ(pp_vm_is("noiommu") ? "FAIL" : "PASS", jstr(c, "status"));
	c = jfind(checks, "name", "interrupt-remapping");
	ASSERT_NE(NULL, c);
	EXPECT_STREQ(pp_vm_is("iommu") ? "PASS" : "FAIL", jstr(c, "status"));
	EXPECT_EQ(pp_vm_is("iommu"), jget(doc, "ready")->b);
	result_free(&r);
}

TEST(check_covers_the_host_and_fits_the_terminal)
{
	const char *p, *nl;
	char line[1024];
	struct result r;

	if (!in_vm())
		SKIP(return, NOT_IN_VM);
	ASSERT_EQ(0, pp_run("modprobe pcipass"));
	setenv("COLUMNS", "80", 1);
	r = tool("check", NULL);
	unsetenv("COLUMNS");
	EXPECT_TRUE(line_starting(r.out, "PASS  kernel               Linux 6.12.",
				  line, sizeof(line))) TH_LOG("%s", r.out);
	EXPECT_TRUE(line_starting(r.out, "INFO  kvm ", line, sizeof(line)))
		TH_LOG("%s", r.out);
	EXPECT_TRUE(line_starting(r.out, "PASS  secure-boot          Secure Boot n/a (no EFI)",
				  line, sizeof(line))) TH_LOG("%s", r.out);
	EXPECT_TRUE(line_starting(r.out, "PASS  boot-options ", line,
				  sizeof(line)) || !pp_vm_is("iommu"))
		TH_LOG("%s", r.out);
	EXPECT_EQ(NULL, strstr(r.out, "amd_iommu=on")) TH_LOG("%s", r.out);
	for (p = r.out; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		EXPECT_LE(nl - p, 80) TH_LOG("longer than 80: %.*s", (int)(nl - p), p);
	}
	result_free(&r);
}

TEST(bind_refuses_the_host_bridge_and_asks_for_groups)
{
	const char *nvme = pp_nvme_addr();
	char drv[64], cls[32], owner[32];
	struct result r;

	if (!in_vm())
		SKIP(return, NOT_IN_VM);
	ASSERT_EQ(0, pp_run("modprobe pcipass && modprobe nvme"));
	ASSERT_TRUE(pp_wait_driver(nvme, "nvme", 10000));

	/* q35's host bridge */
	sysfs_attr("0000:00:00.0", "class", cls, sizeof(cls));
	ASSERT_STREQ("0x060000", cls);
	sysfs_driver("0000:00:00.0", drv, sizeof(drv));
	r = tool("bind", "0000:00:00.0", NULL);
	EXPECT_EQ(6, r.status) TH_LOG("%s%s", r.out, r.err);
	EXPECT_NE(NULL, strstr(r.err, "the host needs it: a host bridge"))
		TH_LOG("%s", r.err);
	result_free(&r);
	{
		char now[64];

		sysfs_driver("0000:00:00.0", now, sizeof(now));
		EXPECT_STREQ(drv, now);
	}

	/* --group lists and asks; no answer, no change */
	r = tool("bind", "--group", nvme, NULL);
	EXPECT_EQ(6, r.status) TH_LOG("%s%s", r.out, r.err);
	EXPECT_NE(NULL, strstr(r.err, "bind --group moves 1 device to pcipass:"))
		TH_LOG("%s", r.err);
	EXPECT_NE(NULL, strstr(r.err, nvme)) TH_LOG("%s", r.err);
	result_free(&r);
	sysfs_driver(nvme, drv, sizeof(drv));
	EXPECT_STREQ("nvme", drv);

	/* -gy: no question; --owner: the driver's pcipass_owner */
	r = tool("bind", "-gy", "--owner=0", nvme, NULL);
	ASSERT_EQ(0, r.status) TH_LOG("%s%s", r.out, r.err);
	result_free(&r);
	sysfs_driver(nvme, drv, sizeof(drv));
	EXPECT_STREQ("pcipass", drv);
	sysfs_attr(nvme, "pcipass_owner", owner, sizeof(owner));
	EXPECT_STREQ("0", owner);
	r = tool("info", nvme, NULL);
	EXPECT_NE(NULL, strstr(r.out, "Owner: uid 0")) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "At boot: not persisted")) TH_LOG("%s", r.out);
	result_free(&r);
	r = tool("unbind", nvme, NULL);
	EXPECT_EQ(0, r.status) TH_LOG("%s%s", r.out, r.err);
	result_free(&r);
	EXPECT_TRUE(pp_wait_driver(nvme, "nvme", 10000));
}

/*
 * The driver's viability rule: a group member on pcieport or no driver
 * (the root port and function 1 of the pair, as a GPU's root port and
 * audio) is harmless, one on ahci (a driver that does DMA) is not.
 */
TEST(verdict_follows_the_drivers_dma_rule)
{
	const char *a0 = pp_pair0_addr();
	char line[1024];
	struct result r;

	if (!pp_vm_is("iommu"))
		SKIP(return, "the device pair is in the iommu VM");
	ASSERT_EQ(0, pp_run("modprobe pcipass"));
	r = tool("list", NULL);
	ASSERT_TRUE(line_after(r.out, a0, line, sizeof(line))) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(line, "needs bind")) TH_LOG("%s", line);
	result_free(&r);
	r = tool("bind", a0, NULL);
	EXPECT_EQ(0, r.status) TH_LOG("%s%s", r.out, r.err);
	result_free(&r);
	r = tool("unbind", a0, NULL);
	EXPECT_EQ(0, r.status) TH_LOG("%s%s", r.out, r.err);
	result_free(&r);

	if (pp_run("modprobe ahci"))
		SKIP(return, "no ahci (the debug kernel has no ATA)");
	ASSERT_EQ(0, pp_dev_rebind("0000:00:1f.2", "ahci"));
	ASSERT_TRUE(pp_wait_driver("0000:00:1f.2", "ahci", 5000));
	r = tool("list", NULL);
	ASSERT_TRUE(line_after(r.out, "0000:00:1f.3", line, sizeof(line)))
		TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(line, "also holds 0000:00:1f.2 bound to ahci"))
		TH_LOG("%s", line);
	result_free(&r);
	r = tool("bind", "0000:00:1f.3", NULL);
	EXPECT_EQ(6, r.status) TH_LOG("%s%s", r.out, r.err);
	EXPECT_NE(NULL, strstr(r.err, "bound to ahci;")) TH_LOG("%s", r.err);
	EXPECT_NE(NULL, strstr(r.err, "or use --group")) TH_LOG("%s", r.err);
	result_free(&r);
	pp_run("rmmod ahci 2>/dev/null");
	pp_dev_rebind("0000:00:1f.2", "");
}

TEST(bind_and_unbind_move_nvme)
{
	const char *nvme = pp_nvme_addr();
	char drv[64], ovr[64], state[256];
	struct result r;

	if (!in_vm())
		SKIP(return, NOT_IN_VM);
	ASSERT_EQ(0, pp_run("modprobe pcipass"));
	ASSERT_EQ(0, pp_run("modprobe nvme"));
	ASSERT_TRUE(pp_wait_driver(nvme, "nvme", 10000));
	ASSERT_TRUE(pp_wait_path(NVME_BLOCK, true, 20000))
		TH_LOG("no %s before the test", NVME_BLOCK);

	r = tool("bind", nvme, NULL);
	ASSERT_EQ(0, r.status) TH_LOG("bind: %s%s", r.out, r.err);
	EXPECT_NE(NULL, strstr(r.out, "nvme -> pcipass")) TH_LOG("%s", r.out);
	result_free(&r);
	sysfs_driver(nvme, drv, sizeof(drv));
	EXPECT_STREQ("pcipass", drv);
	sysfs_attr(nvme, "driver_override", ovr, sizeof(ovr));
	EXPECT_STREQ("pcipass", ovr);
	EXPECT_TRUE(pp_wait_path(NVME_BLOCK, false, 10000))
		TH_LOG("%s still there on pcipass", NVME_BLOCK);

	r = tool("list", NULL);
	EXPECT_TRUE(strstr(r.out, "driver pcipass: ready") ||
		    pp_vm_is("noiommu")) TH_LOG("%s", r.out);
	result_free(&r);

	r = tool("unbind", nvme, NULL);
	ASSERT_EQ(0, r.status) TH_LOG("unbind: %s%s", r.out, r.err);
	EXPECT_NE(NULL, strstr(r.out, "pcipass -> nvme")) TH_LOG("%s", r.out);
	result_free(&r);
	sysfs_driver(nvme, drv, sizeof(drv));
	EXPECT_STREQ("nvme", drv);
	sysfs_attr(nvme, "driver_override", ovr, sizeof(ovr));
	EXPECT_STREQ("(null)", ovr);
	EXPECT_TRUE(pp_wait_path(NVME_BLOCK, true, 20000))
		TH_LOG("%s did not come back", NVME_BLOCK);
	snprintf(state, sizeof(state), "/run/pcipass/%s.driver", nvme);
	EXPECT_FALSE(pp_path_exists(state));
}

TEST(bind_persist_writes_and_removes_a_udev_rule)
{
	const char *nvme = pp_nvme_addr();
	char rule[256], text[4096], drv[64];
	struct result r;

	if (!in_vm())
		SKIP(return, NOT_IN_VM);
	ASSERT_EQ(0, pp_run("modprobe pcipass && modprobe nvme"));
	ASSERT_TRUE(pp_wait_driver(nvme, "nvme", 10000));
	setenv("PCIPASS_TOOL_SYSCONFDIR", "/tmp/tool_test-etc", 1);
	snprintf(rule, sizeof(rule),
		 "/tmp/tool_test-etc/udev/rules.d/90-pcipass-%s.rules", nvme);

	r = tool("bind", "--persist", nvme, NULL);
	ASSERT_EQ(0, r.status) TH_LOG("%s%s", r.out, r.err);
	result_free(&r);
	ASSERT_EQ(0, pp_read_file(rule, text, sizeof(text)));
	EXPECT_NE(NULL, strstr(text, "ATTR{driver_override}=\"pcipass\""));
	EXPECT_NE(NULL, strstr(text, "driver=nvme"));

	r = tool("unbind", "--persist", nvme, NULL);
	EXPECT_EQ(0, r.status) TH_LOG("%s%s", r.out, r.err);
	result_free(&r);
	EXPECT_FALSE(pp_path_exists(rule));
	unsetenv("PCIPASS_TOOL_SYSCONFDIR");
	EXPECT_TRUE(pp_wait_driver(nvme, "nvme", 10000));
	sysfs_driver(nvme, drv, sizeof(drv));
	EXPECT_STREQ("nvme", drv);
}

/* Capabilities from config space, as "offset:id:ext" words. */
static void walk_caps(const char *addr, char *buf, size_t len)
{
	unsigned char cfg[4096 + 4] = { 0 };
	unsigned int ptr, hdr, ttl = 48;
	char path[256];
	size_t off = 0;
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s/config", addr);
	f = fopen(path, "r");
	if (!f)
		return;
	/* 256 bytes for conventional PCI, 4096 for PCI Express */
	if (fread(cfg, 1, 4096, f) < 64 || !(cfg[6] & 0x10)) {
		fclose(f);
		return;
	}
	fclose(f);
	for (ptr = cfg[0x34] & ~3u; ptr >= 0x40 && ttl--;
	     ptr = cfg[ptr + 1] & ~3u)
		off += snprintf(buf + off, len - off, "%u:%02x:0 ", ptr,
				cfg[ptr]);
	for (ptr = 0x100, ttl = 480; ptr >= 0x100 && ttl--;
	     ptr = (hdr >> 20) & 0xffc) {
		memcpy(&hdr, cfg + ptr, 4);
		if (!hdr || hdr == 0xffffffff)
			break;
		off += snprintf(buf + off, len - off, "%u:%04x:1 ", ptr,
				hdr & 0xffff);
	}
}

TEST(info_matches_sysfs_for_edu)
{
	const char *edu = pp_edu_addr();
	char path[256], want[4096] = "", got[4096] = "", line[256];
	unsigned long long start, end, flags;
	struct jval *doc, *dev, *bars, *caps, *b;
	int i, n, nbars = 0;
	struct result r;
	FILE *f;

	if (!in_vm())
		SKIP(return, NOT_IN_VM);
	r = tool("--json", "info", edu, NULL);
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	doc = json_parse(r.out);
	ASSERT_NE(NULL, doc) TH_LOG("not JSON:\n%s", r.out);
	dev = jget(doc, "devices");
	ASSERT_NE(NULL, dev);
	ASSERT_EQ(1, dev->n);
	dev = dev->items[0];
	EXPECT_STREQ(edu, jstr(dev, "address"));
	EXPECT_STREQ("1234", jstr(dev, "vendor_id"));
	EXPECT_STREQ("11e8", jstr(dev, "device_id"));
	bars = jget(dev, "bars");
	ASSERT_NE(NULL, bars);

	/* every resource line with a size is a BAR of that size and type */
	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s/resource", edu);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	for (i = 0; i < 7 && fgets(line, sizeof(line), f); i++) {
		n = sscanf(line, "%llx %llx %llx", &start, &end, &flags);
		ASSERT_EQ(3, n);
		if (!flags || !end)
			continue;
		b = nbars < bars->n ? bars->items[nbars] : NULL;
		nbars++;
		ASSERT_NE(NULL, b) TH_LOG("BAR %d missing", i);
		EXPECT_EQ(i, jnum(b, "index", -1));
		EXPECT_EQ(end - start + 1, jnum(b, "size", -1))
			TH_LOG("BAR %d", i);
		if (i == 6) {
			EXPECT_STREQ("rom", jstr(b, "type"));
		} else if (flags & 0x100) {
			EXPECT_STREQ("io", jstr(b, "type"));
		} else {
			EXPECT_STREQ(flags & 0x100000 ? "mem64" : "mem32",
				     jstr(b, "type"));
		}
	}
	fclose(f);
	EXPECT_EQ(nbars, bars->n);
	EXPECT_LT(0, nbars) TH_LOG("edu has a BAR 0");

	/* the capabilities, as the test walks them itself */
	walk_caps(edu, want, sizeof(want));
	caps = jget(dev, "capabilities");
	ASSERT_NE(NULL, caps);
	for (i = 0; i < caps->n; i++) {
		struct jval *c = caps->items[i];

		snprintf(got + strlen(got), sizeof(got) - strlen(got),
			 "%u:%s:%d ", (unsigned int)jnum(c, "offset", -1),
			 jstr(c, "id") ? jstr(c, "id") : "?",
			 jget(c, "extended") && jget(c, "extended")->b);
		EXPECT_NE(NULL, jstr(c, "name"));
		EXPECT_STRNE("Unknown", jstr(c, "name"));
	}
	EXPECT_STREQ(want, got);
	EXPECT_LT(0, caps->n) TH_LOG("edu has MSI and PCIe capabilities");
	result_free(&r);

	/* the text output says the same */
	r = tool("info", edu, NULL);
	EXPECT_EQ(0, r.status);
	EXPECT_NE(NULL, strstr(r.out, "\tBAR 0: mem32, 1 MiB (0x100000) at"))
		TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "MSI: ")) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "Reset methods: ")) TH_LOG("%s", r.out);
	result_free(&r);
}

/* Tests that rebind drivers: minutes on the debug kernel under load. */
FIXTURE(slow) {
	int unused;
};

FIXTURE_SETUP(slow)
{
}

FIXTURE_TEARDOWN(slow)
{
}

TEST_F_TIMEOUT(slow, bad_input_is_refused_and_changes_nothing, 300)
{
	static const char * const malformed[] = {
		"00:1g.0", "0000:00:20.0", "0000:00:04.8", "0000:100:04.0",
		"nvme", "1b36", "1b36:10", "00:04",
	};
	char *before, *after, want[256];
	struct jval *doc;
	struct result r;
	size_t i;

	if (!in_vm())
		SKIP(return, NOT_IN_VM);
	ASSERT_EQ(0, pp_run("modprobe pcipass"));
	before = sysfs_snapshot();

	r = tool("frobnicate", NULL);
	EXPECT_EQ(2, r.status);
	EXPECT_NE(NULL, strstr(r.err, "pcipass-tool: frobnicate: unknown command"))
		TH_LOG("%s", r.err);
	result_free(&r);

	r = tool("bind", "--frobnicate", pp_nvme_addr(), NULL);
	EXPECT_EQ(2, r.status);
	EXPECT_NE(NULL, strstr(r.err, "--frobnicate: unknown option"))
		TH_LOG("%s", r.err);
	result_free(&r);

	for (i = 0; i < ARRAY_SIZE(malformed); i++) {
		r = tool("bind", pp_nvme_addr(), malformed[i], NULL);
		EXPECT_EQ(2, r.status) TH_LOG("bind %s", malformed[i]);
		snprintf(want, sizeof(want), "pcipass-tool: %s: malformed PCI address",
			 malformed[i]);
		EXPECT_NE(NULL, strstr(r.err, want)) TH_LOG("%s", r.err);
		result_free(&r);
	}

	r = tool("bind", pp_nvme_addr(), "0000:00:1e.7", NULL);
	EXPECT_EQ(3, r.status);
	EXPECT_STREQ("pcipass-tool: 0000:00:1e.7: no such PCI device\n", r.err);
	result_free(&r);
	r = tool("info", "00:1e.7", NULL);
	EXPECT_EQ(3, r.status);
	EXPECT_STREQ("pcipass-tool: 0000:00:1e.7: no such PCI device\n", r.err);
	EXPECT_STREQ("", r.out);
	result_free(&r);
	r = tool("unbind", "dead:beef", NULL);
	EXPECT_EQ(3, r.status);
	EXPECT_NE(NULL, strstr(r.err, "dead:beef: no PCI device"))
		TH_LOG("%s", r.err);
	result_free(&r);

	/* a bridge is never passed through */
	snprintf(want, sizeof(want), PP_SYSFS_PCI "/%s", pp_bridge_addr());
	if (pp_path_exists(want)) {
		r = tool("bind", pp_bridge_addr(), NULL);
		EXPECT_EQ(6, r.status) TH_LOG("%s%s", r.out, r.err);
		EXPECT_NE(NULL, strstr(r.err, "PCI bridge")) TH_LOG("%s", r.err);
		result_free(&r);
	}

	/* --json: an error document, on stdout */
	r = tool("--json", "bind", "0000:00:1e.7", NULL);
	EXPECT_EQ(3, r.status);
	doc = json_parse(r.out);
	ASSERT_NE(NULL, doc) TH_LOG("not JSON:\n%s", r.out);
	EXPECT_EQ(3, jnum(doc, "exit_status", -1));
	EXPECT_STREQ("0000:00:1e.7: no such PCI device", jstr(doc, "error"));
	result_free(&r);

	after = sysfs_snapshot();
	EXPECT_STREQ(before, after);
	free(before);
	free(after);
}

TEST(stat_shows_a_live_context)
{
	struct pcipass_irq_set irq = {
		.size = sizeof(irq), .type = PCIPASS_IRQ_MSI, .count = 1,
	};
	struct jval *doc, *ctxs, *c = NULL, *dev, *irqs;
	char pid[16];
	struct result r;
	void *mem;
	int ctx, fd, i;

	if (!pp_vm_is("iommu"))
		SKIP(return, "needs the IOMMU VM with interrupt remapping");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_EQ(0, pp_dev_rebind(pp_edu_addr(), "pcipass"));
	ASSERT_TRUE(pp_wait_driver(pp_edu_addr(), "pcipass", 5000));

	/* A context holding 8 KiB in one mapping and 3 MSI deliveries. */
	mem = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	ctx = open(PP_DEV_NODE, O_RDWR);
	ASSERT_LE(0, ctx);
	ASSERT_EQ(0, pp_attach(ctx, pp_edu_addr(), &fd));
	ASSERT_EQ(0, pp_map(ctx, mem, 0x100000, 8192, PCIPASS_DMA_MAP_READ));
	irq.flags = PCIPASS_IRQ_SET_ENABLE;
	ASSERT_EQ(0, pp_ioctl(fd, PCIPASS_DEVICE_SET_IRQS, &irq));
	irq.flags = PCIPASS_IRQ_SET_TRIGGER;
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pp_ioctl(fd, PCIPASS_DEVICE_SET_IRQS, &irq));

	r = tool("--json", "stat", NULL);
	ASSERT_EQ(0, r.status) TH_LOG("%s", r.err);
	doc = json_parse(r.out);
	ASSERT_NE(NULL, doc) TH_LOG("not JSON:\n%s", r.out);
	ctxs = jget(doc, "contexts");
	snprintf(pid, sizeof(pid), "%d", getpid());
	for (i = 0; ctxs && i < ctxs->n; i++)
		if (jnum(ctxs->items[i], "pid", -1) == getpid())
			c = ctxs->items[i];
	ASSERT_NE(NULL, c) TH_LOG("no context of pid %s in:\n%s", pid, r.out);
	EXPECT_EQ(8192, jnum(c, "pinned_bytes", -1));
	EXPECT_EQ(1, jnum(c, "mappings", -1));
	EXPECT_EQ(1, jnum(c, "devices", -1));
	EXPECT_STREQ("iommu", jstr(c, "mode"));
	dev = jfind(jget(c, "attached"), "address", pp_edu_addr());
	ASSERT_NE(NULL, dev) TH_LOG("%s", r.out);
	EXPECT_STREQ("msi", jstr(dev, "irq_type"));
	irqs = jget(dev, "interrupts");
	ASSERT_NE(NULL, irqs);
	ASSERT_EQ(1, irqs->n);
	/* Triggers with no eventfd are still counted as delivered. */
	EXPECT_EQ(3, jnum(irqs->items[0], "count", -1));
	result_free(&r);

	close(fd);
	close(ctx);
	/* Closed: the context is gone from the statistics. */
	r = tool("--json", "stat", NULL);
	EXPECT_EQ(0, r.status);
	doc = json_parse(r.out);
	ASSERT_NE(NULL, doc) TH_LOG("not JSON:\n%s", r.out);
	ctxs = jget(doc, "contexts");
	for (i = 0; ctxs && i < ctxs->n; i++)
		EXPECT_NE(getpid(), jnum(ctxs->items[i], "pid", -1));
	result_free(&r);
	munmap(mem, 8192);
}

TEST_HARNESS_MAIN

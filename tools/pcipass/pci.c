// SPDX-License-Identifier: GPL-2.0
/*
 * pcipass-tool: the PCI devices as sysfs shows them. Owns the scan of
 * /sys/bus/pci/devices, the parsing of device arguments (addresses and
 * VENDOR:DEVICE), IOMMU group membership, and the passthrough verdict
 * shared by list, info and bind.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pcipass-tool.h"

/*
 * Drivers that may share an IOMMU group with a passed-through device: the
 * driver's rule (pcipass_group_may_attach() in drivers/pcipass/device.c)
 * accepts a member bound to no driver or to a driver that sets
 * driver_managed_dma, which sysfs does not show. In Linux 6.12 those are
 * pcipass, pci-stub, pcieport and vfio-pci with its variant drivers (all
 * named "*vfio-pci*" or "*vfio_pci*"; a member vfio opened still keeps
 * the group, which the attach then reports as busy).
 */
bool driver_is_harmless(const char *driver)
{
	static const char * const ok[] = {
		"", PCIPASS_DRIVER, "pci-stub", "pcieport",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ok); i++)
		if (!strcmp(driver, ok[i]))
			return true;
	return strstr(driver, "vfio-pci") || strstr(driver, "vfio_pci");
}

bool pci_is_bridge(const struct pci_dev *dev)
{
	return dev->header_type > 0;
}

/* A boolean parameter of the pcipass module is "Y" or "1". */
/* The udev rule of bind --persist for @dev. */
void persist_rule_path(const struct pci_dev *dev, char *buf, size_t len)
{
	fmt_path(buf, len, "%s/udev/rules.d/90-pcipass-%s.rules",
		 sysconf_dir(), dev->addr);
}

/* Does a rule of bind --persist put @dev on pcipass at boot? */
bool pci_persisted(const struct pci_dev *dev, char *rule, size_t len)
{
	persist_rule_path(dev, rule, len);
	return path_exists(rule);
}

/*
 * Who may attach @dev without CAP_SYS_ADMIN (pcipass_owner: a uid or
 * "none"), as "uid 1000 (alice)"; "" when this pcipass has no owners.
 */
void pci_owner(const struct pci_dev *dev, char *buf, size_t len)
{
	char path[512], val[32], name[64];

	buf[0] = '\0';
	fmt_path(path, sizeof(path), "%s/bus/pci/devices/%s/pcipass_owner",
		 sysfs_root(), dev->addr);
	if (read_text(path, val, sizeof(val)))
		return;
	if (!strcmp(val, "none") || !val[0]) {
		snprintf(buf, len, "none (root only)");
		return;
	}
	uid_name(strtoul(val, NULL, 10), name, sizeof(name));
	snprintf(buf, len, "uid %s%s%s%s", val, strcmp(name, val) ? " (" : "",
		 strcmp(name, val) ? name : "", strcmp(name, val) ? ")" : "");
}

bool module_param_set(const char *name)
{
	char path[512], val[16];

	if (fmt_path(path, sizeof(path), "%s/module/%s/parameters/%s",
		     sysfs_root(), PCIPASS_DRIVER, name))
		return false;
	if (read_text(path, val, sizeof(val)))
		return false;
	return val[0] == 'Y' || val[0] == 'y' || val[0] == '1';
}

/* Parse up to @max hex digits at *@s; advance *@s. */
static bool hex_field(const char **s, int min, int max, unsigned long *val)
{
	const char *p = *s;
	int n = 0;

	*val = 0;
	while (isxdigit((unsigned char)*p) && n < max) {
		*val = *val * 16 + (isdigit((unsigned char)*p) ? *p - '0' :
				    tolower((unsigned char)*p) - 'a' + 10);
		p++;
		n++;
	}
	if (n < min || isxdigit((unsigned char)*p))
		return false;
	*s = p;
	return true;
}

/*
 * Parse "[DOMAIN:]BUS:DEV.FN" into the canonical "dddd:bb:dd.f".
 * Returns 0, or -EINVAL when @s is not an address.
 */
int pci_parse_addr(const char *s, char *addr, size_t len)
{
	unsigned long a, b, c, dom = 0, bus, slot, fn;
	const char *p = s;

	if (!hex_field(&p, 1, 8, &a) || *p++ != ':')
		return -EINVAL;
	if (!hex_field(&p, 1, 2, &b))
		return -EINVAL;
	if (*p == ':') {
		p++;
		if (!hex_field(&p, 1, 2, &c))
			return -EINVAL;
		dom = a;
		bus = b;
		slot = c;
	} else {
		if (a > 0xff)
			return -EINVAL;
		bus = a;
		slot = b;
	}
	if (*p++ != '.' || !hex_field(&p, 1, 1, &fn) || *p)
		return -EINVAL;
	if (slot > 0x1f || fn > 7)
		return -EINVAL;
	if (fmt_path(addr, len, "%04lx:%02lx:%02lx.%lx", dom, bus, slot, fn))
		return -EINVAL;
	return 0;
}

/* Parse "VENDOR:DEVICE", four hex digits each. */
static int parse_id(const char *s, unsigned int *vendor, unsigned int *device)
{
	unsigned long v, d;
	const char *p = s;

	if (!hex_field(&p, 4, 4, &v) || *p++ != ':')
		return -EINVAL;
	if (!hex_field(&p, 4, 4, &d) || *p)
		return -EINVAL;
	*vendor = v;
	*device = d;
	return 0;
}

/* The path of attribute @name of @dev ("" if too long: reads fail). */
static const char *dev_attr(const struct pci_dev *dev, const char *name,
			    char *path, size_t len)
{
	if (fmt_path(path, len, "%s/bus/pci/devices/%s/%s", sysfs_root(),
		     dev->addr, name))
		path[0] = '\0';
	return path;
}

static unsigned long attr_or(const struct pci_dev *dev, const char *name,
			     unsigned long def)
{
	unsigned long val;
	char path[512];

	if (read_ulong(dev_attr(dev, name, path, sizeof(path)), &val))
		return def;
	return val;
}

static void read_dev(struct pci_dev *dev)
{
	unsigned char hdr[64];
	char path[512], link[NAME_LEN];
	ssize_t n;

	dev->vendor = attr_or(dev, "vendor", 0xffff);
	dev->device = attr_or(dev, "device", 0xffff);
	dev->subvendor = attr_or(dev, "subsystem_vendor", 0);
	dev->subdevice = attr_or(dev, "subsystem_device", 0);
	dev->class = attr_or(dev, "class", 0xffffff);
	dev->revision = (int)attr_or(dev, "revision", (unsigned long)-1);
	dev->numa_node = (int)(long)attr_or(dev, "numa_node",
					    (unsigned long)-1);

	dev->header_type = -1;
	n = read_bytes(dev_attr(dev, "config", path, sizeof(path)), hdr,
		       sizeof(hdr));
	if (n > 0x0e) {
		dev->header_type = hdr[0x0e] & 0x7f;
		if (dev->revision < 0)
			dev->revision = hdr[0x08];
	}

	dev->group = -1;
	if (!read_link_name(dev_attr(dev, "iommu_group", path, sizeof(path)),
			    link, sizeof(link))) {
		char *end;
		long g = strtol(link, &end, 10);

		if (end != link && !*end)
			dev->group = (int)g;
	}
	if (read_link_name(dev_attr(dev, "driver", path, sizeof(path)),
			   dev->driver, sizeof(dev->driver)))
		dev->driver[0] = '\0';
	if (read_text(dev_attr(dev, "driver_override", path, sizeof(path)),
		      dev->override, sizeof(dev->override)) ||
	    !strcmp(dev->override, "(null)"))
		dev->override[0] = '\0';
}

static int cmp_dev(const void *a, const void *b)
{
	const struct pci_dev *x = a, *y = b;
	size_t lx = strlen(x->addr), ly = strlen(y->addr);

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return strcmp(x->addr, y->addr);
}

/* Read every PCI device; an absent /sys/bus/pci is an empty list. */
int pci_scan(struct pci_list *list)
{
	char path[512], addr[ADDR_LEN];
	struct dirent *de;
	int cap = 0;
	DIR *d;

	list->dev = NULL;
	list->n = 0;
	if (fmt_path(path, sizeof(path), "%s/bus/pci/devices", sysfs_root()))
		return fail(EX_FAIL, "%s: path too long", sysfs_root());
	d = opendir(path);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return fail(errno_status(errno), "%s: %s", path,
			    strerror(errno));
	}
	while ((de = readdir(d))) {
		if (pci_parse_addr(de->d_name, addr, sizeof(addr)) ||
		    strcmp(addr, de->d_name))
			continue;
		if (list->n == cap) {
			cap = cap ? cap * 2 : 32;
			list->dev = xrealloc(list->dev,
					     cap * sizeof(*list->dev));
		}
		memset(&list->dev[list->n], 0, sizeof(list->dev[0]));
		memcpy(list->dev[list->n].addr, addr, sizeof(addr));
		read_dev(&list->dev[list->n]);
		list->n++;
	}
	closedir(d);
	if (list->n)
		qsort(list->dev, list->n, sizeof(list->dev[0]), cmp_dev);
	return 0;
}

void pci_list_free(struct pci_list *list)
{
	free(list->dev);
	list->dev = NULL;
	list->n = 0;
}

struct pci_dev *pci_find(struct pci_list *list, const char *addr)
{
	int i;

	for (i = 0; i < list->n; i++)
		if (!strcmp(list->dev[i].addr, addr))
			return &list->dev[i];
	return NULL;
}

static void add_unique(struct pci_dev ***out, int *nout, struct pci_dev *dev)
{
	int i;

	for (i = 0; i < *nout; i++)
		if ((*out)[i] == dev)
			return;
	(*out)[(*nout)++] = dev;
}

/*
 * Turn device arguments into devices. Every argument is checked and every
 * bad one reported; the status of the first is returned.
 */
int pci_select(struct pci_list *list, int nargs, char **args,
	       struct pci_dev ***out, int *nout)
{
	unsigned int vendor, device;
	char addr[ADDR_LEN];
	int i, j, status = 0, st;

	*out = xcalloc(list->n + 1, sizeof(**out));
	*nout = 0;
	for (i = 0; i < nargs; i++) {
		struct pci_dev *dev;
		bool found = false;

		if (!pci_parse_addr(args[i], addr, sizeof(addr))) {
			dev = pci_find(list, addr);
			if (dev) {
				add_unique(out, nout, dev);
				continue;
			}
			st = fail(EX_NODEV, "%s: no such PCI device", addr);
		} else if (!parse_id(args[i], &vendor, &device)) {
			for (j = 0; j < list->n; j++) {
				dev = &list->dev[j];
				if (dev->vendor != vendor ||
				    dev->device != device)
					continue;
				add_unique(out, nout, dev);
				found = true;
			}
			if (found)
				continue;
			st = fail(EX_NODEV, "%04x:%04x: no PCI device has this vendor:device ID",
				  vendor, device);
		} else {
			st = fail(EX_USAGE,
				  "%s: malformed PCI address (expected [DOMAIN:]BUS:DEV.FN or VENDOR:DEVICE)",
				  args[i]);
		}
		if (!status)
			status = st;
	}
	if (status) {
		free(*out);
		*out = NULL;
		*nout = 0;
	}
	return status;
}

static int cmp_member(const void *a, const void *b)
{
	const struct group_member *x = a, *y = b;

	return strcmp(x->addr, y->addr);
}

/*
 * The devices of IOMMU group @group, from /sys/kernel/iommu_groups (or,
 * when that is missing, from the devices' iommu_group links).
 */
int pci_group_members(struct pci_list *list, int group,
		      struct group_member **out)
{
	char path[512];
	struct group_member *m;
	struct dirent *de;
	int n = 0, cap = 16, i;
	DIR *d;

	m = xcalloc(cap, sizeof(*m));
	fmt_path(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices",
		 sysfs_root(), group);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		struct pci_dev *dev;
		char drv[512];

		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap *= 2;
			m = xrealloc(m, cap * sizeof(*m));
		}
		memset(&m[n], 0, sizeof(m[n]));
		str_copy(m[n].addr, de->d_name, sizeof(m[n].addr));
		dev = pci_find(list, de->d_name);
		if (dev) {
			m[n].dev = dev;
			memcpy(m[n].driver, dev->driver, sizeof(m[n].driver));
		} else if (!fmt_path(drv, sizeof(drv), "%s/%s/driver", path,
				     de->d_name) &&
			   read_link_name(drv, m[n].driver,
					  sizeof(m[n].driver))) {
			m[n].driver[0] = '\0';
		}
		n++;
	}
	if (d) {
		closedir(d);
	} else {
		for (i = 0; i < list->n && n < cap; i++) {
			if (list->dev[i].group != group)
				continue;
			memset(&m[n], 0, sizeof(m[n]));
			memcpy(m[n].addr, list->dev[i].addr, ADDR_LEN);
			memcpy(m[n].driver, list->dev[i].driver, NAME_LEN);
			m[n].dev = &list->dev[i];
			n++;
		}
	}
	if (n)
		qsort(m, n, sizeof(*m), cmp_member);
	*out = m;
	return n;
}

[[gnu::format(printf, 2, 3)]]
static void reason(struct passability *p, const char *fmt, ...);

static void reason(struct passability *p, const char *fmt, ...)
{
	va_list ap;

	if (p->nreasons >= MAX_REASONS)
		return;
	va_start(ap, fmt);
	vsnprintf(p->reasons[p->nreasons++], REASON_LEN, fmt, ap);
	va_end(ap);
}

/* Can @dev be passed through, and if not, why not. */
void pci_judge(struct pci_list *list, struct pci_dev *dev,
	       struct passability *p)
{
	struct group_member *m;
	int i, n;

	memset(p, 0, sizeof(*p));
	if (pci_is_bridge(dev))
		reason(p, "PCI bridge (header type %d): bridges cannot be passed through",
		       dev->header_type);
	if (dev->group < 0 && !module_param_set("allow_noiommu"))
		reason(p, "no IOMMU group: the IOMMU is missing or disabled");
	if (dev->group >= 0) {
		n = pci_group_members(list, dev->group, &m);
		for (i = 0; i < n; i++) {
			if (!strcmp(m[i].addr, dev->addr) ||
			    driver_is_harmless(m[i].driver))
				continue;
			reason(p, "group %d also holds %s bound to %s",
			       dev->group, m[i].addr, m[i].driver);
		}
		free(m);
	}
	if (p->nreasons)
		p->verdict = VERDICT_NOT_VIABLE;
	else if (!strcmp(dev->driver, PCIPASS_DRIVER))
		p->verdict = VERDICT_READY;
	else
		p->verdict = VERDICT_NEEDS_BIND;
}

const char *verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_READY:
		return "ready";
	case VERDICT_NEEDS_BIND:
		return "needs-bind";
	default:
		return "not-viable";
	}
}

/* "ready", "needs bind", "not viable: reason; reason". */
void verdict_text(const struct passability *p, char *buf, size_t len)
{
	size_t off;
	int i;

	if (p->verdict == VERDICT_READY) {
		snprintf(buf, len, "ready");
		return;
	}
	if (p->verdict == VERDICT_NEEDS_BIND) {
		snprintf(buf, len, "needs bind");
		return;
	}
	snprintf(buf, len, "not viable:");
	for (i = 0; i < p->nreasons; i++) {
		off = strlen(buf);
		snprintf(buf + off, len - off, "%s %s", i ? ";" : "",
			 p->reasons[i]);
	}
}

/* The lspci -nn line without the address: "Class [0108]: Name [1b36:0010]". */
void pci_describe(const struct pci_dev *dev, char *buf, size_t len)
{
	char vendor[256], device[256], cls[256], rev[16] = "";

	pciids_names(dev, vendor, device, cls, sizeof(vendor));
	if (dev->revision > 0)
		snprintf(rev, sizeof(rev), " (rev %02x)", dev->revision);
	snprintf(buf, len, "%s [%04x]: %s%s%s [%04x:%04x]%s", cls,
		 dev->class >> 8, vendor, vendor[0] ? " " : "",
		 device[0] ? device : "Device", dev->vendor, dev->device, rev);
}

/* The fields of a device in JSON, but its verdict; see pcipass-tool.8. */
void json_pci_fields(struct pci_dev *dev)
{
	char vendor[256], device[256], cls[256], rule[512], owner[96];

	pciids_names(dev, vendor, device, cls, sizeof(vendor));
	json_str("address", dev->addr);
	json_hex("vendor_id", dev->vendor, 4);
	json_hex("device_id", dev->device, 4);
	json_hex("subsystem_vendor_id", dev->subvendor, 4);
	json_hex("subsystem_device_id", dev->subdevice, 4);
	json_hex("class", dev->class >> 8, 4);
	json_hex("prog_if", dev->class & 0xff, 2);
	if (dev->revision >= 0)
		json_int("revision", dev->revision);
	else
		json_null("revision");
	json_str("vendor_name", vendor[0] ? vendor : NULL);
	json_str("device_name", device[0] ? device : NULL);
	json_str("class_name", cls);
	if (dev->header_type >= 0)
		json_int("header_type", dev->header_type);
	else
		json_null("header_type");
	json_bool("bridge", pci_is_bridge(dev));
	if (dev->group >= 0)
		json_int("iommu_group", dev->group);
	else
		json_null("iommu_group");
	json_str("driver", dev->driver[0] ? dev->driver : NULL);
	json_str("driver_override", dev->override[0] ? dev->override : NULL);
	json_int("numa_node", dev->numa_node);
	json_str("persist_rule", pci_persisted(dev, rule, sizeof(rule)) ?
		 rule : NULL);
	pci_owner(dev, owner, sizeof(owner));
	json_str("owner", owner[0] ? owner : NULL);
}

/* One device as a JSON object, with its verdict. */
void json_pci_dev(const char *key, struct pci_list *list,
		  struct pci_dev *dev)
{
	struct passability p;
	int i;

	pci_judge(list, dev, &p);
	json_obj(key);
	json_pci_fields(dev);
	json_str("verdict", verdict_name(p.verdict));
	json_arr("reasons");
	for (i = 0; i < p.nreasons; i++)
		json_str(NULL, p.reasons[i]);
	json_end();
	json_end();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * pcipass-tool: the devices the host itself needs, which bind refuses to
 * take without --force: host bridges, the console GPU (boot_vga), devices
 * that hold a mounted filesystem or active swap (through their block
 * devices, partitions and the device-mapper or md devices stacked on them),
 * and the network device that carries a default route (directly, or under
 * a bridge, bond or VLAN).
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcipass-tool.h"

#define MAX_DEPTH	4

/* Does /sys/class/SUBSYS/NAME lead into @dev's sysfs directory? */
static bool below_dev(const char *subsys, const char *name,
		      const struct pci_dev *dev)
{
	char path[512], link[1024], pat[ADDR_LEN + 2];
	ssize_t n;

	fmt_path(path, sizeof(path), "%s/class/%s/%s", sysfs_root(), subsys,
		 name);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	snprintf(pat, sizeof(pat), "/%s/", dev->addr);
	return strstr(link, pat);
}

/* The mount point of block device @name ("MAJ:MIN" from sysfs), or swap. */
static bool block_in_use(const char *name, char *what, size_t len)
{
	char path[512], devno[32], *line = NULL;
	bool found = false;
	size_t cap = 0;
	FILE *f;

	fmt_path(path, sizeof(path), "%s/class/block/%s/dev", sysfs_root(),
		 name);
	if (read_text(path, devno, sizeof(devno)))
		return false;
	fmt_path(path, sizeof(path), "%s/self/mountinfo", procfs_root());
	f = fopen(path, "re");
	while (f && !found && getline(&line, &cap, f) > 0) {
		char id[32], mnt[256];

		/* "36 35 259:1 / /home rw ..." */
		if (sscanf(line, "%*s %*s %31s %*s %255s", id, mnt) == 2 &&
		    !strcmp(id, devno)) {
			snprintf(what, len, "%.40s is mounted on %.100s", name, mnt);
			found = true;
		}
	}
	if (f)
		fclose(f);
	fmt_path(path, sizeof(path), "%s/swaps", procfs_root());
	f = fopen(path, "re");
	while (f && !found && getline(&line, &cap, f) > 0) {
		char file[256];
		const char *base;

		if (sscanf(line, "%255s", file) != 1)
			continue;
		base = strrchr(file, '/');
		if (base && !strcmp(base + 1, name)) {
			snprintf(what, len, "%s is active swap", name);
			found = true;
		}
	}
	if (f)
		fclose(f);
	free(line);
	return found;
}

/* @name, or a device stacked on it (holders/), in use? */
static bool block_tree_in_use(const char *name, char *what, size_t len,
			      int depth)
{
	char path[512];
	struct dirent *de;
	bool found;
	DIR *d;

	if (block_in_use(name, what, len))
		return true;
	if (depth >= MAX_DEPTH)
		return false;
	found = false;
	fmt_path(path, sizeof(path), "%s/class/block/%s/holders", sysfs_root(),
		 name);
	d = opendir(path);
	while (d && !found && (de = readdir(d)))
		if (de->d_name[0] != '.')
			found = block_tree_in_use(de->d_name, what, len,
						  depth + 1);
	if (d)
		closedir(d);
	return found;
}

static bool storage_in_use(const struct pci_dev *dev, char *what, size_t len)
{
	char path[512];
	struct dirent *de;
	bool found = false;
	DIR *d;

	fmt_path(path, sizeof(path), "%s/class/block", sysfs_root());
	d = opendir(path);
	while (d && !found && (de = readdir(d)))
		if (de->d_name[0] != '.' && below_dev("block", de->d_name, dev))
			found = block_tree_in_use(de->d_name, what, len, 0);
	if (d)
		closedir(d);
	return found;
}

/* Is network interface @ifname on @dev, or stacked on a device that is? */
static bool netdev_on(const char *ifname, const struct pci_dev *dev,
		      int depth)
{
	char path[512], name[NAME_LEN];
	struct dirent *de;
	bool found = false;
	DIR *d;

	fmt_path(path, sizeof(path), "%s/class/net/%s/device", sysfs_root(),
		 ifname);
	if (!read_link_name(path, name, sizeof(name)) &&
	    !strcmp(name, dev->addr))
		return true;
	if (depth >= MAX_DEPTH)
		return false;
	fmt_path(path, sizeof(path), "%s/class/net/%s", sysfs_root(), ifname);
	d = opendir(path);
	while (d && !found && (de = readdir(d)))
		if (!strncmp(de->d_name, "lower_", 6))
			found = netdev_on(de->d_name + 6, dev, depth + 1);
	if (d)
		closedir(d);
	return found;
}

/* The interface of a default route on @dev, from the IPv4 and IPv6 tables. */
static bool default_route_on(const struct pci_dev *dev, char *what,
			     size_t len)
{
	char path[512], *line = NULL;
	bool found = false;
	size_t cap = 0;
	FILE *f;

	fmt_path(path, sizeof(path), "%s/net/route", procfs_root());
	f = fopen(path, "re");
	while (f && !found && getline(&line, &cap, f) > 0) {
		char ifname[NAME_LEN], dst[16], mask[16];

		/* Iface Destination Gateway Flags RefCnt Use Metric Mask */
		if (sscanf(line, "%63s %15s %*s %*s %*s %*s %*s %15s", ifname,
			   dst, mask) == 3 && !strcmp(dst, "00000000") &&
		    !strcmp(mask, "00000000") && netdev_on(ifname, dev, 0)) {
			snprintf(what, len, "%s carries the default route", ifname);
			found = true;
		}
	}
	if (f)
		fclose(f);
	fmt_path(path, sizeof(path), "%s/net/ipv6_route", procfs_root());
	f = fopen(path, "re");
	while (f && !found && getline(&line, &cap, f) > 0) {
		char dst[40], plen[4], ifname[NAME_LEN];

		/* dst plen src plen nexthop metric refcnt use flags iface */
		if (sscanf(line, "%39s %3s %*s %*s %*s %*s %*s %*s %*s %63s", dst,
			   plen, ifname) == 3 && !strcmp(plen, "00") &&
		    strspn(dst, "0") == 32 && strcmp(ifname, "lo") &&
		    netdev_on(ifname, dev, 0)) {
			snprintf(what, len, "%s carries the IPv6 default route",
				 ifname);
			found = true;
		}
	}
	if (f)
		fclose(f);
	free(line);
	return found;
}

/**
 * host_needs() - does the host need @dev for itself?
 * @dev: the device
 * @why: the reason, when it does
 * @len: size of @why
 *
 * Return: true when binding @dev would take from the host something it
 * runs on, with the reason in @why.
 */
bool host_needs(const struct pci_dev *dev, char *why, size_t len)
{
	char path[512], val[16], what[REASON_LEN];

	if ((dev->class >> 8) == 0x0600) {
		snprintf(why, len, "a host bridge: the CPU's own link to PCI");
		return true;
	}
	fmt_path(path, sizeof(path), "%s/bus/pci/devices/%s/boot_vga",
		 sysfs_root(), dev->addr);
	if (!read_text(path, val, sizeof(val)) && !strcmp(val, "1")) {
		snprintf(why, len, "the console GPU (boot_vga): the host would lose its display");
		return true;
	}
	if (storage_in_use(dev, what, sizeof(what))) {
		snprintf(why, len, "it holds filesystems in use: %.120s", what);
		return true;
	}
	if (default_route_on(dev, what, sizeof(what))) {
		snprintf(why, len, "the host's network: %.120s", what);
		return true;
	}
	return false;
}

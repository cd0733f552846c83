// SPDX-License-Identifier: GPL-2.0
/*
 * pcipass-tool list: every PCI device as lspci -nn shows it, with its IOMMU
 * group, its driver and its passthrough verdict; --group orders the list by
 * IOMMU group.
 */
#include <stdlib.h>
#include <string.h>

#include "pcipass-tool.h"

/* "IOMMU group 4, driver nvme: needs bind" */
static void print_status(struct pci_list *list, struct pci_dev *dev,
			 const char *indent, bool show_group)
{
	char group[32] = "", verdict[MAX_REASONS * REASON_LEN], rule[512];
	char why[REASON_LEN], needs[REASON_LEN + 32] = "";
	struct passability p;

	pci_judge(list, dev, &p);
	verdict_text(&p, verdict, sizeof(verdict));
	if (show_group && dev->group >= 0)
		snprintf(group, sizeof(group), "IOMMU group %d, ", dev->group);
	else if (show_group)
		snprintf(group, sizeof(group), "no IOMMU group, ");
	if (strcmp(dev->driver, PCIPASS_DRIVER) && host_needs(dev, why, sizeof(why)))
		snprintf(needs, sizeof(needs), "; the host needs it: %s", why);
	printf("%s%s%s%s: %s%s%s\n", indent, group,
	       dev->driver[0] ? "driver " : "no driver",
	       dev->driver, verdict, needs, pci_persisted(dev, rule, sizeof(rule)) ?
	       "; at boot: pcipass (bind --persist)" : "");
}

static void print_dev(struct pci_list *list, struct pci_dev *dev,
		      const char *indent, bool show_group)
{
	char desc[1024], sub[16];

	pci_describe(dev, desc, sizeof(desc));
	printf("%s%s %s\n", indent, dev->addr, desc);
	snprintf(sub, sizeof(sub), "%s\t", indent);
	print_status(list, dev, sub, show_group);
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* The distinct IOMMU groups of @list, ascending, -1 (none) last. */
static int list_groups(struct pci_list *list, int *groups)
{
	int i, j, n = 0;
	bool none = false;

	for (i = 0; i < list->n; i++) {
		if (list->dev[i].group < 0) {
			none = true;
			continue;
		}
		for (j = 0; j < n; j++)
			if (groups[j] == list->dev[i].group)
				break;
		if (j == n)
			groups[n++] = list->dev[i].group;
	}
	qsort(groups, n, sizeof(*groups), cmp_int);
	if (none)
		groups[n++] = -1;
	return n;
}

static void list_by_group(struct pci_list *list)
{
	int *groups = xcalloc(list->n + 1, sizeof(*groups));
	int ngroups = list_groups(list, groups);
	int g, i, count;

	if (json_mode())
		json_arr("groups");
	for (g = 0; g < ngroups; g++) {
		for (count = 0, i = 0; i < list->n; i++)
			count += list->dev[i].group == groups[g];
		if (json_mode()) {
			json_obj(NULL);
			if (groups[g] >= 0)
				json_int("iommu_group", groups[g]);
			else
				json_null("iommu_group");
			json_arr("devices");
		} else if (groups[g] >= 0) {
			printf("%sIOMMU group %d (%d device%s):\n", g ? "\n" : "",
			       groups[g], count, count == 1 ? "" : "s");
		} else {
			printf("%sNo IOMMU group (%d device%s):\n", g ? "\n" : "",
			       count, count == 1 ? "" : "s");
		}
		for (i = 0; i < list->n; i++) {
			if (list->dev[i].group != groups[g])
				continue;
			if (json_mode())
				json_pci_dev(NULL, list, &list->dev[i]);
			else
				print_dev(list, &list->dev[i], "\t", false);
		}
		if (json_mode()) {
			json_end();
			json_end();
		}
	}
	if (json_mode())
		json_end();
	free(groups);
}

int cmd_list(struct opts *o)
{
	struct pci_list list;
	int i, ret;

	ret = pci_scan(&list);
	if (ret)
		return ret;
	if (!list.n && !json_mode())
		printf("no PCI devices in %s/bus/pci/devices\n", sysfs_root());
	if (o->group) {
		list_by_group(&list);
	} else {
		if (json_mode())
			json_arr("devices");
		for (i = 0; i < list.n; i++) {
			if (json_mode())
				json_pci_dev(NULL, &list, &list.dev[i]);
			else
				print_dev(&list, &list.dev[i], "", true);
		}
		if (json_mode())
			json_end();
	}
	pci_list_free(&list);
	return EX_OK;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * pcipass-tool: names of vendors, devices and classes. Vendor and device
 * names come from pci.ids when one is installed (PCIPASS_TOOL_PCIIDS, else
 * /usr/share/misc/pci.ids or /usr/share/hwdata/pci.ids); class names have
 * a built-in fallback so a busybox system still gets readable lines.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "pcipass-tool.h"

struct class_name {
	unsigned int code;	/* class << 8 | subclass, or class << 8 | 0xff */
	const char *name;
};

#define ANY 0xff	/* the name of the class, for an unknown subclass */

static const struct class_name classes[] = {
	{ 0x00ff, "Unclassified device" },
	{ 0x0000, "Non-VGA unclassified device" },
	{ 0x0001, "VGA compatible unclassified device" },
	{ 0x01ff, "Mass storage controller" },
	{ 0x0100, "SCSI storage controller" },
	{ 0x0101, "IDE interface" },
	{ 0x0104, "RAID bus controller" },
	{ 0x0105, "ATA controller" },
	{ 0x0106, "SATA controller" },
	{ 0x0107, "Serial Attached SCSI controller" },
	{ 0x0108, "Non-Volatile memory controller" },
	{ 0x0109, "Universal Flash Storage controller" },
	{ 0x02ff, "Network controller" },
	{ 0x0200, "Ethernet controller" },
	{ 0x0207, "Infiniband controller" },
	{ 0x0208, "Fabric controller" },
	{ 0x03ff, "Display controller" },
	{ 0x0300, "VGA compatible controller" },
	{ 0x0301, "XGA compatible controller" },
	{ 0x0302, "3D controller" },
	{ 0x04ff, "Multimedia controller" },
	{ 0x0400, "Multimedia video controller" },
	{ 0x0401, "Multimedia audio controller" },
	{ 0x0403, "Audio device" },
	{ 0x05ff, "Memory controller" },
	{ 0x0500, "RAM memory" },
	{ 0x0501, "FLASH memory" },
	{ 0x0502, "CXL" },
	{ 0x06ff, "Bridge" },
	{ 0x0600, "Host bridge" },
	{ 0x0601, "ISA bridge" },
	{ 0x0602, "EISA bridge" },
	{ 0x0604, "PCI bridge" },
	{ 0x0607, "CardBus bridge" },
	{ 0x0609, "Semi-transparent PCI-to-PCI bridge" },
	{ 0x07ff, "Communication controller" },
	{ 0x0700, "Serial controller" },
	{ 0x0701, "Parallel controller" },
	{ 0x0702, "Multiport serial controller" },
	{ 0x0703, "Modem" },
	{ 0x08ff, "Generic system peripheral" },
	{ 0x0800, "PIC" },
	{ 0x0801, "DMA controller" },
	{ 0x0802, "Timer" },
	{ 0x0803, "RTC" },
	{ 0x0805, "SD Host controller" },
	{ 0x0806, "IOMMU" },
	{ 0x09ff, "Input device controller" },
	{ 0x0aff, "Docking station" },
	{ 0x0bff, "Processor" },
	{ 0x0b40, "Co-processor" },
	{ 0x0cff, "Serial bus controller" },
	{ 0x0c00, "FireWire (IEEE 1394)" },
	{ 0x0c03, "USB controller" },
	{ 0x0c04, "Fibre Channel" },
	{ 0x0c05, "SMBus" },
	{ 0x0c07, "IPMI Interface" },
	{ 0x0dff, "Wireless controller" },
	{ 0x0eff, "Intelligent controller" },
	{ 0x0fff, "Satellite communications controller" },
	{ 0x10ff, "Encryption controller" },
	{ 0x11ff, "Signal processing controller" },
	{ 0x12ff, "Processing accelerators" },
	{ 0x13ff, "Non-Essential Instrumentation" },
	{ 0x40ff, "Coprocessor" },
	{ 0xffff, "Unassigned class" },
};

static char *ids;		/* the whole pci.ids, NUL-terminated */
static bool ids_loaded;

static void load_ids(void)
{
	static const char * const paths[] = {
		"/usr/share/misc/pci.ids",
		"/usr/share/hwdata/pci.ids",
		"/usr/share/pci.ids",
	};
	const char *env = getenv("PCIPASS_TOOL_PCIIDS");
	size_t i, n = 0, cap = 0;
	FILE *f = NULL;

	if (ids_loaded)
		return;
	ids_loaded = true;
	if (env)
		f = *env ? fopen(env, "re") : NULL;
	for (i = 0; !env && !f && i < ARRAY_SIZE(paths); i++)
		f = fopen(paths[i], "re");
	if (!f)
		return;
	for (;;) {
		size_t got;

		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 2 << 20;
			ids = xrealloc(ids, cap + 1);
		}
		got = fread(ids + n, 1, cap - n, f);
		n += got;
		if (!got)
			break;
	}
	ids[n] = '\0';
	fclose(f);
}

/* If @line is "<tabs>HEX  Name" with @digits hex digits equal to @val. */
static bool id_line(const char *line, int tabs, int digits, unsigned int val)
{
	unsigned int v = 0;
	int i;

	for (i = 0; i < tabs; i++)
		if (line[i] != '\t')
			return false;
	if (line[tabs] == '\t')
		return false;
	for (i = tabs; i < tabs + digits; i++) {
		if (!isxdigit((unsigned char)line[i]))
			return false;
		v = v * 16 + (isdigit((unsigned char)line[i]) ? line[i] - '0' :
			      tolower((unsigned char)line[i]) - 'a' + 10);
	}
	return v == val && line[i] == ' ';
}

static void copy_name(const char *line, int skip, char *buf, size_t len)
{
	const char *p = line + skip, *end = strchr(p, '\n');
	size_t n;

	while (*p == ' ')
		p++;
	n = end ? (size_t)(end - p) : strlen(p);
	if (n >= len)
		n = len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
}

static void lookup_ids(const struct pci_dev *dev, char *vendor, char *device,
		       char *cls, size_t len)
{
	bool in_vendor = false, in_class = false, sub_found = false;
	const char *line, *next;

	for (line = ids; *line; line = next) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (*line == '#' || *line == '\n')
			continue;
		if (line[0] == 'C' && line[1] == ' ') {
			in_vendor = false;
			in_class = id_line(line + 2, 0, 2, dev->class >> 16);
			if (in_class)
				copy_name(line, 4, cls, len);
			continue;
		}
		if (in_class && !sub_found &&
		    id_line(line, 1, 2, (dev->class >> 8) & 0xff)) {
			copy_name(line, 3, cls, len);
			sub_found = true;
			continue;
		}
		if (line[0] != '\t' && !in_class) {
			in_vendor = id_line(line, 0, 4, dev->vendor);
			if (in_vendor)
				copy_name(line, 4, vendor, len);
			continue;
		}
		if (in_vendor && id_line(line, 1, 4, dev->device))
			copy_name(line, 5, device, len);
	}
}

void pciids_names(const struct pci_dev *dev, char *vendor, char *device,
		  char *cls, size_t len)
{
	unsigned int base = (dev->class >> 16) << 8;
	unsigned int code = dev->class >> 8;
	size_t i;

	vendor[0] = '\0';
	device[0] = '\0';
	snprintf(cls, len, "Class %04x", code);
	for (i = 0; i < ARRAY_SIZE(classes); i++)
		if (classes[i].code == (base | ANY))
			snprintf(cls, len, "%s", classes[i].name);
	for (i = 0; i < ARRAY_SIZE(classes); i++)
		if (classes[i].code == code && (code & 0xff) != ANY)
			snprintf(cls, len, "%s", classes[i].name);
	load_ids();
	if (ids)
		lookup_ids(dev, vendor, device, cls, len);
}

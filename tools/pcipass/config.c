// SPDX-License-Identifier: GPL-2.0
/*
 * pcipass-tool: what a device's config space and sysfs "resource" file
 * say: its BARs, its standard and extended capabilities (with their names),
 * and the interrupts it can raise (INTx pin, MSI, MSI-X).
 */
#include <errno.h>
#include <string.h>

#include "pcipass-tool.h"

/* include/linux/ioport.h */
#define IORESOURCE_IO		0x00000100
#define IORESOURCE_MEM		0x00000200
#define IORESOURCE_PREFETCH	0x00002000
#define IORESOURCE_MEM_64	0x00100000

#define PCI_STATUS		0x06
#define PCI_STATUS_CAP_LIST	0x10
#define PCI_HEADER_TYPE		0x0e
#define PCI_CAPABILITY_LIST	0x34
#define PCI_CB_CAPABILITY_LIST	0x14
#define PCI_INTERRUPT_PIN	0x3d
#define PCI_CFG_SPACE_SIZE	256

#define PCI_CAP_ID_PM		0x01
#define PCI_CAP_ID_MSI		0x05
#define PCI_CAP_ID_EXP		0x10
#define PCI_CAP_ID_MSIX		0x11

static const char * const std_caps[] = {
	[0x01] = "Power Management",
	[0x02] = "AGP",
	[0x03] = "Vital Product Data",
	[0x04] = "Slot Identification",
	[0x05] = "MSI",
	[0x06] = "CompactPCI Hot Swap",
	[0x07] = "PCI-X",
	[0x08] = "HyperTransport",
	[0x09] = "Vendor Specific",
	[0x0a] = "Debug port",
	[0x0b] = "CompactPCI Central Resource Control",
	[0x0c] = "PCI Standard Hot-Plug Controller",
	[0x0d] = "Bridge Subsystem Vendor ID",
	[0x0e] = "AGP 8x",
	[0x0f] = "Secure Device",
	[0x10] = "PCI Express",
	[0x11] = "MSI-X",
	[0x12] = "SATA Data/Index Configuration",
	[0x13] = "Advanced Features",
	[0x14] = "Enhanced Allocation",
	[0x15] = "Flattening Portal Bridge",
};

static const char * const ext_caps[] = {
	[0x01] = "Advanced Error Reporting",
	[0x02] = "Virtual Channel",
	[0x03] = "Device Serial Number",
	[0x04] = "Power Budgeting",
	[0x05] = "Root Complex Link Declaration",
	[0x06] = "Root Complex Internal Link Control",
	[0x07] = "Root Complex Event Collector Endpoint Association",
	[0x08] = "Multi-Function Virtual Channel",
	[0x09] = "Virtual Channel (MFVC)",
	[0x0a] = "Root Complex Register Block",
	[0x0b] = "Vendor Specific Extended",
	[0x0c] = "Configuration Access Correlation",
	[0x0d] = "Access Control Services",
	[0x0e] = "Alternative Routing-ID Interpretation",
	[0x0f] = "Address Translation Services",
	[0x10] = "Single Root I/O Virtualization",
	[0x11] = "Multi-Root I/O Virtualization",
	[0x12] = "Multicast",
	[0x13] = "Page Request Interface",
	[0x14] = "Reserved for AMD",
	[0x15] = "Resizable BAR",
	[0x16] = "Dynamic Power Allocation",
	[0x17] = "TLP Processing Hints",
	[0x18] = "Latency Tolerance Reporting",
	[0x19] = "Secondary PCI Express",
	[0x1a] = "Protocol Multiplexing",
	[0x1b] = "Process Address Space ID",
	[0x1c] = "LN Requester",
	[0x1d] = "Downstream Port Containment",
	[0x1e] = "L1 PM Substates",
	[0x1f] = "Precision Time Measurement",
	[0x20] = "PCI Express over M-PHY",
	[0x21] = "FRS Queueing",
	[0x22] = "Readiness Time Reporting",
	[0x23] = "Designated Vendor-Specific",
	[0x24] = "VF Resizable BAR",
	[0x25] = "Data Link Feature",
	[0x26] = "Physical Layer 16.0 GT/s",
	[0x27] = "Lane Margining at the Receiver",
	[0x28] = "Hierarchy ID",
	[0x29] = "Native PCIe Enclosure Management",
	[0x2a] = "Physical Layer 32.0 GT/s",
	[0x2b] = "Alternate Protocol",
	[0x2c] = "System Firmware Intermediary",
	[0x2d] = "Shadow Functions",
	[0x2e] = "Data Object Exchange",
	[0x2f] = "Device 3",
	[0x30] = "Integrity and Data Encryption",
	[0x31] = "Physical Layer 64.0 GT/s",
	[0x32] = "Flit Logging",
	[0x33] = "Flit Performance Measurement",
	[0x34] = "Flit Error Injection",
};

static const char * const pcie_types[16] = {
	[0x0] = "Endpoint",
	[0x1] = "Legacy Endpoint",
	[0x4] = "Root Port",
	[0x5] = "Upstream Port",
	[0x6] = "Downstream Port",
	[0x7] = "PCIe to PCI/PCI-X Bridge",
	[0x8] = "PCI/PCI-X to PCIe Bridge",
	[0x9] = "Root Complex Integrated Endpoint",
	[0xa] = "Root Complex Event Collector",
};

const char *cap_name(unsigned int id, bool extended)
{
	const char *name = NULL;

	if (extended && id < ARRAY_SIZE(ext_caps))
		name = ext_caps[id];
	else if (!extended && id < ARRAY_SIZE(std_caps))
		name = std_caps[id];
	return name ? name : "Unknown";
}

static unsigned int le16(const struct dev_config *cfg, unsigned int off)
{
	if (off + 2 > (unsigned int)cfg->len)
		return 0;
	return cfg->raw[off] | cfg->raw[off + 1] << 8;
}

static unsigned int le32(const struct dev_config *cfg, unsigned int off)
{
	if (off + 4 > (unsigned int)cfg->len)
		return 0;
	return le16(cfg, off) | (unsigned int)le16(cfg, off + 2) << 16;
}

static void read_bars(const struct pci_dev *dev, struct dev_config *cfg)
{
	unsigned long long start, end, flags;
	char path[512], line[128];
	FILE *f;
	int i;

	if (fmt_path(path, sizeof(path), "%s/bus/pci/devices/%s/resource",
		     sysfs_root(), dev->addr))
		return;
	f = fopen(path, "re");
	if (!f)
		return;
	for (i = 0; i < MAX_BARS && fgets(line, sizeof(line), f); i++) {
		struct bar *b = &cfg->bars[cfg->nbars];

		if (sscanf(line, "%llx %llx %llx", &start, &end, &flags) != 3)
			break;
		if (!flags || (!start && !end) || end < start)
			continue;
		memset(b, 0, sizeof(*b));
		b->index = i;
		b->start = start;
		b->size = end - start + 1;
		if (flags & IORESOURCE_IO)
			b->type = "io";
		else if (i == 6)
			b->type = "rom";
		else if (flags & IORESOURCE_MEM_64)
			b->type = "mem64";
		else
			b->type = "mem32";
		b->prefetch = (flags & IORESOURCE_MEM) &&
			      (flags & IORESOURCE_PREFETCH);
		cfg->nbars++;
	}
	fclose(f);
}

static void cap_detail(struct dev_config *cfg, struct cap *c)
{
	unsigned int off = c->offset, ctrl, flags, tbl, pba;
	const char *type;

	switch (c->id) {
	case PCI_CAP_ID_MSI:
		ctrl = le16(cfg, off + 2);
		cfg->irq.msi = true;
		cfg->irq.msi_vectors = 1 << ((ctrl >> 1) & 7);
		cfg->irq.msi_64bit = ctrl & 0x80;
		cfg->irq.msi_maskable = ctrl & 0x100;
		snprintf(c->detail, sizeof(c->detail), "%d vector%s%s%s%s",
			 cfg->irq.msi_vectors,
			 cfg->irq.msi_vectors > 1 ? "s" : "",
			 cfg->irq.msi_64bit ? ", 64-bit" : "",
			 cfg->irq.msi_maskable ? ", per-vector masking" : "",
			 ctrl & 1 ? ", enabled" : "");
		break;
	case PCI_CAP_ID_MSIX:
		ctrl = le16(cfg, off + 2);
		tbl = le32(cfg, off + 4);
		pba = le32(cfg, off + 8);
		cfg->irq.msix = true;
		cfg->irq.msix_vectors = (ctrl & 0x7ff) + 1;
		snprintf(c->detail, sizeof(c->detail),
			 "%d vector%s, table in BAR %u at 0x%x, PBA in BAR %u at 0x%x%s",
			 cfg->irq.msix_vectors,
			 cfg->irq.msix_vectors > 1 ? "s" : "", tbl & 7,
			 tbl & ~7u, pba & 7, pba & ~7u,
			 ctrl & 0x8000 ? ", enabled" : "");
		break;
	case PCI_CAP_ID_EXP:
		flags = le16(cfg, off + 2);
		type = pcie_types[(flags >> 4) & 0xf];
		snprintf(c->detail, sizeof(c->detail), "v%u %s%s", flags & 0xf,
			 type ? type : "(unknown port type)",
			 le32(cfg, off + 4) & (1u << 28) ? ", FLR" : "");
		break;
	case PCI_CAP_ID_PM:
		flags = le16(cfg, off + 2);
		snprintf(c->detail, sizeof(c->detail), "v%u%s", flags & 7,
			 le16(cfg, off + 4) & 8 ? ", no soft reset" : "");
		break;
	}
}

static void add_cap(struct dev_config *cfg, unsigned int off,
		    unsigned int id, bool ext, unsigned int version)
{
	struct cap *c;

	if (cfg->ncaps >= MAX_CAPS)
		return;
	c = &cfg->caps[cfg->ncaps++];
	memset(c, 0, sizeof(*c));
	c->offset = off;
	c->id = id;
	c->extended = ext;
	c->version = version;
	if (ext)
		snprintf(c->detail, sizeof(c->detail), "v%u", version);
	else
		cap_detail(cfg, c);
}

static void walk_caps(struct dev_config *cfg)
{
	unsigned int ptr, hdr, ttl = 48;

	if (cfg->len < 64 || !(le16(cfg, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		goto extended;
	if ((cfg->raw[PCI_HEADER_TYPE] & 0x7f) == 2)
		ptr = cfg->raw[PCI_CB_CAPABILITY_LIST];
	else
		ptr = cfg->raw[PCI_CAPABILITY_LIST];
	while (ttl-- && ptr >= 0x40 && ptr + 2 <= (unsigned int)cfg->len) {
		ptr &= ~3u;
		if (cfg->raw[ptr] == 0xff)
			break;
		add_cap(cfg, ptr, cfg->raw[ptr], false, 0);
		ptr = cfg->raw[ptr + 1];
	}

extended:
	ptr = PCI_CFG_SPACE_SIZE;
	ttl = (4096 - PCI_CFG_SPACE_SIZE) / 8;
	while (ttl-- && ptr >= PCI_CFG_SPACE_SIZE &&
	       ptr + 4 <= (unsigned int)cfg->len) {
		hdr = le32(cfg, ptr);
		if (!hdr || hdr == 0xffffffff)
			break;
		add_cap(cfg, ptr, hdr & 0xffff, true, (hdr >> 16) & 0xf);
		ptr = (hdr >> 20) & 0xffc;
	}
}

/* Read config space, resources and interrupts of @dev. Returns -errno. */
int config_read(const struct pci_dev *dev, struct dev_config *cfg)
{
	char path[512];
	unsigned long irq;
	ssize_t n;

	memset(cfg, 0, sizeof(*cfg));
	cfg->irq.irq = -1;
	read_bars(dev, cfg);
	if (fmt_path(path, sizeof(path), "%s/bus/pci/devices/%s/irq",
		     sysfs_root(), dev->addr) == 0 && !read_ulong(path, &irq))
		cfg->irq.irq = (int)irq;
	if (fmt_path(path, sizeof(path), "%s/bus/pci/devices/%s/config",
		     sysfs_root(), dev->addr))
		return -ENAMETOOLONG;
	n = read_bytes(path, cfg->raw, sizeof(cfg->raw));
	if (n < 0)
		return (int)n;
	cfg->len = (int)n;
	if (cfg->len > PCI_INTERRUPT_PIN && cfg->raw[PCI_INTERRUPT_PIN] <= 4)
		cfg->irq.intx_pin = cfg->raw[PCI_INTERRUPT_PIN];
	walk_caps(cfg);
	return 0;
}

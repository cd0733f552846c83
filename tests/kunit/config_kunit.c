// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite pcipass_config: the virtual config space of
 * drivers/pcipass/config.c on made-up devices. pcipass_vconfig_build()
 * gets a config space snapshot, and pcipass_vconfig_read() and
 * pcipass_vconfig_write() are driven the way pcipass_config_rw() drives
 * them, with a made-up device standing in for the hardware (its registers
 * are what a hardware read returns, and a write changes the bits it is
 * allowed to). Checked:
 *
 *  - which header bits are the device's, which are virtual, and which a
 *    VMM may write, register by register;
 *  - BAR and ROM sizing: 32-bit, 64-bit, I/O, absent, partial writes;
 *  - MSI (32/64-bit, with and without per-vector masking), MSI-X enable
 *    and function mask, the function level reset bits of PCI Express and
 *    Advanced Features;
 *  - the capability chains: standard capabilities all visible, hidden
 *    extended capabilities unlinked, including the first one at 0x100, in
 *    chains in and out of address order, with every body left as the
 *    device has it;
 *  - malformed chains a broken or hostile device may report (a capability
 *    running past 0xff, overlapping ones, loops, pointers into the header
 *    or below 0x100): refused before anything is written.
 *
 * The rules are those of Documentation/userspace-api/pcipass.rst,
 * "Config space".
 */

#include <kunit/test.h>
#include <linux/pci.h>
#include <linux/pci_regs.h>
#include <linux/unaligned.h>

#include "pcipass.h"

/* The made-up device's capabilities (standard ones). */
#define POS_PM		0x40
#define POS_MSI		0x50
#define POS_MSIX	0x70
#define POS_EXP		0x80
#define POS_AF		0xc0
#define POS_VENDOR_REG	0xe0	/* a device-specific register, in no capability */

/**
 * struct vcfg - a virtual config space and the made-up device behind it
 * @cfg: what pcipass keeps for the device
 * @dev: the device's config space: what a hardware read returns
 */
struct vcfg {
	struct pcipass_vconfig cfg;
	u8 *dev;
};

static u32 len_mask(u32 len)
{
	return len == 4 ? U32_MAX : BIT(8 * len) - 1;
}

static u32 get_le(const u8 *p, u32 len)
{
	switch (len) {
	case 1:
		return *p;
	case 2:
		return get_unaligned_le16(p);
	default:
		return get_unaligned_le32(p);
	}
}

static void put_le(u8 *p, u32 len, u32 val)
{
	switch (len) {
	case 1:
		*p = val;
		break;
	case 2:
		put_unaligned_le16(val, p);
		break;
	default:
		put_unaligned_le32(val, p);
		break;
	}
}

static void dev_put(struct vcfg *v, u32 pos, u32 len, u32 val)
{
	put_le(&v->dev[pos], len, val);
}

static u32 dev_get(struct vcfg *v, u32 pos, u32 len)
{
	return get_le(&v->dev[pos], len);
}

/* A VMM's read: the device's bits merged with the virtual ones. */
static u32 guest_read(struct vcfg *v, u32 pos, u32 len)
{
	return pcipass_vconfig_read(&v->cfg, pos, len, dev_get(v, pos, len));
}

/* The same read, with the device returning @hw. */
static u32 guest_read_hw(struct vcfg *v, u32 pos, u32 len, u32 hw)
{
	return pcipass_vconfig_read(&v->cfg, pos, len, hw);
}

/* A VMM's write; the device gets the bits pcipass passes on. */
static u32 guest_write(struct vcfg *v, u32 pos, u32 len, u32 val)
{
	u32 hw_mask = 0x5a5a5a5a;
	u32 hw_val;

	hw_val = pcipass_vconfig_write(&v->cfg, pos, len, val, &hw_mask);
	if (hw_mask)
		dev_put(v, pos, len,
			(dev_get(v, pos, len) & ~hw_mask) | hw_val);
	return hw_mask;
}

static struct vcfg *vcfg_alloc(struct kunit *test, u32 size)
{
	struct vcfg *v = kunit_kzalloc(test, sizeof(*v), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, v);
	v->cfg.size = size;
	v->cfg.shadow = kunit_kzalloc(test, size, GFP_KERNEL);
	v->cfg.virt = kunit_kzalloc(test, size, GFP_KERNEL);
	v->cfg.write = kunit_kzalloc(test, size, GFP_KERNEL);
	v->dev = kunit_kzalloc(test, size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, v->cfg.shadow);
	KUNIT_ASSERT_NOT_NULL(test, v->cfg.virt);
	KUNIT_ASSERT_NOT_NULL(test, v->cfg.write);
	KUNIT_ASSERT_NOT_NULL(test, v->dev);
	return v;
}

/* Snapshot the device into the shadow and build, as attach does. */
static int vcfg_try_build(struct vcfg *v, u32 *bad)
{
	memcpy(v->cfg.shadow, v->dev, v->cfg.size);
	return pcipass_vconfig_build(&v->cfg, bad);
}

/* The same for a well-formed device: the build must succeed. */
static void vcfg_build(struct kunit *test, struct vcfg *v)
{
	u32 bad = 0;

	KUNIT_ASSERT_EQ_MSG(test, vcfg_try_build(v, &bad), 0,
			    "refused at %#x", bad);
}

static void dev_header(struct vcfg *v, u8 cap_ptr)
{
	dev_put(v, PCI_VENDOR_ID, 2, 0x1b36);
	dev_put(v, PCI_DEVICE_ID, 2, 0x11f0);
	dev_put(v, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		PCI_COMMAND_INTX_DISABLE);
	dev_put(v, PCI_STATUS, 2, PCI_STATUS_DEVSEL_MEDIUM |
		(cap_ptr ? PCI_STATUS_CAP_LIST : 0));
	dev_put(v, PCI_CLASS_REVISION, 4, 0x01800002);
	dev_put(v, PCI_CACHE_LINE_SIZE, 1, 0x10);
	dev_put(v, PCI_LATENCY_TIMER, 1, 0x20);
	dev_put(v, PCI_BIST, 1, PCI_BIST_CAPABLE);
	dev_put(v, PCI_CARDBUS_CIS, 4, 0x00000041);
	dev_put(v, PCI_SUBSYSTEM_VENDOR_ID, 2, 0x1af4);
	dev_put(v, PCI_SUBSYSTEM_ID, 2, 0x1100);
	dev_put(v, PCI_CAPABILITY_LIST, 1, cap_ptr);
	dev_put(v, PCI_INTERRUPT_LINE, 1, 0x0b);
	dev_put(v, PCI_INTERRUPT_PIN, 1, 0x01);
	dev_put(v, PCI_MIN_GNT, 1, 0x02);
	dev_put(v, PCI_MAX_LAT, 1, 0x03);
	dev_put(v, POS_VENDOR_REG, 4, 0x12345678);
}

/*
 * The made-up device: a type 0 header, PM -> MSI (@msi_flags) -> MSI-X
 * -> PCI Express -> Advanced Features, every enable and reset bit set in
 * the snapshot (a previous user left them on).
 */
static struct vcfg *vcfg_device(struct kunit *test, u32 size, u16 msi_flags)
{
	struct vcfg *v = vcfg_alloc(test, size);
	u32 data;

	dev_header(v, POS_PM);

	dev_put(v, POS_PM, 2, POS_MSI << 8 | PCI_CAP_ID_PM);
	dev_put(v, POS_PM + PCI_PM_PMC, 2, 0x0003);
	dev_put(v, POS_PM + PCI_PM_CTRL, 2, 0x0008);

	dev_put(v, POS_MSI, 2, POS_MSIX << 8 | PCI_CAP_ID_MSI);
	dev_put(v, POS_MSI + PCI_MSI_FLAGS, 2, msi_flags);
	dev_put(v, POS_MSI + PCI_MSI_ADDRESS_LO, 4, 0xfee0100c);
	data = POS_MSI + PCI_MSI_DATA_32;
	if (msi_flags & PCI_MSI_FLAGS_64BIT) {
		dev_put(v, POS_MSI + PCI_MSI_ADDRESS_HI, 4, 0x00000001);
		data = POS_MSI + PCI_MSI_DATA_64;
	}
	dev_put(v, data, 4, 0xbeef4021);
	if (msi_flags & PCI_MSI_FLAGS_MASKBIT) {
		dev_put(v, data + 4, 4, 0x0000000f);	/* mask */
		dev_put(v, data + 8, 4, 0x00000003);	/* pending */
	}

	dev_put(v, POS_MSIX, 2, POS_EXP << 8 | PCI_CAP_ID_MSIX);
	dev_put(v, POS_MSIX + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE |
		PCI_MSIX_FLAGS_MASKALL | 7);
	dev_put(v, POS_MSIX + PCI_MSIX_TABLE, 4, 0x00002000);
	dev_put(v, POS_MSIX + PCI_MSIX_PBA, 4, 0x00003000);

	dev_put(v, POS_EXP, 2, POS_AF << 8 | PCI_CAP_ID_EXP);
	dev_put(v, POS_EXP + PCI_EXP_FLAGS, 2, 0x0002);
	dev_put(v, POS_EXP + PCI_EXP_DEVCAP, 4, PCI_EXP_DEVCAP_FLR | 0x1);
	dev_put(v, POS_EXP + PCI_EXP_DEVCTL, 2, PCI_EXP_DEVCTL_BCR_FLR |
		0x2810);
	dev_put(v, POS_EXP + PCI_EXP_LNKCTL, 2, 0x0040);

	dev_put(v, POS_AF, 2, 0x0000 | PCI_CAP_ID_AF);
	dev_put(v, POS_AF + PCI_AF_LENGTH, 1, 6);
	dev_put(v, POS_AF + PCI_AF_CAP, 1, PCI_AF_CAP_TP | PCI_AF_CAP_FLR);
	dev_put(v, POS_AF + PCI_AF_CTRL, 1, PCI_AF_CTRL_FLR);

	vcfg_build(test, v);
	return v;
}

#define MSI_DEFAULT	(PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT | 0x0a)

/* ---- header registers --------------------------------------------------- */

/**
 * struct reg_case - who owns the bits of a register
 * @desc: the register
 * @pos: its offset
 * @len: access size
 * @virt: bits read from pcipass's shadow (else from the device)
 * @shadow_w: bits a VMM's write changes in the shadow
 * @hw_w: bits a VMM's write passes to the device
 */
struct reg_case {
	const char *desc;
	u16 pos;
	u8 len;
	u32 virt;
	u32 shadow_w;
	u32 hw_w;
};

#define CMD_HW	(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | \
		 PCI_COMMAND_PARITY | PCI_COMMAND_SERR)

static const struct reg_case reg_cases[] = {
	{ "vendor ID", PCI_VENDOR_ID, 2, 0, 0, 0 },
	{ "device ID", PCI_DEVICE_ID, 2, 0, 0, 0 },
	{ "command", PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE,
	  PCI_COMMAND_INTX_DISABLE, CMD_HW },
	{ "command, low byte", PCI_COMMAND, 1, 0, 0, CMD_HW & 0xff },
	{ "command, high byte", PCI_COMMAND + 1, 1,
	  PCI_COMMAND_INTX_DISABLE >> 8, PCI_COMMAND_INTX_DISABLE >> 8,
	  CMD_HW >> 8 },
	{ "command and status", PCI_COMMAND, 4, PCI_COMMAND_INTX_DISABLE,
	  PCI_COMMAND_INTX_DISABLE, CMD_HW },
	{ "status", PCI_STATUS, 2, 0, 0, 0 },
	{ "revision and class", PCI_CLASS_REVISION, 4, 0, 0, 0 },
	{ "cache line size", PCI_CACHE_LINE_SIZE, 1, 0xff, 0xff, 0 },
	{ "latency timer", PCI_LATENCY_TIMER, 1, 0xff, 0xff, 0 },
	{ "header type", PCI_HEADER_TYPE, 1, 0, 0, 0 },
	{ "BIST", PCI_BIST, 1, 0, 0, 0 },
	{ "cache line to BIST", PCI_CACHE_LINE_SIZE, 4, 0xffff, 0xffff, 0 },
	{ "CardBus CIS", PCI_CARDBUS_CIS, 4, 0, 0, 0 },
	{ "subsystem IDs", PCI_SUBSYSTEM_VENDOR_ID, 4, 0, 0, 0 },
	{ "capability pointer", PCI_CAPABILITY_LIST, 1, 0xff, 0, 0 },
	{ "reserved after the capability pointer", PCI_CAPABILITY_LIST + 1, 1,
	  0, 0, 0 },
	{ "reserved dword", 0x38, 4, 0, 0, 0 },
	{ "interrupt line", PCI_INTERRUPT_LINE, 1, 0xff, 0xff, 0 },
	{ "interrupt pin", PCI_INTERRUPT_PIN, 1, 0, 0, 0 },
	{ "interrupt line to max latency", PCI_INTERRUPT_LINE, 4, 0xff, 0xff,
	  0 },
	{ "device-specific register", POS_VENDOR_REG, 4, 0, 0, 0 },
	/* Capability registers with no special treatment are the device's. */
	{ "PM capability ID", POS_PM, 1, 0, 0, 0 },
	{ "PM capabilities", POS_PM + PCI_PM_PMC, 2, 0, 0, 0 },
	{ "PM control", POS_PM + PCI_PM_CTRL, 2, 0, 0, 0 },
	{ "PCIe device capabilities", POS_EXP + PCI_EXP_DEVCAP, 4, 0, 0, 0 },
	{ "PCIe link control", POS_EXP + PCI_EXP_LNKCTL, 2, 0, 0, 0 },
	{ "MSI-X table offset", POS_MSIX + PCI_MSIX_TABLE, 4, 0, 0, 0 },
	{ "MSI-X PBA offset", POS_MSIX + PCI_MSIX_PBA, 4, 0, 0, 0 },
	/* Next pointers: from the shadow, never written. */
	{ "PM next pointer", POS_PM + PCI_CAP_LIST_NEXT, 1, 0xff, 0, 0 },
	{ "MSI-X ID and next", POS_MSIX, 2, 0xff00, 0, 0 },
};

static void reg_case_desc(const struct reg_case *t, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s (%#x/%u)", t->desc, t->pos,
		 t->len);
}

KUNIT_ARRAY_PARAM(reg, reg_cases, reg_case_desc);

static void config_register_ownership(struct kunit *test)
{
	const struct reg_case *t = test->param_value;
	struct vcfg *v = vcfg_device(test, PCI_CFG_SPACE_EXP_SIZE,
				     MSI_DEFAULT);
	u32 all = len_mask(t->len);
	u32 s, h;

	/* The device's value now differs from the snapshot in every bit. */
	s = get_le(&v->cfg.shadow[t->pos], t->len);
	h = ~s & all;
	dev_put(v, t->pos, t->len, h);
	KUNIT_EXPECT_EQ(test, guest_read(v, t->pos, t->len),
			(h & ~t->virt) | (s & t->virt));

	/* All ones: the device gets exactly its bits, the shadow its own. */
	KUNIT_EXPECT_EQ(test, pcipass_vconfig_write(&v->cfg, t->pos, t->len,
						    all, &h), t->hw_w);
	KUNIT_EXPECT_EQ(test, h, t->hw_w);
	KUNIT_EXPECT_EQ(test, guest_read_hw(v, t->pos, t->len, 0),
			(s | t->shadow_w) & t->virt);

	/* All zeroes: the same bits, cleared. */
	KUNIT_EXPECT_EQ(test, pcipass_vconfig_write(&v->cfg, t->pos, t->len,
						    0, &h), 0);
	KUNIT_EXPECT_EQ(test, h, t->hw_w);
	KUNIT_EXPECT_EQ(test, guest_read_hw(v, t->pos, t->len, all),
			(all & ~t->virt) | (s & ~t->shadow_w & t->virt));
}

/* Without a capability list, the guest sees none. */
static void config_no_capability_list(struct kunit *test)
{
	struct vcfg *v = vcfg_alloc(test, PCI_CFG_SPACE_SIZE);

	dev_header(v, 0);
	/* A stale pointer the status register does not vouch for. */
	dev_put(v, PCI_CAPABILITY_LIST, 1, POS_PM);
	dev_put(v, POS_PM, 2, PCI_CAP_ID_PM);
	vcfg_build(test, v);
	KUNIT_EXPECT_EQ(test, guest_read(v, PCI_CAPABILITY_LIST, 1), 0);
	KUNIT_EXPECT_EQ(test, guest_read_hw(v, PCI_CAPABILITY_LIST, 1, 0xff),
			0);
	KUNIT_EXPECT_EQ(test, v->cfg.msi_pos, 0);
	KUNIT_EXPECT_EQ(test, v->cfg.pcie_pos, 0);
	KUNIT_EXPECT_EQ(test, v->cfg.af_pos, 0);
}

/* The standard chain stays whole, and is the snapshot's, not the device's. */
static void config_standard_chain(struct kunit *test)
{
	static const u8 want[][2] = {
		{ POS_PM, PCI_CAP_ID_PM }, { POS_MSI, PCI_CAP_ID_MSI },
		{ POS_MSIX, PCI_CAP_ID_MSIX }, { POS_EXP, PCI_CAP_ID_EXP },
		{ POS_AF, PCI_CAP_ID_AF },
	};
	struct vcfg *v = vcfg_device(test, PCI_CFG_SPACE_EXP_SIZE,
				     MSI_DEFAULT);
	unsigned int n = 0;
	u32 pos;

	KUNIT_EXPECT_EQ(test, v->cfg.msi_pos, POS_MSI);
	KUNIT_EXPECT_EQ(test, v->cfg.pcie_pos, POS_EXP);
	KUNIT_EXPECT_EQ(test, v->cfg.af_pos, POS_AF);

	/* A device that changed its pointers under us is not believed. */
	dev_put(v, PCI_CAPABILITY_LIST, 1, 0);
	dev_put(v, POS_MSI + PCI_CAP_LIST_NEXT, 1, 0);
	KUNIT_EXPECT_EQ(test, guest_write(v, POS_PM + PCI_CAP_LIST_NEXT, 1,
					  0), 0);

	for (pos = guest_read(v, PCI_CAPABILITY_LIST, 1); pos;
	     pos = guest_read(v, pos + PCI_CAP_LIST_NEXT, 1)) {
		KUNIT_ASSERT_LT(test, n, ARRAY_SIZE(want));
		KUNIT_EXPECT_EQ(test, pos, want[n][0]);
		KUNIT_EXPECT_EQ(test, guest_read(v, pos, 1), want[n][1]);
		n++;
	}
	KUNIT_EXPECT_EQ(test, n, ARRAY_SIZE(want));
}

/* ---- BARs and the ROM --------------------------------------------------- */

/**
 * struct bar_case - one write to a BAR or the ROM and what reads back
 * @desc: what the case is about
 * @bar: the BAR, or %PCIPASS_REGION_ROM
 * @size: its size (of the pair for a 64-bit BAR)
 * @flags: its low flag bits
 * @upper: the write is to the upper half of the 64-bit BAR @bar
 * @off: byte offset of the write in the register
 * @len: size of the write
 * @val: the value written
 * @want: the whole register read back
 */
struct bar_case {
	const char *desc;
	u8 bar;
	u64 size;
	u32 flags;
	bool upper;
	u8 off;
	u8 len;
	u32 val;
	u32 want;
};

#define MEM64	PCI_BASE_ADDRESS_MEM_TYPE_64
#define PREF	PCI_BASE_ADDRESS_MEM_PREFETCH
#define IO	PCI_BASE_ADDRESS_SPACE_IO
#define ROM	PCIPASS_REGION_ROM

static const struct bar_case bar_cases[] = {
	{ "32-bit 4K: sizing", 0, SZ_4K, 0, false, 0, 4, ~0U, 0xfffff000 },
	{ "32-bit 4K: an address", 0, SZ_4K, 0, false, 0, 4, 0xfebf1234,
	  0xfebf1000 },
	{ "32-bit 4K: zero", 0, SZ_4K, 0, false, 0, 4, 0, 0 },
	{ "32-bit 4K: flag bits stay", 0, SZ_4K, 0, false, 0, 4, 0xf, 0 },
	{ "32-bit 4K: low byte", 0, SZ_4K, 0, false, 0, 1, 0xff, 0xfe000000 },
	{ "32-bit 4K: high word", 0, SZ_4K, 0, false, 2, 2, 0xffff,
	  0xffff0000 },
	{ "32-bit prefetchable 1M: sizing", 5, SZ_1M, PREF, false, 0, 4, ~0U,
	  0xfff00008 },
	{ "32-bit 2G: sizing", 1, SZ_2G, 0, false, 0, 4, ~0U, 0x80000000 },
	{ "I/O 32 bytes: sizing", 1, 32, IO, false, 0, 4, ~0U, 0xffffffe1 },
	{ "I/O 32 bytes: an address", 1, 32, IO, false, 0, 4, 0xc020, 0xc021 },
	{ "I/O 32 bytes: low byte", 1, 32, IO, false, 0, 1, 0xff, 0xfe0000e1 },
	{ "64-bit 8G: sizing, lower", 2, 8ULL * SZ_1G, MEM64 | PREF, false, 0,
	  4, ~0U, 0x0000000c },
	{ "64-bit 8G: sizing, upper", 2, 8ULL * SZ_1G, MEM64 | PREF, true, 0,
	  4, ~0U, 0xfffffffe },
	{ "64-bit 8G: an address, upper", 2, 8ULL * SZ_1G, MEM64 | PREF, true,
	  0, 4, 0x00000005, 0x00000004 },
	{ "64-bit 16K: sizing, lower", 2, SZ_16K, MEM64, false, 0, 4, ~0U,
	  0xffffc004 },
	{ "64-bit 16K: sizing, upper", 2, SZ_16K, MEM64, true, 0, 4, ~0U,
	  0xffffffff },
	{ "64-bit 16K: an address, lower", 4, SZ_16K, MEM64, false, 0, 4,
	  0xfe004321, 0xfe004004 },
	{ "64-bit 16K: an address, upper", 4, SZ_16K, MEM64, true, 0, 4,
	  0x00000080, 0x00000080 },
	{ "absent BAR: sizing", 3, 0, 0, false, 0, 4, ~0U, 0 },
	{ "ROM 64K: sizing", ROM, SZ_64K, 0, false, 0, 4,
	  PCI_ROM_ADDRESS_MASK, 0xffff0000 },
	{ "ROM 64K: sizing with enable", ROM, SZ_64K, 0, false, 0, 4, ~0U,
	  0xffff0001 },
	{ "ROM 64K: an address, enabled", ROM, SZ_64K, 0, false, 0, 4,
	  0xfeb00001, 0xfeb00001 },
	{ "ROM 64K: reserved bits", ROM, SZ_64K, 0, false, 0, 4, 0xfeb007fe,
	  0xfeb00000 },
	{ "no ROM: sizing", ROM, 0, 0, false, 0, 4, ~0U, 0 },
};

static void bar_case_desc(const struct bar_case *t, char *desc)
{
	strscpy(desc, t->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(bar, bar_cases, bar_case_desc);

static u32 bar_pos(int bar)
{
	return bar == ROM ? PCI_ROM_ADDRESS : PCI_BASE_ADDRESS_0 + 4 * bar;
}

static void config_bar_sizing(struct kunit *test)
{
	const struct bar_case *t = test->param_value;
	struct vcfg *v = vcfg_alloc(test, PCI_CFG_SPACE_SIZE);
	u32 before[ROM + 1], target, hw_mask, hw_val;
	int bar, which = t->upper ? t->bar + 1 : t->bar;

	dev_header(v, 0);
	/* Where firmware put it, enables off. */
	if (t->bar == ROM) {
		dev_put(v, PCI_ROM_ADDRESS, 4, t->size ? 0xfe000000 : 0);
	} else if (t->size) {
		dev_put(v, bar_pos(t->bar), 4, 0xfe000000 | t->flags);
		if (t->flags & MEM64)
			dev_put(v, bar_pos(t->bar + 1), 4, 0);
	}
	v->cfg.bar_size[t->bar] = t->size;
	v->cfg.bar_flags[t->bar] = t->size ? t->flags : 0;
	if (t->flags & MEM64)
		v->cfg.bar_flags[t->bar + 1] = PCIPASS_BAR_UPPER;
	vcfg_build(test, v);

	for (bar = 0; bar <= ROM; bar++)
		before[bar] = guest_read(v, bar_pos(bar), 4);
	target = bar_pos(which);
	hw_val = pcipass_vconfig_write(&v->cfg, target + t->off, t->len,
				       t->val, &hw_mask);
	/* BARs are virtual: nothing reaches the device. */
	KUNIT_EXPECT_EQ(test, hw_mask, 0);
	KUNIT_EXPECT_EQ(test, hw_val, 0);
	/* Whatever the device says. */
	KUNIT_EXPECT_EQ(test, guest_read_hw(v, target, 4, 0xdeadbeef),
			t->want);
	for (bar = 0; bar <= ROM; bar++)
		if (bar != which)
			KUNIT_EXPECT_EQ_MSG(test, guest_read(v, bar_pos(bar), 4),
					    before[bar], "BAR %d changed", bar);
}

/* ---- MSI ---------------------------------------------------------------- */

/**
 * struct msi_case - an MSI capability
 * @desc: its kind
 * @flags: its message control register in the snapshot (enable and
 *	multiple message enable set there on purpose)
 */
struct msi_case {
	const char *desc;
	u16 flags;
};

#define MSI_ON	(PCI_MSI_FLAGS_ENABLE | 0x20)	/* enabled, 4 vectors */

static const struct msi_case msi_cases[] = {
	{ "32-bit", MSI_ON | 0x0a },
	{ "32-bit with mask bits", MSI_ON | PCI_MSI_FLAGS_MASKBIT | 0x0a },
	{ "64-bit", MSI_ON | PCI_MSI_FLAGS_64BIT | 0x0a },
	{ "64-bit with mask bits", MSI_ON | PCI_MSI_FLAGS_64BIT |
	  PCI_MSI_FLAGS_MASKBIT | 0x0a },
	{ "64-bit with mask bits, one vector", PCI_MSI_FLAGS_ENABLE |
	  PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT },
};

static void msi_case_desc(const struct msi_case *t, char *desc)
{
	strscpy(desc, t->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(msi, msi_cases, msi_case_desc);

#define MSI_VIRT	(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE)

/* A virtual register: written and read back whatever the device says. */
static void expect_virtual(struct kunit *test, struct vcfg *v, u32 pos,
			   u32 len, u32 val)
{
	KUNIT_EXPECT_EQ_MSG(test, guest_write(v, pos, len, val), 0,
			    "write to %#x reached the device", pos);
	KUNIT_EXPECT_EQ_MSG(test, guest_read_hw(v, pos, len, ~val), val,
			    "at %#x", pos);
	KUNIT_EXPECT_EQ_MSG(test, guest_read_hw(v, pos, len, 0), val,
			    "at %#x", pos);
}

/* A register of the device: read from it, never written. */
static void expect_device_ro(struct kunit *test, struct vcfg *v, u32 pos,
			     u32 len)
{
	u32 all = len_mask(len);

	KUNIT_EXPECT_EQ_MSG(test, guest_read_hw(v, pos, len, 0x9c3a65e1 & all),
			    0x9c3a65e1 & all, "at %#x", pos);
	KUNIT_EXPECT_EQ_MSG(test, guest_write(v, pos, len, all), 0,
			    "write to %#x reached the device", pos);
	KUNIT_EXPECT_EQ_MSG(test, guest_write(v, pos, len, 0), 0,
			    "write to %#x reached the device", pos);
	KUNIT_EXPECT_EQ_MSG(test, guest_read_hw(v, pos, len, 0x5a), 0x5a,
			    "at %#x", pos);
}

static void config_msi(struct kunit *test)
{
	const struct msi_case *t = test->param_value;
	struct vcfg *v = vcfg_device(test, PCI_CFG_SPACE_EXP_SIZE, t->flags);
	bool is64 = t->flags & PCI_MSI_FLAGS_64BIT;
	u32 flags = POS_MSI + PCI_MSI_FLAGS;
	u32 data = POS_MSI + (is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32);
	u32 end = data + ((t->flags & PCI_MSI_FLAGS_MASKBIT) ? 12 : 4);

	KUNIT_EXPECT_EQ(test, v->cfg.msi_pos, POS_MSI);

	/* Starts disabled with no vector, whatever the snapshot had... */
	KUNIT_EXPECT_EQ(test, guest_read(v, flags, 2), t->flags & ~MSI_VIRT);
	/* ... and with no address, data or mask: the host's are not shown. */
	KUNIT_EXPECT_EQ(test, guest_read_hw(v, POS_MSI + PCI_MSI_ADDRESS_LO, 4,
					    ~0U), 0);
	if (is64)
		KUNIT_EXPECT_EQ(test, guest_read_hw(v, POS_MSI +
						    PCI_MSI_ADDRESS_HI, 4, ~0U),
				0);
	KUNIT_EXPECT_EQ(test, guest_read_hw(v, data, 2, 0xffff), 0);
	/* Enable and multiple message enable are virtual; the rest is read only. */
	KUNIT_EXPECT_EQ(test, guest_write(v, flags, 2, 0xffff), 0);
	KUNIT_EXPECT_EQ(test, guest_read(v, flags, 2), t->flags | MSI_VIRT);
	KUNIT_EXPECT_EQ(test, guest_read_hw(v, flags, 2, 0), MSI_VIRT);
	KUNIT_EXPECT_EQ(test, guest_write(v, flags, 2, PCI_MSI_FLAGS_ENABLE |
					  0x10), 0);
	KUNIT_EXPECT_EQ(test, guest_read(v, flags, 2),
			(t->flags & ~MSI_VIRT) | PCI_MSI_FLAGS_ENABLE | 0x10);
	/* The device never saw any of it. */
	KUNIT_EXPECT_EQ(test, dev_get(v, flags, 2), t->flags);

	expect_virtual(test, v, POS_MSI + PCI_MSI_ADDRESS_LO, 4, 0xfee02000);
	if (is64)
		expect_virtual(test, v, POS_MSI + PCI_MSI_ADDRESS_HI, 4,
			       0x12345678);
	/* Message data: 16 bits virtual, the extended data the device's. */
	expect_virtual(test, v, data, 2, 0x4041);
	KUNIT_EXPECT_EQ(test, guest_read_hw(v, data, 4, 0xabcd0000), 0xabcd4041);
	expect_device_ro(test, v, data + 2, 2);

	if (t->flags & PCI_MSI_FLAGS_MASKBIT) {
		/* Mask bits are the guest's, from 0. */
		KUNIT_EXPECT_EQ(test, guest_read_hw(v, data + 4, 4, ~0U), 0);
		expect_virtual(test, v, data + 4, 4, 0xffffffff);
		expect_virtual(test, v, data + 4, 4, 0x00000005);
		/* Pending bits read as zero and cannot be written. */
		KUNIT_EXPECT_EQ(test, guest_read(v, data + 8, 4), 0);
		KUNIT_EXPECT_EQ(test, guest_read_hw(v, data + 8, 4, ~0U), 0);
		KUNIT_EXPECT_EQ(test, guest_write(v, data + 8, 4, ~0U), 0);
		KUNIT_EXPECT_EQ(test, guest_read_hw(v, data + 8, 4, ~0U), 0);
	}

	/* Past the capability, up to the next one: the device's again. */
	for (; end < POS_MSIX; end += 4)
		expect_device_ro(test, v, end, 4);
}

/* ---- MSI-X, PCI Express and Advanced Features ---------------------------- */

#define MSIX_VIRT	(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL)

static void config_msix_enable_bits(struct kunit *test)
{
	struct vcfg *v = vcfg_device(test, PCI_CFG_SPACE_EXP_SIZE,
				     MSI_DEFAULT);
	u32 flags = POS_MSIX + PCI_MSIX_FLAGS;

	/* The snapshot had both on; the guest starts with both off. */
	KUNIT_EXPECT_EQ(test, guest_read(v, flags, 2), 7);
	KUNIT_EXPECT_EQ(test, guest_write(v, flags, 2, 0xffff), 0);
	KUNIT_EXPECT_EQ(test, guest_read(v, flags, 2), MSIX_VIRT | 7);
	KUNIT_EXPECT_EQ(test, guest_read_hw(v, flags, 2, 0), MSIX_VIRT);
	KUNIT_EXPECT_EQ(test, guest_write(v, flags, 2, PCI_MSIX_FLAGS_ENABLE),
			0);
	KUNIT_EXPECT_EQ(test, guest_read(v, flags, 2),
			PCI_MSIX_FLAGS_ENABLE | 7);
	/* By byte, the way some guests do it. */
	KUNIT_EXPECT_EQ(test, guest_write(v, flags + 1, 1,
					  PCI_MSIX_FLAGS_MASKALL >> 8), 0);
	KUNIT_EXPECT_EQ(test, guest_read(v, flags, 2),
			PCI_MSIX_FLAGS_MASKALL | 7);
	KUNIT_EXPECT_EQ(test, guest_write(v, flags, 2, 0), 0);
	KUNIT_EXPECT_EQ(test, guest_read(v, flags, 2), 7);
	/* The device's table size, whatever it says now. */
	KUNIT_EXPECT_EQ(test, guest_read_hw(v, flags, 2, 0x3ff), 0x3ff);
	KUNIT_EXPECT_EQ(test, dev_get(v, flags, 2), MSIX_VIRT | 7);
}

static void config_pcie_flr_reads_zero(struct kunit *test)
{
	struct vcfg *v = vcfg_device(test, PCI_CFG_SPACE_EXP_SIZE,
				     MSI_DEFAULT);
	u32 devctl = POS_EXP + PCI_EXP_DEVCTL;

	/* Left set in the snapshot and still set in the device: reads 0. */
	KUNIT_EXPECT_EQ(test, guest_read(v, devctl, 2), 0x2810);
	KUNIT_EXPECT_EQ(test, guest_read_hw(v, devctl, 2, 0xffff),
			0xffff & ~PCI_EXP_DEVCTL_BCR_FLR);
	KUNIT_EXPECT_EQ(test, guest_read(v, devctl + 1, 1), 0x28);
	/* A reset request is pcipass's to carry out, not the device's. */
	KUNIT_EXPECT_EQ(test, guest_write(v, devctl, 2,
					  PCI_EXP_DEVCTL_BCR_FLR | 0x2810), 0);
	KUNIT_EXPECT_EQ(test, guest_write(v, devctl + 1, 1, 0xff), 0);
	KUNIT_EXPECT_EQ(test, dev_get(v, devctl, 2),
			PCI_EXP_DEVCTL_BCR_FLR | 0x2810);
	/* The device's FLR capability is not hidden. */
	KUNIT_EXPECT_EQ(test, guest_read(v, POS_EXP + PCI_EXP_DEVCAP, 4),
			PCI_EXP_DEVCAP_FLR | 0x1);
}

static void config_af_flr_reads_zero(struct kunit *test)
{
	struct vcfg *v = vcfg_device(test, PCI_CFG_SPACE_EXP_SIZE,
				     MSI_DEFAULT);
	u32 ctrl = POS_AF + PCI_AF_CTRL;

	KUNIT_EXPECT_EQ(test, guest_read(v, ctrl, 1), 0);
	KUNIT_EXPECT_EQ(test, guest_read_hw(v, ctrl, 1, 0xff),
			0xff & ~PCI_AF_CTRL_FLR);
	KUNIT_EXPECT_EQ(test, guest_write(v, ctrl, 1, PCI_AF_CTRL_FLR), 0);
	KUNIT_EXPECT_EQ(test, guest_read(v, POS_AF + PCI_AF_CAP, 1),
			PCI_AF_CAP_TP | PCI_AF_CAP_FLR);
}

/* ---- extended capabilities ---------------------------------------------- */

#define MAX_EXT		10
#define EXT_BODY	0x40	/* bytes each made-up capability spans */

/**
 * struct ext_case - a chain of extended capabilities
 * @desc: what the case is about
 * @n: capabilities in the chain
 * @cap: each one's offset and ID, in chain order
 * @nwant: capabilities the guest finds walking the chain from 0x100
 * @want: their offsets and IDs; ID 0 for the empty header that stands
 *	at 0x100 when the capability there is hidden
 */
struct ext_case {
	const char *desc;
	unsigned int n;
	u16 cap[MAX_EXT][2];
	unsigned int nwant;
	u16 want[MAX_EXT][2];
};

#define AER	PCI_EXT_CAP_ID_ERR
#define ACS	PCI_EXT_CAP_ID_ACS
#define ATS	PCI_EXT_CAP_ID_ATS
#define SRIOV	PCI_EXT_CAP_ID_SRIOV
#define PRI	PCI_EXT_CAP_ID_PRI
#define REBAR	PCI_EXT_CAP_ID_REBAR
#define PASID	PCI_EXT_CAP_ID_PASID
#define DSN	PCI_EXT_CAP_ID_DSN
#define LTR	PCI_EXT_CAP_ID_LTR
#define L1SS	PCI_EXT_CAP_ID_L1SS
#define VC	PCI_EXT_CAP_ID_VC
#define VNDR	PCI_EXT_CAP_ID_VNDR

static const struct ext_case ext_cases[] = {
	{ "nothing hidden", 3, { { 0x100, DSN }, { 0x140, LTR }, { 0x180, L1SS } },
	  3, { { 0x100, DSN }, { 0x140, LTR }, { 0x180, L1SS } } },
	{ "AER first, at 0x100", 3,
	  { { 0x100, AER }, { 0x140, DSN }, { 0x180, LTR } },
	  3, { { 0x100, 0 }, { 0x140, DSN }, { 0x180, LTR } } },
	{ "ACS in the middle", 3,
	  { { 0x100, DSN }, { 0x140, ACS }, { 0x180, LTR } },
	  2, { { 0x100, DSN }, { 0x180, LTR } } },
	{ "SR-IOV last", 2, { { 0x100, DSN }, { 0x140, SRIOV } },
	  1, { { 0x100, DSN } } },
	{ "only hidden ones", 3,
	  { { 0x100, AER }, { 0x140, ATS }, { 0x180, PASID } }, 0, {} },
	{ "one, hidden", 1, { { 0x100, REBAR } }, 0, {} },
	{ "one, visible", 1, { { 0x100, VNDR } }, 1, { { 0x100, VNDR } } },
	{ "hidden ones in a row", 6,
	  { { 0x100, DSN }, { 0x140, AER }, { 0x180, ACS }, { 0x1c0, LTR },
	    { 0x200, PRI }, { 0x240, REBAR } },
	  2, { { 0x100, DSN }, { 0x1c0, LTR } } },
	{ "first two hidden", 3,
	  { { 0x100, AER }, { 0x140, ACS }, { 0x180, DSN } },
	  2, { { 0x100, 0 }, { 0x180, DSN } } },
	{ "every hidden ID", 9,
	  { { 0x100, VC }, { 0x140, AER }, { 0x180, ACS }, { 0x1c0, ATS },
	    { 0x200, SRIOV }, { 0x240, PRI }, { 0x280, REBAR },
	    { 0x2c0, PASID }, { 0x300, DSN } },
	  2, { { 0x100, VC }, { 0x300, DSN } } },
	{ "out of address order", 3,
	  { { 0x100, DSN }, { 0x300, LTR }, { 0x200, L1SS } },
	  3, { { 0x100, DSN }, { 0x300, LTR }, { 0x200, L1SS } } },
	{ "out of order, hidden last", 3,
	  { { 0x100, DSN }, { 0x300, LTR }, { 0x200, ACS } },
	  2, { { 0x100, DSN }, { 0x300, LTR } } },
	{ "out of order, hidden first", 3,
	  { { 0x100, AER }, { 0x300, DSN }, { 0x200, LTR } },
	  3, { { 0x100, 0 }, { 0x300, DSN }, { 0x200, LTR } } },
};

static void ext_case_desc(const struct ext_case *t, char *desc)
{
	strscpy(desc, t->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(ext, ext_cases, ext_case_desc);

/* A body the guest can recognize: offset and ID in every dword. */
static u32 ext_body(u32 pos, u16 id)
{
	return 0xa5000000 | id << 12 | pos;
}

/*
 * A hidden capability is unlinked: the chain skips it and its header reads
 * as zero (at 0x100, as an empty link to the next visible one). Bodies,
 * hidden or not, read as the device has them and are never written: the
 * length of a capability is not known for sure, so none is blanked.
 */
static void config_ext_chain(struct kunit *test)
{
	const struct ext_case *t = test->param_value;
	struct vcfg *v = vcfg_alloc(test, PCI_CFG_SPACE_EXP_SIZE);
	unsigned int i, n = 0;
	u32 pos, hdr = 0, p;
	int ttl = 64;

	dev_header(v, 0);
	for (i = 0; i < t->n; i++) {
		u32 next = i + 1 < t->n ? t->cap[i + 1][0] : 0;

		pos = t->cap[i][0];
		dev_put(v, pos, 4, PCI_EXT_CAP_ID(t->cap[i][1]) | 1 << 16 |
			next << 20);
		for (p = pos + 4; p < pos + EXT_BODY; p += 4)
			dev_put(v, p, 4, ext_body(p, t->cap[i][1]));
	}
	vcfg_build(test, v);

	/* The chain the guest walks. */
	for (pos = PCI_CFG_SPACE_SIZE; pos && ttl--;
	     pos = PCI_EXT_CAP_NEXT(hdr)) {
		hdr = guest_read(v, pos, 4);
		if (!hdr)
			break;
		KUNIT_ASSERT_LT_MSG(test, n, t->nwant,
				    "unexpected capability %#x at %#x",
				    PCI_EXT_CAP_ID(hdr), pos);
		KUNIT_EXPECT_EQ_MSG(test, pos, t->want[n][0], "capability %u",
				    n);
		KUNIT_EXPECT_EQ_MSG(test, PCI_EXT_CAP_ID(hdr), t->want[n][1],
				    "capability %u at %#x", n, pos);
		n++;
	}
	KUNIT_EXPECT_EQ(test, n, t->nwant);

	for (i = 0; i < t->n; i++) {
		u16 id = t->cap[i][1];
		bool hidden = pcipass_config_hidden_ext_cap(id);

		pos = t->cap[i][0];
		/* The header of a hidden one reads as zero (but at 0x100). */
		if (hidden && pos != PCI_CFG_SPACE_SIZE)
			KUNIT_EXPECT_EQ_MSG(test, guest_read(v, pos, 4), 0,
					    "header of hidden %#x at %#x", id,
					    pos);
		for (p = pos + 4; p < pos + EXT_BODY; p += 4) {
			KUNIT_EXPECT_EQ_MSG(test, guest_read(v, p, 4),
					    ext_body(p, id),
					    "%s %#x at %#x, offset %#x",
					    hidden ? "hidden" : "visible", id,
					    pos, p - pos);
			/* The device's, whatever it says now. */
			KUNIT_EXPECT_EQ_MSG(test, guest_read_hw(v, p, 4,
								0x1234567),
					    0x1234567, "%#x at %#x, offset %#x",
					    id, pos, p - pos);
		}
		/* Neither headers nor bodies are ever written. */
		KUNIT_EXPECT_EQ(test, guest_write(v, pos, 4, 0), 0);
		KUNIT_EXPECT_EQ(test, guest_write(v, pos + 4, 4, ~0U), 0);
		KUNIT_EXPECT_EQ(test, guest_write(v, pos + 8, 2, 0), 0);
	}
}

/* ---- malformed capability chains ------------------------------------------ */

/**
 * struct chain_cap - one capability of a made-up chain
 * @pos: its offset
 * @id: its ID
 * @flags: the 16 bits after the next pointer (standard capabilities)
 * @next: the next pointer written in it
 * @ext: an extended capability
 */
struct chain_cap {
	u16 pos;
	u16 id;
	u16 flags;
	u16 next;
	bool ext;
};

/**
 * struct chain_case - a chain a device reports, and the verdict on it
 * @desc: what is wrong with it, if anything
 * @size: config space size
 * @first: the capability pointer (0x34)
 * @n: entries in @cap
 * @cap: the capabilities
 * @ret: what pcipass_vconfig_build() returns
 * @bad: the offset it reports when it refuses
 */
struct chain_case {
	const char *desc;
	u32 size;
	u8 first;
	unsigned int n;
	struct chain_cap cap[4];
	int ret;
	u32 bad;
};

#define STD	PCI_CFG_SPACE_SIZE
#define EXP	PCI_CFG_SPACE_EXP_SIZE
#define MSI64M	(PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT)

static const struct chain_case chain_cases[] = {
	/* The heap overflow of issue 10: 24 bytes of MSI at 0xf4. */
	{ "64-bit MSI with masking at 0xf4", STD, 0xf4, 1,
	  { { 0xf4, PCI_CAP_ID_MSI, MSI64M, 0 } }, -EIO, 0xf4 },
	{ "64-bit MSI with masking at 0xf4, PCIe", EXP, 0xf4, 1,
	  { { 0xf4, PCI_CAP_ID_MSI, MSI64M, 0 } }, -EIO, 0xf4 },
	{ "32-bit MSI with masking at 0xf0", STD, 0xf0, 1,
	  { { 0xf0, PCI_CAP_ID_MSI, PCI_MSI_FLAGS_MASKBIT, 0 } }, -EIO, 0xf0 },
	{ "MSI-X at 0xf8", STD, 0xf8, 1,
	  { { 0xf8, PCI_CAP_ID_MSIX, 0, 0 } }, -EIO, 0xf8 },
	{ "PCI Express v2 at 0xd0", EXP, 0xd0, 1,
	  { { 0xd0, PCI_CAP_ID_EXP, 2, 0 } }, -EIO, 0xd0 },
	{ "integrated endpoint's PCI Express v2 at 0xd8", EXP, 0xd8, 1,
	  { { 0xd8, PCI_CAP_ID_EXP, PCI_EXP_TYPE_RC_END << 4 | 2, 0 } },
	  -EIO, 0xd8 },
	{ "Advanced Features at 0xfc", STD, 0xfc, 1,
	  { { 0xfc, PCI_CAP_ID_AF, 6, 0 } }, -EIO, 0xfc },
	{ "power management at 0xfc", STD, 0xfc, 1,
	  { { 0xfc, PCI_CAP_ID_PM, 3, 0 } }, -EIO, 0xfc },
	{ "vendor capability running past 0xff", STD, 0xf0, 1,
	  { { 0xf0, PCI_CAP_ID_VNDR, 0x20, 0 } }, -EIO, 0xf0 },
	{ "vendor capability of length 1", STD, 0x40, 1,
	  { { 0x40, PCI_CAP_ID_VNDR, 1, 0 } }, -EIO, 0x40 },
	{ "a capability that points to itself", STD, 0x40, 1,
	  { { 0x40, PCI_CAP_ID_PM, 3, 0x40 } }, -EIO, 0x40 },
	{ "a loop of two", STD, 0x40, 2,
	  { { 0x40, PCI_CAP_ID_PM, 3, 0x50 },
	    { 0x50, PCI_CAP_ID_MSI, 0, 0x40 } }, -EIO, 0x40 },
	{ "overlapping capabilities", STD, 0x40, 2,
	  { { 0x40, PCI_CAP_ID_PM, 3, 0x44 },
	    { 0x44, PCI_CAP_ID_VNDR, 8, 0 } }, -EIO, 0x44 },
	{ "MSI overlapping MSI-X", STD, 0x50, 2,
	  { { 0x50, PCI_CAP_ID_MSI, MSI64M, 0x60 },
	    { 0x60, PCI_CAP_ID_MSIX, 0, 0 } }, -EIO, 0x60 },
	{ "a pointer into the header", STD, 0x20, 1,
	  { { 0x20, PCI_CAP_ID_PM, 3, 0 } }, -EIO, 0x20 },
	{ "extended: a header that points to itself", EXP, 0, 1,
	  { { 0x100, PCI_EXT_CAP_ID_DSN, 0, 0x100, true } }, -EIO, 0x100 },
	{ "extended: a loop of two", EXP, 0, 2,
	  { { 0x100, PCI_EXT_CAP_ID_DSN, 0, 0x140, true },
	    { 0x140, PCI_EXT_CAP_ID_ERR, 0, 0x100, true } }, -EIO, 0x100 },
	{ "extended: a next pointer below 0x100", EXP, 0, 1,
	  { { 0x100, PCI_EXT_CAP_ID_DSN, 0, 0x40, true } }, -EIO, 0x40 },
	/* Well formed, however close to the end. */
	{ "32-bit MSI without masking at 0xf4", STD, 0xf4, 1,
	  { { 0xf4, PCI_CAP_ID_MSI, 0, 0 } }, 0, 0 },
	{ "integrated endpoint's PCI Express v2 ending at 0x100", EXP, 0xd4,
	  1, { { 0xd4, PCI_CAP_ID_EXP, PCI_EXP_TYPE_RC_END << 4 | 2, 0 } },
	  0, 0 },
	{ "an unknown capability at 0xfc", STD, 0xfc, 1,
	  { { 0xfc, 0x7f, 0, 0 } }, 0, 0 },
	{ "64-bit MSI with masking ending at 0x100", STD, 0xe8, 1,
	  { { 0xe8, PCI_CAP_ID_MSI, MSI64M, 0 } }, 0, 0 },
	{ "extended: the last dword", EXP, 0, 2,
	  { { 0x100, PCI_EXT_CAP_ID_DSN, 0, 0xffc, true },
	    { 0xffc, PCI_EXT_CAP_ID_VNDR, 0, 0, true } }, 0, 0 },
};

static void chain_case_desc(const struct chain_case *t, char *desc)
{
	strscpy(desc, t->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(chain, chain_cases, chain_case_desc);

/*
 * A device's capability chain is checked before anything is built from
 * it: one that runs past the end of standard config space, overlaps or
 * loops is refused with nothing written (on the code before the check,
 * the 0xf4 case wrote past the end of the shadow, which KASAN reports).
 */
static void config_malformed_chains(struct kunit *test)
{
	const struct chain_case *t = test->param_value;
	struct vcfg *v = vcfg_alloc(test, t->size);
	unsigned int i;
	u32 bad = 0, pos;
	int ret;

	dev_header(v, t->first);
	for (i = 0; i < t->n; i++) {
		const struct chain_cap *c = &t->cap[i];

		if (c->ext) {
			dev_put(v, c->pos, 4, c->id | 1 << 16 | c->next << 20);
		} else {
			dev_put(v, c->pos, 2, c->next << 8 | c->id);
			dev_put(v, c->pos + 2, 2, c->flags);
		}
	}
	ret = vcfg_try_build(v, &bad);
	KUNIT_EXPECT_EQ(test, ret, t->ret);
	if (t->ret) {
		KUNIT_EXPECT_EQ(test, bad, t->bad);
		/* Refused before any permission was set up. */
		for (pos = 0; pos < t->size; pos++) {
			KUNIT_ASSERT_EQ_MSG(test, v->cfg.virt[pos], 0, "at %#x",
					    pos);
			KUNIT_ASSERT_EQ_MSG(test, v->cfg.write[pos], 0,
					    "at %#x", pos);
		}
		KUNIT_EXPECT_EQ(test, v->cfg.msi_pos, 0);
	} else if (t->cap[0].id == PCI_CAP_ID_MSI && !t->cap[0].ext) {
		KUNIT_EXPECT_EQ(test, v->cfg.msi_pos, t->cap[0].pos);
	}
}

/* A conventional device has no extended space: nothing is touched there. */
static void config_conventional_has_no_ext_space(struct kunit *test)
{
	struct vcfg *v = vcfg_alloc(test, PCI_CFG_SPACE_SIZE);

	dev_header(v, 0);
	vcfg_build(test, v);
	KUNIT_EXPECT_EQ(test, v->cfg.size, PCI_CFG_SPACE_SIZE);
	KUNIT_EXPECT_EQ(test, guest_read(v, PCI_CFG_SPACE_SIZE - 4, 4), 0);
}

/* Exactly the documented extended capabilities are hidden. */
static void config_hidden_ext_cap_ids(struct kunit *test)
{
	static const u16 hidden[] = {
		AER, ACS, ATS, SRIOV, PRI, REBAR, PASID,
	};
	unsigned int id, i;

	for (id = 0; id <= 0xffff; id++) {
		bool want = false;

		for (i = 0; i < ARRAY_SIZE(hidden); i++)
			if (hidden[i] == id)
				want = true;
		KUNIT_EXPECT_EQ_MSG(test, pcipass_config_hidden_ext_cap(id),
				    want, "extended capability %#x", id);
	}
}

static struct kunit_case config_test_cases[] = {
	KUNIT_CASE_PARAM(config_register_ownership, reg_gen_params),
	KUNIT_CASE(config_no_capability_list),
	KUNIT_CASE(config_standard_chain),
	KUNIT_CASE_PARAM(config_bar_sizing, bar_gen_params),
	KUNIT_CASE_PARAM(config_msi, msi_gen_params),
	KUNIT_CASE(config_msix_enable_bits),
	KUNIT_CASE(config_pcie_flr_reads_zero),
	KUNIT_CASE(config_af_flr_reads_zero),
	KUNIT_CASE_PARAM(config_ext_chain, ext_gen_params),
	KUNIT_CASE_PARAM(config_malformed_chains, chain_gen_params),
	KUNIT_CASE(config_conventional_has_no_ext_space),
	KUNIT_CASE(config_hidden_ext_cap_ids),
	{}
};

static struct kunit_suite config_suite = {
	.name = "pcipass_config",
	.test_cases = config_test_cases,
};

kunit_test_suite(config_suite);

// SPDX-License-Identifier: GPL-2.0
/*
 * Config space virtualization: the permission tables that decide, bit by
 * bit, what a VMM's config access reaches in hardware, what is kept in a
 * per-device shadow, and what is read only; the capability chain with the
 * hidden capabilities taken out; BAR and ROM sizing on virtual registers;
 * the bus master rule without an IOMMU; and function level reset requests
 * turned into a real reset. What an SR-IOV virtual function lacks (IDs,
 * BARs, a memory decoding bit) is filled in by sriov.c's hooks.
 *
 * Every byte of config space has two masks: @virt (bits read from and
 * written to the shadow) and @write (bits the VMM may change). Bits in
 * neither are read from the device and never written.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitfield.h>
#include <linux/bitmap.h>
#include <linux/pci.h>
#include <linux/pcipass.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/unaligned.h>
#include <kunit/visibility.h>

#include "pcipass.h"

/**
 * struct pcipass_perm - permissions of a register, relative to its block
 * @offset: offset of the register from the start of the header or
 *	capability
 * @size: bytes, 1 to 4
 * @virt: bits kept in the shadow
 * @write: bits the VMM may write
 */
struct pcipass_perm {
	u8 offset;
	u8 size;
	u32 virt;
	u32 write;
};

/* The type 0 header. Anything not listed is read only, from the device. */
static const struct pcipass_perm pcipass_header_perms[] = {
	/* Decoding passes through; INTx disable is pcipass's, so virtual. */
	{ PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE,
	  PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
	  PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE },
	/* Host bookkeeping the guest may rewrite freely. */
	{ PCI_CACHE_LINE_SIZE, 1, 0xff, 0xff },
	{ PCI_LATENCY_TIMER, 1, 0xff, 0xff },
	/* BARs and ROM: virtual, sized on write (pcipass_config_fixup). */
	{ PCI_BASE_ADDRESS_0, 4, ~0U, ~0U },
	{ PCI_BASE_ADDRESS_1, 4, ~0U, ~0U },
	{ PCI_BASE_ADDRESS_2, 4, ~0U, ~0U },
	{ PCI_BASE_ADDRESS_3, 4, ~0U, ~0U },
	{ PCI_BASE_ADDRESS_4, 4, ~0U, ~0U },
	{ PCI_BASE_ADDRESS_5, 4, ~0U, ~0U },
	{ PCI_ROM_ADDRESS, 4, ~0U, ~0U },
	/* The chain is rebuilt without hidden capabilities. */
	{ PCI_CAPABILITY_LIST, 1, 0xff, 0 },
	/* The guest's routing; the pin is the device's. */
	{ PCI_INTERRUPT_LINE, 1, 0xff, 0xff },
};

/* MSI: the VMM emulates it and programs vectors with SET_IRQS. */
static const struct pcipass_perm pcipass_msi_perms[] = {
	{ PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE,
	  PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE },
	{ PCI_MSI_ADDRESS_LO, 4, ~0U, ~0U },
	/* Upper address, data, mask and pending: placed by pcipass_msi_perms_apply. */
};

/* MSI-X: enable and function mask are virtual; the table is in a BAR. */
static const struct pcipass_perm pcipass_msix_perms[] = {
	{ PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL,
	  PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL },
};

/*
 * PCI Express: a function level reset request goes to the reset path.
 * Enable No Snoop is virtual: the VMM never sets it in the device, which
 * pcipass_config_init() clears where the IOMMU does not force snooping.
 */
static const struct pcipass_perm pcipass_pcie_perms[] = {
	{ PCI_EXP_DEVCTL, 2, PCI_EXP_DEVCTL_BCR_FLR | PCI_EXP_DEVCTL_NOSNOOP_EN,
	  PCI_EXP_DEVCTL_BCR_FLR | PCI_EXP_DEVCTL_NOSNOOP_EN },
};

/* Advanced features: the same for its FLR bit. */
static const struct pcipass_perm pcipass_af_perms[] = {
	{ PCI_AF_CTRL, 1, PCI_AF_CTRL_FLR, PCI_AF_CTRL_FLR },
};

/*
 * Capabilities a guest never sees: they give a guest control of the host's
 * IOMMU, of the fabric or of other functions. Documented in
 * Documentation/userspace-api/pcipass.rst.
 */
static const u16 pcipass_hidden_ext_caps[] = {
	PCI_EXT_CAP_ID_ERR,	/* AER: the host handles device errors */
	PCI_EXT_CAP_ID_ACS,	/* ACS: the host's isolation */
	PCI_EXT_CAP_ID_ATS,	/* ATS: translation caching, host IOMMU's */
	PCI_EXT_CAP_ID_SRIOV,	/* SR-IOV: virtual functions are the host's */
	PCI_EXT_CAP_ID_PRI,	/* PRI: page requests to the host IOMMU */
	PCI_EXT_CAP_ID_REBAR,	/* Resizable BAR: the host's address map */
	PCI_EXT_CAP_ID_PASID,	/* PASID: the host IOMMU's address spaces */
};

static void pcipass_perms_apply(struct pcipass_vconfig *cfg, u32 base,
				const struct pcipass_perm *perms,
				unsigned int n)
{
	unsigned int i, b;

	for (i = 0; i < n; i++) {
		for (b = 0; b < perms[i].size; b++) {
			u32 pos = base + perms[i].offset + b;

			if (pos >= cfg->size)
				break;
			cfg->virt[pos] = perms[i].virt >> (8 * b);
			cfg->write[pos] = perms[i].write >> (8 * b);
		}
	}
}

static void pcipass_perm_range(struct pcipass_vconfig *cfg, u32 pos, u32 len,
			       u8 virt, u8 write)
{
	u32 end = min(pos + len, cfg->size);

	for (; pos < end; pos++) {
		cfg->virt[pos] = virt;
		cfg->write[pos] = write;
	}
}

static void pcipass_msi_perms_apply(struct pcipass_vconfig *cfg, u32 pos,
				    u16 flags)
{
	bool is64 = flags & PCI_MSI_FLAGS_64BIT;
	u32 data = pos + (is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32);

	pcipass_perms_apply(cfg, pos, pcipass_msi_perms,
			    ARRAY_SIZE(pcipass_msi_perms));
	if (is64)
		pcipass_perm_range(cfg, pos + PCI_MSI_ADDRESS_HI, 4, 0xff, 0xff);
	pcipass_perm_range(cfg, data, 2, 0xff, 0xff);
	if (flags & PCI_MSI_FLAGS_MASKBIT) {
		/* Mask bits are the guest's; pending bits read as zero. */
		pcipass_perm_range(cfg, data + 4, 4, 0xff, 0xff);
		pcipass_perm_range(cfg, data + 8, 4, 0xff, 0);
	}
	/*
	 * The guest starts from a disabled MSI with no address, data, mask or
	 * pending bits: what the host programmed is not its business.
	 */
	cfg->shadow[pos + PCI_MSI_FLAGS] &= ~PCI_MSI_FLAGS_ENABLE;
	cfg->shadow[pos + PCI_MSI_FLAGS] &= ~PCI_MSI_FLAGS_QSIZE;
	memset(&cfg->shadow[pos + PCI_MSI_ADDRESS_LO], 0,
	       (flags & PCI_MSI_FLAGS_MASKBIT ? data + 12 : data + 2) -
	       (pos + PCI_MSI_ADDRESS_LO));
}

/**
 * pcipass_config_hidden_ext_cap() - is an extended capability hidden?
 * @id: PCI_EXT_CAP_ID_*
 *
 * Return: true when the guest must not see it.
 */
VISIBLE_IF_KUNIT bool pcipass_config_hidden_ext_cap(u16 id)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(pcipass_hidden_ext_caps); i++)
		if (pcipass_hidden_ext_caps[i] == id)
			return true;
	return false;
}
EXPORT_SYMBOL_IF_KUNIT(pcipass_config_hidden_ext_cap);

/*
 * The length of the standard capability @id at @pos, for the capabilities
 * whose registers pcipass reads or virtualizes (as vfio's vfio_cap_len());
 * for any other, its ID and next pointer. @pos is at most 0xfc.
 */
static u32 pcipass_std_cap_len(const struct pcipass_vconfig *cfg, u8 id,
			       u32 pos)
{
	u16 flags = get_unaligned_le16(&cfg->shadow[pos + PCI_CAP_FLAGS]);
	u32 data;

	switch (id) {
	case PCI_CAP_ID_PM:
		return PCI_PM_SIZEOF;
	case PCI_CAP_ID_MSI:
		data = flags & PCI_MSI_FLAGS_64BIT ? PCI_MSI_DATA_64 :
						     PCI_MSI_DATA_32;
		/* Data, then 2 reserved bytes, mask bits and pending bits. */
		return flags & PCI_MSI_FLAGS_MASKBIT ? data + 12 : data + 2;
	case PCI_CAP_ID_MSIX:
		return PCI_CAP_MSIX_SIZEOF;
	case PCI_CAP_ID_EXP:
		/* A root complex integrated endpoint has no link registers. */
		if (FIELD_GET(PCI_EXP_FLAGS_TYPE, flags) == PCI_EXP_TYPE_RC_END)
			return (flags & PCI_EXP_FLAGS_VERS) > 1 ?
			       PCI_CAP_EXP_RC_ENDPOINT_SIZEOF_V2 :
			       PCI_CAP_EXP_RC_ENDPOINT_SIZEOF_V1;
		return (flags & PCI_EXP_FLAGS_VERS) > 1 ?
		       PCI_CAP_EXP_ENDPOINT_SIZEOF_V2 :
		       PCI_CAP_EXP_ENDPOINT_SIZEOF_V1;
	case PCI_CAP_ID_AF:
		return PCI_CAP_AF_SIZEOF;
	case PCI_CAP_ID_VNDR:
		/* Its own length byte. */
		return cfg->shadow[pos + PCI_CAP_FLAGS];
	default:
		return PCI_CAP_FLAGS;
	}
}

/*
 * A device's config space is not trusted: every standard capability must
 * lie whole between the header and 0x100, and none may overlap another
 * (which also catches a chain that loops). Returns 0, or -EIO with @bad
 * set to the offset of the first capability that breaks the rule.
 */
static int pcipass_config_check_std_caps(const struct pcipass_vconfig *cfg,
					 u32 *bad)
{
	DECLARE_BITMAP(used, PCI_CFG_SPACE_SIZE);
	u32 pos = cfg->shadow[PCI_CAPABILITY_LIST] & ~3;

	bitmap_zero(used, PCI_CFG_SPACE_SIZE);
	bitmap_set(used, 0, PCI_STD_HEADER_SIZEOF);
	while (pos) {
		u32 len;

		*bad = pos;
		if (pos < PCI_STD_HEADER_SIZEOF ||
		    pos > PCI_CFG_SPACE_SIZE - PCI_CAP_SIZEOF)
			return -EIO;
		len = pcipass_std_cap_len(cfg, cfg->shadow[pos], pos);
		if (len < PCI_CAP_FLAGS || pos + len > PCI_CFG_SPACE_SIZE ||
		    find_next_bit(used, pos + len, pos) < pos + len)
			return -EIO;
		bitmap_set(used, pos, len);
		pos = cfg->shadow[pos + PCI_CAP_LIST_NEXT] & ~3;
	}
	return 0;
}

/*
 * The same for the extended capabilities, of which pcipass touches only
 * the header dwords: each header lies in the extended space, dword
 * aligned, and is visited once (no loop); a next pointer below 0x100 that
 * is not 0 is malformed.
 */
static int pcipass_config_check_ext_caps(const struct pcipass_vconfig *cfg,
					 u32 *bad)
{
	DECLARE_BITMAP(seen, PCI_CFG_SPACE_EXP_SIZE / 4);
	u32 pos = PCI_CFG_SPACE_SIZE;

	if (cfg->size <= PCI_CFG_SPACE_SIZE)
		return 0;
	bitmap_zero(seen, PCI_CFG_SPACE_EXP_SIZE / 4);
	while (pos) {
		u32 hdr;

		*bad = pos;
		if (pos < PCI_CFG_SPACE_SIZE || pos > cfg->size - 4 ||
		    !IS_ALIGNED(pos, 4) || test_and_set_bit(pos / 4, seen))
			return -EIO;
		hdr = get_unaligned_le32(&cfg->shadow[pos]);
		if (!hdr)
			break;
		pos = PCI_EXT_CAP_NEXT(hdr);
	}
	return 0;
}

/*
 * Walk the standard capabilities and apply their permissions. None is
 * hidden, so the chain stays as the device has it (read only).
 */
static void pcipass_config_std_caps(struct pcipass_vconfig *cfg)
{
	u8 pos = cfg->shadow[PCI_CAPABILITY_LIST] & ~3;
	int ttl = 48;

	while (pos >= PCI_STD_HEADER_SIZEOF && ttl--) {
		u8 id = cfg->shadow[pos];
		u16 flags = get_unaligned_le16(&cfg->shadow[pos + 2]);

		pcipass_perm_range(cfg, pos + PCI_CAP_LIST_NEXT, 1, 0xff, 0);
		switch (id) {
		case PCI_CAP_ID_MSI:
			pcipass_msi_perms_apply(cfg, pos, flags);
			cfg->msi_pos = pos;
			break;
		case PCI_CAP_ID_MSIX:
			pcipass_perms_apply(cfg, pos, pcipass_msix_perms,
					    ARRAY_SIZE(pcipass_msix_perms));
			cfg->shadow[pos + 3] &= ~((PCI_MSIX_FLAGS_ENABLE |
						   PCI_MSIX_FLAGS_MASKALL) >> 8);
			break;
		case PCI_CAP_ID_EXP:
			pcipass_perms_apply(cfg, pos, pcipass_pcie_perms,
					    ARRAY_SIZE(pcipass_pcie_perms));
			cfg->shadow[pos + PCI_EXP_DEVCTL + 1] &=
				~(PCI_EXP_DEVCTL_BCR_FLR >> 8);
			cfg->pcie_pos = pos;
			break;
		case PCI_CAP_ID_AF:
			pcipass_perms_apply(cfg, pos, pcipass_af_perms,
					    ARRAY_SIZE(pcipass_af_perms));
			cfg->shadow[pos + PCI_AF_CTRL] &= ~PCI_AF_CTRL_FLR;
			cfg->af_pos = pos;
			break;
		}
		pos = cfg->shadow[pos + PCI_CAP_LIST_NEXT] & ~3;
	}
}

/* Walk the extended capabilities, linking only the visible ones. */
static void pcipass_config_ext_caps(struct pcipass_vconfig *cfg)
{
	u32 pos = PCI_CFG_SPACE_SIZE, prev = 0;
	int ttl = (PCI_CFG_SPACE_EXP_SIZE - PCI_CFG_SPACE_SIZE) / 8;
	bool first_hidden = false;

	if (cfg->size <= PCI_CFG_SPACE_SIZE)
		return;

	while (pos >= PCI_CFG_SPACE_SIZE && pos <= cfg->size - 4 && ttl--) {
		u32 hdr = get_unaligned_le32(&cfg->shadow[pos]);
		u32 next = PCI_EXT_CAP_NEXT(hdr);

		if (!hdr)
			break;
		/* The header dword of every capability is ours. */
		pcipass_perm_range(cfg, pos, 4, 0xff, 0);
		if (pcipass_config_hidden_ext_cap(PCI_EXT_CAP_ID(hdr))) {
			/*
			 * Unlinked, not erased: its length is not known for
			 * sure, and a wrong guess could blank a visible one.
			 */
			if (pos == PCI_CFG_SPACE_SIZE)
				first_hidden = true;
			else
				put_unaligned_le32(0, &cfg->shadow[pos]);
		} else {
			if (prev)
				put_unaligned_le32((get_unaligned_le32(&cfg->shadow[prev]) &
						    0xfffff) | pos << 20,
						   &cfg->shadow[prev]);
			else if (first_hidden)
				/* The chain must start at 0x100: an empty link. */
				put_unaligned_le32(pos << 20,
						   &cfg->shadow[PCI_CFG_SPACE_SIZE]);
			prev = pos;
		}
		pos = next;
	}
	if (prev)
		put_unaligned_le32(get_unaligned_le32(&cfg->shadow[prev]) & 0xfffff,
				   &cfg->shadow[prev]);
	else if (first_hidden)
		put_unaligned_le32(0, &cfg->shadow[PCI_CFG_SPACE_SIZE]);
}

/**
 * pcipass_vconfig_build() - build the shadow and masks of a config space
 * @cfg: @shadow holds the device's config space, @size set, masks zero;
 *	@bar_size and @bar_flags set for BARs 0-5 and the ROM (index 6)
 * @bad: set to the offset of a malformed capability
 *
 * Pure logic on @cfg, so that KUnit can test it with made-up devices. The
 * capability chains are checked before anything is built from them: a
 * device that reports a capability past the end of its space, capabilities
 * that overlap, or a chain that loops is broken or hostile, and nothing of
 * it is used.
 *
 * Return: 0, or -EIO when a capability chain is malformed.
 */
VISIBLE_IF_KUNIT int pcipass_vconfig_build(struct pcipass_vconfig *cfg,
					   u32 *bad)
{
	bool caps = cfg->shadow[PCI_STATUS] & PCI_STATUS_CAP_LIST;
	int ret;

	if (caps) {
		ret = pcipass_config_check_std_caps(cfg, bad);
		if (ret)
			return ret;
	}
	ret = pcipass_config_check_ext_caps(cfg, bad);
	if (ret)
		return ret;

	pcipass_perms_apply(cfg, 0, pcipass_header_perms,
			    ARRAY_SIZE(pcipass_header_perms));
	if (caps)
		pcipass_config_std_caps(cfg);
	else
		cfg->shadow[PCI_CAPABILITY_LIST] = 0;
	pcipass_config_ext_caps(cfg);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(pcipass_vconfig_build);

/* Re-establish the sizing semantics of a BAR or ROM dword in the shadow. */
static void pcipass_config_fixup_bar(struct pcipass_vconfig *cfg, int bar)
{
	u32 pos = bar == PCIPASS_REGION_ROM ? PCI_ROM_ADDRESS :
		  PCI_BASE_ADDRESS_0 + 4 * bar;
	u32 val = get_unaligned_le32(&cfg->shadow[pos]);
	u64 size = cfg->bar_size[bar];
	u32 flags = cfg->bar_flags[bar];
	u32 mask;

	if (bar == PCIPASS_REGION_ROM) {
		mask = size ? (u32)~(size - 1) & PCI_ROM_ADDRESS_MASK : 0;
		mask |= size ? PCI_ROM_ADDRESS_ENABLE : 0;
		val &= mask;
	} else if (flags & PCIPASS_BAR_UPPER) {
		/* Upper half of a 64-bit BAR: the size of the lower one. */
		size = cfg->bar_size[bar - 1];
		val &= (u32)(~(size - 1) >> 32);
	} else if (!size) {
		val = 0;
	} else if (flags & PCI_BASE_ADDRESS_SPACE_IO) {
		val = (val & (u32)~(size - 1) & PCI_BASE_ADDRESS_IO_MASK) | flags;
	} else {
		val = (val & (u32)~(size - 1) & PCI_BASE_ADDRESS_MEM_MASK) | flags;
	}
	put_unaligned_le32(val, &cfg->shadow[pos]);
}

/**
 * pcipass_vconfig_read() - what a VMM reads from config space
 * @cfg: the device's virtual config
 * @pos: offset, naturally aligned for @len
 * @len: 1, 2 or 4
 * @hw: the device's value at @pos
 *
 * Return: @hw with the virtual bits taken from the shadow.
 */
VISIBLE_IF_KUNIT u32 pcipass_vconfig_read(const struct pcipass_vconfig *cfg,
					  u32 pos, u32 len, u32 hw)
{
	u32 val = 0;
	u32 b;

	for (b = 0; b < len; b++) {
		u8 virt = cfg->virt[pos + b];
		u8 byte = (hw >> (8 * b)) & 0xff;

		byte = (byte & ~virt) | (cfg->shadow[pos + b] & virt);
		val |= (u32)byte << (8 * b);
	}
	return val;
}
EXPORT_SYMBOL_IF_KUNIT(pcipass_vconfig_read);

/**
 * pcipass_vconfig_write() - apply a VMM's config write to the shadow
 * @cfg: the device's virtual config
 * @pos: offset, naturally aligned for @len
 * @len: 1, 2 or 4
 * @val: the value written
 * @hw_mask: set to the bits that must reach the device
 *
 * Return: the value to merge into the device's register under @hw_mask.
 */
VISIBLE_IF_KUNIT u32 pcipass_vconfig_write(struct pcipass_vconfig *cfg,
					   u32 pos, u32 len, u32 val,
					   u32 *hw_mask)
{
	u32 b, mask = 0;
	int bar;

	for (b = 0; b < len; b++) {
		u8 write = cfg->write[pos + b];
		u8 virt = cfg->virt[pos + b];
		u8 byte = (val >> (8 * b)) & 0xff;
		u8 *shadow = &cfg->shadow[pos + b];

		*shadow = (*shadow & ~(write & virt)) | (byte & write & virt);
		mask |= (u32)(write & ~virt) << (8 * b);
	}

	/* A BAR or the ROM was written: keep its sizing semantics. */
	for (bar = 0; bar <= PCIPASS_REGION_ROM; bar++) {
		u32 bpos = bar == PCIPASS_REGION_ROM ? PCI_ROM_ADDRESS :
			   PCI_BASE_ADDRESS_0 + 4 * bar;

		if (pos < bpos + 4 && bpos < pos + len)
			pcipass_config_fixup_bar(cfg, bar);
	}
	*hw_mask = mask;
	return val & mask;
}
EXPORT_SYMBOL_IF_KUNIT(pcipass_vconfig_write);

static int pcipass_hw_read(struct pci_dev *pdev, u32 pos, u32 len, u32 *val)
{
	u16 w;
	u8 b;
	int ret;

	switch (len) {
	case 4:
		ret = pci_read_config_dword(pdev, pos, val);
		break;
	case 2:
		ret = pci_read_config_word(pdev, pos, &w);
		*val = w;
		break;
	default:
		ret = pci_read_config_byte(pdev, pos, &b);
		*val = b;
		break;
	}
	return pcibios_err_to_errno(ret);
}

static int pcipass_hw_write(struct pci_dev *pdev, u32 pos, u32 len, u32 val)
{
	switch (len) {
	case 4:
		return pcibios_err_to_errno(pci_write_config_dword(pdev, pos, val));
	case 2:
		return pcibios_err_to_errno(pci_write_config_word(pdev, pos, val));
	default:
		return pcibios_err_to_errno(pci_write_config_byte(pdev, pos, val));
	}
}

/*
 * Write the bits of @mask to the device with the narrowest naturally
 * aligned access that covers them, so that the bytes of a neighbouring
 * register are never written back (the status register's error bits are
 * cleared by writing them).
 */
static int pcipass_hw_write_masked(struct pci_dev *pdev, u32 pos, u32 mask,
				   u32 val)
{
	u32 first = __ffs(mask) / 8, last = __fls(mask) / 8;
	u32 wlen, wpos, shift, wmask, hw;
	int ret;

	if (first == last)
		wlen = 1;
	else if (first / 2 == last / 2)
		wlen = 2;
	else
		wlen = 4;
	wpos = pos + (first & ~(wlen - 1));
	shift = 8 * (wpos - pos);
	wmask = (u32)(GENMASK_ULL(8 * wlen - 1, 0) & (mask >> shift));

	ret = pcipass_hw_read(pdev, wpos, wlen, &hw);
	if (ret)
		return ret;
	return pcipass_hw_write(pdev, wpos, wlen,
				(hw & ~wmask) | ((val >> shift) & wmask));
}

/* Does the write at [@pos, @pos + @len) set the bit @bit of byte @at? */
static bool pcipass_write_sets(u32 pos, u32 len, u32 val, u32 at, u8 bit)
{
	if (at < pos || at >= pos + len)
		return false;
	return (val >> (8 * (at - pos))) & bit;
}

/*
 * Does the device write (@val under @mask, at [@pos, @pos + @len)) clear
 * the bit @bit of byte @at?
 */
static bool pcipass_write_clears(u32 pos, u32 len, u32 mask, u32 val, u32 at,
				 u8 bit)
{
	u32 shift;

	if (at < pos || at >= pos + len)
		return false;
	shift = 8 * (at - pos);
	return ((mask >> shift) & bit) && !((val >> shift) & bit);
}

static int pcipass_config_write_one(struct pcipass_device *pdevice, u32 pos,
				    u32 len, u32 val)
{
	struct pcipass_vconfig *cfg = &pdevice->cfg;
	struct pci_dev *pdev = pdevice->pdev;
	u16 old_cmd, new_cmd;
	u32 hw_mask, hw_val;
	bool flr = false, blocked = false;
	int ret = 0;

	/* Bus mastering without an IOMMU would let the device reach all RAM. */
	if (pdevice->ctx->mode != PCIPASS_CTX_MODE_IOMMU &&
	    pcipass_write_sets(pos, len, val, PCI_COMMAND, PCI_COMMAND_MASTER)) {
		pdevice->bus_master_refusals++;
		dev_warn_ratelimited(&pdev->dev, "bus master enable refused: no IOMMU (process %s[%d])\n",
				     current->comm, task_pid_nr(current));
		return -EPERM;
	}

	/* A function level reset request: reset for real. */
	if ((cfg->pcie_pos &&
	     pcipass_write_sets(pos, len, val, cfg->pcie_pos + PCI_EXP_DEVCTL + 1,
				PCI_EXP_DEVCTL_BCR_FLR >> 8)) ||
	    (cfg->af_pos &&
	     pcipass_write_sets(pos, len, val, cfg->af_pos + PCI_AF_CTRL,
				PCI_AF_CTRL_FLR))) {
		/* Without the device lock: the device is about to go. */
		if (pdevice->release_requested)
			return -ENODEV;
		ret = pcipass_reset_locked(pdevice);
		if (ret)
			return ret;
		flr = true;
	}

	old_cmd = pdevice->decode;
	hw_val = pcipass_vconfig_write(cfg, pos, len, val, &hw_mask);
	if (hw_mask) {
		/*
		 * Memory decoding going off: block and zap the BAR mappings
		 * first, so that no access reaches a BAR that has stopped
		 * decoding (on some hosts a fatal error).
		 */
		if ((old_cmd & PCI_COMMAND_MEMORY) &&
		    pcipass_write_clears(pos, len, hw_mask, hw_val, PCI_COMMAND,
					 PCI_COMMAND_MEMORY)) {
			pcipass_bars_block(pdevice);
			blocked = true;
		}
		ret = pcipass_hw_write_masked(pdev, pos, hw_mask, hw_val);
	}

	/* The reset request bits are commands: they read back as zero. */
	if (flr) {
		if (cfg->pcie_pos)
			cfg->shadow[cfg->pcie_pos + PCI_EXP_DEVCTL + 1] &=
				~(PCI_EXP_DEVCTL_BCR_FLR >> 8);
		if (cfg->af_pos)
			cfg->shadow[cfg->af_pos + PCI_AF_CTRL] &= ~PCI_AF_CTRL_FLR;
	}

	/*
	 * Decoding as it is now, even after a failed write. BAR mappings
	 * follow memory decoding; they are let in only once it is on.
	 */
	pci_read_config_word(pdev, PCI_COMMAND, &new_cmd);
	new_cmd = pcipass_sriov_command(pdevice, new_cmd);
	pdevice->decode = new_cmd & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	if (new_cmd & PCI_COMMAND_MEMORY) {
		if (blocked || !(old_cmd & PCI_COMMAND_MEMORY))
			pcipass_bars_unblock(pdevice);
	} else if ((old_cmd & PCI_COMMAND_MEMORY) && !blocked) {
		pcipass_bars_block(pdevice);
	}
	return ret;
}

/* One naturally aligned access of 1, 2 or 4 bytes at @pos. */
static int pcipass_config_access_one(struct pcipass_device *pdevice, u8 *buf,
				     u32 pos, u32 len, bool write)
{
	u32 hw, val;
	int ret;

	/* Config space is little endian, whatever the CPU. */
	if (write) {
		val = len == 4 ? get_unaligned_le32(buf) :
		      len == 2 ? get_unaligned_le16(buf) : *buf;
		return pcipass_config_write_one(pdevice, pos, len, val);
	}
	ret = pcipass_hw_read(pdevice->pdev, pos, len, &hw);
	if (ret)
		return ret;
	val = pcipass_vconfig_read(&pdevice->cfg, pos, len, hw);
	if (len == 4)
		put_unaligned_le32(val, buf);
	else if (len == 2)
		put_unaligned_le16(val, buf);
	else
		*buf = val;
	return 0;
}

/**
 * pcipass_config_access() - a VMM's read or write of config space, from or
 *	to a kernel buffer
 * @pdevice: the attachment
 * @buf: @count bytes: what is written, or where what is read goes
 * @count: bytes, any number from 1 to the end of config space
 * @pos: offset, any alignment
 * @write: direction
 *
 * The one place config space is accessed for a VMM. The range is split
 * into naturally aligned accesses of 1, 2 or 4 bytes, each read or
 * written through the permission tables as if it had been made alone.
 *
 * Locking: the context lock held; for a write also the device lock, taken
 * before it (a write may reset the device, dropping the context lock
 * meanwhile: pcipass_reset_locked()), and the lock of the upstream bridge
 * before that (pcipass_reset_lock_bridge()). No user memory is
 * touched here: the caller copies in before taking the locks and copies
 * out after dropping them (pcipass_region_rw()).
 *
 * Return: @count, or the bytes done before an access failed, or (when the
 * first failed) -EINVAL for a range outside config space, -EPERM for a
 * refused bus master enable, or the device's errno.
 */
ssize_t pcipass_config_access(struct pcipass_device *pdevice, void *buf,
			      size_t count, u64 pos, bool write)
{
	size_t done = 0;
	int ret;

	lockdep_assert_held(&pdevice->ctx->lock);
	/* Or a waiting removal holds it (pcipass_cfg_write_lock()). */
	if (write && !pdevice->release_requested)
		device_lock_assert(&pdevice->pdev->dev);
	if (!count || pos >= pdevice->cfg.size ||
	    count > pdevice->cfg.size - pos)
		return -EINVAL;

	while (done < count) {
		u32 at = pos + done, len = 1;

		if (count - done >= 4 && IS_ALIGNED(at, 4))
			len = 4;
		else if (count - done >= 2 && IS_ALIGNED(at, 2))
			len = 2;
		ret = pcipass_config_access_one(pdevice, buf + done, at, len,
						write);
		if (ret)
			return done ? done : ret;
		done += len;
	}
	return done;
}

/**
 * pcipass_config_init() - build the virtual config of a device being
 *	attached
 * @pdevice: the attachment
 *
 * Return: 0, -ENOMEM, or -EIO when the device's capability chain is
 * malformed (logged, rate limited).
 */
int pcipass_config_init(struct pcipass_device *pdevice)
{
	struct pcipass_vconfig *cfg = &pdevice->cfg;
	struct pci_dev *pdev = pdevice->pdev;
	u32 pos, bad = 0;
	int bar, ret;

	cfg->size = pdev->cfg_size;
	cfg->shadow = kzalloc(cfg->size, GFP_KERNEL_ACCOUNT);
	cfg->virt = kzalloc(cfg->size, GFP_KERNEL_ACCOUNT);
	cfg->write = kzalloc(cfg->size, GFP_KERNEL_ACCOUNT);
	if (!cfg->shadow || !cfg->virt || !cfg->write) {
		pcipass_config_free(pdevice);
		return -ENOMEM;
	}
	for (pos = 0; pos < cfg->size; pos += 4) {
		u32 val;

		pci_read_config_dword(pdev, pos, &val);
		put_unaligned_le32(val, &cfg->shadow[pos]);
	}
	/* A VF's IDs and BARs are not in its config space. */
	pcipass_sriov_shadow(pdev, cfg);

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		unsigned long flags = pci_resource_flags(pdev, bar);
		u32 raw = get_unaligned_le32(&cfg->shadow[PCI_BASE_ADDRESS_0 +
							  4 * bar]);

		cfg->bar_size[bar] = pci_resource_len(pdev, bar);
		if (flags & IORESOURCE_IO)
			cfg->bar_flags[bar] = raw & ~PCI_BASE_ADDRESS_IO_MASK;
		else if (cfg->bar_size[bar])
			cfg->bar_flags[bar] = raw & ~PCI_BASE_ADDRESS_MEM_MASK;
		if (bar && (cfg->bar_flags[bar - 1] &
			    PCI_BASE_ADDRESS_MEM_TYPE_64) &&
		    !(cfg->bar_flags[bar - 1] & PCIPASS_BAR_UPPER))
			cfg->bar_flags[bar] = PCIPASS_BAR_UPPER;
	}
	cfg->bar_size[PCIPASS_REGION_ROM] = pci_resource_len(pdev,
							     PCI_ROM_RESOURCE);
	cfg->msi_pos = 0;
	cfg->pcie_pos = 0;
	cfg->af_pos = 0;
	ret = pcipass_vconfig_build(cfg, &bad);
	if (ret) {
		dev_warn_ratelimited(&pdev->dev, "not attached: malformed capability at %#x in config space (broken or hostile device)\n",
				     bad);
		pcipass_config_free(pdevice);
		return ret;
	}
	pcipass_sriov_perms(pdev, cfg);
	/* No Snoop DMA would bypass the CPU caches: off unless snooped. */
	if (cfg->pcie_pos && !pdevice->ctx->coherent)
		pcie_capability_clear_word(pdev, PCI_EXP_DEVCTL,
					   PCI_EXP_DEVCTL_NOSNOOP_EN);
	return 0;
}

/**
 * pcipass_config_free() - free the virtual config of an attachment
 * @pdevice: the attachment
 */
void pcipass_config_free(struct pcipass_device *pdevice)
{
	struct pcipass_vconfig *cfg = &pdevice->cfg;

	kfree(cfg->shadow);
	kfree(cfg->virt);
	kfree(cfg->write);
	cfg->shadow = NULL;
	cfg->virt = NULL;
	cfg->write = NULL;
}

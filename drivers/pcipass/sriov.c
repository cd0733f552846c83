// SPDX-License-Identifier: GPL-2.0
/*
 * SR-IOV: what a virtual function lacks in config space and the rules
 * that keep a physical function and its virtual functions apart.
 *
 * A VF reads 0xffff for its vendor and device IDs, 0 for its BARs (their
 * addresses and sizes are in the PF's SR-IOV capability) and has no
 * memory decoding bit (PCI_COMMAND_MEMORY is read-only zero: the PF's VF
 * Memory Space Enable decodes every VF at once). A VMM and its guest
 * expect an ordinary endpoint, so the virtual config of a VF (config.c)
 * gets from here:
 *  - the IDs the PCI core read for the VF (pdev->vendor, pdev->device);
 *  - BARs built from the VF's resources (address, size and flags), kept
 *    virtual like every BAR;
 *  - a virtual memory decoding bit, on at attach like a PF's after
 *    pci_enable_device(): clearing it blocks the BAR mappings, reads and
 *    writes exactly as a physical bit does (rdwr.c follows
 *    &pcipass_device.decode, which pcipass_sriov_command() fills from
 *    the shadow). The device's decoding itself is not the VF owner's:
 *    the VF MSE bit is in the PF, which the host holds;
 *  - an interrupt pin of 0 (a VF has no INTx, SR-IOV 1.1 3.4.1.18).
 * The same applies to any device whose pdev->no_command_memory is set.
 *
 * Ownership (documented in Documentation/admin-guide/pcipass.rst): a PF
 * with VFs enabled is never attached to a context (-EBUSY), and the
 * admin may enable or disable the VFs of a PF bound to pcipass through
 * sriov_numvfs only while no context has the PF (.sriov_configure,
 * -EBUSY otherwise). A VF's PF is therefore always the host's (its own
 * driver, or pcipass holding it quiet), never a VMM's, and a VF needs no
 * VF token: vfio's token guards a VF against a PF owner in user space,
 * which pcipass never allows. VFs pcipass enabled are disabled when
 * pcipass lets the PF go.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/pci.h>
#include <linux/pcipass.h>
#include <linux/unaligned.h>

#include "pcipass.h"

/* The BAR dword a VF would read if it had one: address and flags. */
static void pcipass_sriov_bar(struct pci_dev *pdev, u8 *shadow, int bar)
{
	u8 *reg = &shadow[PCI_BASE_ADDRESS_0 + 4 * bar];
	unsigned long flags = pci_resource_flags(pdev, bar);
	u64 start = pci_resource_start(pdev, bar);
	u32 val;

	if (!pci_resource_len(pdev, bar)) {
		put_unaligned_le32(0, reg);
		return;
	}
	if (flags & IORESOURCE_IO) {
		val = ((u32)start & PCI_BASE_ADDRESS_IO_MASK) |
		      PCI_BASE_ADDRESS_SPACE_IO;
	} else {
		val = (u32)start & PCI_BASE_ADDRESS_MEM_MASK;
		if (flags & IORESOURCE_MEM_64)
			val |= PCI_BASE_ADDRESS_MEM_TYPE_64;
		if (flags & IORESOURCE_PREFETCH)
			val |= PCI_BASE_ADDRESS_MEM_PREFETCH;
	}
	put_unaligned_le32(val, reg);
	/* A 64-bit BAR: the next dword holds the upper address bits. */
	if ((flags & IORESOURCE_MEM_64) && bar + 1 < PCI_STD_NUM_BARS)
		put_unaligned_le32(upper_32_bits(start), reg + 4);
}

/**
 * pcipass_sriov_shadow() - fill in what a VF's config space lacks
 * @pdev: the device
 * @cfg: its virtual config, @shadow just read from the device, before the
 *	BAR sizes and flags are taken from it
 *
 * Nothing for a device that has its own IDs, BARs and decoding bit.
 */
void pcipass_sriov_shadow(struct pci_dev *pdev, struct pcipass_vconfig *cfg)
{
	int bar;

	if (!pdev->is_virtfn)
		return;
	put_unaligned_le16(pdev->vendor, &cfg->shadow[PCI_VENDOR_ID]);
	put_unaligned_le16(pdev->device, &cfg->shadow[PCI_DEVICE_ID]);
	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		pcipass_sriov_bar(pdev, cfg->shadow, bar);
		if (pci_resource_flags(pdev, bar) & IORESOURCE_MEM_64)
			bar++;
	}
	/* A VF has no ROM BAR of its own either. */
	put_unaligned_le32(0, &cfg->shadow[PCI_ROM_ADDRESS]);
	cfg->shadow[PCI_INTERRUPT_PIN] = 0;
}

/**
 * pcipass_sriov_perms() - make a VF's missing registers virtual
 * @pdev: the device
 * @cfg: its virtual config, built (pcipass_vconfig_build())
 */
void pcipass_sriov_perms(struct pci_dev *pdev, struct pcipass_vconfig *cfg)
{
	if (pdev->is_virtfn) {
		/* IDs and pin from the shadow, read only. */
		memset(&cfg->virt[PCI_VENDOR_ID], 0xff, 4);
		memset(&cfg->write[PCI_VENDOR_ID], 0, 4);
		cfg->virt[PCI_INTERRUPT_PIN] = 0xff;
		cfg->write[PCI_INTERRUPT_PIN] = 0;
	}
	if (pdev->no_command_memory) {
		/* Still writable (the header's table says so), but virtual. */
		cfg->virt[PCI_COMMAND] |= PCI_COMMAND_MEMORY;
		cfg->shadow[PCI_COMMAND] |= PCI_COMMAND_MEMORY;
	}
}

/**
 * pcipass_sriov_command() - the command register as far as BAR access goes
 * @pdevice: the attachment, with the context lock held
 * @cmd: PCI_COMMAND as read from the device
 *
 * Return: @cmd, with the memory decoding bit of the virtual config for a
 * device that has none (a VF).
 */
u16 pcipass_sriov_command(struct pcipass_device *pdevice, u16 cmd)
{
	const u8 *shadow = pdevice->cfg.shadow;

	lockdep_assert_held(&pdevice->ctx->lock);
	if (!pdevice->pdev->no_command_memory || !shadow)
		return cmd;
	return (cmd & ~PCI_COMMAND_MEMORY) |
	       (shadow[PCI_COMMAND] & PCI_COMMAND_MEMORY);
}

/**
 * pcipass_sriov_may_attach() - may a context take this device?
 * @pdev: the device, with its device lock held
 *
 * A PF with VFs enabled is refused: its owner could remove, reset or
 * reconfigure the VFs under their users (a PF function level reset
 * clears VF Enable), and device-specific PF interfaces reach the VFs'
 * resources. The PF's device lock, which an attach holds, is the lock
 * under which sriov_numvfs changes, so the answer holds for the whole
 * attachment (pcipass_sriov_configure() refuses while a context has it).
 *
 * Return: 0, or -EBUSY when @pdev is a PF with VFs enabled.
 */
int pcipass_sriov_may_attach(struct pci_dev *pdev)
{
	device_lock_assert(&pdev->dev);
	if (pdev->is_physfn && pci_num_vf(pdev)) {
		dev_warn_ratelimited(&pdev->dev, "not attached: an SR-IOV physical function with %d virtual functions enabled (write 0 to its sriov_numvfs first)\n",
				     pci_num_vf(pdev));
		return -EBUSY;
	}
	return 0;
}

/**
 * pcipass_sriov_configure() - sriov_numvfs of a PF bound to pcipass
 * @pdev: the PF, with its device lock held (sriov_numvfs_store())
 * @num_vfs: VFs wanted, 0 to disable them
 *
 * Return: @num_vfs, 0 once disabled, -EBUSY while a context has the PF,
 * or pci_enable_sriov()'s errno.
 */
int pcipass_sriov_configure(struct pci_dev *pdev, int num_vfs)
{
	struct pcipass_pci *ppci = pci_get_drvdata(pdev);
	int ret;

	device_lock_assert(&pdev->dev);
	if (ppci->attached) {
		pci_warn(pdev, "SR-IOV not changed: a context has the physical function\n");
		return -EBUSY;
	}
	if (!num_vfs) {
		pci_disable_sriov(pdev);
		ppci->vfs_enabled = false;
		return 0;
	}
	ret = pci_enable_sriov(pdev, num_vfs);
	if (ret)
		return ret;
	ppci->vfs_enabled = true;
	return num_vfs;
}

/**
 * pcipass_sriov_remove() - disable the VFs pcipass enabled on a PF
 * @ppci: the PF leaving pcipass, with its device lock held
 *
 * VFs another driver enabled before pcipass took the PF stay, as that
 * driver left them.
 */
void pcipass_sriov_remove(struct pcipass_pci *ppci)
{
	device_lock_assert(&ppci->pdev->dev);
	if (ppci->vfs_enabled)
		pci_disable_sriov(ppci->pdev);
	ppci->vfs_enabled = false;
}

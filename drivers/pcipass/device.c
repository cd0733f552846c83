// SPDX-License-Identifier: GPL-2.0
/*
 * Devices in contexts: PCIPASS_DEVICE_ATTACH and PCIPASS_DEVICE_DETACH,
 * the DMA-ownership and IOMMU-group viability rules of an attach, the
 * no-IOMMU opt-in, and the device file an attach returns. The revocation
 * of an attachment when the device leaves the pcipass driver is
 * release.c's.
 *
 * Every change of an attachment holds device_lock() of the PCI device and
 * then the context's lock, so that remove() (which runs under device_lock)
 * always finds a stable &pcipass_pci.attached. Each way a VMM detaches
 * first announces it under the context lock alone
 * (pcipass_release_announce()), so that a remove() waiting for the VMM
 * with device_lock held stops waiting instead of blocking it.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/panic.h>
#include <linux/pci.h>
#include <linux/pcipass.h>
#include <linux/slab.h>
#include <uapi/linux/vfio.h>

#include "pcipass.h"

bool pcipass_allow_noiommu;
module_param_named(allow_noiommu, pcipass_allow_noiommu, bool, 0644);
MODULE_PARM_DESC(allow_noiommu, "Allow attaching devices no IOMMU translates (DMA and bus mastering stay off; taints the kernel). Default: off");

/* Stop the device's DMA and decoding, as probe left it. */
static void pcipass_device_quiesce(struct pci_dev *pdev)
{
	u16 cmd;

	pci_clear_master(pdev);
	pci_disable_device(pdev);
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	cmd &= ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	pci_write_config_word(pdev, PCI_COMMAND, cmd);
}

/**
 * pcipass_device_detach_locked() - undo an attachment
 * @pdevice: the attachment, with device_lock() and the context lock held
 * @removal: called from remove(), perhaps under the PCI core's
 *	rescan/remove lock (pcipass_reset_on_removal()), or for a
 *	hot-unplug that is about to call it
 *
 * The device file stays, dead: its ioctls fail with ENODEV. The context
 * lock is dropped during the reset (pcipass_reset_unlocked()), once the
 * device is out of the VMM's reach.
 */
void pcipass_device_detach_locked(struct pcipass_device *pdevice, bool removal)
{
	struct pcipass_ctx *ctx = pdevice->ctx;
	struct pci_dev *pdev = pdevice->pdev;

	device_lock_assert(&pdev->dev);
	lockdep_assert_held(&ctx->lock);

	/* No interrupt, no BAR access and no DMA may be in flight from here. */
	pcipass_irq_release(pdevice);
	/*
	 * What the VMM left stays until pcipass_reset_handover() resets it;
	 * a device with no reset at all (edu) keeps it, as in vfio-pci.
	 */
	if (!pdevice->reset_works && pcipass_hot_reset_available(pdev))
		pdevice->ppci->needs_reset = true;
	pdevice->ppci->attached = NULL;
	pdevice->ppci = NULL;
	pcipass_bars_revoke(pdevice);
	pcipass_reset_unlocked(pdevice, removal ? pcipass_reset_on_removal :
						  pcipass_reset_on_detach);
	pcipass_regions_release(pdevice);
	pcipass_config_free(pdevice);
	pcipass_device_quiesce(pdev);
	if (pdevice->pgroup) {
		pcipass_domain_detach_group(ctx, pdevice->pgroup);
		iommu_device_release_dma_owner(&pdev->dev);
		pdevice->pgroup = NULL;
	}
	list_del_init(&pdevice->node);
	ctx->num_devices--;
	dev_info_ratelimited(&pdev->dev, "detached from its context\n");
}

static int pcipass_device_release(struct inode *inode, struct file *file)
{
	struct pcipass_device *pdevice = file->private_data;
	struct pcipass_ctx *ctx;

	/* A file whose attach failed owns nothing. */
	if (!pdevice)
		return 0;
	ctx = pdevice->ctx;
	mutex_lock(&ctx->lock);
	pcipass_release_announce(pdevice);
	mutex_unlock(&ctx->lock);
	device_lock(&pdevice->pdev->dev);
	mutex_lock(&ctx->lock);
	if (pdevice->ppci)
		pcipass_device_detach_locked(pdevice, false);
	mutex_unlock(&ctx->lock);
	device_unlock(&pdevice->pdev->dev);
	pcipass_reset_handover(pdevice->pdev);
	pcipass_reset_wait_idle(pdevice);

	if (pdevice->vfio_group_file)
		fput(pdevice->vfio_group_file);
	mutex_destroy(&pdevice->vfio_lock);
	pci_dev_put(pdevice->pdev);
	kfree(pdevice);
	pcipass_ctx_put(ctx);
	return 0;
}

static long pcipass_device_ioctl(struct file *file, unsigned int cmd,
				 unsigned long arg)
{
	if (_IOC_TYPE(cmd) == VFIO_TYPE)
		return pcipass_vfio_device_ioctl(file->private_data, cmd, arg);
	return pcipass_device_dispatch(file->private_data, cmd, arg);
}

static const struct file_operations pcipass_device_fops = {
	.owner = THIS_MODULE,
	.release = pcipass_device_release,
	.unlocked_ioctl = pcipass_device_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.read = pcipass_device_read,
	.write = pcipass_device_write,
	.mmap = pcipass_device_mmap,
	.llseek = noop_llseek,
};

/**
 * pcipass_device_get_info() - PCIPASS_DEVICE_GET_INFO on a device file
 * @ucmd: the ioctl call, a &struct pcipass_device_info
 *
 * Return: 0, -ENODEV once detached, or -EFAULT.
 */
int pcipass_device_get_info(struct pcipass_ucmd *ucmd)
{
	struct pcipass_device_info *cmd = ucmd->cmd;
	struct pcipass_device *pdevice = ucmd->dev;
	struct pcipass_ctx *ctx = ucmd->ctx;
	struct pci_dev *pdev = pdevice->pdev;
	bool attached;

	mutex_lock(&ctx->lock);
	attached = pdevice->ppci;
	cmd->caps = 0;
	if (ctx->mode != PCIPASS_CTX_MODE_IOMMU)
		cmd->caps |= PCIPASS_DEVICE_BUS_MASTER_FORBIDDEN;
	if (pcipass_reset_available(pdevice))
		cmd->caps |= PCIPASS_DEVICE_RESET_AVAILABLE;
	if (pdevice->msix_mmap_ok)
		cmd->caps |= PCIPASS_DEVICE_MSIX_MMAP;
	cmd->num_regions = PCIPASS_NUM_REGIONS;
	cmd->bus_master_refusals = pdevice->bus_master_refusals;
	mutex_unlock(&ctx->lock);
	if (!attached)
		return -ENODEV;
	/* Probed without the context lock: it may look at the bridge. */
	if (pcipass_hot_reset_available(pdev))
		cmd->caps |= PCIPASS_DEVICE_HOT_RESET_AVAILABLE;

	cmd->addr = (struct pcipass_pci_addr) {
		.segment = pci_domain_nr(pdev->bus),
		.bus = pdev->bus->number,
		.device = PCI_SLOT(pdev->devfn),
		.function = PCI_FUNC(pdev->devfn),
	};
	cmd->vendor = pdev->vendor;
	cmd->device = pdev->device;
	return pcipass_ucmd_respond(ucmd);
}

/* May the VMM map and write the MSI-X table? Only when MSI is isolated. */
static bool pcipass_msix_isolated(struct pcipass_device *pdevice)
{
	struct iommu_group *group;
	bool isolated;

	if (!pdevice->pgroup)
		return false;
	group = iommu_group_get(&pdevice->pdev->dev);
	isolated = group && iommu_group_has_isolated_msi(group);
	iommu_group_put(group);
	return isolated;
}

/* Find a device by address; a reference is returned. */
static struct pci_dev *pcipass_find_pci(const struct pcipass_pci_addr *addr)
{
	if (addr->__reserved || addr->device >= 32 || addr->function >= 8)
		return ERR_PTR(-EINVAL);
	return pci_get_domain_bus_and_slot(addr->segment, addr->bus,
					   PCI_DEVFN(addr->device,
						     addr->function)) ?:
	       ERR_PTR(-ENODEV);
}

/* What makes an IOMMU group not viable: a member and its driver's name. */
struct pcipass_group_culprit {
	struct device *dev;
	char driver[32];
};

/*
 * Does @dev's driver stand in the way of a context taking its group? As in
 * the IOMMU core (iommu_device_use_default_domain()), a driver stands in
 * the way unless it manages DMA ownership itself (driver_managed_dma:
 * pcipass, pci-stub, pcieport, vfio-pci): such a driver does no DMA
 * through the group's default domain, and the IOMMU core refuses it a
 * bind of a DMA-doing driver while the context owns the group. Runs under
 * the group's mutex, so the driver found cannot finish its unbind (its
 * dma_cleanup needs that mutex) while its name is copied.
 */
static int pcipass_group_member_in_the_way(struct device *dev, void *data)
{
	struct pcipass_group_culprit *culprit = data;
	struct device_driver *drv = READ_ONCE(dev->driver);

	if (!drv)
		return 0;
	if (dev_is_pci(dev) && to_pci_driver(drv)->driver_managed_dma)
		return 0;
	culprit->dev = get_device(dev);
	strscpy(culprit->driver, drv->name, sizeof(culprit->driver));
	return 1;
}

/**
 * pcipass_group_may_attach() - the viability rules of an IOMMU group
 * @group: the group a context would take
 * @who: what to name in the kernel log line that says why not (a device
 *	or a VFIO group), or NULL for no log line
 *
 * The one rule for PCIPASS_DEVICE_ATTACH, VFIO_GROUP_GET_STATUS and
 * VFIO_GROUP_SET_CONTAINER: a group may be taken when every member is
 * bound to no driver or to a driver with driver_managed_dma set (pcipass,
 * pci-stub, pcieport, vfio-pci: the drivers that do no DMA of their own
 * through the group's default domain), and when it isolates MSI writes
 * or the admin set allow_unsafe_interrupts. Whether another owner (a
 * context, VFIO, iommufd) holds the group is the IOMMU core's answer, at
 * the claim (iommu_device_claim_dma_owner()) or from
 * iommu_group_dma_owner_claimed().
 *
 * Return: 0, or -EPERM when a member's driver uses DMA or MSI is not
 * isolated.
 */
int pcipass_group_may_attach(struct iommu_group *group, const char *who)
{
	struct pcipass_group_culprit culprit = {};

	iommu_group_for_each_dev(group, &culprit,
				 pcipass_group_member_in_the_way);
	if (culprit.dev) {
		if (who)
			pr_warn_ratelimited("%s: IOMMU group %d is not viable: %s is bound to %s, a driver that does DMA (unbind it, or bind it to pcipass or pci-stub)\n",
					    who, iommu_group_id(group),
					    dev_name(culprit.dev), culprit.driver);
		put_device(culprit.dev);
		return -EPERM;
	}

	/*
	 * Without interrupt remapping, a device that may master can DMA-write
	 * the MSI window and raise any host vector: the attach itself needs
	 * isolated MSI or the admin's opt-in, as vfio type1 and iommufd rule.
	 */
	if (!iommu_group_has_isolated_msi(group) &&
	    !pcipass_irq_unsafe_allowed()) {
		if (who)
			pr_warn_ratelimited("%s: IOMMU group %d does not isolate MSI (no interrupt remapping): its DMA could raise host interrupts; load pcipass with allow_unsafe_interrupts=1 to allow it anyway\n",
					    who, iommu_group_id(group));
		return -EPERM;
	}
	return 0;
}

/* With both locks held: claim the device's group for the context. */
static int pcipass_attach_iommu(struct pcipass_ctx *ctx,
				struct pcipass_device *pdevice,
				struct iommu_group *group)
{
	struct pci_dev *pdev = pdevice->pdev;
	char who[64];
	int ret;

	if (ctx->mode == PCIPASS_CTX_MODE_NOIOMMU) {
		dev_warn_ratelimited(&pdev->dev, "not attached: the context has no IOMMU and this device has one\n");
		return -EPERM;
	}

	snprintf(who, sizeof(who), "%s: not attached", dev_name(&pdev->dev));
	ret = pcipass_group_may_attach(group, who);
	if (ret)
		return ret;

	ret = iommu_device_claim_dma_owner(&pdev->dev, ctx);
	if (ret) {
		dev_warn_ratelimited(&pdev->dev, "not attached: IOMMU group %d is owned by another context or driver (%d)\n",
				     iommu_group_id(group), ret);
		return ret == -EPERM ? -EBUSY : ret;
	}

	ret = pcipass_domain_attach_group(ctx, pdev, &pdevice->pgroup);
	if (ret) {
		iommu_device_release_dma_owner(&pdev->dev);
		return ret;
	}
	return 0;
}

static int pcipass_attach_noiommu(struct pcipass_ctx *ctx,
				  struct pcipass_device *pdevice)
{
	struct pci_dev *pdev = pdevice->pdev;

	if (!pcipass_allow_noiommu) {
		dev_warn_ratelimited(&pdev->dev, "not attached: no IOMMU translates this device; load pcipass with allow_noiommu=1 to attach devices that need no DMA\n");
		return -EPERM;
	}
	if (ctx->mode == PCIPASS_CTX_MODE_IOMMU) {
		dev_warn_ratelimited(&pdev->dev, "not attached: the context has an IOMMU domain and this device has no IOMMU\n");
		return -EPERM;
	}
	return 0;
}

/* With both locks held: undo pcipass_attach_iommu/noiommu. */
static void pcipass_attach_undo(struct pcipass_ctx *ctx,
				struct pcipass_device *pdevice)
{
	if (!pdevice->pgroup)
		return;
	pcipass_domain_detach_group(ctx, pdevice->pgroup);
	iommu_device_release_dma_owner(&pdevice->pdev->dev);
	pdevice->pgroup = NULL;
}

/**
 * pcipass_ctx_has_group() - is an IOMMU group attached to a context?
 * @ctx: the context, locked
 * @group: the group
 *
 * Return: true when a device of @group, or a VFIO group, attached it to
 * the context's domain: the context owns the group's DMA.
 */
bool pcipass_ctx_has_group(struct pcipass_ctx *ctx, struct iommu_group *group)
{
	struct pcipass_group *pgroup;

	lockdep_assert_held(&ctx->lock);
	list_for_each_entry(pgroup, &ctx->groups, node)
		if (pgroup->group == group)
			return true;
	return false;
}

/**
 * pcipass_device_attach_pdev() - attach a device to a context
 * @ctx: the context, unlocked
 * @pdev: the device; the caller keeps its own reference
 * @vfio_group_file: for the VFIO compatibility layer, the VFIO group file
 *	the device is opened through (the device file then holds a
 *	reference on it, and the device's IOMMU group must already be
 *	attached to the context's domain); NULL for PCIPASS_DEVICE_ATTACH
 * @out: set to the new device file, not yet installed in a descriptor
 *
 * The core of PCIPASS_DEVICE_ATTACH. Nothing is copied to user space: the
 * caller installs the file, or fput()s it, which detaches the device.
 *
 * Return: 0 or an errno documented with &struct pcipass_device_attach;
 * -EINVAL when @vfio_group_file is given and the group is not attached.
 */
int pcipass_device_attach_pdev(struct pcipass_ctx *ctx, struct pci_dev *pdev,
			       struct file *vfio_group_file, struct file **out)
{
	struct pcipass_device *pdevice;
	struct iommu_group *group;
	struct pcipass_pci *ppci;
	struct file *file;
	int ret;

	/* A device the last context left dirty is reset first, if it can be. */
	pcipass_reset_handover(pdev);
	device_lock(&pdev->dev);
	if (!pcipass_driver_owns(pdev)) {
		ret = -ENODEV;
		goto err_unlock_dev;
	}
	ppci = pci_get_drvdata(pdev);

	/* The admin decides who may have the device (pcipass_owner). */
	if (!ctx->privileged &&
	    !(uid_valid(ppci->owner) && uid_eq(ppci->owner, ctx->opener_uid))) {
		dev_warn_ratelimited(&pdev->dev, "not attached: the context was opened by uid %u without CAP_SYS_ADMIN, and the device's pcipass_owner is not that user\n",
				     from_kuid(&init_user_ns, ctx->opener_uid));
		ret = -EACCES;
		goto err_unlock_dev;
	}

	mutex_lock(&ctx->lock);
	if (ppci->attached) {
		ret = ppci->attached->ctx == ctx ? -EEXIST : -EBUSY;
		goto err_unlock_ctx;
	}
	ret = pcipass_sriov_may_attach(pdev);
	if (ret)
		goto err_unlock_ctx;

	pdevice = kzalloc(sizeof(*pdevice), GFP_KERNEL_ACCOUNT);
	if (!pdevice) {
		ret = -ENOMEM;
		goto err_unlock_ctx;
	}
	pdevice->ctx = ctx;
	pdevice->pdev = pdev;
	INIT_LIST_HEAD(&pdevice->node);
	init_rwsem(&pdevice->memory_lock);
	mutex_init(&pdevice->vfio_lock);
	pcipass_irq_init(pdevice);
	pcipass_err_init(pdevice);

	group = iommu_group_get(&pdev->dev);
	if (group && vfio_group_file && !pcipass_ctx_has_group(ctx, group))
		ret = -EINVAL;
	else if (group)
		ret = pcipass_attach_iommu(ctx, pdevice, group);
	else if (vfio_group_file)
		ret = -EINVAL;
	else
		ret = pcipass_attach_noiommu(ctx, pdevice);
	iommu_group_put(group);
	if (ret)
		goto err_free_device;

	ret = pci_enable_device(pdev);
	if (ret)
		goto err_undo_attach;
	/* Decoding is on from here, bus mastering is the VMM's to ask for. */
	pci_clear_master(pdev);

	ret = pcipass_regions_init(pdevice, pcipass_msix_isolated(pdevice));
	if (ret)
		goto err_disable;
	ret = pcipass_reset_unlocked(pdevice, pcipass_reset_on_attach);
	if (ret)
		goto err_release_regions;
	if (ppci->needs_reset && !pdevice->reset_works)
		dev_warn_ratelimited(&pdev->dev, "attached without a reset since its previous context: a device its slot or bus reset affects is in use\n");
	ret = pcipass_config_init(pdevice);
	if (ret)
		goto err_restore;

	/* An inode of its own: its mappings can be zapped alone. */
	file = anon_inode_create_getfile("[pcipass-device]",
					 &pcipass_device_fops, pdevice, O_RDWR,
					 NULL);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_free_config;
	}
	file->f_mode |= FMODE_PREAD | FMODE_PWRITE;
	pdevice->file = file;

	/* Nothing can fail from here: the attachment becomes visible. */
	if (pdevice->pgroup) {
		ctx->mode = PCIPASS_CTX_MODE_IOMMU;
		if (!pdevice->msix_mmap_ok) {
			dev_warn_ratelimited(&pdev->dev, "UNSAFE: attached without MSI isolation (allow_unsafe_interrupts=1): the device can forge host interrupts; tainting the kernel\n");
			add_taint(TAINT_USER, LOCKDEP_STILL_OK);
		}
	} else {
		ctx->mode = PCIPASS_CTX_MODE_NOIOMMU;
		dev_warn_ratelimited(&pdev->dev, "attached WITHOUT an IOMMU (allow_noiommu=1): bus mastering stays off; tainting the kernel\n");
		add_taint(TAINT_USER, LOCKDEP_STILL_OK);
	}
	if (vfio_group_file)
		pdevice->vfio_group_file = get_file(vfio_group_file);
	pci_dev_get(pdev);
	pcipass_ctx_get(ctx);
	list_add_tail(&pdevice->node, &ctx->devices);
	ctx->num_devices++;
	pdevice->ppci = ppci;
	ppci->attached = pdevice;
	pcipass_unplug_watch_start(ppci);
	if (pdevice->reset_works)
		ppci->needs_reset = false;
	pcipass_bars_unblock(pdevice);
	dev_info_ratelimited(&pdev->dev, "attached to a context (%s%s)\n",
			     pdevice->pgroup ? "IOMMU" : "no IOMMU",
			     vfio_group_file ? ", VFIO" : "");
	mutex_unlock(&ctx->lock);
	device_unlock(&pdev->dev);
	*out = file;
	return 0;

err_free_config:
	pcipass_config_free(pdevice);
err_restore:
	pcipass_reset_unlocked(pdevice, pcipass_reset_on_detach);
err_release_regions:
	pcipass_regions_release(pdevice);
err_disable:
	pcipass_device_quiesce(pdev);
err_undo_attach:
	pcipass_attach_undo(ctx, pdevice);
err_free_device:
	mutex_destroy(&pdevice->vfio_lock);
	kfree(pdevice);
err_unlock_ctx:
	mutex_unlock(&ctx->lock);
err_unlock_dev:
	device_unlock(&pdev->dev);
	return ret;
}

/**
 * pcipass_device_attach() - PCIPASS_DEVICE_ATTACH
 * @ucmd: the ioctl call, a &struct pcipass_device_attach
 *
 * Return: 0 or an errno documented with &struct pcipass_device_attach.
 */
int pcipass_device_attach(struct pcipass_ucmd *ucmd)
{
	struct pcipass_device_attach *cmd = ucmd->cmd;
	struct pci_dev *pdev;
	struct file *file;
	int fd, ret;

	if (cmd->__reserved)
		return -EINVAL;
	/*
	 * The answer goes out before any lock is taken (no user copy under
	 * device_lock or the context lock): the fd number is reserved first
	 * and only installed once the attach has succeeded.
	 */
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	cmd->out_device_fd = fd;
	ret = pcipass_ucmd_respond(ucmd);
	if (ret)
		goto err_put_fd;

	pdev = pcipass_find_pci(&cmd->addr);
	if (IS_ERR(pdev)) {
		ret = PTR_ERR(pdev);
		goto err_put_fd;
	}
	ret = pcipass_device_attach_pdev(ucmd->ctx, pdev, NULL, &file);
	pci_dev_put(pdev);
	if (ret)
		goto err_put_fd;
	fd_install(fd, file);
	return 0;

err_put_fd:
	put_unused_fd(fd);
	return ret;
}

/**
 * pcipass_device_detach() - PCIPASS_DEVICE_DETACH
 * @ucmd: the ioctl call, a &struct pcipass_device_detach
 *
 * Return: 0, -EINVAL for a malformed address, or -ENODEV when the device
 * is not attached to this context.
 */
int pcipass_device_detach(struct pcipass_ucmd *ucmd)
{
	struct pcipass_device_detach *cmd = ucmd->cmd;
	struct pcipass_ctx *ctx = ucmd->ctx;
	struct pcipass_device *pdevice;
	struct pcipass_pci *ppci;
	struct pci_dev *pdev;
	int ret = -ENODEV;

	pdev = pcipass_find_pci(&cmd->addr);
	if (IS_ERR(pdev))
		return PTR_ERR(pdev);

	mutex_lock(&ctx->lock);
	list_for_each_entry(pdevice, &ctx->devices, node)
		if (pdevice->pdev == pdev)
			pcipass_release_announce(pdevice);
	mutex_unlock(&ctx->lock);

	device_lock(&pdev->dev);
	mutex_lock(&ctx->lock);
	if (pcipass_driver_owns(pdev)) {
		ppci = pci_get_drvdata(pdev);
		if (ppci->attached && ppci->attached->ctx == ctx) {
			pcipass_device_detach_locked(ppci->attached, false);
			ret = 0;
		}
	}
	mutex_unlock(&ctx->lock);
	device_unlock(&pdev->dev);
	if (!ret)
		pcipass_reset_handover(pdev);
	pci_dev_put(pdev);
	return ret;
}

/**
 * pcipass_ctx_detach_all() - detach every device of a context being closed
 * @ctx: the context, unlocked
 */
void pcipass_ctx_detach_all(struct pcipass_ctx *ctx)
{
	struct pcipass_device *pdevice;

	mutex_lock(&ctx->lock);
	list_for_each_entry(pdevice, &ctx->devices, node)
		pcipass_release_announce(pdevice);
	mutex_unlock(&ctx->lock);

	for (;;) {
		struct pci_dev *pdev;

		mutex_lock(&ctx->lock);
		pdevice = list_first_entry_or_null(&ctx->devices,
						   struct pcipass_device, node);
		pdev = pdevice ? pci_dev_get(pdevice->pdev) : NULL;
		mutex_unlock(&ctx->lock);
		if (!pdev)
			return;

		/* Take the locks in order, then look again. */
		device_lock(&pdev->dev);
		mutex_lock(&ctx->lock);
		if (pcipass_driver_owns(pdev)) {
			struct pcipass_pci *ppci = pci_get_drvdata(pdev);

			if (ppci->attached && ppci->attached->ctx == ctx)
				pcipass_device_detach_locked(ppci->attached, false);
		}
		mutex_unlock(&ctx->lock);
		device_unlock(&pdev->dev);
		pcipass_reset_handover(pdev);
		pci_dev_put(pdev);
	}
}

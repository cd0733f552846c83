// SPDX-License-Identifier: GPL-2.0
/*
 * pcipass module entry: module init and exit, the /dev/pcipass misc
 * device, the life of a context (open and release), and the ioctl table
 * and dispatcher that apply the UAPI conventions of
 * include/uapi/linux/pcipass.h to every ioctl in one place.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/pcipass.h>
#include <kunit/visibility.h>

#include "pcipass.h"

static char *ids;
module_param(ids, charp, 0444);
MODULE_PARM_DESC(ids, "Devices to claim at load: vendor:device[:subvendor[:subdevice[:class[:class_mask]]]] in hex, comma separated");

/* What this build implements, reported in struct pcipass_info.features. */
#define PCIPASS_FEATURES_SUPPORTED \
	(PCIPASS_FEATURE_DEVICE_ATTACH | PCIPASS_FEATURE_DMA_MAP | \
	 PCIPASS_FEATURE_IRQS | PCIPASS_FEATURE_REGIONS | PCIPASS_FEATURE_RESET | \
	 PCIPASS_FEATURE_HOT_RESET | PCIPASS_FEATURE_RELEASE_REQ | \
	 PCIPASS_FEATURE_DMA_MAP_FILE | PCIPASS_FEATURE_ERR_REPORT)

/**
 * pcipass_ucmd_respond() - copy the output fields back to user space
 * @ucmd: the ioctl call
 *
 * Copies the kernel's structure back, truncated to the size the user gave.
 *
 * Return: 0, or -EFAULT.
 */
int pcipass_ucmd_respond(struct pcipass_ucmd *ucmd)
{
	if (copy_to_user(ucmd->ubuf, ucmd->cmd,
			 min(ucmd->user_size, ucmd->kernel_size)))
		return -EFAULT;
	return 0;
}

static int pcipass_get_api_version(struct pcipass_ucmd *ucmd)
{
	struct pcipass_api_version *cmd = ucmd->cmd;

	if (cmd->__reserved)
		return -EINVAL;
	cmd->version = PCIPASS_API_VERSION;
	return pcipass_ucmd_respond(ucmd);
}

static int pcipass_get_info(struct pcipass_ucmd *ucmd)
{
	struct pcipass_info *cmd = ucmd->cmd;
	struct pcipass_ctx *ctx = ucmd->ctx;

	cmd->host_caps = pcipass_host_iommu_caps();
	if (READ_ONCE(pcipass_allow_noiommu))
		cmd->host_caps |= PCIPASS_HOST_ALLOW_NOIOMMU;
	if (pcipass_irq_unsafe_allowed())
		cmd->host_caps |= PCIPASS_HOST_ALLOW_UNSAFE_INTERRUPTS;
	cmd->features = PCIPASS_FEATURES_SUPPORTED;
	mutex_lock(&ctx->lock);
	cmd->ctx_mode = ctx->mode;
	cmd->num_devices = ctx->num_devices;
	cmd->dma_flags = 0;
	if (ctx->mode == PCIPASS_CTX_MODE_IOMMU)
		cmd->dma_flags = ctx->coherent ? PCIPASS_INFO_DMA_COHERENT :
						 PCIPASS_INFO_DMA_NO_SNOOP_OFF;
	mutex_unlock(&ctx->lock);
	return pcipass_ucmd_respond(ucmd);
}

/* Room for the largest structure of any ioctl. */
union pcipass_ucmd_buffer {
	struct pcipass_api_version api_version;
	struct pcipass_info info;
	struct pcipass_device_attach attach;
	struct pcipass_device_detach detach;
	struct pcipass_dma_map map;
	struct pcipass_dma_unmap unmap;
	struct pcipass_iova_ranges iova_ranges;
	struct pcipass_device_info device_info;
	struct pcipass_irq_info irq_info;
	struct pcipass_irq_set irq_set;
	struct pcipass_region_info region_info;
	struct pcipass_device_reset reset;
	struct pcipass_device_hot_reset_info hot_reset_info;
	struct pcipass_device_hot_reset hot_reset;
	struct pcipass_device_err_info err_info;
};

/* Context ioctls are numbered from 0x00, device ioctls from 0x40. */
#define PCIPASS_CMD_INDEX_MASK	0x3f

#define PCIPASS_IOCTL_OP(_ioctl, _handler, _struct, _last, _flags, _write) \
	[_IOC_NR(_ioctl) & PCIPASS_CMD_INDEX_MASK] = {			\
		.size = sizeof(_struct) +				\
			BUILD_BUG_ON_ZERO(sizeof(union pcipass_ucmd_buffer) < \
					  sizeof(_struct)) +		\
			BUILD_BUG_ON_ZERO(offsetof(_struct, size) != 0) + \
			BUILD_BUG_ON_ZERO(offsetof(_struct, flags) != 4), \
		.min_size = offsetofend(_struct, _last),		\
		.valid_flags = _flags,					\
		.needs_write = _write,					\
		.handler = _handler,					\
	}

static const struct pcipass_ioctl_op pcipass_ctx_ioctl_ops[] = {
	PCIPASS_IOCTL_OP(PCIPASS_GET_API_VERSION, pcipass_get_api_version,
			 struct pcipass_api_version, __reserved, 0, false),
	PCIPASS_IOCTL_OP(PCIPASS_GET_INFO, pcipass_get_info,
			 struct pcipass_info, num_devices, 0, false),
	PCIPASS_IOCTL_OP(PCIPASS_DEVICE_ATTACH, pcipass_device_attach,
			 struct pcipass_device_attach, __reserved, 0, true),
	PCIPASS_IOCTL_OP(PCIPASS_DEVICE_DETACH, pcipass_device_detach,
			 struct pcipass_device_detach, addr, 0, true),
	PCIPASS_IOCTL_OP(PCIPASS_DMA_MAP, pcipass_dma_map,
			 struct pcipass_dma_map, length,
			 PCIPASS_DMA_MAP_READ | PCIPASS_DMA_MAP_WRITE |
			 PCIPASS_DMA_MAP_FILE, true),
	PCIPASS_IOCTL_OP(PCIPASS_DMA_UNMAP, pcipass_dma_unmap,
			 struct pcipass_dma_unmap, length,
			 PCIPASS_DMA_UNMAP_ALL, true),
	PCIPASS_IOCTL_OP(PCIPASS_IOVA_RANGES, pcipass_iova_ranges,
			 struct pcipass_iova_ranges, ranges, 0, false),
};

static const struct pcipass_ioctl_op pcipass_device_ioctl_ops[] = {
	PCIPASS_IOCTL_OP(PCIPASS_DEVICE_GET_INFO, pcipass_device_get_info,
			 struct pcipass_device_info, bus_master_refusals, 0, false),
	PCIPASS_IOCTL_OP(PCIPASS_DEVICE_GET_IRQ_INFO, pcipass_irq_info,
			 struct pcipass_irq_info, enabled_count, 0, false),
	PCIPASS_IOCTL_OP(PCIPASS_DEVICE_SET_IRQS, pcipass_irq_set,
			 struct pcipass_irq_set, data,
			 PCIPASS_IRQ_SET_ENABLE | PCIPASS_IRQ_SET_DISABLE |
			 PCIPASS_IRQ_SET_EVENTFD | PCIPASS_IRQ_SET_TRIGGER |
			 PCIPASS_IRQ_SET_MASK | PCIPASS_IRQ_SET_UNMASK |
			 PCIPASS_IRQ_SET_UNMASK_EVENTFD, true),
	PCIPASS_IOCTL_OP(PCIPASS_DEVICE_GET_REGION_INFO, pcipass_region_info,
			 struct pcipass_region_info, offset, 0, false),
	PCIPASS_IOCTL_OP(PCIPASS_DEVICE_RESET, pcipass_device_reset,
			 struct pcipass_device_reset, flags, 0, true),
	PCIPASS_IOCTL_OP(PCIPASS_DEVICE_HOT_RESET_INFO,
			 pcipass_device_hot_reset_info,
			 struct pcipass_device_hot_reset_info, devices, 0, false),
	PCIPASS_IOCTL_OP(PCIPASS_DEVICE_HOT_RESET, pcipass_device_hot_reset,
			 struct pcipass_device_hot_reset, flags, 0, true),
	PCIPASS_IOCTL_OP(PCIPASS_DEVICE_ERR_INFO, pcipass_device_err_info,
			 struct pcipass_device_err_info, __reserved, 0, false),
};

/**
 * pcipass_ioctl_lookup() - the table entry of an ioctl number
 * @device: true for an ioctl made on a device file, false for one made on
 *	a context
 * @cmd: the ioctl number
 *
 * Return: the entry, or NULL when @cmd is no ioctl of that kind of file.
 */
VISIBLE_IF_KUNIT const struct pcipass_ioctl_op *
pcipass_ioctl_lookup(bool device, unsigned int cmd)
{
	const struct pcipass_ioctl_op *ops = pcipass_ctx_ioctl_ops;
	unsigned int nops = ARRAY_SIZE(pcipass_ctx_ioctl_ops);
	unsigned int nr = _IOC_NR(cmd);
	unsigned int base = 0;

	if (device) {
		ops = pcipass_device_ioctl_ops;
		nops = ARRAY_SIZE(pcipass_device_ioctl_ops);
		base = PCIPASS_CMD_DEVICE_GET_INFO;
	}
	/* Every ioctl is _IO(PCIPASS_TYPE, nr): no size or direction bits. */
	if (cmd != _IO(PCIPASS_TYPE, nr) || nr < base || nr - base >= nops)
		return NULL;
	return ops[nr - base].handler ? &ops[nr - base] : NULL;
}
EXPORT_SYMBOL_IF_KUNIT(pcipass_ioctl_lookup);

/**
 * pcipass_ioctl_check_size() - the size rule of every ioctl
 * @op: the ioctl's table entry
 * @user_size: the size user space gave in the structure's first field
 *
 * Return: 0, -EINVAL when @user_size is below the first version of the
 * structure, or -E2BIG when it is above a page.
 */
VISIBLE_IF_KUNIT int pcipass_ioctl_check_size(const struct pcipass_ioctl_op *op,
					      u32 user_size)
{
	if (user_size < op->min_size)
		return -EINVAL;
	if (user_size > PAGE_SIZE)
		return -E2BIG;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(pcipass_ioctl_check_size);

/**
 * pcipass_ioctl_check_flags() - the flags rule of every ioctl
 * @op: the ioctl's table entry
 * @flags: the structure's second field
 *
 * Return: 0, or -EOPNOTSUPP when @flags has a bit the ioctl does not know.
 */
VISIBLE_IF_KUNIT int pcipass_ioctl_check_flags(const struct pcipass_ioctl_op *op,
					       u32 flags)
{
	return flags & ~op->valid_flags ? -EOPNOTSUPP : 0;
}
EXPORT_SYMBOL_IF_KUNIT(pcipass_ioctl_check_flags);

/*
 * Apply the UAPI conventions of every ioctl, then call its handler with
 * a validated kernel copy of the user's structure.
 */
static long pcipass_dispatch(bool device, struct pcipass_ucmd *ucmd,
			     unsigned int cmd)
{
	const struct pcipass_ioctl_op *op;
	union pcipass_ucmd_buffer buf;
	int ret;

	op = pcipass_ioctl_lookup(device, cmd);
	if (!op)
		return -ENOTTY;
	/* A read-only open may look, never change anything. */
	if (op->needs_write && !ucmd->writable)
		return -EBADF;

	if (get_user(ucmd->user_size, (u32 __user *)ucmd->ubuf))
		return -EFAULT;
	ret = pcipass_ioctl_check_size(op, ucmd->user_size);
	if (ret)
		return ret;

	ucmd->cmd = &buf;
	ucmd->kernel_size = op->size;
	ret = copy_struct_from_user(ucmd->cmd, op->size, ucmd->ubuf,
				    ucmd->user_size);
	if (ret)
		return ret;

	/* Every structure starts with size then flags (checked at build). */
	ret = pcipass_ioctl_check_flags(op, ((u32 *)ucmd->cmd)[1]);
	if (ret)
		return ret;

	return op->handler(ucmd);
}

static long pcipass_ctx_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct pcipass_ucmd ucmd = {
		.ctx = file->private_data,
		.ubuf = (void __user *)arg,
		.writable = file->f_mode & FMODE_WRITE,
	};

	return pcipass_dispatch(false, &ucmd, cmd);
}

/**
 * pcipass_device_dispatch() - handle an ioctl made on a device file
 * @dev: the device file's attachment
 * @cmd: the ioctl number
 * @arg: the user's structure
 *
 * Return: what the ioctl's handler returns, or an errno of the UAPI
 * conventions.
 */
long pcipass_device_dispatch(struct pcipass_device *dev, unsigned int cmd,
			     unsigned long arg)
{
	struct pcipass_ucmd ucmd = {
		.ctx = dev->ctx,
		.dev = dev,
		.ubuf = (void __user *)arg,
		.writable = dev->file->f_mode & FMODE_WRITE,
	};

	return pcipass_dispatch(true, &ucmd, cmd);
}

/**
 * pcipass_ctx_get() - take a reference on a context
 * @ctx: a context the caller already holds a reference on
 */
void pcipass_ctx_get(struct pcipass_ctx *ctx)
{
	kref_get(&ctx->ref);
}

static void pcipass_ctx_free(struct kref *ref)
{
	struct pcipass_ctx *ctx = container_of(ref, struct pcipass_ctx, ref);

	mutex_destroy(&ctx->lock);
	kfree(ctx);
}

/**
 * pcipass_ctx_put() - drop a reference on a context
 * @ctx: the context; freed with the last reference
 */
void pcipass_ctx_put(struct pcipass_ctx *ctx)
{
	kref_put(&ctx->ref, pcipass_ctx_free);
}

/**
 * pcipass_ctx_create() - a new, empty context for a file being opened
 * @file: the file: its opener's credentials decide which devices the
 *	context may attach
 *
 * Used by the open of /dev/pcipass and by the VFIO container node.
 *
 * Return: the context with one reference, or ERR_PTR(-ENOMEM).
 */
struct pcipass_ctx *pcipass_ctx_create(struct file *file)
{
	struct pcipass_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return ERR_PTR(-ENOMEM);
	kref_init(&ctx->ref);
	mutex_init(&ctx->lock);
	ctx->mode = PCIPASS_CTX_MODE_UNSET;
	INIT_LIST_HEAD(&ctx->groups);
	INIT_LIST_HEAD(&ctx->devices);
	ctx->mappings = RB_ROOT_CACHED;
	init_waitqueue_head(&ctx->dma_idle);
	/* Who opened it decides what it may attach, whoever holds it later. */
	ctx->opener_uid = file->f_cred->fsuid;
	ctx->privileged = file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN);
	pcipass_stat_ctx_add(ctx);
	return ctx;
}

/**
 * pcipass_ctx_destroy() - close a context: detach, unmap, drop
 * @ctx: the context, unlocked; the caller's reference is dropped
 *
 * Device files that outlive the context keep only a dead handle.
 */
void pcipass_ctx_destroy(struct pcipass_ctx *ctx)
{
	pcipass_stat_ctx_del(ctx);
	pcipass_ctx_detach_all(ctx);
	mutex_lock(&ctx->lock);
	pcipass_dma_release(ctx);
	mutex_unlock(&ctx->lock);
	pcipass_ctx_put(ctx);
}

static int pcipass_ctx_open(struct inode *inode, struct file *file)
{
	struct pcipass_ctx *ctx = pcipass_ctx_create(file);

	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	file->private_data = ctx;
	return nonseekable_open(inode, file);
}

static int pcipass_ctx_release(struct inode *inode, struct file *file)
{
	pcipass_ctx_destroy(file->private_data);
	return 0;
}

static const struct file_operations pcipass_ctx_fops = {
	.owner = THIS_MODULE,
	.open = pcipass_ctx_open,
	.release = pcipass_ctx_release,
	.unlocked_ioctl = pcipass_ctx_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice pcipass_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "pcipass",
	.fops = &pcipass_ctx_fops,
	.mode = 0600,
};

static int __init pcipass_init(void)
{
	int ret;

	pcipass_stat_init();
	ret = pcipass_release_init();
	if (ret)
		goto err_stat_exit;
	ret = pcipass_vfio_init();
	if (ret)
		goto err_release_exit;
	ret = pcipass_driver_register(ids);
	if (ret)
		goto err_vfio_exit;
	ret = misc_register(&pcipass_miscdev);
	if (ret)
		goto err_driver_unregister;
	return 0;

err_driver_unregister:
	pcipass_driver_unregister();
err_vfio_exit:
	pcipass_vfio_exit();
err_release_exit:
	pcipass_release_exit();
err_stat_exit:
	pcipass_stat_exit();
	return ret;
}

static void __exit pcipass_exit(void)
{
	misc_deregister(&pcipass_miscdev);
	pcipass_driver_unregister();
	pcipass_vfio_exit();
	pcipass_release_exit();
	pcipass_stat_exit();
}

module_init(pcipass_init);
module_exit(pcipass_exit);

MODULE_DESCRIPTION("PCI device passthrough to virtual machine monitors");
MODULE_LICENSE("GPL");

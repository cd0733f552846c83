// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO compatibility, container and group side: the VFIO container node
 * (/dev/pcipass-vfio/vfio, or /dev/vfio/vfio with vfio_nodes=compat), one
 * VFIO group node per IOMMU group holding a pcipass-bound device, and the
 * VFIO container and group ioctls (include/uapi/linux/vfio.h, type1v2
 * IOMMU), translated onto pcipass's own objects:
 *
 *  - a VFIO container is a pcipass context (&struct pcipass_ctx);
 *  - a VFIO group claims DMA ownership of its IOMMU group for that context
 *    at VFIO_GROUP_SET_CONTAINER, and attaches it to the context's domain
 *    as soon as VFIO_SET_IOMMU is done, so that VFIO_IOMMU_MAP_DMA works
 *    before any device is opened, as in VFIO;
 *  - VFIO_GROUP_GET_DEVICE_FD is a pcipass attach whose device file also
 *    answers the VFIO device ioctls (vfio_device.c).
 *
 * Mapping, IOVA ranges, interrupts, config space and reset are pcipass's
 * own paths; this file only checks VFIO's argsz and flags rules, converts
 * the structures and maps errnos. What a VMM can see differ from VFIO is
 * in Documentation/userspace-api/pcipass-vfio.rst.
 *
 * Locking: pcipass_vfio_lock protects the registry of groups and every
 * field of &struct pcipass_vfio_group and &struct pcipass_vfio_container;
 * it nests inside device_lock() (probe and remove) and outside the context
 * lock, and is never held while taking a device_lock().
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/iommu.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <uapi/linux/vfio.h>

#include "pcipass.h"

static char *vfio_nodes = "private";
module_param(vfio_nodes, charp, 0444);
MODULE_PARM_DESC(vfio_nodes, "VFIO-compatible nodes: \"private\" (default: /dev/pcipass-vfio/vfio and /dev/pcipass-vfio/<group>), \"compat\" (/dev/vfio/vfio and /dev/vfio/<group>; the load fails while the vfio module holds /dev/vfio/vfio) or \"off\"");

enum pcipass_vfio_mode {
	PCIPASS_VFIO_OFF,
	PCIPASS_VFIO_PRIVATE,
	PCIPASS_VFIO_COMPAT,
};

static enum pcipass_vfio_mode pcipass_vfio_mode;

/* The directory of the nodes under /dev. */
static const char *pcipass_vfio_dir(void)
{
	return pcipass_vfio_mode == PCIPASS_VFIO_COMPAT ? "vfio" :
							  "pcipass-vfio";
}

/**
 * struct pcipass_vfio_container - an open VFIO container node
 * @ref: held by the container file and by every group set to it
 * @ctx: the pcipass context, one reference (constant)
 * @groups: the &struct pcipass_vfio_group set to this container
 * @iommu_set: VFIO_SET_IOMMU was done and a group is still set
 *
 * @groups and @iommu_set are under pcipass_vfio_lock; the ioctl dispatch
 * reads @iommu_set without it, as a hint only: the context's mode, checked
 * under the context lock by every IOMMU operation, is the real answer.
 */
struct pcipass_vfio_container {
	struct kref ref;
	struct pcipass_ctx *ctx;
	struct list_head groups;
	bool iommu_set;
};

/**
 * struct pcipass_vfio_group - the VFIO group node of an IOMMU group
 * @dev: the node's device, in the "pcipass-vfio" class; its last
 *	reference frees the group
 * @cdev: the character device of the node
 * @group: the IOMMU group, one reference (constant)
 * @node: entry in pcipass_vfio_groups while @dead is false
 * @nr_pci: members bound to pcipass
 * @dead: the last pcipass member left: the node is gone, ioctls fail
 * @opened: the node is open (VFIO allows one opener)
 * @container: the container the group is set to, or NULL
 * @container_node: entry in &pcipass_vfio_container.groups
 * @pgroup: the group's entry in the context's domain once VFIO_SET_IOMMU
 *	is done (also changed under the context lock), else NULL
 *
 * Every field but the constant ones is under pcipass_vfio_lock.
 */
struct pcipass_vfio_group {
	struct device dev;
	struct cdev cdev;
	struct iommu_group *group;
	struct list_head node;
	unsigned int nr_pci;
	bool dead;
	bool opened;
	struct pcipass_vfio_container *container;
	struct list_head container_node;
	struct pcipass_group *pgroup;
};

static DEFINE_MUTEX(pcipass_vfio_lock);
static LIST_HEAD(pcipass_vfio_groups);
static DEFINE_IDA(pcipass_vfio_minors);
static dev_t pcipass_vfio_devt;

#define PCIPASS_VFIO_MAX_GROUPS	(MINORMASK + 1)

/*
 * Who may open the VFIO nodes: the one place that decides it, the same
 * rule as /dev/pcipass (root only for now).
 */
static void pcipass_vfio_node_perms(umode_t *mode, kuid_t *uid, kgid_t *gid)
{
	if (mode)
		*mode = 0600;
	if (uid)
		*uid = GLOBAL_ROOT_UID;
	if (gid)
		*gid = GLOBAL_ROOT_GID;
}

static char *pcipass_vfio_group_devnode(const struct device *dev,
					umode_t *mode, kuid_t *uid, kgid_t *gid)
{
	pcipass_vfio_node_perms(mode, uid, gid);
	return kasprintf(GFP_KERNEL, "%s/%s", pcipass_vfio_dir(),
			 dev_name(dev));
}

static const struct device_type pcipass_vfio_group_type = {
	.name = "pcipass-vfio-group",
	.devnode = pcipass_vfio_group_devnode,
};

static const struct class pcipass_vfio_class = {
	.name = "pcipass-vfio",
};

/* ---- the container ---- */

static const struct file_operations pcipass_vfio_container_fops;

static void pcipass_vfio_container_free(struct kref *ref)
{
	struct pcipass_vfio_container *container =
		container_of(ref, struct pcipass_vfio_container, ref);

	pcipass_ctx_destroy(container->ctx);
	kfree(container);
}

/* Never with pcipass_vfio_lock held: the last put closes the context. */
static void pcipass_vfio_container_put(struct pcipass_vfio_container *container)
{
	if (container)
		kref_put(&container->ref, pcipass_vfio_container_free);
}

static int pcipass_vfio_group_find_pci(struct device *dev, void *data)
{
	struct pci_dev **found = data;

	if (!dev_is_pci(dev) || !pcipass_driver_owns(to_pci_dev(dev)))
		return 0;
	*found = pci_dev_get(to_pci_dev(dev));
	return 1;
}

/*
 * pcipass_group_may_attach() for @vg; a refusal is logged as that of
 * "VFIO group N" followed by @what.
 */
static int pcipass_vfio_group_may_attach(struct pcipass_vfio_group *vg,
					 const char *what)
{
	char who[48];

	snprintf(who, sizeof(who), "VFIO group %d%s", iommu_group_id(vg->group),
		 what);
	return pcipass_group_may_attach(vg->group, who);
}

/* Attach the group to the container's domain: VFIO_SET_IOMMU is done. */
static int pcipass_vfio_group_attach_domain(struct pcipass_vfio_group *vg,
					    struct pcipass_ctx *ctx)
{
	struct pci_dev *pdev = NULL;
	int ret;

	lockdep_assert_held(&pcipass_vfio_lock);
	/*
	 * Checked at VFIO_GROUP_SET_CONTAINER already; again here, as type1
	 * does, since allow_unsafe_interrupts may have been turned off since.
	 */
	ret = pcipass_vfio_group_may_attach(vg, ": no IOMMU for it");
	if (ret)
		return ret;
	iommu_group_for_each_dev(vg->group, &pdev,
				 pcipass_vfio_group_find_pci);
	if (!pdev)
		return -ENODEV;
	mutex_lock(&ctx->lock);
	ret = pcipass_domain_attach_group(ctx, pdev, &vg->pgroup);
	if (!ret)
		ctx->mode = PCIPASS_CTX_MODE_IOMMU;
	mutex_unlock(&ctx->lock);
	pci_dev_put(pdev);
	return ret;
}

/*
 * Take the group out of its container: out of the domain, DMA ownership
 * given back. The last group deprivileges the container as in VFIO: every
 * mapping goes and VFIO_SET_IOMMU is needed again. No device of the group
 * may be attached. Returns the container's reference for the caller to
 * drop once pcipass_vfio_lock is released.
 */
static struct pcipass_vfio_container *
pcipass_vfio_group_detach(struct pcipass_vfio_group *vg)
{
	struct pcipass_vfio_container *container = vg->container;
	struct pcipass_ctx *ctx = container->ctx;

	lockdep_assert_held(&pcipass_vfio_lock);
	mutex_lock(&ctx->lock);
	if (vg->pgroup) {
		WARN_ON(vg->pgroup->users != 1);
		pcipass_domain_detach_group(ctx, vg->pgroup);
		vg->pgroup = NULL;
	}
	list_del(&vg->container_node);
	if (list_empty(&container->groups)) {
		container->iommu_set = false;
		/* A map in progress is not waited for under our global lock. */
		if (pcipass_dma_release_nowait(ctx))
			ctx->mode = PCIPASS_CTX_MODE_UNSET;
	}
	mutex_unlock(&ctx->lock);
	iommu_group_release_dma_owner(vg->group);
	vg->container = NULL;
	return container;
}

/* Undo a partial VFIO_SET_IOMMU: detach the groups attached so far. */
static void pcipass_vfio_container_undo_iommu(struct pcipass_vfio_container *container)
{
	struct pcipass_ctx *ctx = container->ctx;
	struct pcipass_vfio_group *vg;

	mutex_lock(&ctx->lock);
	list_for_each_entry(vg, &container->groups, container_node) {
		if (!vg->pgroup)
			continue;
		pcipass_domain_detach_group(ctx, vg->pgroup);
		vg->pgroup = NULL;
	}
	pcipass_dma_release(ctx);
	ctx->mode = PCIPASS_CTX_MODE_UNSET;
	mutex_unlock(&ctx->lock);
}

static long pcipass_vfio_set_iommu(struct pcipass_vfio_container *container,
				   unsigned long type)
{
	struct pcipass_vfio_group *vg;
	int ret;

	guard(mutex)(&pcipass_vfio_lock);
	if (list_empty(&container->groups) || container->iommu_set)
		return -EINVAL;
	/* The last group left during a map: its mappings are not gone yet. */
	scoped_guard(mutex, &container->ctx->lock)
		if (container->ctx->dma_closing)
			return -EBUSY;
	/* Only type1v2 semantics are implemented (see the header comment). */
	if (type != VFIO_TYPE1v2_IOMMU)
		return -ENODEV;
	list_for_each_entry(vg, &container->groups, container_node) {
		ret = pcipass_vfio_group_attach_domain(vg, container->ctx);
		if (ret) {
			pcipass_vfio_container_undo_iommu(container);
			return ret;
		}
	}
	container->iommu_set = true;
	return 0;
}

static long pcipass_vfio_check_extension(unsigned long ext)
{
	switch (ext) {
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_UNMAP_ALL:
		return 1;
	default:
		/* TYPE1 (v1 unmap), nesting, vaddr updates, DMA_CC: no. */
		return 0;
	}
}

/* pcipass's errnos where type1 has others. */
static int pcipass_vfio_dma_errno(int ret)
{
	switch (ret) {
	case -ENXIO:	/* no domain: the container was deprivileged */
	case -ERANGE:	/* outside the usable IOVA ranges */
		return -EINVAL;
	case -ENOSPC:	/* RLIMIT_MEMLOCK */
		return -ENOMEM;
	default:
		return ret;
	}
}

/* Capabilities of VFIO_IOMMU_GET_INFO: DMA available, then IOVA ranges. */
struct pcipass_vfio_iommu_caps {
	struct vfio_iommu_type1_info_dma_avail avail;
	u32 __pad;
	struct vfio_iommu_type1_info_cap_iova_range iova;
};

static long pcipass_vfio_iommu_get_info(struct pcipass_vfio_container *container,
					void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_info,
					  iova_pgsizes);
	struct pcipass_ctx *ctx = container->ctx;
	struct vfio_iommu_type1_info info;
	struct pcipass_vfio_iommu_caps *caps;
	struct pcipass_iova_span *spans;
	unsigned int count, i;
	size_t caps_size;
	u64 pgsizes = 0;
	u32 nmaps = 0;
	int ret = 0;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	spans = pcipass_dma_iova_ranges(ctx, &count);
	if (IS_ERR(spans))
		return pcipass_vfio_dma_errno(PTR_ERR(spans));
	mutex_lock(&ctx->lock);
	if (ctx->domain) {
		pgsizes = ctx->domain->pgsize_bitmap;
		nmaps = ctx->num_mappings;
	}
	mutex_unlock(&ctx->lock);
	if (!pgsizes) {
		ret = -EINVAL;
		goto out_free_spans;
	}
	/* Mappings are made of whole CPU pages, as type1 reports it. */
	if (pgsizes & ~PAGE_MASK) {
		pgsizes &= PAGE_MASK;
		pgsizes |= PAGE_SIZE;
	}

	caps_size = offsetof(struct pcipass_vfio_iommu_caps, iova) +
		    struct_size(&caps->iova, iova_ranges, count);
	caps = kzalloc(caps_size, GFP_KERNEL);
	if (!caps) {
		ret = -ENOMEM;
		goto out_free_spans;
	}
	caps->avail.header.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL;
	caps->avail.header.version = 1;
	caps->avail.header.next = sizeof(info) +
		offsetof(struct pcipass_vfio_iommu_caps, iova);
	/* pcipass limits pinned memory, not the number of mappings. */
	caps->avail.avail = U32_MAX - nmaps;
	caps->iova.header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE;
	caps->iova.header.version = 1;
	caps->iova.nr_iovas = count;
	for (i = 0; i < count; i++) {
		caps->iova.iova_ranges[i].start = spans[i].start;
		caps->iova.iova_ranges[i].end = spans[i].last;
	}

	info.flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
	info.iova_pgsizes = pgsizes;
	if (info.argsz < sizeof(info) + caps_size) {
		info.argsz = sizeof(info) + caps_size;
		info.cap_offset = 0;
	} else {
		if (copy_to_user(arg + sizeof(info), caps, caps_size)) {
			ret = -EFAULT;
			goto out_free_caps;
		}
		info.cap_offset = sizeof(info);
	}
	if (copy_to_user(arg, &info, min_t(size_t, info.argsz, sizeof(info))))
		ret = -EFAULT;

out_free_caps:
	kfree(caps);
out_free_spans:
	kfree(spans);
	return ret;
}

static long pcipass_vfio_map_dma(struct pcipass_vfio_container *container,
				 void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	struct vfio_iommu_type1_dma_map map;
	u32 flags = 0;

	if (copy_from_user(&map, arg, minsz))
		return -EFAULT;
	if (map.argsz < minsz ||
	    map.flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE |
			  VFIO_DMA_MAP_FLAG_VADDR))
		return -EINVAL;
	/* VFIO_UPDATE_VADDR is not offered; a mapping needs a direction. */
	if (map.flags & VFIO_DMA_MAP_FLAG_VADDR ||
	    !(map.flags & (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)))
		return -EINVAL;

	if (map.flags & VFIO_DMA_MAP_FLAG_READ)
		flags |= PCIPASS_DMA_MAP_READ;
	if (map.flags & VFIO_DMA_MAP_FLAG_WRITE)
		flags |= PCIPASS_DMA_MAP_WRITE;
	return pcipass_vfio_dma_errno(pcipass_dma_map_range(container->ctx,
							    map.vaddr, map.iova,
							    map.size, flags));
}

static long pcipass_vfio_unmap_dma(struct pcipass_vfio_container *container,
				   void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_dma_unmap,
					  size);
	struct vfio_iommu_type1_dma_unmap unmap;
	u64 iova = 0, length = 0, unmapped = 0;
	u32 flags = 0;
	int ret;

	if (copy_from_user(&unmap, arg, minsz))
		return -EFAULT;
	if (unmap.argsz < minsz ||
	    unmap.flags & ~(VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP |
			    VFIO_DMA_UNMAP_FLAG_VADDR |
			    VFIO_DMA_UNMAP_FLAG_ALL))
		return -EINVAL;
	/* No dirty tracking is ever started, no vaddr update offered. */
	if (unmap.flags & (VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP |
			   VFIO_DMA_UNMAP_FLAG_VADDR))
		return -EINVAL;

	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL) {
		if (unmap.iova || unmap.size)
			return -EINVAL;
		flags = PCIPASS_DMA_UNMAP_ALL;
	} else {
		iova = unmap.iova;
		length = unmap.size;
	}
	ret = pcipass_dma_unmap_range(container->ctx, iova, length, flags,
				      &unmapped);
	/* type1: a range with nothing in it unmaps 0 bytes successfully. */
	if (ret == -ENOENT) {
		ret = 0;
		unmapped = 0;
	}
	if (ret)
		return pcipass_vfio_dma_errno(ret);
	unmap.size = unmapped;
	return copy_to_user(arg, &unmap, minsz) ? -EFAULT : 0;
}

static long pcipass_vfio_container_ioctl(struct file *file, unsigned int cmd,
					 unsigned long arg)
{
	struct pcipass_vfio_container *container = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		return pcipass_vfio_check_extension(arg);
	case VFIO_SET_IOMMU:
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		return pcipass_vfio_set_iommu(container, arg);
	}

	/* VFIO passes the rest to the IOMMU driver, once set. */
	if (!READ_ONCE(container->iommu_set))
		return -EINVAL;
	switch (cmd) {
	case VFIO_IOMMU_GET_INFO:
		return pcipass_vfio_iommu_get_info(container, uarg);
	case VFIO_IOMMU_MAP_DMA:
	case VFIO_IOMMU_UNMAP_DMA:
		/* A read-only open may look, never change (as /dev/pcipass). */
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		if (cmd == VFIO_IOMMU_MAP_DMA)
			return pcipass_vfio_map_dma(container, uarg);
		return pcipass_vfio_unmap_dma(container, uarg);
	default:
		return -ENOTTY;
	}
}

static int pcipass_vfio_container_open(struct inode *inode, struct file *file)
{
	struct pcipass_vfio_container *container;
	struct pcipass_ctx *ctx;

	container = kzalloc(sizeof(*container), GFP_KERNEL_ACCOUNT);
	if (!container)
		return -ENOMEM;
	ctx = pcipass_ctx_create(file);
	if (IS_ERR(ctx)) {
		kfree(container);
		return PTR_ERR(ctx);
	}
	kref_init(&container->ref);
	container->ctx = ctx;
	INIT_LIST_HEAD(&container->groups);
	file->private_data = container;
	return nonseekable_open(inode, file);
}

static int pcipass_vfio_container_release(struct inode *inode,
					  struct file *file)
{
	pcipass_vfio_container_put(file->private_data);
	return 0;
}

static const struct file_operations pcipass_vfio_container_fops = {
	.owner = THIS_MODULE,
	.open = pcipass_vfio_container_open,
	.release = pcipass_vfio_container_release,
	.unlocked_ioctl = pcipass_vfio_container_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice pcipass_vfio_miscdev = {
	.fops = &pcipass_vfio_container_fops,
};

/* ---- the group ---- */

static int pcipass_vfio_group_get_status(struct pcipass_vfio_group *vg,
					 void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_group_status, flags);
	struct vfio_group_status status;

	if (copy_from_user(&status, arg, minsz))
		return -EFAULT;
	if (status.argsz < minsz)
		return -EINVAL;

	status.flags = 0;
	mutex_lock(&pcipass_vfio_lock);
	if (vg->dead) {
		mutex_unlock(&pcipass_vfio_lock);
		return -ENODEV;
	}
	if (vg->container) {
		status.flags |= VFIO_GROUP_FLAGS_CONTAINER_SET |
				VFIO_GROUP_FLAGS_VIABLE;
	} else {
		/* Viable exactly when a pcipass attach would accept it. */
		if (!pcipass_group_may_attach(vg->group, NULL) &&
		    !iommu_group_dma_owner_claimed(vg->group))
			status.flags |= VFIO_GROUP_FLAGS_VIABLE;
	}
	mutex_unlock(&pcipass_vfio_lock);

	return copy_to_user(arg, &status, minsz) ? -EFAULT : 0;
}

static int pcipass_vfio_group_attach(struct pcipass_vfio_group *vg,
				     struct pcipass_vfio_container *container)
{
	int ret;

	lockdep_assert_held(&pcipass_vfio_lock);
	ret = pcipass_vfio_group_may_attach(vg, "");
	if (ret)
		return ret;
	/* The context is the owner, so that its device attaches match. */
	ret = iommu_group_claim_dma_owner(vg->group, container->ctx);
	if (ret)
		return ret;
	if (container->iommu_set) {
		ret = pcipass_vfio_group_attach_domain(vg, container->ctx);
		if (ret) {
			iommu_group_release_dma_owner(vg->group);
			return ret;
		}
	}
	kref_get(&container->ref);
	vg->container = container;
	list_add_tail(&vg->container_node, &container->groups);
	return 0;
}

static int pcipass_vfio_group_set_container(struct pcipass_vfio_group *vg,
					    int __user *arg)
{
	struct file *cfile;
	int fd, ret;

	if (get_user(fd, arg))
		return -EFAULT;
	cfile = fget(fd);
	if (!cfile)
		return -EBADF;

	mutex_lock(&pcipass_vfio_lock);
	if (vg->container)
		ret = -EINVAL;
	else if (vg->dead)
		ret = -ENODEV;
	else if (cfile->f_op != &pcipass_vfio_container_fops)
		ret = -EBADFD;
	else
		ret = pcipass_vfio_group_attach(vg, cfile->private_data);
	mutex_unlock(&pcipass_vfio_lock);
	fput(cfile);
	return ret;
}

static int pcipass_vfio_group_unset_container(struct pcipass_vfio_group *vg)
{
	struct pcipass_vfio_container *container = NULL;
	int ret = 0;

	mutex_lock(&pcipass_vfio_lock);
	if (!vg->container) {
		ret = -EINVAL;
		goto out_unlock;
	}
	/* VFIO refuses while a device of the group is open. */
	mutex_lock(&vg->container->ctx->lock);
	if (vg->pgroup && vg->pgroup->users > 1)
		ret = -EBUSY;
	mutex_unlock(&vg->container->ctx->lock);
	if (!ret)
		container = pcipass_vfio_group_detach(vg);
out_unlock:
	mutex_unlock(&pcipass_vfio_lock);
	pcipass_vfio_container_put(container);
	return ret;
}

struct pcipass_vfio_name_match {
	const char *name;
	struct pci_dev *pdev;
};

static int pcipass_vfio_group_match_name(struct device *dev, void *data)
{
	struct pcipass_vfio_name_match *match = data;

	if (!dev_is_pci(dev) || !pcipass_driver_owns(to_pci_dev(dev)) ||
	    strcmp(dev_name(dev), match->name))
		return 0;
	match->pdev = pci_dev_get(to_pci_dev(dev));
	return 1;
}

/*
 * A second VFIO_GROUP_GET_DEVICE_FD of an open device: as VFIO, another
 * descriptor of the same open device (here, of the same file).
 */
static int pcipass_vfio_device_reopen(struct pcipass_ctx *ctx,
				      struct pci_dev *pdev,
				      struct file *group_file,
				      struct file **out)
{
	struct pcipass_device *pdevice;
	int ret = -EBUSY;

	device_lock(&pdev->dev);
	mutex_lock(&ctx->lock);
	if (pcipass_driver_owns(pdev)) {
		pdevice = ((struct pcipass_pci *)pci_get_drvdata(pdev))->attached;
		if (pdevice && pdevice->ctx == ctx &&
		    pdevice->vfio_group_file == group_file) {
			*out = get_file_active(&pdevice->file);
			if (*out)
				ret = 0;
		}
	}
	mutex_unlock(&ctx->lock);
	device_unlock(&pdev->dev);
	return ret;
}

static int pcipass_vfio_group_get_device_fd(struct pcipass_vfio_group *vg,
					    struct file *group_file,
					    const char __user *arg)
{
	struct pcipass_vfio_name_match match = {};
	struct pcipass_ctx *ctx = NULL;
	struct file *dfile;
	char *name;
	int fd, ret;

	name = strndup_user(arg, PAGE_SIZE);
	if (IS_ERR(name))
		return PTR_ERR(name);
	match.name = name;

	mutex_lock(&pcipass_vfio_lock);
	if (vg->dead) {
		ret = -ENODEV;
	} else if (!vg->container || !vg->container->iommu_set) {
		ret = -EINVAL;
	} else {
		iommu_group_for_each_dev(vg->group, &match,
					 pcipass_vfio_group_match_name);
		ret = match.pdev ? 0 : -ENODEV;
		if (!ret) {
			ctx = vg->container->ctx;
			pcipass_ctx_get(ctx);
		}
	}
	mutex_unlock(&pcipass_vfio_lock);
	kfree(name);
	if (ret)
		return ret;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto out_put;
	}
	/* The attach fails unless the group is still in the context. */
	ret = pcipass_device_attach_pdev(ctx, match.pdev, group_file, &dfile);
	if (ret == -EEXIST)
		ret = pcipass_vfio_device_reopen(ctx, match.pdev, group_file,
						 &dfile);
	if (ret) {
		put_unused_fd(fd);
		goto out_put;
	}
	fd_install(fd, dfile);
	ret = fd;
out_put:
	pcipass_ctx_put(ctx);
	pci_dev_put(match.pdev);
	return ret;
}

static long pcipass_vfio_group_ioctl(struct file *file, unsigned int cmd,
				     unsigned long arg)
{
	struct pcipass_vfio_group *vg = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_GROUP_GET_DEVICE_FD:
		return pcipass_vfio_group_get_device_fd(vg, file, uarg);
	case VFIO_GROUP_GET_STATUS:
		return pcipass_vfio_group_get_status(vg, uarg);
	case VFIO_GROUP_SET_CONTAINER:
		return pcipass_vfio_group_set_container(vg, uarg);
	case VFIO_GROUP_UNSET_CONTAINER:
		return pcipass_vfio_group_unset_container(vg);
	default:
		return -ENOTTY;
	}
}

static int pcipass_vfio_group_open(struct inode *inode, struct file *file)
{
	struct pcipass_vfio_group *vg =
		container_of(inode->i_cdev, struct pcipass_vfio_group, cdev);
	int ret = 0;

	mutex_lock(&pcipass_vfio_lock);
	if (vg->dead)
		ret = -ENODEV;
	else if (vg->opened)
		ret = -EBUSY;	/* VFIO allows one opener of a group */
	if (!ret) {
		vg->opened = true;
		get_device(&vg->dev);
		file->private_data = vg;
	}
	mutex_unlock(&pcipass_vfio_lock);
	return ret ? ret : nonseekable_open(inode, file);
}

/* Only once every device file opened through the group is closed. */
static int pcipass_vfio_group_release(struct inode *inode, struct file *file)
{
	struct pcipass_vfio_group *vg = file->private_data;
	struct pcipass_vfio_container *container = NULL;

	mutex_lock(&pcipass_vfio_lock);
	if (vg->container)
		container = pcipass_vfio_group_detach(vg);
	vg->opened = false;
	mutex_unlock(&pcipass_vfio_lock);
	pcipass_vfio_container_put(container);
	put_device(&vg->dev);
	return 0;
}

static const struct file_operations pcipass_vfio_group_fops = {
	.owner = THIS_MODULE,
	.open = pcipass_vfio_group_open,
	.release = pcipass_vfio_group_release,
	.unlocked_ioctl = pcipass_vfio_group_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/**
 * pcipass_vfio_file_iommu_group() - the IOMMU group of a VFIO group file
 * @file: a file, held by the caller
 *
 * For VFIO_DEVICE_PCI_HOT_RESET, whose caller proves with group files
 * which devices it may reset.
 *
 * Return: the IOMMU group, valid while @file is held, or NULL when @file
 * is not a pcipass VFIO group file.
 */
struct iommu_group *pcipass_vfio_file_iommu_group(struct file *file)
{
	struct pcipass_vfio_group *vg;

	if (file->f_op != &pcipass_vfio_group_fops)
		return NULL;
	vg = file->private_data;
	return vg->group;
}

static void pcipass_vfio_group_free(struct device *dev)
{
	struct pcipass_vfio_group *vg =
		container_of(dev, struct pcipass_vfio_group, dev);

	ida_free(&pcipass_vfio_minors, MINOR(dev->devt));
	iommu_group_put(vg->group);
	kfree(vg);
}

static struct pcipass_vfio_group *pcipass_vfio_group_lookup(struct iommu_group *group)
{
	struct pcipass_vfio_group *vg;

	lockdep_assert_held(&pcipass_vfio_lock);
	list_for_each_entry(vg, &pcipass_vfio_groups, node)
		if (vg->group == group)
			return vg;
	return NULL;
}

/* A new node for @group, which gives its reference to the node. */
static int pcipass_vfio_group_create(struct iommu_group *group)
{
	struct pcipass_vfio_group *vg;
	int minor, ret;

	lockdep_assert_held(&pcipass_vfio_lock);
	vg = kzalloc(sizeof(*vg), GFP_KERNEL);
	if (!vg)
		return -ENOMEM;
	minor = ida_alloc_max(&pcipass_vfio_minors,
			      PCIPASS_VFIO_MAX_GROUPS - 1, GFP_KERNEL);
	if (minor < 0) {
		kfree(vg);
		return minor;
	}
	vg->group = group;
	vg->nr_pci = 1;
	INIT_LIST_HEAD(&vg->container_node);
	device_initialize(&vg->dev);
	vg->dev.class = &pcipass_vfio_class;
	vg->dev.type = &pcipass_vfio_group_type;
	vg->dev.devt = MKDEV(MAJOR(pcipass_vfio_devt), minor);
	vg->dev.release = pcipass_vfio_group_free;
	cdev_init(&vg->cdev, &pcipass_vfio_group_fops);
	vg->cdev.owner = THIS_MODULE;
	ret = dev_set_name(&vg->dev, "%d", iommu_group_id(group));
	if (!ret)
		ret = cdev_device_add(&vg->cdev, &vg->dev);
	if (ret) {
		/* The release frees the minor and the group reference. */
		put_device(&vg->dev);
		return ret;
	}
	list_add_tail(&vg->node, &pcipass_vfio_groups);
	return 0;
}

/**
 * pcipass_vfio_pci_add() - a device was bound to pcipass
 * @pdev: the device, device_lock() held (probe)
 *
 * The device's IOMMU group gets its VFIO group node if it had none. A
 * device without an IOMMU has no VFIO group, as in VFIO without no-IOMMU
 * mode. A failure only logs: the native interface still works.
 */
void pcipass_vfio_pci_add(struct pci_dev *pdev)
{
	struct pcipass_vfio_group *vg;
	struct iommu_group *group;
	int ret = 0;

	if (pcipass_vfio_mode == PCIPASS_VFIO_OFF)
		return;
	group = iommu_group_get(&pdev->dev);
	if (!group)
		return;

	mutex_lock(&pcipass_vfio_lock);
	vg = pcipass_vfio_group_lookup(group);
	if (vg) {
		vg->nr_pci++;
		iommu_group_put(group);
	} else {
		ret = pcipass_vfio_group_create(group);
	}
	mutex_unlock(&pcipass_vfio_lock);
	if (ret)
		pci_warn(pdev, "no VFIO group node for IOMMU group %d (%d)\n",
			 iommu_group_id(group), ret);
}

/**
 * pcipass_vfio_pci_del() - a device is leaving pcipass
 * @pdev: the device, device_lock() held (remove), already detached
 *
 * With the last pcipass member of its IOMMU group, the VFIO group node
 * goes away and a container the group was set to loses the group (its DMA
 * ownership and its place in the domain); an open group file stays, and
 * its ioctls then fail with ENODEV.
 */
void pcipass_vfio_pci_del(struct pci_dev *pdev)
{
	struct pcipass_vfio_container *container = NULL;
	struct pcipass_vfio_group *vg;
	struct iommu_group *group;

	if (pcipass_vfio_mode == PCIPASS_VFIO_OFF)
		return;
	group = iommu_group_get(&pdev->dev);
	if (!group)
		return;

	mutex_lock(&pcipass_vfio_lock);
	vg = pcipass_vfio_group_lookup(group);
	if (!vg || --vg->nr_pci) {
		mutex_unlock(&pcipass_vfio_lock);
		iommu_group_put(group);
		return;
	}
	vg->dead = true;
	list_del(&vg->node);
	if (vg->container)
		container = pcipass_vfio_group_detach(vg);
	cdev_device_del(&vg->cdev, &vg->dev);
	mutex_unlock(&pcipass_vfio_lock);
	pcipass_vfio_container_put(container);
	put_device(&vg->dev);
	iommu_group_put(group);
}

/**
 * pcipass_vfio_init() - register the VFIO class, group numbers and
 *	container node, as the vfio_nodes parameter asks
 *
 * With vfio_nodes=compat the container node is the misc minor of VFIO
 * (/dev/vfio/vfio): while the vfio module (or iommufd's VFIO container)
 * holds it, the load fails with -EBUSY and says so.
 *
 * Return: 0, -EINVAL for an unknown vfio_nodes value, or the errno of a
 * registration.
 */
int pcipass_vfio_init(void)
{
	umode_t mode;
	int ret;

	if (!strcmp(vfio_nodes, "off")) {
		pcipass_vfio_mode = PCIPASS_VFIO_OFF;
		return 0;
	} else if (!strcmp(vfio_nodes, "private")) {
		pcipass_vfio_mode = PCIPASS_VFIO_PRIVATE;
		pcipass_vfio_miscdev.minor = MISC_DYNAMIC_MINOR;
		pcipass_vfio_miscdev.name = "pcipass-vfio";
		pcipass_vfio_miscdev.nodename = "pcipass-vfio/vfio";
	} else if (!strcmp(vfio_nodes, "compat")) {
		pcipass_vfio_mode = PCIPASS_VFIO_COMPAT;
		pcipass_vfio_miscdev.minor = VFIO_MINOR;
		pcipass_vfio_miscdev.name = "vfio";
		pcipass_vfio_miscdev.nodename = "vfio/vfio";
	} else {
		pr_err("vfio_nodes=%s: expected private, compat or off\n",
		       vfio_nodes);
		return -EINVAL;
	}
	pcipass_vfio_node_perms(&mode, NULL, NULL);
	pcipass_vfio_miscdev.mode = mode;

	ret = class_register(&pcipass_vfio_class);
	if (ret)
		return ret;
	ret = alloc_chrdev_region(&pcipass_vfio_devt, 0,
				  PCIPASS_VFIO_MAX_GROUPS, "pcipass-vfio");
	if (ret)
		goto err_class;
	ret = misc_register(&pcipass_vfio_miscdev);
	if (ret) {
		if (pcipass_vfio_mode == PCIPASS_VFIO_COMPAT && ret == -EBUSY)
			pr_err("vfio_nodes=compat: /dev/vfio/vfio (misc minor %d) is taken, most likely by the vfio module: unload vfio, or load pcipass with vfio_nodes=private\n",
			       VFIO_MINOR);
		goto err_region;
	}
	pr_info("VFIO-compatible nodes in /dev/%s\n", pcipass_vfio_dir());
	return 0;

err_region:
	unregister_chrdev_region(pcipass_vfio_devt, PCIPASS_VFIO_MAX_GROUPS);
err_class:
	class_unregister(&pcipass_vfio_class);
	return ret;
}

/**
 * pcipass_vfio_exit() - unregister what pcipass_vfio_init() registered
 *
 * Called once the PCI driver is unregistered: every group node is gone.
 */
void pcipass_vfio_exit(void)
{
	if (pcipass_vfio_mode == PCIPASS_VFIO_OFF)
		return;
	misc_deregister(&pcipass_vfio_miscdev);
	unregister_chrdev_region(pcipass_vfio_devt, PCIPASS_VFIO_MAX_GROUPS);
	class_unregister(&pcipass_vfio_class);
	ida_destroy(&pcipass_vfio_minors);
}

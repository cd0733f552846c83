// SPDX-License-Identifier: GPL-2.0
/*
 * The IOMMU side of pcipass: what the host's IOMMUs offer, the context's
 * paging domain and the groups attached to it, and the pinning, charging
 * and mapping of user memory into that domain (PCIPASS_DMA_MAP,
 * PCIPASS_DMA_UNMAP, PCIPASS_IOVA_RANGES).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/pcipass.h>
#include <linux/sched/mm.h>
#include <linux/sizes.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "pcipass.h"

/**
 * pcipass_host_iommu_caps() - what the host's IOMMUs offer PCI devices
 *
 * %PCIPASS_HOST_IOMMU when at least one PCI device is translated by an
 * IOMMU, and %PCIPASS_HOST_ISOLATED_MSI when in addition the group of every
 * such device isolates MSI writes.
 *
 * Return: a mask of &enum pcipass_host_caps.
 */
u64 pcipass_host_iommu_caps(void)
{
	struct pci_dev *pdev = NULL;
	bool any_iommu = false;
	bool all_isolated = true;

	for_each_pci_dev(pdev) {
		struct iommu_group *group = iommu_group_get(&pdev->dev);

		if (!group)
			continue;
		any_iommu = true;
		if (!iommu_group_has_isolated_msi(group))
			all_isolated = false;
		iommu_group_put(group);
	}

	if (!any_iommu)
		return 0;
	return PCIPASS_HOST_IOMMU |
	       (all_isolated ? PCIPASS_HOST_ISOLATED_MSI : 0);
}

static void pcipass_resv_regions_free(struct list_head *regions)
{
	struct iommu_resv_region *region, *tmp;

	list_for_each_entry_safe(region, tmp, regions, list) {
		list_del(&region->list);
		kfree(region);
	}
}

/* Regions a mapping must stay out of: all but the relaxable direct ones. */
static bool pcipass_resv_region_blocks(const struct iommu_resv_region *region)
{
	return region->type != IOMMU_RESV_DIRECT_RELAXABLE && region->length;
}

static bool pcipass_range_hits_resv(struct list_head *regions, u64 start,
				    u64 last)
{
	struct iommu_resv_region *region;

	list_for_each_entry(region, regions, list) {
		u64 rlast = region->start + region->length - 1;

		if (pcipass_resv_region_blocks(region) &&
		    region->start <= last && start <= rlast)
			return true;
	}
	return false;
}

/* Is [@start, @last] inside the aperture and clear of reserved regions? */
static bool pcipass_iova_range_usable(struct pcipass_ctx *ctx, u64 start,
				      u64 last)
{
	struct pcipass_group *pgroup;

	lockdep_assert_held(&ctx->lock);
	if (start < ctx->aperture_start || last > ctx->aperture_last)
		return false;
	list_for_each_entry(pgroup, &ctx->groups, node)
		if (pcipass_range_hits_resv(&pgroup->resv_regions, start, last))
			return false;
	return true;
}

/* Would the reserved regions of a new group cut an existing mapping? */
static bool pcipass_resv_hits_mappings(struct pcipass_ctx *ctx,
				       struct list_head *regions)
{
	struct iommu_resv_region *region;

	list_for_each_entry(region, regions, list) {
		u64 rlast = region->start + region->length - 1;

		if (pcipass_resv_region_blocks(region) &&
		    pcipass_mapping_first(&ctx->mappings, region->start, rlast))
			return true;
	}
	return false;
}

static int pcipass_domain_alloc(struct pcipass_ctx *ctx, struct pci_dev *pdev)
{
	struct iommu_domain *domain;

	domain = iommu_paging_domain_alloc(&pdev->dev);
	if (IS_ERR(domain))
		return PTR_ERR(domain);
	ctx->domain = domain;
	return 0;
}

static void pcipass_domain_free(struct pcipass_ctx *ctx)
{
	iommu_domain_free(ctx->domain);
	ctx->domain = NULL;
}

/**
 * pcipass_domain_attach_group() - attach a device's IOMMU group to the
 *	context's domain
 * @ctx: the context, locked
 * @pdev: a device whose DMA ownership the context has claimed
 * @out: set to the context's entry for the group
 *
 * The first device of a group attaches the group (allocating the domain
 * for the first group); further devices of the same group take a
 * reference on the entry.
 *
 * Return: 0, or an errno of the IOMMU core; -EEXIST when a reserved region
 * of the group overlaps an existing mapping.
 */
int pcipass_domain_attach_group(struct pcipass_ctx *ctx, struct pci_dev *pdev,
				struct pcipass_group **out)
{
	struct iommu_group *group = pdev->dev.iommu_group;
	struct pcipass_group *pgroup;
	bool new_domain = false;
	int ret;

	lockdep_assert_held(&ctx->lock);

	list_for_each_entry(pgroup, &ctx->groups, node) {
		if (pgroup->group == group) {
			pgroup->users++;
			*out = pgroup;
			return 0;
		}
	}

	pgroup = kzalloc(sizeof(*pgroup), GFP_KERNEL_ACCOUNT);
	if (!pgroup)
		return -ENOMEM;
	INIT_LIST_HEAD(&pgroup->resv_regions);
	pgroup->group = iommu_group_ref_get(group);
	pgroup->users = 1;

	ret = iommu_get_group_resv_regions(group, &pgroup->resv_regions);
	if (ret)
		goto err_free_regions;
	if (pcipass_resv_hits_mappings(ctx, &pgroup->resv_regions)) {
		pci_warn(pdev, "a reserved IOVA region of this device overlaps a mapping of the context\n");
		ret = -EEXIST;
		goto err_free_regions;
	}

	if (!ctx->domain) {
		ret = pcipass_domain_alloc(ctx, pdev);
		if (ret)
			goto err_free_regions;
		new_domain = true;
	}

	ret = iommu_attach_group(ctx->domain, group);
	if (ret)
		goto err_free_domain;

	/* The geometry is final once a group is attached. */
	if (new_domain) {
		ctx->aperture_start = ctx->domain->geometry.aperture_start;
		ctx->aperture_last = ctx->domain->geometry.aperture_end;
	}
	list_add_tail(&pgroup->node, &ctx->groups);
	*out = pgroup;
	return 0;

err_free_domain:
	if (new_domain)
		pcipass_domain_free(ctx);
err_free_regions:
	pcipass_resv_regions_free(&pgroup->resv_regions);
	iommu_group_put(pgroup->group);
	kfree(pgroup);
	return ret;
}

/**
 * pcipass_domain_detach_group() - drop a device's use of its group entry
 * @ctx: the context, locked
 * @pgroup: the entry of the device's group
 *
 * The last device of the group detaches the group from the domain. The
 * domain itself lives until the context is closed, with its mappings.
 */
void pcipass_domain_detach_group(struct pcipass_ctx *ctx,
				 struct pcipass_group *pgroup)
{
	lockdep_assert_held(&ctx->lock);

	if (--pgroup->users)
		return;
	iommu_detach_group(ctx->domain, pgroup->group);
	list_del(&pgroup->node);
	pcipass_resv_regions_free(&pgroup->resv_regions);
	iommu_group_put(pgroup->group);
	kfree(pgroup);
}

static int pcipass_dma_check_mode(struct pcipass_ctx *ctx)
{
	lockdep_assert_held(&ctx->lock);

	switch (ctx->mode) {
	case PCIPASS_CTX_MODE_IOMMU:
		return 0;
	case PCIPASS_CTX_MODE_NOIOMMU:
		return -EPERM;
	default:
		return -ENXIO;
	}
}

static int pcipass_pin_pages(struct pcipass_mapping *map, u64 user_va)
{
	unsigned int gup_flags = FOLL_LONGTERM;
	unsigned long done = 0;
	long ret;

	if (map->writable)
		gup_flags |= FOLL_WRITE;
	while (done < map->npages) {
		int nr = min_t(unsigned long, map->npages - done, SZ_1M);

		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto err_unpin;
		}
		ret = pin_user_pages_fast(user_va + done * PAGE_SIZE, nr,
					  gup_flags, map->pages + done);
		if (ret <= 0) {
			ret = ret ? ret : -EFAULT;
			goto err_unpin;
		}
		done += ret;
		cond_resched();
	}
	return 0;

err_unpin:
	unpin_user_pages(map->pages, done);
	return ret;
}

/* Map the pinned pages, one iommu_map() per physically contiguous run. */
static int pcipass_iommu_map_pages(struct iommu_domain *domain,
				   struct pcipass_mapping *map, int prot)
{
	unsigned long i = 0, run;
	size_t mapped = 0;
	int ret;

	while (i < map->npages) {
		phys_addr_t phys = page_to_phys(map->pages[i]);

		for (run = 1; i + run < map->npages; run++)
			if (page_to_phys(map->pages[i + run]) !=
			    phys + run * PAGE_SIZE)
				break;

		ret = iommu_map(domain, map->iova_start + i * PAGE_SIZE, phys,
				run * PAGE_SIZE, prot, GFP_KERNEL_ACCOUNT);
		if (ret)
			goto err_unmap;
		mapped += run * PAGE_SIZE;
		i += run;
		cond_resched();
	}
	return 0;

err_unmap:
	if (mapped)
		iommu_unmap(domain, map->iova_start, mapped);
	return ret;
}

/*
 * Pinned pages are charged to the context's owner, whoever maps them: a
 * short-lived child mapping into an inherited context must not take the
 * charge away with it when it exits. The caller's RLIMIT_MEMLOCK and
 * CAP_IPC_LOCK decide.
 */
static int pcipass_charge(struct pcipass_ctx *ctx, unsigned long npages)
{
	int ret;

	/* The owner is gone: nobody is left to charge. */
	if (!mmget_not_zero(ctx->mm))
		return -ESRCH;
	mmap_write_lock(ctx->mm);
	ret = __account_locked_vm(ctx->mm, npages, true, current,
				  capable(CAP_IPC_LOCK));
	mmap_write_unlock(ctx->mm);
	mmput(ctx->mm);
	return ret ? -ENOSPC : 0;
}

static void pcipass_uncharge(struct pcipass_ctx *ctx, unsigned long npages)
{
	/* An owner that is exiting has no locked_vm to give back. */
	if (mmget_not_zero(ctx->mm)) {
		account_locked_vm(ctx->mm, npages, false);
		mmput(ctx->mm);
	}
}

static void pcipass_mapping_release(struct pcipass_ctx *ctx,
				    struct pcipass_mapping *map)
{
	unpin_user_pages_dirty_lock(map->pages, map->npages, map->writable);
	pcipass_uncharge(ctx, map->npages);
	ctx->pinned_pages -= map->npages;
	kvfree(map->pages);
	kfree(map);
}

/**
 * pcipass_dma_map_cmd() - pin, charge and map user memory
 * @ctx: the context, unlocked
 * @cmd: a kernel copy of the request, flags already checked against
 *	&enum pcipass_dma_map_flags
 *
 * The core of PCIPASS_DMA_MAP, shared with the VFIO compatibility layer.
 *
 * Return: 0 or an errno documented with &struct pcipass_dma_map.
 */
int pcipass_dma_map_cmd(struct pcipass_ctx *ctx,
			const struct pcipass_dma_map *cmd)
{
	struct pcipass_mapping *map;
	u64 iova_last, va_last;
	int prot = 0;
	int ret;

	if (!(cmd->flags & (PCIPASS_DMA_MAP_READ | PCIPASS_DMA_MAP_WRITE)))
		return -EINVAL;
	ret = pcipass_iova_check_range(cmd->iova, cmd->length, &iova_last);
	if (ret)
		return ret;
	ret = pcipass_iova_check_range(cmd->user_va, cmd->length, &va_last);
	if (ret)
		return ret;
	if (va_last > TASK_SIZE_MAX)
		return -EFAULT;
	if (cmd->flags & PCIPASS_DMA_MAP_READ)
		prot |= IOMMU_READ;
	if (cmd->flags & PCIPASS_DMA_MAP_WRITE)
		prot |= IOMMU_WRITE;

	guard(mutex)(&ctx->lock);

	ret = pcipass_dma_check_mode(ctx);
	if (ret)
		return ret;
	if (!pcipass_iova_range_usable(ctx, cmd->iova, iova_last))
		return -ERANGE;
	if (pcipass_mapping_first(&ctx->mappings, cmd->iova, iova_last))
		return -EEXIST;

	map = kzalloc(sizeof(*map), GFP_KERNEL_ACCOUNT);
	if (!map)
		return -ENOMEM;
	map->iova_start = cmd->iova;
	map->iova_last = iova_last;
	map->npages = cmd->length >> PAGE_SHIFT;
	map->writable = cmd->flags & PCIPASS_DMA_MAP_WRITE;
	map->pages = kvmalloc_array(map->npages, sizeof(*map->pages),
				    GFP_KERNEL_ACCOUNT);
	if (!map->pages) {
		ret = -ENOMEM;
		goto err_free_map;
	}

	ret = pcipass_charge(ctx, map->npages);
	if (ret)
		goto err_free_pages;

	ret = pcipass_pin_pages(map, cmd->user_va);
	if (ret)
		goto err_uncharge;

	ret = pcipass_iommu_map_pages(ctx->domain, map, prot);
	if (ret)
		goto err_unpin;

	pcipass_mapping_insert(&ctx->mappings, map);
	ctx->num_mappings++;
	ctx->pinned_pages += map->npages;
	return 0;

err_unpin:
	unpin_user_pages(map->pages, map->npages);
err_uncharge:
	pcipass_uncharge(ctx, map->npages);
err_free_pages:
	kvfree(map->pages);
err_free_map:
	kfree(map);
	return ret;
}

/**
 * pcipass_dma_map() - PCIPASS_DMA_MAP: pin, charge and map user memory
 * @ucmd: the ioctl call, a &struct pcipass_dma_map
 *
 * Return: 0 or an errno documented with &struct pcipass_dma_map.
 */
int pcipass_dma_map(struct pcipass_ucmd *ucmd)
{
	return pcipass_dma_map_cmd(ucmd->ctx, ucmd->cmd);
}

/*
 * Unmap every mapping of @ctx inside [@start, @last] with one IOTLB flush,
 * then unpin. The caller checked that no mapping straddles the range.
 * Returns the bytes unmapped.
 */
static u64 pcipass_unmap_range(struct pcipass_ctx *ctx, u64 start, u64 last)
{
	struct iommu_iotlb_gather gather;
	struct pcipass_mapping *map, *next;
	LIST_HEAD(doomed);
	u64 bytes = 0;

	lockdep_assert_held(&ctx->lock);

	iommu_iotlb_gather_init(&gather);
	for (map = pcipass_mapping_first(&ctx->mappings, start, last); map;
	     map = next) {
		size_t size = map->iova_last - map->iova_start + 1;

		next = pcipass_mapping_next(map, start, last);
		iommu_unmap_fast(ctx->domain, map->iova_start, size, &gather);
		pcipass_mapping_remove(&ctx->mappings, map);
		ctx->num_mappings--;
		/* The pages stay pinned until the IOTLB no longer has them. */
		list_add_tail(&map->unmap_node, &doomed);
		bytes += size;
	}
	iommu_iotlb_sync(ctx->domain, &gather);

	list_for_each_entry_safe(map, next, &doomed, unmap_node) {
		pcipass_mapping_release(ctx, map);
		cond_resched();
	}
	return bytes;
}

/**
 * pcipass_dma_unmap_cmd() - unmap, unpin and uncharge
 * @ctx: the context, unlocked
 * @cmd: a kernel copy of the request; on success @cmd->length is set to
 *	the bytes unmapped
 *
 * The core of PCIPASS_DMA_UNMAP, shared with the VFIO compatibility layer.
 *
 * Return: 0 or an errno documented with &struct pcipass_dma_unmap (never
 * EFAULT: nothing is copied to user space).
 */
int pcipass_dma_unmap_cmd(struct pcipass_ctx *ctx,
			  struct pcipass_dma_unmap *cmd)
{
	struct pcipass_mapping *map;
	u64 start, last;
	int ret;

	if (cmd->flags & PCIPASS_DMA_UNMAP_ALL) {
		if (cmd->iova || cmd->length)
			return -EINVAL;
		start = 0;
		last = U64_MAX;
	} else {
		ret = pcipass_iova_check_range(cmd->iova, cmd->length, &last);
		if (ret)
			return ret;
		start = cmd->iova;
	}

	mutex_lock(&ctx->lock);
	ret = pcipass_dma_check_mode(ctx);
	if (ret)
		goto out_unlock;

	map = pcipass_mapping_first(&ctx->mappings, start, last);
	if (!map) {
		ret = -ENOENT;
		goto out_unlock;
	}
	for (; map; map = pcipass_mapping_next(map, start, last)) {
		if (map->iova_start < start || map->iova_last > last) {
			ret = -EINVAL;
			goto out_unlock;
		}
	}

	cmd->length = pcipass_unmap_range(ctx, start, last);
out_unlock:
	mutex_unlock(&ctx->lock);
	return ret;
}

/**
 * pcipass_dma_unmap() - PCIPASS_DMA_UNMAP: unmap, unpin and uncharge
 * @ucmd: the ioctl call, a &struct pcipass_dma_unmap
 *
 * Return: 0 or an errno documented with &struct pcipass_dma_unmap.
 */
int pcipass_dma_unmap(struct pcipass_ucmd *ucmd)
{
	int ret = pcipass_dma_unmap_cmd(ucmd->ctx, ucmd->cmd);

	return ret ? ret : pcipass_ucmd_respond(ucmd);
}

/**
 * pcipass_dma_release() - free the domain of a context being closed
 * @ctx: the context, locked, with no device attached
 */
void pcipass_dma_release(struct pcipass_ctx *ctx)
{
	lockdep_assert_held(&ctx->lock);
	if (!ctx->domain)
		return;
	pcipass_unmap_range(ctx, 0, U64_MAX);
	pcipass_domain_free(ctx);
}

/*
 * The blocking reserved regions of every attached group, as an array to
 * free with kfree(). An empty answer is a valid zero-size allocation.
 */
static struct pcipass_iova_span *pcipass_collect_resv(struct pcipass_ctx *ctx,
						      unsigned int *nresv)
{
	struct pcipass_iova_span *resv;
	struct iommu_resv_region *region;
	struct pcipass_group *pgroup;
	unsigned int n = 0;

	list_for_each_entry(pgroup, &ctx->groups, node)
		list_for_each_entry(region, &pgroup->resv_regions, list)
			n++;
	resv = kcalloc(max(n, 1U), sizeof(*resv), GFP_KERNEL);
	if (!resv)
		return ERR_PTR(-ENOMEM);

	n = 0;
	list_for_each_entry(pgroup, &ctx->groups, node) {
		list_for_each_entry(region, &pgroup->resv_regions, list) {
			if (!pcipass_resv_region_blocks(region))
				continue;
			resv[n].start = region->start;
			resv[n].last = region->start + region->length - 1;
			n++;
		}
	}
	*nresv = n;
	return resv;
}

/**
 * pcipass_iova_usable_ranges() - where mappings may go, as a kernel array
 * @ctx: the context, unlocked
 * @out: set to the usable ranges in increasing order, an array to free
 *	with kfree()
 *
 * The aperture of the domain minus the blocking reserved regions of every
 * attached group: the answer of PCIPASS_IOVA_RANGES, shared with the VFIO
 * compatibility layer. Nothing is copied to user space.
 *
 * Return: the number of ranges, or -ENXIO (no domain yet), -EPERM (no
 * IOMMU) or -ENOMEM.
 */
int pcipass_iova_usable_ranges(struct pcipass_ctx *ctx,
			       struct pcipass_iova_span **out)
{
	struct pcipass_iova_span *resv, *usable;
	unsigned int nresv, count;
	int ret;

	guard(mutex)(&ctx->lock);
	ret = pcipass_dma_check_mode(ctx);
	if (ret)
		return ret;
	resv = pcipass_collect_resv(ctx, &nresv);
	if (IS_ERR(resv))
		return PTR_ERR(resv);
	count = pcipass_iova_usable(resv, nresv, ctx->aperture_start,
				    ctx->aperture_last, NULL, 0);
	usable = kcalloc(max(count, 1U), sizeof(*usable), GFP_KERNEL);
	if (usable)
		pcipass_iova_usable(resv, nresv, ctx->aperture_start,
				    ctx->aperture_last, usable, count);
	kfree(resv);
	if (!usable)
		return -ENOMEM;
	*out = usable;
	return count;
}

/**
 * pcipass_iova_ranges() - PCIPASS_IOVA_RANGES: where mappings may go
 * @ucmd: the ioctl call, a &struct pcipass_iova_ranges
 *
 * Return: 0 or an errno documented with &struct pcipass_iova_ranges.
 */
int pcipass_iova_ranges(struct pcipass_ucmd *ucmd)
{
	struct pcipass_iova_ranges *cmd = ucmd->cmd;
	struct pcipass_iova_range __user *out;
	struct pcipass_iova_span *usable;
	int count, i, ret;

	if (cmd->__reserved)
		return -EINVAL;

	count = pcipass_iova_usable_ranges(ucmd->ctx, &usable);
	if (count < 0)
		return count;

	if (count > cmd->num_ranges) {
		cmd->num_ranges = count;
		ret = pcipass_ucmd_respond(ucmd);
		if (!ret)
			ret = -EMSGSIZE;
		goto out_free_usable;
	}

	out = u64_to_user_ptr(cmd->ranges);
	for (i = 0; i < count; i++) {
		struct pcipass_iova_range range = {
			.start = usable[i].start,
			.last = usable[i].last,
		};

		if (copy_to_user(&out[i], &range, sizeof(range))) {
			ret = -EFAULT;
			goto out_free_usable;
		}
	}
	cmd->num_ranges = count;
	ret = pcipass_ucmd_respond(ucmd);

out_free_usable:
	kfree(usable);
	return ret;
}

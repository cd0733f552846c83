// SPDX-License-Identifier: GPL-2.0
/*
 * The IOMMU side of pcipass: what the host's IOMMUs offer, the context's
 * paging domain and the groups attached to it, and the pinning, charging
 * and mapping of user memory into that domain (PCIPASS_DMA_MAP, of memory
 * or of a memfd, pinned in parallel when large; PCIPASS_DMA_UNMAP, a chunk
 * at a time; PCIPASS_IOVA_RANGES).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/iommu.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/pcipass.h>
#include <linux/cred.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hugetlb.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/shmem_fs.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

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
	ctx->aperture_start = 0;
	ctx->aperture_last = 0;
	ctx->coherent = false;
}

/*
 * Make the new domain force snooping (the IOMMU ignores the No Snoop
 * attribute of the device's requests), as iommufd does, where the device's
 * IOMMU can. Must be done before anything is mapped.
 */
static bool pcipass_domain_enforce_coherency(struct pcipass_ctx *ctx,
					     struct pci_dev *pdev)
{
	struct iommu_domain *domain = ctx->domain;

	if (!device_iommu_capable(&pdev->dev,
				  IOMMU_CAP_ENFORCE_CACHE_COHERENCY) ||
	    !domain->ops->enforce_cache_coherency)
		return false;
	return domain->ops->enforce_cache_coherency(domain);
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
		dev_warn_ratelimited(&pdev->dev, "a reserved IOVA region of this device overlaps a mapping of the context\n");
		ret = -EEXIST;
		goto err_free_regions;
	}

	/* Every mapping is IOMMU_CACHE: the IOMMU must be able to do it. */
	if (!device_iommu_capable(&pdev->dev, IOMMU_CAP_CACHE_COHERENCY)) {
		dev_warn_ratelimited(&pdev->dev, "not attached: its IOMMU cannot map memory cache coherent (IOMMU_CAP_CACHE_COHERENCY)\n");
		ret = -EINVAL;
		goto err_free_regions;
	}

	if (!ctx->domain) {
		ret = pcipass_domain_alloc(ctx, pdev);
		if (ret)
			goto err_free_regions;
		new_domain = true;
		/* Decided before the first mapping, for the whole context. */
		ctx->coherent = pcipass_domain_enforce_coherency(ctx, pdev);
	} else if (ctx->coherent &&
		   !device_iommu_capable(&pdev->dev,
					 IOMMU_CAP_ENFORCE_CACHE_COHERENCY)) {
		dev_warn_ratelimited(&pdev->dev, "not attached: the context's IOMMU domain enforces cache coherency and this device's IOMMU cannot\n");
		ret = -EINVAL;
		goto err_free_regions;
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
 * domain itself lives until the context is closed, with its mappings,
 * unless no attach ever completed (the context's mode is still unset): an
 * attach that failed after allocating the domain leaves no domain, so the
 * next attach starts afresh (new geometry, new coherency decision).
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

	/* No mapping can exist before the first attach completed. */
	if (ctx->mode == PCIPASS_CTX_MODE_UNSET && list_empty(&ctx->groups))
		pcipass_domain_free(ctx);
}

static int pcipass_dma_check_mode(struct pcipass_ctx *ctx)
{
	lockdep_assert_held(&ctx->lock);

	/* pcipass_dma_release() is unmapping everything. */
	if (ctx->dma_closing)
		return -ENXIO;
	switch (ctx->mode) {
	case PCIPASS_CTX_MODE_IOMMU:
		return 0;
	case PCIPASS_CTX_MODE_NOIOMMU:
		return -EPERM;
	default:
		return -ENXIO;
	}
}

/*
 * Accounting. Pinned pages are charged to the locked_vm of the user (the
 * struct user_struct of the real UID) of the process that maps them, as
 * iommufd does, within that process's RLIMIT_MEMLOCK; CAP_IPC_LOCK lifts
 * the limit but the pages are still counted. Each mapping holds a
 * reference on the user it charged and gives the charge back when its
 * pages are unpinned, whoever unmaps or closes: the charge lives exactly
 * as long as the pins, whatever becomes of the processes.
 */
static int pcipass_charge(struct user_struct *user, unsigned long npages)
{
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	bool unlimited = capable(CAP_IPC_LOCK);
	unsigned long cur, new;

	cur = atomic_long_read(&user->locked_vm);
	do {
		new = cur + npages;
		if (new < cur || (!unlimited && new > limit))
			return -ENOSPC;
	} while (!atomic_long_try_cmpxchg(&user->locked_vm, &cur, new));
	return 0;
}

static void pcipass_uncharge(struct user_struct *user, unsigned long npages)
{
	atomic_long_sub(npages, &user->locked_vm);
}

/* Pages pinned (not mapped yet) or mapped, physically contiguous. */
struct pcipass_run {
	u64 iova;
	phys_addr_t phys;
	unsigned long npages;
};

/* The pages pinned at a time by DMA_MAP: one page of pointers. */
#define PCIPASS_PIN_BATCH	(PAGE_SIZE / sizeof(struct page *))

/* Runs unmapped with one IOTLB flush, then unpinned. */
#define PCIPASS_UNMAP_BATCH	(PAGE_SIZE / sizeof(struct pcipass_run))

/*
 * Pages after which an unmap chunk takes no further run: the context lock
 * is dropped between chunks, so that removals, other ioctls of the context
 * and debugfs readers wait for one chunk at most, never for a whole large
 * unmap. A run is never cut (that could cut a large IOMMU page).
 */
#define PCIPASS_UNMAP_CHUNK	(SZ_16M >> PAGE_SHIFT)

/*
 * The IOVA blocks a mapping records: a block mapped from one physically
 * contiguous run (one iommu_map() call) is unmapped with one look-up of
 * its address instead of one per page.
 */
#define PCIPASS_BLOCK_SHIFT	21
#define PCIPASS_BLOCK_SIZE	BIT_ULL(PCIPASS_BLOCK_SHIFT)
#define PCIPASS_BLOCK_PAGES	(PCIPASS_BLOCK_SIZE >> PAGE_SHIFT)

static unsigned long pcipass_block_index(const struct pcipass_mapping *map,
					 u64 iova)
{
	return (iova >> PCIPASS_BLOCK_SHIFT) -
	       (map->iova_start >> PCIPASS_BLOCK_SHIFT);
}

/* Bits for the blocks of [@iova_start, @iova_last]: NULL when too small. */
static unsigned long *pcipass_contig_alloc(u64 iova_start, u64 iova_last,
					   unsigned long npages)
{
	unsigned long nblocks;

	if (npages < PCIPASS_BLOCK_PAGES)
		return NULL;
	nblocks = (iova_last >> PCIPASS_BLOCK_SHIFT) -
		  (iova_start >> PCIPASS_BLOCK_SHIFT) + 1;
	/* Without it unmapping looks every page up: slower, still right. */
	return kvcalloc(BITS_TO_LONGS(nblocks), sizeof(unsigned long),
			GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
}

/* Record the blocks that the run @run, just mapped, covers whole. */
static void pcipass_contig_mark(struct pcipass_mapping *map,
				const struct pcipass_run *run)
{
	u64 first = ALIGN(run->iova, PCIPASS_BLOCK_SIZE);
	u64 end = ALIGN_DOWN(run->iova + ((u64)run->npages << PAGE_SHIFT),
			     PCIPASS_BLOCK_SIZE);

	if (!map->contig || first >= end)
		return;
	bitmap_set(map->contig, pcipass_block_index(map, first),
		   (end - first) >> PCIPASS_BLOCK_SHIFT);
}

/* Is the block that starts at @iova mapped from one contiguous run? */
static bool pcipass_contig_block(const struct pcipass_mapping *map, u64 iova)
{
	return map->contig && IS_ALIGNED(iova, PCIPASS_BLOCK_SIZE) &&
	       test_bit(pcipass_block_index(map, iova), map->contig);
}

/*
 * Unpin the pages of @run, pinned for @map and unmapped (or never mapped).
 * An address map holds one pin per page (pin_user_pages_fast()); a file
 * map one per folio (memfd_pin_folios()), given back at the folio's first
 * page in the mapping: the folio's own first page, or the mapping's.
 */
static void pcipass_run_unpin(const struct pcipass_mapping *map,
			      const struct pcipass_run *run, bool dirty)
{
	struct page *first = pfn_to_page(PHYS_PFN(run->phys));
	unsigned long i = 0;

	if (!map->file) {
		unpin_user_page_range_dirty_lock(first, run->npages, dirty);
		return;
	}
	while (i < run->npages) {
		struct page *page = nth_page(first, i);
		struct folio *folio = page_folio(page);
		unsigned long idx = folio_page_idx(folio, page);

		if (!idx || run->iova + ((u64)i << PAGE_SHIFT) == map->iova_start)
			unpin_user_page_range_dirty_lock(page, 1, dirty);
		i += folio_nr_pages(folio) - idx;
	}
}

/* An unmap of a busy mapping in progress, from its first page on. */
struct pcipass_unmap_iter {
	struct iommu_domain *domain;
	const struct pcipass_mapping *map;
	/* The next page to unmap, and how many are left. */
	u64 iova;
	unsigned long left;
	/* The physical address of @iova, when already looked up. */
	phys_addr_t phys;
	bool phys_known;
};

/*
 * Context lock held: the physically contiguous run of mapped pages at
 * it->iova, at most it->left long. Runs end where a DMA_MAP mapped one run
 * with one iommu_map(), so unmapping a run never cuts a large IOMMU page.
 * The pages are found through the IOMMU's own translation, one look-up
 * per page, or per 2 MiB block that was mapped from one contiguous run.
 */
static void pcipass_run_find(struct pcipass_unmap_iter *it,
			     struct pcipass_run *run)
{
	run->iova = it->iova;
	run->phys = it->phys_known ? it->phys :
		    iommu_iova_to_phys(it->domain, it->iova);
	it->phys_known = false;
	run->npages = 0;
	while (run->npages < it->left) {
		u64 cur = run->iova + ((u64)run->npages << PAGE_SHIFT);
		unsigned long step = 1;

		if (it->left - run->npages >= PCIPASS_BLOCK_PAGES &&
		    pcipass_contig_block(it->map, cur))
			step = PCIPASS_BLOCK_PAGES;
		if (run->npages) {
			phys_addr_t phys = iommu_iova_to_phys(it->domain, cur);

			if (phys != run->phys +
				    ((u64)run->npages << PAGE_SHIFT)) {
				it->phys = phys;
				it->phys_known = true;
				break;
			}
		}
		run->npages += step;
		/* A large run of small pages: long walks. */
		if (!(run->npages % PCIPASS_PIN_BATCH))
			cond_resched();
	}
	it->iova += (u64)run->npages << PAGE_SHIFT;
	it->left -= run->npages;
}

/*
 * Context lock held: unmap one chunk of runs of the busy mapping under
 * @it, flushing the IOTLB once. Returns the runs in @runs, for the caller
 * to unpin, and their count (0 when the IOMMU did not unmap them all).
 * The runs follow each other in IOVA and end where a map's runs ended, so
 * the chunk is unmapped with one call, which cuts no large IOMMU page:
 * memory of scattered 4 KiB pages, a run per page, costs one walk of the
 * IOMMU page table, not one per page.
 */
static unsigned int pcipass_unmap_chunk(struct pcipass_unmap_iter *it,
					struct pcipass_run *runs,
					unsigned int batch,
					unsigned long *npages)
{
	struct iommu_iotlb_gather gather;
	u64 start = it->iova;
	size_t size, unmapped;
	unsigned int n;

	*npages = 0;
	for (n = 0; n < batch && it->left && *npages < PCIPASS_UNMAP_CHUNK;
	     n++) {
		pcipass_run_find(it, &runs[n]);
		*npages += runs[n].npages;
	}
	size = (size_t)*npages << PAGE_SHIFT;
	iommu_iotlb_gather_init(&gather);
	unmapped = iommu_unmap_fast(it->domain, start, size, &gather);
	iommu_iotlb_sync(it->domain, &gather);
	/*
	 * Not all of it unmapped (an IOMMU driver bug): the device may still
	 * reach some of these pages, so none goes back to the allocator.
	 * They stay pinned for good, a leak rather than a way into the host.
	 */
	if (WARN_ON_ONCE(unmapped != size))
		return 0;
	return n;
}

/*
 * Unmap @npages pages of @map from @iova on, then unpin them, a chunk at a
 * time: each chunk is unmapped under the context lock, which is dropped
 * between chunks; only once the chunk's IOTLB flush is done are its pages
 * unpinned, without the lock. @map is busy: nobody else touches it, and the
 * domain stays while it is (pcipass_dma_release() waits). With @counted,
 * the pages leave ctx->pinned_pages as they go. Never fails: without
 * memory for a batch of runs, each run is its own batch.
 */
static void pcipass_mapping_unmap(struct pcipass_ctx *ctx,
				  struct pcipass_mapping *map, u64 iova,
				  unsigned long npages, bool counted)
{
	struct pcipass_unmap_iter it = {
		.map = map, .iova = iova, .left = npages,
	};
	struct pcipass_run one, *runs;
	unsigned int batch, n, i;
	unsigned long done;

	lockdep_assert_not_held(&ctx->lock);
	runs = kmalloc_array(PCIPASS_UNMAP_BATCH, sizeof(*runs), GFP_KERNEL);
	batch = runs ? PCIPASS_UNMAP_BATCH : 1;
	if (!runs)
		runs = &one;

	while (it.left) {
		mutex_lock(&ctx->lock);
		it.domain = ctx->domain;
		n = pcipass_unmap_chunk(&it, runs, batch, &done);
		if (counted)
			ctx->pinned_pages -= done;
		mutex_unlock(&ctx->lock);
		/* The IOTLB no longer has them: the pages may go. */
		for (i = 0; i < n; i++)
			pcipass_run_unpin(map, &runs[i], map->writable);
		cond_resched();
	}
	if (runs != &one)
		kfree(runs);
}

/* Context lock held: a busy mapping is no longer busy, or gone. */
static void pcipass_mapping_unbusy(struct pcipass_ctx *ctx,
				   struct pcipass_mapping *map)
{
	lockdep_assert_held(&ctx->lock);
	map->busy = false;
	if (!--ctx->dma_busy)
		wake_up_all(&ctx->dma_idle);
}

/* Give back the charge and the pinned_vm count of a mapping. */
static void pcipass_mapping_unaccount(struct pcipass_mapping *map)
{
	pcipass_uncharge(map->user, map->npages);
	atomic64_sub(map->npages, &map->mm->pinned_vm);
	mmdrop(map->mm);
}

/* Let go of the file of a file map: its writable count, its reference. */
static void pcipass_mapping_put_file(struct pcipass_mapping *map)
{
	if (!map->file)
		return;
	if (map->writable)
		mapping_unmap_writable(map->file->f_mapping);
	fput(map->file);
}

/* Free a mapping whose pages are unmapped and unpinned. */
static void pcipass_mapping_free(struct pcipass_mapping *map)
{
	pcipass_mapping_unaccount(map);
	pcipass_mapping_put_file(map);
	free_uid(map->user);
	kvfree(map->contig);
	kfree(map);
}

/* State of a DMA_MAP in progress, or of one segment of a parallel one. */
struct pcipass_map_state {
	struct pcipass_ctx *ctx;
	struct pcipass_mapping *map;
	int prot;
	/* The first IOVA: map->iova_start, or the segment's. */
	u64 base;
	/* Pages mapped so far, from @base. */
	unsigned long mapped;
	/* Pinned pages not mapped yet, contiguous in IOVA and RAM. */
	struct pcipass_run pending;
};

/* Context lock held: map the pending run. */
static int pcipass_map_pending(struct pcipass_map_state *st)
{
	struct pcipass_run *run = &st->pending;
	int ret;

	if (!run->npages)
		return 0;
	ret = iommu_map(st->ctx->domain, run->iova, run->phys,
			run->npages << PAGE_SHIFT, st->prot, GFP_KERNEL_ACCOUNT);
	if (ret)
		return ret;
	pcipass_contig_mark(st->map, run);
	st->mapped += run->npages;
	run->npages = 0;
	return 0;
}

/*
 * Context lock held: add @npages pages at @phys, just pinned, the next ones
 * of the mapping, to the pending run; when they do not continue it the
 * pending run is mapped first. Merging contiguous memory into runs gives
 * huge pages large IOMMU pages. On failure the pages are not added: the
 * caller unpins them and the pending run.
 */
static int pcipass_run_add(struct pcipass_map_state *st, phys_addr_t phys,
			   unsigned long npages)
{
	struct pcipass_run *run = &st->pending;
	int ret;

	if (run->npages &&
	    phys == run->phys + ((u64)run->npages << PAGE_SHIFT)) {
		run->npages += npages;
		return 0;
	}
	ret = pcipass_map_pending(st);
	if (ret)
		return ret;
	*run = (struct pcipass_run) {
		.iova = st->base + ((u64)st->mapped << PAGE_SHIFT),
		.phys = phys,
		.npages = npages,
	};
	return 0;
}

/* The pending run is given up: unpin it. */
static void pcipass_pending_unpin(struct pcipass_map_state *st)
{
	pcipass_run_unpin(st->map, &st->pending, false);
	st->pending.npages = 0;
}

/*
 * Context lock held: map @pages (pinned by pin_user_pages_fast()). On
 * failure the pages of @pages not yet mapped, and the pending run, are
 * unpinned. A context being closed under the map (the last VFIO group
 * leaving) ends it with -ENXIO.
 */
static int pcipass_map_batch(struct pcipass_map_state *st,
			     struct page **pages, unsigned long n)
{
	unsigned long i = 0;
	int ret = -ENXIO;

	lockdep_assert_held(&st->ctx->lock);
	if (st->ctx->dma_closing)
		goto err;
	for (; i < n; i++) {
		ret = pcipass_run_add(st, page_to_phys(pages[i]), 1);
		if (ret)
			goto err;
	}
	return 0;

err:
	unpin_user_pages(pages + i, n - i);
	pcipass_pending_unpin(st);
	return ret;
}

/*
 * Context lock held: map @folios (pinned by memfd_pin_folios(), once each,
 * the first from byte @first_off on), adding the pages used to *@done. On
 * failure, as pcipass_map_batch().
 */
static int pcipass_map_folios(struct pcipass_map_state *st,
			      struct folio **folios, long n, pgoff_t first_off,
			      unsigned long *done)
{
	long i = 0;
	int ret = -ENXIO;

	lockdep_assert_held(&st->ctx->lock);
	if (st->ctx->dma_closing)
		goto err;
	for (; i < n; i++) {
		struct folio *folio = folios[i];
		unsigned long idx = i ? 0 : first_off >> PAGE_SHIFT;
		unsigned long count = min(folio_nr_pages(folio) - idx,
					  st->map->npages - *done);

		if (!count) {
			unpin_folio(folio);
			continue;
		}
		ret = pcipass_run_add(st, PFN_PHYS(folio_pfn(folio) + idx),
				      count);
		if (ret)
			goto err;
		*done += count;
	}
	return 0;

err:
	unpin_folios(folios + i, n - i);
	pcipass_pending_unpin(st);
	return ret;
}

/* Map the last pending run, unless the context is being closed. */
static int pcipass_pin_finish(struct pcipass_map_state *st)
{
	int ret;

	mutex_lock(&st->ctx->lock);
	ret = st->ctx->dma_closing ? -ENXIO : pcipass_map_pending(st);
	mutex_unlock(&st->ctx->lock);
	if (ret)
		pcipass_pending_unpin(st);
	return ret;
}

/* Pin the mapping's pages a batch at a time, without the context lock. */
static int pcipass_pin_and_map(struct pcipass_map_state *st, u64 user_va,
			       struct page **pages)
{
	struct pcipass_mapping *map = st->map;
	unsigned int gup_flags = FOLL_LONGTERM;
	unsigned long done = 0;
	long n;
	int ret;

	if (map->writable)
		gup_flags |= FOLL_WRITE;
	while (done < map->npages) {
		unsigned long want = min_t(unsigned long, map->npages - done,
					   PCIPASS_PIN_BATCH);

		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto err;
		}
		/* May wait on the memory's owner for ever: no lock held. */
		n = pin_user_pages_fast(user_va + (done << PAGE_SHIFT), want,
					gup_flags, pages);
		if (n <= 0) {
			ret = n ? n : -EFAULT;
			goto err;
		}
		mutex_lock(&st->ctx->lock);
		ret = pcipass_map_batch(st, pages, n);
		mutex_unlock(&st->ctx->lock);
		if (ret)
			return ret;
		done += n;
		cond_resched();
	}
	return pcipass_pin_finish(st);

err:
	pcipass_pending_unpin(st);
	return ret;
}

/*
 * Pin the pages of @file from @offset on a batch of folios at a time,
 * without the context lock. Each batch starts at a folio boundary (or at
 * @offset), so each folio is pinned once for the mapping.
 */
static int pcipass_pin_file_and_map(struct pcipass_map_state *st,
				    struct file *file, u64 offset,
				    struct folio **folios)
{
	struct pcipass_mapping *map = st->map;
	loff_t end = offset + ((u64)map->npages << PAGE_SHIFT) - 1;
	unsigned long done = 0;
	pgoff_t first_off;
	long n;
	int ret;

	while (done < map->npages) {
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto err;
		}
		n = memfd_pin_folios(file, offset + ((u64)done << PAGE_SHIFT),
				     end, folios, PCIPASS_PIN_BATCH,
				     &first_off);
		if (n <= 0) {
			ret = n ? n : -EFAULT;
			goto err;
		}
		mutex_lock(&st->ctx->lock);
		ret = pcipass_map_folios(st, folios, n, first_off, &done);
		mutex_unlock(&st->ctx->lock);
		if (ret)
			return ret;
		cond_resched();
	}
	return pcipass_pin_finish(st);

err:
	pcipass_pending_unpin(st);
	return ret;
}

/*
 * Parallel pinning of a large address map: the range is cut into segments
 * at 2 MiB IOVA boundaries (so that no huge page loses its large IOMMU
 * page, and no contig block is shared), which the caller and up to
 * pin_workers - 1 workers of the unbound workqueue take one at a time. A
 * worker pins the caller's memory with pin_user_pages_remote() and
 * FOLL_NOWAIT: it never waits for the memory (a userfaultfd or FUSE page,
 * swap-in, a locked page) and so can never be stuck behind the caller's
 * own threads, which a killed caller could not resolve; whatever would
 * wait, or fails, it leaves to the caller, which pins it afterwards as a
 * single-threaded map does (killable, EFAULT and EINTR as there). The
 * caller waits for the workers before it returns, so the mm, the mapping
 * and the state outlive them. Each batch is mapped under the context
 * lock, as ever.
 */
#define PCIPASS_PIN_WORKERS_MAX		8
#define PCIPASS_PIN_SEGS_PER_WORKER	4
/* Below this a map is pinned by the caller alone. */
#define PCIPASS_PIN_PARALLEL_MIN	(SZ_64M >> PAGE_SHIFT)

static unsigned int pin_workers;
module_param(pin_workers, uint, 0644);
MODULE_PARM_DESC(pin_workers, "Threads that pin one DMA_MAP of 64 MiB or more of memory, the caller included: 0 (default) one per online CPU, at most 8; 1 pins in the caller alone");

/* How many threads pin a map of @npages pages of memory. */
static unsigned int pcipass_pin_workers(unsigned long npages)
{
	unsigned int n = READ_ONCE(pin_workers);

	if (npages < PCIPASS_PIN_PARALLEL_MIN)
		return 1;
	if (!n)
		n = num_online_cpus();
	return clamp(n, 1U, (unsigned int)PCIPASS_PIN_WORKERS_MAX);
}

struct pcipass_pin_seg {
	struct pcipass_map_state st;
	u64 user_va;
	unsigned long npages;
	/* A worker left it unfinished: the caller completes it. */
	bool deferred;
};

struct pcipass_pin_job;

struct pcipass_pin_worker {
	struct work_struct work;
	struct pcipass_pin_job *job;
};

struct pcipass_pin_job {
	struct mm_struct *mm;
	unsigned int gup_flags;
	/* The next segment to take. */
	atomic_t next;
	/* Workers still running; the last completes @done. */
	atomic_t running;
	struct completion done;
	/* The first error; set, every thread stops at its next batch. */
	atomic_t error;
	struct pcipass_pin_worker workers[PCIPASS_PIN_WORKERS_MAX - 1];
	unsigned int count;
	unsigned int nsegs;
	struct pcipass_pin_seg segs[] __counted_by(nsegs);
};

static void pcipass_pin_fail(struct pcipass_pin_job *job, int err)
{
	atomic_cmpxchg(&job->error, 0, err);
}

/*
 * Pin and map what is left of @seg, then map its last run. @remote: a
 * worker (-EAGAIN: leave the rest to the caller); else the caller.
 */
static int pcipass_pin_seg(struct pcipass_pin_job *job,
			   struct pcipass_pin_seg *seg, struct page **pages,
			   bool remote)
{
	struct pcipass_map_state *st = &seg->st;
	unsigned long done, want;
	long n;
	int ret;

	for (;;) {
		done = st->mapped + st->pending.npages;
		if (done >= seg->npages)
			break;
		if (atomic_read(&job->error))
			return -ECANCELED;
		if (!remote && fatal_signal_pending(current))
			return -EINTR;
		want = min_t(unsigned long, seg->npages - done,
			     PCIPASS_PIN_BATCH);
		if (remote) {
			mmap_read_lock(job->mm);
			n = pin_user_pages_remote(job->mm, seg->user_va +
						  ((u64)done << PAGE_SHIFT),
						  want,
						  job->gup_flags | FOLL_NOWAIT,
						  pages, NULL);
			mmap_read_unlock(job->mm);
			if (n <= 0)
				return -EAGAIN;
		} else {
			n = pin_user_pages_fast(seg->user_va +
						((u64)done << PAGE_SHIFT),
						want, job->gup_flags, pages);
			if (n <= 0)
				return n ? n : -EFAULT;
		}
		mutex_lock(&st->ctx->lock);
		ret = pcipass_map_batch(st, pages, n);
		mutex_unlock(&st->ctx->lock);
		if (ret)
			return ret;
		cond_resched();
	}
	return pcipass_pin_finish(st);
}

/* Take segments until none is left; 0 or the error that stopped it. */
static int pcipass_pin_segs(struct pcipass_pin_job *job, struct page **pages,
			    bool remote)
{
	unsigned int i;
	int ret;

	while ((i = atomic_fetch_inc(&job->next)) < job->count) {
		ret = pcipass_pin_seg(job, &job->segs[i], pages, remote);
		if (ret == -EAGAIN && remote) {
			job->segs[i].deferred = true;
			continue;
		}
		if (ret)
			return ret;
	}
	return 0;
}

static void pcipass_pin_work(struct work_struct *work)
{
	struct pcipass_pin_worker *w =
		container_of(work, struct pcipass_pin_worker, work);
	struct pcipass_pin_job *job = w->job;
	struct page **pages = (struct page **)__get_free_page(GFP_KERNEL);
	int ret;

	/* Without memory or mm it does nothing: the others take it all. */
	if (pages && mmget_not_zero(job->mm)) {
		ret = pcipass_pin_segs(job, pages, true);
		if (ret && ret != -ECANCELED)
			pcipass_pin_fail(job, ret);
		mmput(job->mm);
	}
	free_page((unsigned long)pages);
	if (atomic_dec_and_test(&job->running))
		complete(&job->done);
}

/* Cut [map->iova_start, map->iova_last] into segments of @job. */
static void pcipass_pin_cut(struct pcipass_pin_job *job,
			    const struct pcipass_map_state *st0, u64 user_va)
{
	const struct pcipass_mapping *map = st0->map;
	u64 cur = map->iova_start, end = map->iova_last + 1;
	u64 len = ALIGN(div_u64(end - cur, job->nsegs), PCIPASS_BLOCK_SIZE);

	while (cur < end) {
		struct pcipass_pin_seg *seg = &job->segs[job->count++];
		u64 next = ALIGN_DOWN(cur + len, PCIPASS_BLOCK_SIZE);

		if (next <= cur || next >= end ||
		    end - next < PCIPASS_BLOCK_SIZE || job->count == job->nsegs)
			next = end;
		seg->st = *st0;
		seg->st.base = cur;
		seg->user_va = user_va + (cur - map->iova_start);
		seg->npages = (next - cur) >> PAGE_SHIFT;
		cur = next;
	}
}

/*
 * Pin and map @st0's mapping with @nworkers threads, the caller one of
 * them, using @pages. On failure nothing stays pinned or mapped (@st0 is
 * left with nothing mapped).
 */
static int pcipass_pin_parallel(struct pcipass_map_state *st0, u64 user_va,
				struct page **pages, unsigned int nworkers)
{
	unsigned int nsegs = nworkers * PCIPASS_PIN_SEGS_PER_WORKER, i;
	struct pcipass_pin_job *job;
	int ret;

	job = kzalloc(struct_size(job, segs, nsegs), GFP_KERNEL_ACCOUNT);
	if (!job)
		return pcipass_pin_and_map(st0, user_va, pages);
	job->nsegs = nsegs;
	job->mm = current->mm;
	job->gup_flags = FOLL_LONGTERM |
			 (st0->map->writable ? FOLL_WRITE : 0);
	init_completion(&job->done);
	pcipass_pin_cut(job, st0, user_va);

	atomic_set(&job->running, nworkers - 1);
	for (i = 0; i < nworkers - 1; i++) {
		job->workers[i].job = job;
		INIT_WORK(&job->workers[i].work, pcipass_pin_work);
		queue_work(system_unbound_wq, &job->workers[i].work);
	}
	ret = pcipass_pin_segs(job, pages, false);
	if (ret && ret != -ECANCELED)
		pcipass_pin_fail(job, ret);
	/* Not for long: a worker waits for nothing but the context lock. */
	wait_for_completion(&job->done);

	/* What the workers could not pin without waiting. */
	ret = atomic_read(&job->error);
	for (i = 0; !ret && i < job->count; i++) {
		if (job->segs[i].deferred)
			ret = pcipass_pin_seg(job, &job->segs[i], pages, false);
	}

	for (i = 0; ret && i < job->count; i++) {
		struct pcipass_map_state *st = &job->segs[i].st;

		pcipass_pending_unpin(st);
		if (st->mapped)
			pcipass_mapping_unmap(st->ctx, st->map, st->base,
					      st->mapped, false);
	}
	kfree(job);
	return ret;
}

/* The seals of a shmem or hugetlbfs file. */
static unsigned int pcipass_file_seals(struct file *file)
{
	struct inode *inode = file_inode(file);

	if (is_file_hugepages(file))
		return READ_ONCE(HUGETLBFS_I(inode)->seals);
	return READ_ONCE(SHMEM_I(inode)->seals);
}

/* May @file be mapped, [@offset, @offset + @length) of it, as @writable? */
static int pcipass_file_check(struct file *file, u64 offset, u64 length,
			      bool writable)
{
	u64 last;
	int ret;

	if (!shmem_file(file) && !is_file_hugepages(file))
		return -EINVAL;
	if (!(file->f_mode & FMODE_READ) ||
	    (writable && !(file->f_mode & FMODE_WRITE)))
		return -EACCES;
	ret = pcipass_iova_check_range(offset, length, &last);
	if (ret)
		return ret;
	if (last >= i_size_read(file_inode(file)))
		return -EINVAL;
	return 0;
}

/*
 * A writable file map takes a writable count of the file's mapping, as a
 * shared writable mmap() does, so that F_SEAL_WRITE cannot be added while
 * it lasts; a file sealed against writes is refused. The count is given
 * back by pcipass_mapping_put_file().
 */
static int pcipass_file_take_writable(struct file *file)
{
	if (mapping_map_writable(file->f_mapping))
		return -EPERM;
	if (pcipass_file_seals(file) & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) {
		mapping_unmap_writable(file->f_mapping);
		return -EPERM;
	}
	return 0;
}

/*
 * The common part of both kinds of map: checks, charges, reserves the
 * range, pins from @file at @offset (a file map, checked by the caller)
 * or from the caller's memory at @user_va, and leaves nothing behind on
 * failure. A file map holds a reference on @file (and a writable count).
 */
static int pcipass_dma_map_common(struct pcipass_ctx *ctx, u64 user_va,
				  struct file *file, u64 offset, u64 iova,
				  u64 length, u32 flags)
{
	struct pcipass_map_state st = { .ctx = ctx };
	struct pcipass_mapping *map;
	unsigned long npages;
	void *batch;
	u64 iova_last;
	int ret;

	ret = pcipass_iova_check_range(iova, length, &iova_last);
	if (ret)
		return ret;
	st.prot = IOMMU_CACHE;
	if (flags & PCIPASS_DMA_MAP_READ)
		st.prot |= IOMMU_READ;
	if (flags & PCIPASS_DMA_MAP_WRITE)
		st.prot |= IOMMU_WRITE;

	npages = length >> PAGE_SHIFT;

	map = kzalloc(sizeof(*map), GFP_KERNEL_ACCOUNT);
	if (!map)
		return -ENOMEM;
	map->iova_start = iova;
	map->iova_last = iova_last;
	map->npages = npages;
	map->writable = flags & PCIPASS_DMA_MAP_WRITE;
	map->busy = true;
	if (file) {
		ret = map->writable ? pcipass_file_take_writable(file) : 0;
		if (ret)
			goto err_free_map;
		map->file = get_file(file);
	}

	/* Charge first: nothing sized by @length is allocated before. */
	map->user = get_uid(current_user());
	ret = pcipass_charge(map->user, npages);
	if (ret)
		goto err_free_map;
	/* More than the RAM can never be pinned (CAP_IPC_LOCK has no limit). */
	if (npages > totalram_pages()) {
		pcipass_uncharge(map->user, npages);
		ret = -ENOMEM;
		goto err_free_map;
	}
	map->mm = current->mm;
	mmgrab(map->mm);
	atomic64_add(npages, &map->mm->pinned_vm);
	map->contig = pcipass_contig_alloc(iova, iova_last, npages);

	/* A page of page pointers, or of folio pointers. */
	batch = (void *)__get_free_page(GFP_KERNEL_ACCOUNT);
	if (!batch) {
		ret = -ENOMEM;
		goto err_unaccount;
	}

	/* Reserve the range: it is ours while the lock is dropped. */
	mutex_lock(&ctx->lock);
	ret = pcipass_dma_check_mode(ctx);
	if (!ret && !pcipass_iova_range_usable(ctx, iova, iova_last))
		ret = -ERANGE;
	if (!ret && pcipass_mapping_first(&ctx->mappings, iova, iova_last))
		ret = -EEXIST;
	if (!ret) {
		pcipass_mapping_insert(&ctx->mappings, map);
		ctx->dma_busy++;
	}
	mutex_unlock(&ctx->lock);
	if (ret)
		goto err_free_batch;

	st.map = map;
	st.base = iova;
	if (file)
		ret = pcipass_pin_file_and_map(&st, file, offset, batch);
	else if (pcipass_pin_workers(npages) > 1)
		ret = pcipass_pin_parallel(&st, user_va, batch,
					   pcipass_pin_workers(npages));
	else
		ret = pcipass_pin_and_map(&st, user_va, batch);
	free_page((unsigned long)batch);

	if (ret && st.mapped)
		pcipass_mapping_unmap(ctx, map, iova, st.mapped, false);
	mutex_lock(&ctx->lock);
	if (ret) {
		pcipass_mapping_remove(&ctx->mappings, map);
	} else {
		ctx->num_mappings++;
		ctx->pinned_pages += npages;
	}
	pcipass_mapping_unbusy(ctx, map);
	mutex_unlock(&ctx->lock);
	if (ret)
		pcipass_mapping_free(map);
	return ret;

err_free_batch:
	free_page((unsigned long)batch);
err_unaccount:
	pcipass_mapping_unaccount(map);
err_free_map:
	pcipass_mapping_put_file(map);
	free_uid(map->user);
	kvfree(map->contig);
	kfree(map);
	return ret;
}

/* Only READ and WRITE, at least one of them. */
static bool pcipass_dma_map_flags_valid(u32 flags)
{
	return !(flags & ~(PCIPASS_DMA_MAP_READ | PCIPASS_DMA_MAP_WRITE)) &&
	       (flags & (PCIPASS_DMA_MAP_READ | PCIPASS_DMA_MAP_WRITE));
}

/**
 * pcipass_dma_map_range() - pin user memory and map it for device DMA
 * @ctx: the context, unlocked, held open by the caller
 * @user_va: start of the caller's memory, page aligned
 * @iova: where the devices see it, page aligned
 * @length: bytes, a non-zero multiple of the page size
 * @flags: %PCIPASS_DMA_MAP_READ, %PCIPASS_DMA_MAP_WRITE or both
 *
 * The core of PCIPASS_DMA_MAP, for every interface that maps memory.
 * In order: the arguments are checked, the pages are charged (see
 * &struct pcipass_dma_map for who is charged), the IOVA range is checked
 * and reserved under the context lock, then the memory is pinned a batch
 * at a time without the context lock (a userfaultfd or FUSE page may keep
 * it waiting) and each batch is mapped under it. The range is reserved
 * while this goes on: other maps of it fail with -EEXIST, unmaps of it
 * with -EBUSY. On any failure nothing stays pinned, charged, mapped or
 * reserved. Memory of the caller's process (current->mm) is mapped.
 *
 * A mapping keeps no array of its pages: its unmap reads them back from
 * the IOMMU's translation. It keeps one bit per 2 MiB of IOVA, for the
 * blocks mapped from one contiguous run, so that hugetlbfs and huge pages
 * are unmapped with one look-up per 2 MiB.
 *
 * Return: 0 or an errno documented with &struct pcipass_dma_map.
 */
int pcipass_dma_map_range(struct pcipass_ctx *ctx, u64 user_va, u64 iova,
			  u64 length, u32 flags)
{
	u64 va_last;
	int ret;

	if (!pcipass_dma_map_flags_valid(flags))
		return -EINVAL;
	ret = pcipass_iova_check_range(user_va, length, &va_last);
	if (ret)
		return ret;
	if (va_last > TASK_SIZE_MAX)
		return -EFAULT;
	return pcipass_dma_map_common(ctx, user_va, NULL, 0, iova, length,
				      flags);
}

/**
 * pcipass_dma_map_file() - pin the pages of a file and map them for DMA
 * @ctx: the context, unlocked, held open by the caller
 * @file: a memfd, tmpfs or hugetlbfs file, with a reference held by the
 *	caller (the mapping takes its own)
 * @offset: byte offset in @file of the first page, page aligned
 * @iova: where the devices see it, page aligned
 * @length: bytes, a non-zero multiple of the page size
 * @flags: %PCIPASS_DMA_MAP_READ, %PCIPASS_DMA_MAP_WRITE or both
 *
 * %PCIPASS_DMA_MAP_FILE: as pcipass_dma_map_range(), but the folios of
 * @file are pinned with memfd_pin_folios(), once per folio, without
 * walking any page table; the charge is the same.
 *
 * Return: 0 or an errno documented with &struct pcipass_dma_map.
 */
int pcipass_dma_map_file(struct pcipass_ctx *ctx, struct file *file,
			 u64 offset, u64 iova, u64 length, u32 flags)
{
	bool writable = flags & PCIPASS_DMA_MAP_WRITE;
	int ret;

	if (!pcipass_dma_map_flags_valid(flags))
		return -EINVAL;
	ret = pcipass_file_check(file, offset, length, writable);
	if (ret)
		return ret;
	return pcipass_dma_map_common(ctx, 0, file, offset, iova, length,
				      flags);
}

/**
 * pcipass_dma_map() - PCIPASS_DMA_MAP: pin, charge and map user memory
 * @ucmd: the ioctl call, a &struct pcipass_dma_map
 *
 * Return: 0 or an errno documented with &struct pcipass_dma_map.
 */
int pcipass_dma_map(struct pcipass_ucmd *ucmd)
{
	struct pcipass_dma_map *cmd = ucmd->cmd;
	struct file *file;
	int ret;

	if (cmd->__reserved)
		return -EINVAL;
	if (!(cmd->flags & PCIPASS_DMA_MAP_FILE)) {
		if (cmd->fd || cmd->offset)
			return -EINVAL;
		return pcipass_dma_map_range(ucmd->ctx, cmd->user_va,
					     cmd->iova, cmd->length,
					     cmd->flags);
	}
	if (ucmd->user_size < offsetofend(struct pcipass_dma_map, offset) ||
	    cmd->user_va)
		return -EINVAL;
	file = fget(cmd->fd);
	if (!file)
		return -EBADF;
	ret = pcipass_dma_map_file(ucmd->ctx, file, cmd->offset, cmd->iova,
				   cmd->length,
				   cmd->flags & ~PCIPASS_DMA_MAP_FILE);
	fput(file);
	return ret;
}

/*
 * Unmap, unpin and free the busy mappings on @victims (linked by
 * unmap_node), a chunk at a time. Returns the bytes unmapped.
 */
static u64 pcipass_unmap_victims(struct pcipass_ctx *ctx,
				 struct list_head *victims)
{
	struct pcipass_mapping *map, *tmp;
	u64 bytes = 0;

	list_for_each_entry_safe(map, tmp, victims, unmap_node) {
		pcipass_mapping_unmap(ctx, map, map->iova_start, map->npages,
				      true);
		mutex_lock(&ctx->lock);
		pcipass_mapping_remove(&ctx->mappings, map);
		ctx->num_mappings--;
		pcipass_mapping_unbusy(ctx, map);
		mutex_unlock(&ctx->lock);
		list_del(&map->unmap_node);
		bytes += (u64)map->npages << PAGE_SHIFT;
		pcipass_mapping_free(map);
	}
	return bytes;
}

/**
 * pcipass_dma_unmap_range() - unmap, unpin and uncharge an IOVA range
 * @ctx: the context, unlocked
 * @iova: start of the range, page aligned (0 with %PCIPASS_DMA_UNMAP_ALL)
 * @length: bytes, a non-zero multiple of the page size (0 with
 *	%PCIPASS_DMA_UNMAP_ALL)
 * @flags: &enum pcipass_dma_unmap_flags
 * @unmapped: set to the bytes unmapped, on success
 *
 * The core of PCIPASS_DMA_UNMAP: every mapping inside the range goes, or
 * none does. The mappings are taken (made busy) under the context lock,
 * then unmapped a chunk at a time with the lock dropped between chunks.
 *
 * Return: 0 or an errno documented with &struct pcipass_dma_unmap.
 */
int pcipass_dma_unmap_range(struct pcipass_ctx *ctx, u64 iova, u64 length,
			    u32 flags, u64 *unmapped)
{
	struct pcipass_mapping *map;
	LIST_HEAD(victims);
	u64 start, last;
	int ret;

	if (flags & ~PCIPASS_DMA_UNMAP_ALL)
		return -EINVAL;
	if (flags & PCIPASS_DMA_UNMAP_ALL) {
		if (iova || length)
			return -EINVAL;
		start = 0;
		last = U64_MAX;
	} else {
		ret = pcipass_iova_check_range(iova, length, &last);
		if (ret)
			return ret;
		start = iova;
	}

	scoped_guard(mutex, &ctx->lock) {
		ret = pcipass_dma_check_mode(ctx);
		if (ret)
			return ret;

		map = pcipass_mapping_first(&ctx->mappings, start, last);
		if (!map)
			return -ENOENT;
		for (; map; map = pcipass_mapping_next(map, start, last)) {
			if (map->iova_start < start || map->iova_last > last)
				return -EINVAL;
			if (map->busy)
				return -EBUSY;
		}
		for (map = pcipass_mapping_first(&ctx->mappings, start, last);
		     map; map = pcipass_mapping_next(map, start, last)) {
			map->busy = true;
			ctx->dma_busy++;
			list_add_tail(&map->unmap_node, &victims);
		}
	}
	*unmapped = pcipass_unmap_victims(ctx, &victims);
	return 0;
}

/**
 * pcipass_dma_unmap() - PCIPASS_DMA_UNMAP: unmap, unpin and uncharge
 * @ucmd: the ioctl call, a &struct pcipass_dma_unmap
 *
 * Return: 0 or an errno documented with &struct pcipass_dma_unmap.
 */
int pcipass_dma_unmap(struct pcipass_ucmd *ucmd)
{
	struct pcipass_dma_unmap *cmd = ucmd->cmd;
	u64 unmapped;
	int ret;

	ret = pcipass_dma_unmap_range(ucmd->ctx, cmd->iova, cmd->length,
				      cmd->flags, &unmapped);
	if (ret)
		return ret;
	/* Written back without the context lock: user memory may stall. */
	cmd->length = unmapped;
	return pcipass_ucmd_respond(ucmd);
}

/**
 * pcipass_dma_release() - unmap everything and free the domain
 * @ctx: the context, locked, with no device attached (its file is being
 *	released, or its last VFIO group detached)
 *
 * New maps and unmaps are refused from here on (-ENXIO). A DMA_MAP still
 * in progress (only possible through the VFIO layer, whose container
 * outlives its groups) ends at its next batch; a DMA_UNMAP in progress
 * finishes: both are waited for. The mappings are then unmapped a chunk at
 * a time, the context lock dropped between chunks and retaken before
 * return.
 */
void pcipass_dma_release(struct pcipass_ctx *ctx)
{
	struct pcipass_mapping *map;
	LIST_HEAD(victims);

	lockdep_assert_held(&ctx->lock);
	if (!ctx->domain)
		return;
	ctx->dma_closing = true;
	while (ctx->dma_busy) {
		mutex_unlock(&ctx->lock);
		wait_event(ctx->dma_idle, !READ_ONCE(ctx->dma_busy));
		mutex_lock(&ctx->lock);
	}
	for (map = pcipass_mapping_first(&ctx->mappings, 0, U64_MAX); map;
	     map = pcipass_mapping_next(map, 0, U64_MAX)) {
		map->busy = true;
		ctx->dma_busy++;
		list_add_tail(&map->unmap_node, &victims);
	}
	mutex_unlock(&ctx->lock);
	pcipass_unmap_victims(ctx, &victims);
	mutex_lock(&ctx->lock);
	pcipass_domain_free(ctx);
	ctx->dma_closing = false;
}

/**
 * pcipass_dma_release_nowait() - pcipass_dma_release() unless it would wait
 * @ctx: the context, locked, with no device and no group attached
 *
 * For the last VFIO group leaving its container, under the VFIO layer's
 * global lock, which must not wait for user space: a DMA_MAP in progress
 * waits for its user memory as long as user space likes (userfaultfd).
 * With a map or unmap in progress nothing is released: new maps and
 * unmaps fail (-ENXIO), the ones in progress end at their next batch, no
 * device can reach the domain any more, and the mappings go when the
 * context is released.
 *
 * Return: true when everything was released.
 */
bool pcipass_dma_release_nowait(struct pcipass_ctx *ctx)
{
	lockdep_assert_held(&ctx->lock);
	if (ctx->domain && ctx->dma_busy) {
		ctx->dma_closing = true;
		return false;
	}
	pcipass_dma_release(ctx);
	return true;
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

	lockdep_assert_held(&ctx->lock);
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
 * pcipass_dma_iova_ranges() - the IOVA ranges where mappings may go
 * @ctx: the context, unlocked
 * @count: set to the number of ranges
 *
 * The core of PCIPASS_IOVA_RANGES: the domain's aperture minus the
 * reserved regions of every attached group, in increasing order.
 *
 * Return: an array of @count ranges (at least one entry allocated) to free
 * with kfree(), or an ERR_PTR(): -ENXIO no device attached yet, -EPERM no
 * IOMMU, -ENOMEM.
 */
struct pcipass_iova_span *pcipass_dma_iova_ranges(struct pcipass_ctx *ctx,
						  unsigned int *count)
{
	struct pcipass_iova_span *resv, *usable;
	unsigned int nresv, n;
	int ret;

	guard(mutex)(&ctx->lock);
	ret = pcipass_dma_check_mode(ctx);
	if (ret)
		return ERR_PTR(ret);

	resv = pcipass_collect_resv(ctx, &nresv);
	if (IS_ERR(resv))
		return resv;
	n = pcipass_iova_usable(resv, nresv, ctx->aperture_start,
				ctx->aperture_last, NULL, 0);
	usable = kcalloc(max(n, 1U), sizeof(*usable), GFP_KERNEL);
	if (usable)
		pcipass_iova_usable(resv, nresv, ctx->aperture_start,
				    ctx->aperture_last, usable, n);
	kfree(resv);
	if (!usable)
		return ERR_PTR(-ENOMEM);
	*count = n;
	return usable;
}

/**
 * pcipass_iova_ranges() - PCIPASS_IOVA_RANGES: where mappings may go
 * @ucmd: the ioctl call, a &struct pcipass_iova_ranges
 *
 * The ranges are computed under the context lock and copied out after it
 * is dropped.
 *
 * Return: 0 or an errno documented with &struct pcipass_iova_ranges.
 */
int pcipass_iova_ranges(struct pcipass_ucmd *ucmd)
{
	struct pcipass_iova_ranges *cmd = ucmd->cmd;
	struct pcipass_iova_range __user *out;
	struct pcipass_iova_span *usable;
	unsigned int count, i;
	int ret;

	if (cmd->__reserved)
		return -EINVAL;

	usable = pcipass_dma_iova_ranges(ucmd->ctx, &count);
	if (IS_ERR(usable))
		return PTR_ERR(usable);

	if (count > cmd->num_ranges) {
		cmd->num_ranges = count;
		ret = pcipass_ucmd_respond(ucmd);
		if (!ret)
			ret = -EMSGSIZE;
		goto out_free;
	}

	out = u64_to_user_ptr(cmd->ranges);
	for (i = 0; i < count; i++) {
		struct pcipass_iova_range range = {
			.start = usable[i].start,
			.last = usable[i].last,
		};

		if (copy_to_user(&out[i], &range, sizeof(range))) {
			ret = -EFAULT;
			goto out_free;
		}
	}
	cmd->num_ranges = count;
	ret = pcipass_ucmd_respond(ucmd);
out_free:
	kfree(usable);
	return ret;
}

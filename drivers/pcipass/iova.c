// SPDX-License-Identifier: GPL-2.0
/*
 * IOVA bookkeeping of a context, pure logic with no IOMMU calls: the
 * interval tree of mappings, the validation of a user-given range, and the
 * arithmetic that turns an aperture and reserved regions into the usable
 * ranges. Kept apart so that KUnit can test it without hardware.
 */

#include <linux/errno.h>
#include <linux/interval_tree_generic.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <kunit/visibility.h>

#include "pcipass.h"

#define pcipass_mapping_start(map)	((map)->iova_start)
#define pcipass_mapping_last(map)	((map)->iova_last)

INTERVAL_TREE_DEFINE(struct pcipass_mapping, node, u64, subtree_last,
		     pcipass_mapping_start, pcipass_mapping_last, static,
		     pcipass_mapping_tree)

/**
 * pcipass_mapping_insert() - add a mapping to a context's tree
 * @root: the tree
 * @map: the mapping, which must not overlap one already in @root
 */
void pcipass_mapping_insert(struct rb_root_cached *root,
			    struct pcipass_mapping *map)
{
	pcipass_mapping_tree_insert(map, root);
}
EXPORT_SYMBOL_IF_KUNIT(pcipass_mapping_insert);

/**
 * pcipass_mapping_remove() - take a mapping out of a context's tree
 * @root: the tree
 * @map: a mapping in @root
 */
void pcipass_mapping_remove(struct rb_root_cached *root,
			    struct pcipass_mapping *map)
{
	pcipass_mapping_tree_remove(map, root);
}
EXPORT_SYMBOL_IF_KUNIT(pcipass_mapping_remove);

/**
 * pcipass_mapping_first() - the lowest mapping that intersects a range
 * @root: the tree
 * @start: first IOVA of the range
 * @last: last IOVA of the range (inclusive)
 *
 * Return: the mapping, or NULL when none intersects.
 */
struct pcipass_mapping *pcipass_mapping_first(struct rb_root_cached *root,
					      u64 start, u64 last)
{
	return pcipass_mapping_tree_iter_first(root, start, last);
}
EXPORT_SYMBOL_IF_KUNIT(pcipass_mapping_first);

/**
 * pcipass_mapping_next() - the next mapping that intersects a range
 * @map: a mapping returned for the same range
 * @start: first IOVA of the range
 * @last: last IOVA of the range (inclusive)
 *
 * Return: the mapping, or NULL when there is no further one.
 */
struct pcipass_mapping *pcipass_mapping_next(struct pcipass_mapping *map,
					     u64 start, u64 last)
{
	return pcipass_mapping_tree_iter_next(map, start, last);
}
EXPORT_SYMBOL_IF_KUNIT(pcipass_mapping_next);

/**
 * pcipass_iova_check_range() - validate a range given by user space
 * @start: first address, must be page aligned
 * @length: bytes, must be a non-zero multiple of the page size
 * @last: set to the last address of the range (inclusive)
 *
 * Return: 0, or -EINVAL when the range is empty, unaligned or wraps
 * around the end of the 64-bit address space.
 */
int pcipass_iova_check_range(u64 start, u64 length, u64 *last)
{
	if (!length || !PAGE_ALIGNED(start) || !PAGE_ALIGNED(length))
		return -EINVAL;
	if (check_add_overflow(start, length - 1, last))
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(pcipass_iova_check_range);

/* The reserved span that covers @addr and ends last, or NULL. */
static const struct pcipass_iova_span *
pcipass_iova_covering(const struct pcipass_iova_span *resv,
		      unsigned int nresv, u64 addr)
{
	const struct pcipass_iova_span *best = NULL;
	unsigned int i;

	for (i = 0; i < nresv; i++) {
		if (resv[i].start <= addr && addr <= resv[i].last &&
		    (!best || resv[i].last > best->last))
			best = &resv[i];
	}
	return best;
}

/* The lowest reserved start in (@addr, @limit], or false when none. */
static bool pcipass_iova_next_reserved(const struct pcipass_iova_span *resv,
				       unsigned int nresv, u64 addr,
				       u64 limit, u64 *next)
{
	bool found = false;
	unsigned int i;

	for (i = 0; i < nresv; i++) {
		if (resv[i].start > addr && resv[i].start <= limit &&
		    (!found || resv[i].start < *next)) {
			*next = resv[i].start;
			found = true;
		}
	}
	return found;
}

/**
 * pcipass_iova_usable() - the usable IOVA ranges of an aperture
 * @resv: reserved spans, in any order, overlapping or not
 * @nresv: entries in @resv
 * @aperture_start: first address of the aperture
 * @aperture_last: last address of the aperture (inclusive)
 * @out: receives the usable ranges in increasing order, at most @nout
 * @nout: room in @out
 *
 * Return: the number of usable ranges, which may exceed @nout; only the
 * first @nout are written.
 */
unsigned int pcipass_iova_usable(const struct pcipass_iova_span *resv,
				 unsigned int nresv, u64 aperture_start,
				 u64 aperture_last, struct pcipass_iova_span *out,
				 unsigned int nout)
{
	const struct pcipass_iova_span *cover;
	u64 cur = aperture_start;
	unsigned int count = 0;
	u64 next;

	if (aperture_start > aperture_last)
		return 0;

	for (;;) {
		/* Step over every reserved span that covers the cursor. */
		while ((cover = pcipass_iova_covering(resv, nresv, cur))) {
			if (cover->last >= aperture_last)
				return count;
			cur = cover->last + 1;
		}

		if (!pcipass_iova_next_reserved(resv, nresv, cur,
						aperture_last, &next)) {
			if (count < nout)
				out[count] = (struct pcipass_iova_span) {
					cur, aperture_last };
			return count + 1;
		}
		if (count < nout)
			out[count] = (struct pcipass_iova_span) {
				cur, next - 1 };
		count++;
		cur = next;
	}
}
EXPORT_SYMBOL_IF_KUNIT(pcipass_iova_usable);

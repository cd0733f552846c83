// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite pcipass_vfio: the pure logic of the VFIO compatibility layer,
 * pcipass_vfio_sparse_areas(): the mmap-able areas VFIO_DEVICE_GET_REGION_INFO
 * reports for a BAR holding the MSI-X table or PBA when they may not be
 * mapped. Table-driven; each case also checks, page by page, that the areas
 * are exactly the pages of the BAR that hold neither.
 */

#include <kunit/test.h>
#include <linux/mm.h>
#include <uapi/linux/vfio.h>

#include "pcipass.h"

#define SZ	PAGE_SIZE

/**
 * struct sparse_case - a BAR and where MSI-X lives in it
 * @desc: what the case is about
 * @bar_len: size of BAR 0
 * @msix: the table and the PBA (@msix[i].len 0: none; .end is computed)
 * @nareas: the number of areas expected
 */
struct sparse_case {
	const char *desc;
	u64 bar_len;
	struct pcipass_msix_area msix[PCIPASS_MSIX_AREAS];
	u32 nareas;
};

#define AREA(b, s, l) { .bar = (b), .start = (s), .len = (l) }

static const struct sparse_case sparse_cases[] = {
	{ "no MSI-X in the BAR", 4 * SZ, { AREA(2, 0, 64), AREA(2, SZ, 8) }, 1 },
	{ "table and PBA in one page, first", 4 * SZ,
	  { AREA(0, 0, 64), AREA(0, 0x800, 8) }, 1 },
	{ "table at 0x2000, PBA at 0x3000 (nvme)", 4 * SZ,
	  { AREA(0, 2 * SZ, 64 * 16), AREA(0, 3 * SZ, 16) }, 1 },
	{ "table in the middle, PBA last", 8 * SZ,
	  { AREA(0, 2 * SZ, 64), AREA(0, 7 * SZ, 8) }, 2 },
	{ "table spans two pages", 8 * SZ,
	  { AREA(0, SZ + 0x800, SZ), AREA(0, 6 * SZ, 8) }, 3 },
	{ "PBA before the table", 8 * SZ,
	  { AREA(0, 5 * SZ, 64), AREA(0, SZ, 8) }, 3 },
	{ "the whole BAR is MSI-X", SZ, { AREA(0, 0, 64), AREA(0, 0x800, 8) },
	  0 },
	{ "only the table in this BAR", 4 * SZ,
	  { AREA(0, 0, 64), AREA(1, 0, 8) }, 1 },
	{ "no MSI-X at all", 2 * SZ, { {}, {} }, 1 },
};

static void sparse_case_desc(const struct sparse_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(sparse, sparse_cases, sparse_case_desc);

/* Does page @pg of BAR 0 hold part of the table or PBA? */
static bool page_has_msix(const struct sparse_case *c, u64 pg)
{
	unsigned int i;

	for (i = 0; i < PCIPASS_MSIX_AREAS; i++) {
		const struct pcipass_msix_area *a = &c->msix[i];

		if (a->len && a->bar == 0 && a->start < (pg + 1) * SZ &&
		    pg * SZ < a->start + a->len)
			return true;
	}
	return false;
}

static void vfio_sparse_areas(struct kunit *test)
{
	const struct sparse_case *c = test->param_value;
	struct vfio_region_sparse_mmap_area areas[3] = {};
	struct pcipass_msix_area msix[PCIPASS_MSIX_AREAS];
	u64 pg, prev_end = 0;
	u32 n, i;

	for (i = 0; i < PCIPASS_MSIX_AREAS; i++) {
		msix[i] = c->msix[i];
		msix[i].end = msix[i].start + msix[i].len;
	}
	n = pcipass_vfio_sparse_areas(msix, 0, c->bar_len, areas);
	KUNIT_ASSERT_EQ(test, c->nareas, n);
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_EQ(test, 0, areas[i].offset % SZ);
		KUNIT_EXPECT_EQ(test, 0, areas[i].size % SZ);
		KUNIT_EXPECT_LT(test, 0, areas[i].size);
		KUNIT_EXPECT_LE(test, prev_end, areas[i].offset);
		KUNIT_EXPECT_LE(test, areas[i].offset + areas[i].size,
				c->bar_len);
		prev_end = areas[i].offset + areas[i].size;
	}
	/* Page by page: in an area exactly when it holds no MSI-X. */
	for (pg = 0; pg < c->bar_len / SZ; pg++) {
		bool in = false;

		for (i = 0; i < n; i++)
			if (areas[i].offset <= pg * SZ &&
			    pg * SZ < areas[i].offset + areas[i].size)
				in = true;
		KUNIT_EXPECT_NE_MSG(test, in, page_has_msix(c, pg),
				    "page %llu", pg);
	}
}

static struct kunit_case vfio_test_cases[] = {
	KUNIT_CASE_PARAM(vfio_sparse_areas, sparse_gen_params),
	{}
};

static struct kunit_suite vfio_suite = {
	.name = "pcipass_vfio",
	.test_cases = vfio_test_cases,
};

kunit_test_suite(vfio_suite);

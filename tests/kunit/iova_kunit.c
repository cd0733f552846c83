// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite pcipass_iova: the IOVA bookkeeping of drivers/pcipass/iova.c,
 * which has no IOMMU in it:
 *
 *  - pcipass_iova_check_range(): the validation of a user-given range;
 *  - pcipass_iova_usable(): an aperture minus reserved regions, on tables
 *    of hand-made cases and against a page bitmap on random ones;
 *  - the interval tree of mappings: every mapping that intersects a range
 *    is found, in order, and no other, before and after removals.
 */

#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/limits.h>
#include <linux/mm.h>
#include <linux/prandom.h>
#include <linux/slab.h>

#include "pcipass.h"

#define SZ	PAGE_SIZE

/* ---- pcipass_iova_check_range() ----------------------------------------- */

/**
 * struct range_case - a range as user space gives it
 * @desc: what the case is about
 * @start: first address
 * @length: bytes
 * @ret: 0 or the errno
 * @last: the last address when @ret is 0
 */
struct range_case {
	const char *desc;
	u64 start;
	u64 length;
	int ret;
	u64 last;
};

static const struct range_case range_cases[] = {
	{ "one page at 0", 0, SZ, 0, SZ - 1 },
	{ "two pages", SZ, 2 * SZ, 0, 3 * SZ - 1 },
	{ "the whole upper half", 1ULL << 63, 1ULL << 63, 0, U64_MAX },
	{ "the last page", U64_MAX - SZ + 1, SZ, 0, U64_MAX },
	{ "everything but page 0", SZ, 0ULL - SZ, 0, U64_MAX },
	{ "empty", 0, 0, -EINVAL },
	{ "empty, unaligned", 1, 0, -EINVAL },
	{ "unaligned start", 1, SZ, -EINVAL },
	{ "start one below a page", SZ - 1, SZ, -EINVAL },
	{ "unaligned length", 0, SZ + 1, -EINVAL },
	{ "length below a page", 0, SZ - 1, -EINVAL },
	{ "length of one byte", 0, 1, -EINVAL },
	{ "wraps past the end", U64_MAX - SZ + 1, 2 * SZ, -EINVAL },
	{ "wraps: upper half plus a page", (1ULL << 63) + SZ, 1ULL << 63,
	  -EINVAL },
	{ "wraps: the largest length", 2 * SZ, U64_MAX - SZ + 1, -EINVAL },
};

static void range_case_desc(const struct range_case *t, char *desc)
{
	strscpy(desc, t->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(range, range_cases, range_case_desc);

static void iova_check_range(struct kunit *test)
{
	const struct range_case *t = test->param_value;
	u64 last = 0x5a5a5a5a;
	int ret;

	ret = pcipass_iova_check_range(t->start, t->length, &last);
	KUNIT_EXPECT_EQ_MSG(test, ret, t->ret, "start %#llx length %#llx",
			    t->start, t->length);
	if (!ret && !t->ret)
		KUNIT_EXPECT_EQ(test, last, t->last);
}

/* ---- pcipass_iova_usable(): hand-made cases ------------------------------ */

#define MAX_SPANS	6
#define MSI_START	0xfee00000ULL
#define MSI_LAST	0xfeefffffULL
#define VTD_LAST	0x7fffffffffULL		/* 39-bit aperture */

/**
 * struct usable_case - an aperture, reserved spans, the usable ranges
 * @desc: what the case is about
 * @ap_start: first address of the aperture
 * @ap_last: last address of the aperture
 * @nresv: entries of @resv
 * @resv: the reserved spans, in the order given to the function
 * @nwant: the usable ranges
 * @want: the first MAX_SPANS of them
 */
struct usable_case {
	const char *desc;
	u64 ap_start;
	u64 ap_last;
	unsigned int nresv;
	struct pcipass_iova_span resv[MAX_SPANS];
	unsigned int nwant;
	struct pcipass_iova_span want[MAX_SPANS];
};

static const struct usable_case usable_cases[] = {
	{ "no reserved region", 0, VTD_LAST, 0, {}, 1, { { 0, VTD_LAST } } },
	{ "the x86 MSI window", 0, VTD_LAST, 1, { { MSI_START, MSI_LAST } },
	  2, { { 0, MSI_START - 1 }, { MSI_LAST + 1, VTD_LAST } } },
	{ "reserved at the aperture's start", 0, VTD_LAST,
	  1, { { 0, SZ - 1 } }, 1, { { SZ, VTD_LAST } } },
	{ "reserved at the aperture's end", 0, VTD_LAST,
	  1, { { VTD_LAST - SZ + 1, VTD_LAST } }, 1, { { 0, VTD_LAST - SZ } } },
	{ "reserved covers the aperture", SZ, 4 * SZ - 1,
	  1, { { 0, 8 * SZ } }, 0, {} },
	{ "reserved is the aperture", SZ, 4 * SZ - 1,
	  1, { { SZ, 4 * SZ - 1 } }, 0, {} },
	{ "overlapping reserved", 0, 16 * SZ - 1,
	  2, { { SZ, 4 * SZ - 1 }, { 2 * SZ, 6 * SZ - 1 } },
	  2, { { 0, SZ - 1 }, { 6 * SZ, 16 * SZ - 1 } } },
	{ "nested reserved", 0, 16 * SZ - 1,
	  2, { { SZ, 9 * SZ - 1 }, { 2 * SZ, 3 * SZ - 1 } },
	  2, { { 0, SZ - 1 }, { 9 * SZ, 16 * SZ - 1 } } },
	{ "adjacent reserved", 0, 16 * SZ - 1,
	  2, { { SZ, 2 * SZ - 1 }, { 2 * SZ, 3 * SZ - 1 } },
	  2, { { 0, SZ - 1 }, { 3 * SZ, 16 * SZ - 1 } } },
	{ "unsorted reserved", 0, 16 * SZ - 1,
	  3, { { 12 * SZ, 13 * SZ - 1 }, { 2 * SZ, 3 * SZ - 1 },
	       { 7 * SZ, 7 * SZ } },
	  4, { { 0, 2 * SZ - 1 }, { 3 * SZ, 7 * SZ - 1 },
	       { 7 * SZ + 1, 12 * SZ - 1 }, { 13 * SZ, 16 * SZ - 1 } } },
	{ "duplicate reserved", 0, 16 * SZ - 1,
	  2, { { 4 * SZ, 5 * SZ - 1 }, { 4 * SZ, 5 * SZ - 1 } },
	  2, { { 0, 4 * SZ - 1 }, { 5 * SZ, 16 * SZ - 1 } } },
	{ "reserved outside the aperture", 16 * SZ, 32 * SZ - 1,
	  2, { { 0, SZ - 1 }, { 40 * SZ, 41 * SZ - 1 } },
	  1, { { 16 * SZ, 32 * SZ - 1 } } },
	{ "reserved across the aperture's start", 16 * SZ, 32 * SZ - 1,
	  1, { { 8 * SZ, 17 * SZ - 1 } }, 1, { { 17 * SZ, 32 * SZ - 1 } } },
	{ "reserved across the aperture's end", 16 * SZ, 32 * SZ - 1,
	  1, { { 31 * SZ, 40 * SZ - 1 } }, 1, { { 16 * SZ, 31 * SZ - 1 } } },
	{ "one-address gaps", 0, 4,
	  2, { { 1, 1 }, { 3, 3 } }, 3, { { 0, 0 }, { 2, 2 }, { 4, 4 } } },
	{ "one-address aperture", SZ, SZ, 0, {}, 1, { { SZ, SZ } } },
	{ "empty aperture", 2 * SZ, SZ, 0, {}, 0, {} },
	{ "64-bit aperture, last page reserved", 0, U64_MAX,
	  1, { { U64_MAX - SZ + 1, U64_MAX } },
	  1, { { 0, U64_MAX - SZ } } },
	{ "64-bit aperture, first and last reserved", 0, U64_MAX,
	  2, { { U64_MAX, U64_MAX }, { 0, 0 } }, 1, { { 1, U64_MAX - 1 } } },
	{ "64-bit aperture, all reserved", 0, U64_MAX,
	  2, { { 0, 1ULL << 63 }, { 1ULL << 62, U64_MAX } }, 0, {} },
	{ "MSI window and more", 0, VTD_LAST,
	  3, { { MSI_START, MSI_LAST }, { 0, SZ - 1 },
	       { 0xfed00000ULL, 0xfed03fffULL } },
	  3, { { SZ, 0xfecfffffULL }, { 0xfed04000ULL, MSI_START - 1 },
	       { MSI_LAST + 1, VTD_LAST } } },
};

static void usable_case_desc(const struct usable_case *t, char *desc)
{
	strscpy(desc, t->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(usable, usable_cases, usable_case_desc);

static void iova_usable(struct kunit *test)
{
	const struct usable_case *t = test->param_value;
	struct pcipass_iova_span out[MAX_SPANS + 1];
	unsigned int n, i;

	memset(out, 0xa5, sizeof(out));
	n = pcipass_iova_usable(t->resv, t->nresv, t->ap_start, t->ap_last,
				out, ARRAY_SIZE(out));
	KUNIT_ASSERT_EQ(test, n, t->nwant);
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_EQ_MSG(test, out[i].start, t->want[i].start,
				    "range %u", i);
		KUNIT_EXPECT_EQ_MSG(test, out[i].last, t->want[i].last,
				    "range %u", i);
	}
	/* Nothing is written past the ranges found. */
	KUNIT_EXPECT_EQ(test, out[n].start, 0xa5a5a5a5a5a5a5a5ULL);

	/* Counting only: no room given, nothing written, same answer. */
	KUNIT_EXPECT_EQ(test, pcipass_iova_usable(t->resv, t->nresv,
						  t->ap_start, t->ap_last,
						  NULL, 0), t->nwant);
}

/* With less room than ranges: the count of all, the first few written. */
static void iova_usable_truncates(struct kunit *test)
{
	const struct pcipass_iova_span resv[] = {
		{ 2 * SZ, 3 * SZ - 1 }, { 5 * SZ, 6 * SZ - 1 },
		{ 8 * SZ, 9 * SZ - 1 },
	};
	struct pcipass_iova_span out[3];
	unsigned int room;

	for (room = 0; room <= 2; room++) {
		memset(out, 0xa5, sizeof(out));
		KUNIT_EXPECT_EQ(test, pcipass_iova_usable(resv, 3, 0,
							  16 * SZ - 1, out,
							  room), 4);
		if (room >= 1) {
			KUNIT_EXPECT_EQ(test, out[0].start, 0);
			KUNIT_EXPECT_EQ(test, out[0].last, 2 * SZ - 1);
		}
		if (room >= 2) {
			KUNIT_EXPECT_EQ(test, out[1].start, 3 * SZ);
			KUNIT_EXPECT_EQ(test, out[1].last, 5 * SZ - 1);
		}
		KUNIT_EXPECT_EQ_MSG(test, out[room].start,
				    0xa5a5a5a5a5a5a5a5ULL, "room %u", room);
	}
}

/* ---- pcipass_iova_usable(): random cases against a bitmap --------------- */

#define UNIVERSE	96	/* pages */
#define ROUNDS		400

static void iova_usable_matches_a_bitmap(struct kunit *test)
{
	struct pcipass_iova_span resv[8], *out;
	DECLARE_BITMAP(free, UNIVERSE);
	struct rnd_state rnd;
	unsigned int round;

	out = kunit_kcalloc(test, UNIVERSE, sizeof(*out), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, out);
	prandom_seed_state(&rnd, 0x70636970617373ULL);
	for (round = 0; round < ROUNDS; round++) {
		unsigned int ap_first = prandom_u32_state(&rnd) % UNIVERSE;
		unsigned int ap_end = prandom_u32_state(&rnd) % UNIVERSE;
		unsigned int nresv = prandom_u32_state(&rnd) % 8;
		unsigned int i, n, got, want = 0, page;

		if (ap_end < ap_first)
			swap(ap_end, ap_first);
		bitmap_zero(free, UNIVERSE);
		bitmap_set(free, ap_first, ap_end - ap_first + 1);
		for (i = 0; i < nresv; i++) {
			unsigned int a = prandom_u32_state(&rnd) % UNIVERSE;
			unsigned int b = a + prandom_u32_state(&rnd) % 12;

			b = min(b, UNIVERSE - 1);
			resv[i].start = (u64)a * SZ;
			resv[i].last = (u64)(b + 1) * SZ - 1;
			bitmap_clear(free, a, b - a + 1);
		}

		n = pcipass_iova_usable(resv, nresv, (u64)ap_first * SZ,
					(u64)(ap_end + 1) * SZ - 1, out,
					UNIVERSE);
		/* Each maximal run of free pages is one range, in order. */
		got = 0;
		for (page = 0; page < UNIVERSE; page++) {
			unsigned int end;

			if (!test_bit(page, free))
				continue;
			end = find_next_zero_bit(free, UNIVERSE, page);
			if (want < n) {
				KUNIT_EXPECT_EQ_MSG(test, out[want].start,
						    (u64)page * SZ,
						    "round %u range %u", round,
						    want);
				KUNIT_EXPECT_EQ_MSG(test, out[want].last,
						    (u64)end * SZ - 1,
						    "round %u range %u", round,
						    want);
				if (out[want].start == (u64)page * SZ &&
				    out[want].last == (u64)end * SZ - 1)
					got++;
			}
			want++;
			page = end;
		}
		KUNIT_ASSERT_EQ_MSG(test, n, want, "round %u", round);
		KUNIT_ASSERT_EQ_MSG(test, got, want, "round %u", round);
	}
}

/* ---- the interval tree of mappings -------------------------------------- */

#define TREE_PAGES	256
#define TREE_MAPS	48

/* The mappings of the tree that intersect [@start, @last], in order. */
static void tree_expect_range(struct kunit *test, struct rb_root_cached *root,
			      struct pcipass_mapping *maps, unsigned int nmaps,
			      const bool *present, u64 start, u64 last)
{
	struct pcipass_mapping *m, *prev = NULL;
	unsigned int i, want = 0, found = 0;

	for (i = 0; i < nmaps; i++)
		if (present[i] && maps[i].iova_start <= last &&
		    start <= maps[i].iova_last)
			want++;

	for (m = pcipass_mapping_first(root, start, last); m;
	     m = pcipass_mapping_next(m, start, last)) {
		i = m - maps;
		KUNIT_ASSERT_LT(test, i, nmaps);
		KUNIT_EXPECT_TRUE_MSG(test, present[i],
				      "removed mapping %u found", i);
		KUNIT_EXPECT_TRUE_MSG(test, m->iova_start <= last &&
				      start <= m->iova_last,
				      "[%#llx, %#llx] found for [%#llx, %#llx]",
				      m->iova_start, m->iova_last, start, last);
		if (prev)
			KUNIT_EXPECT_LT(test, prev->iova_start, m->iova_start);
		prev = m;
		found++;
		KUNIT_ASSERT_LE(test, found, nmaps);
	}
	KUNIT_EXPECT_EQ_MSG(test, found, want, "mappings in [%#llx, %#llx]",
			    start, last);
}

/* Hand-made: the edges of one mapping, and mappings at the ends of u64. */
static void iova_tree_edges(struct kunit *test)
{
	struct pcipass_mapping maps[3] = {};
	struct rb_root_cached root = RB_ROOT_CACHED;
	const bool present[3] = { true, true, true };

	maps[0].iova_start = SZ;
	maps[0].iova_last = 2 * SZ - 1;
	maps[1].iova_start = 0;
	maps[1].iova_last = SZ - 1;
	maps[2].iova_start = U64_MAX - SZ + 1;
	maps[2].iova_last = U64_MAX;

	KUNIT_EXPECT_NULL(test, pcipass_mapping_first(&root, 0, U64_MAX));
	pcipass_mapping_insert(&root, &maps[0]);
	KUNIT_EXPECT_NULL(test, pcipass_mapping_first(&root, 0, SZ - 1));
	KUNIT_EXPECT_PTR_EQ(test, pcipass_mapping_first(&root, 0, SZ),
			    &maps[0]);
	KUNIT_EXPECT_PTR_EQ(test, pcipass_mapping_first(&root, 2 * SZ - 1,
							2 * SZ - 1), &maps[0]);
	KUNIT_EXPECT_NULL(test, pcipass_mapping_first(&root, 2 * SZ, U64_MAX));
	KUNIT_EXPECT_NULL(test, pcipass_mapping_next(&maps[0], 0, U64_MAX));

	pcipass_mapping_insert(&root, &maps[2]);
	pcipass_mapping_insert(&root, &maps[1]);
	tree_expect_range(test, &root, maps, 3, present, 0, U64_MAX);
	tree_expect_range(test, &root, maps, 3, present, U64_MAX, U64_MAX);
	tree_expect_range(test, &root, maps, 3, present, 0, 0);
	tree_expect_range(test, &root, maps, 3, present, SZ - 1, SZ);
	KUNIT_EXPECT_PTR_EQ(test, pcipass_mapping_first(&root, 0, U64_MAX),
			    &maps[1]);
	KUNIT_EXPECT_PTR_EQ(test, pcipass_mapping_first(&root, U64_MAX,
							U64_MAX), &maps[2]);

	pcipass_mapping_remove(&root, &maps[1]);
	pcipass_mapping_remove(&root, &maps[0]);
	KUNIT_EXPECT_PTR_EQ(test, pcipass_mapping_first(&root, 0, U64_MAX),
			    &maps[2]);
	pcipass_mapping_remove(&root, &maps[2]);
	KUNIT_EXPECT_NULL(test, pcipass_mapping_first(&root, 0, U64_MAX));
	KUNIT_EXPECT_TRUE(test, RB_EMPTY_ROOT(&root.rb_root));
}

/* Random non-overlapping mappings, random queries, random removals. */
static void iova_tree_matches_brute_force(struct kunit *test)
{
	struct rb_root_cached root = RB_ROOT_CACHED;
	struct pcipass_mapping *maps;
	DECLARE_BITMAP(used, TREE_PAGES);
	bool present[TREE_MAPS] = {};
	unsigned int nmaps = 0, i, q, pass;
	struct rnd_state rnd;

	maps = kunit_kcalloc(test, TREE_MAPS, sizeof(*maps), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, maps);
	prandom_seed_state(&rnd, 0x696f7661ULL);
	bitmap_zero(used, TREE_PAGES);

	/* The driver never inserts overlapping mappings: neither do we. */
	for (i = 0; i < 4 * TREE_MAPS && nmaps < TREE_MAPS; i++) {
		unsigned int first = prandom_u32_state(&rnd) % TREE_PAGES;
		unsigned int len = 1 + prandom_u32_state(&rnd) % 8;

		if (first + len > TREE_PAGES ||
		    find_next_bit(used, first + len, first) < first + len)
			continue;
		bitmap_set(used, first, len);
		maps[nmaps].iova_start = (u64)first * SZ;
		maps[nmaps].iova_last = (u64)(first + len) * SZ - 1;
		pcipass_mapping_insert(&root, &maps[nmaps]);
		present[nmaps++] = true;
	}
	KUNIT_ASSERT_GE(test, nmaps, TREE_MAPS / 2);

	for (pass = 0; pass < 3; pass++) {
		for (q = 0; q < 200; q++) {
			u64 a = prandom_u32_state(&rnd) % (TREE_PAGES * SZ + SZ);
			u64 b = prandom_u32_state(&rnd) % (TREE_PAGES * SZ + SZ);

			if (b < a)
				swap(a, b);
			tree_expect_range(test, &root, maps, nmaps, present,
					  a, b);
		}
		tree_expect_range(test, &root, maps, nmaps, present, 0,
				  U64_MAX);
		/* Take out about a third of what is left. */
		for (i = 0; i < nmaps; i++) {
			if (present[i] && prandom_u32_state(&rnd) % 3 == 0) {
				pcipass_mapping_remove(&root, &maps[i]);
				present[i] = false;
			}
		}
	}
	for (i = 0; i < nmaps; i++)
		if (present[i])
			pcipass_mapping_remove(&root, &maps[i]);
	KUNIT_EXPECT_NULL(test, pcipass_mapping_first(&root, 0, U64_MAX));
}

static struct kunit_case iova_test_cases[] = {
	KUNIT_CASE_PARAM(iova_check_range, range_gen_params),
	KUNIT_CASE_PARAM(iova_usable, usable_gen_params),
	KUNIT_CASE(iova_usable_truncates),
	KUNIT_CASE(iova_usable_matches_a_bitmap),
	KUNIT_CASE(iova_tree_edges),
	KUNIT_CASE(iova_tree_matches_brute_force),
	{}
};

static struct kunit_suite iova_suite = {
	.name = "pcipass_iova",
	.test_cases = iova_test_cases,
};

kunit_test_suite(iova_suite);

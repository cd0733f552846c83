// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite pcipass_ids: one entry of the "ids=" module parameter,
 * "vendor:device[:subvendor[:subdevice[:class[:class_mask]]]]" in hex
 * (pcipass_parse_id() in drivers/pcipass/driver.c): the fields and their
 * defaults, the limits of each field, and that a refused entry leaves the
 * caller's ID alone.
 */

#include <kunit/test.h>
#include <linux/mod_devicetable.h>
#include <linux/pci.h>

#include "pcipass.h"

/**
 * struct ids_case - one "ids=" entry and what it must give
 * @str: the entry
 * @ret: 0 or the errno pcipass_parse_id() returns
 * @id: the ID it fills when @ret is 0
 */
struct ids_case {
	const char *str;
	int ret;
	struct pci_device_id id;
};

#define IDS_OK(_str, _v, _d, _sv, _sd, _c, _cm) {			\
	.str = _str,							\
	.id = { .vendor = _v, .device = _d, .subvendor = _sv,		\
		.subdevice = _sd, .class = _c, .class_mask = _cm },	\
}

#define IDS_BAD(_str) { .str = _str, .ret = -EINVAL }

static const struct ids_case ids_cases[] = {
	/* Omitted fields: any subsystem, any class. */
	IDS_OK("1234:11e8", 0x1234, 0x11e8, PCI_ANY_ID, PCI_ANY_ID, 0, 0),
	IDS_OK("8086:10d3:1af4", 0x8086, 0x10d3, 0x1af4, PCI_ANY_ID, 0, 0),
	IDS_OK("8086:10d3:1af4:1100", 0x8086, 0x10d3, 0x1af4, 0x1100, 0, 0),
	IDS_OK("8086:10d3:ffffffff:ffffffff:020000", 0x8086, 0x10d3,
	       PCI_ANY_ID, PCI_ANY_ID, 0x020000, 0),
	IDS_OK("8086:10d3:ffffffff:ffffffff:020000:ffff00", 0x8086, 0x10d3,
	       PCI_ANY_ID, PCI_ANY_ID, 0x020000, 0xffff00),
	/* Hex in any case, with leading zeroes, at the limits. */
	IDS_OK("ABCD:ef01", 0xabcd, 0xef01, PCI_ANY_ID, PCI_ANY_ID, 0, 0),
	IDS_OK("0001:0002:0003:0004", 1, 2, 3, 4, 0, 0),
	IDS_OK("0:0", 0, 0, PCI_ANY_ID, PCI_ANY_ID, 0, 0),
	IDS_OK("ffff:ffff:ffff:ffff:ffffff:ffffff", 0xffff, 0xffff, 0xffff,
	       0xffff, 0xffffff, 0xffffff),
	IDS_OK("1b36:0010:0:0:010802:ffffff", 0x1b36, 0x0010, 0, 0, 0x010802,
	       0xffffff),
	/* Not enough fields, too many, empty ones. */
	IDS_BAD(""),
	IDS_BAD("1234"),
	IDS_BAD("1234:"),
	IDS_BAD(":11e8"),
	IDS_BAD(":"),
	IDS_BAD("1234::"),
	IDS_BAD("1234:11e8:"),
	IDS_BAD("1234:11e8:1:2:3:4:"),
	IDS_BAD("1234:11e8:1:2:3:4:5"),
	IDS_BAD("1234:11e8,5678:1234"),
	/* Not hex. */
	IDS_BAD("g234:11e8"),
	IDS_BAD("1234:11e8x"),
	IDS_BAD("1234 :11e8"),
	IDS_BAD("-1:11e8"),
	/* Out of range: 16 bits, or any (ffffffff) for the subsystem only. */
	IDS_BAD("10000:11e8"),
	IDS_BAD("1234:10000"),
	IDS_BAD("ffffffff:11e8"),
	IDS_BAD("1234:ffffffff"),
	IDS_BAD("1234:11e8:10000"),
	IDS_BAD("1234:11e8:fffffffe"),
	IDS_BAD("1234:11e8:0:10000"),
	IDS_BAD("1234:11e8:0:0:1000000"),
	IDS_BAD("1234:11e8:0:0:ffffffff"),
	IDS_BAD("1234:11e8:0:0:0:1000000"),
	IDS_BAD("1234:11e8:0:0:0:ffffffff"),
	IDS_BAD("1234:100000000"),
};

static void ids_case_desc(const struct ids_case *t, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "\"%s\"", t->str);
}

KUNIT_ARRAY_PARAM(ids, ids_cases, ids_case_desc);

static void ids_parse(struct kunit *test)
{
	const struct ids_case *t = test->param_value;
	struct pci_device_id id, poison;
	int ret;

	/* A refused entry must leave the ID as it was. */
	memset(&poison, 0x5a, sizeof(poison));
	id = poison;
	ret = pcipass_parse_id(t->str, &id);
	KUNIT_ASSERT_EQ_MSG(test, ret, t->ret, "\"%s\"", t->str);
	if (ret) {
		KUNIT_EXPECT_MEMEQ(test, &id, &poison, sizeof(id));
		return;
	}
	KUNIT_EXPECT_EQ(test, id.vendor, t->id.vendor);
	KUNIT_EXPECT_EQ(test, id.device, t->id.device);
	KUNIT_EXPECT_EQ(test, id.subvendor, t->id.subvendor);
	KUNIT_EXPECT_EQ(test, id.subdevice, t->id.subdevice);
	KUNIT_EXPECT_EQ(test, id.class, t->id.class);
	KUNIT_EXPECT_EQ(test, id.class_mask, t->id.class_mask);
	KUNIT_EXPECT_EQ(test, id.driver_data, 0);
}

/* The caller's string is parsed in a copy: it comes back unchanged. */
static void ids_input_is_not_modified(struct kunit *test)
{
	char str[] = "1234:11e8:ffffffff:ffffffff:020000:ffff00";
	char copy[sizeof(str)];
	struct pci_device_id id;

	memcpy(copy, str, sizeof(str));
	KUNIT_ASSERT_EQ(test, pcipass_parse_id(str, &id), 0);
	KUNIT_EXPECT_STREQ(test, str, copy);
	KUNIT_ASSERT_EQ(test, pcipass_parse_id("1234:11e8:1:2:3:4:5", &id),
			-EINVAL);
}

static struct kunit_case ids_test_cases[] = {
	KUNIT_CASE_PARAM(ids_parse, ids_gen_params),
	KUNIT_CASE(ids_input_is_not_modified),
	{}
};

static struct kunit_suite ids_suite = {
	.name = "pcipass_ids",
	.test_cases = ids_test_cases,
};

kunit_test_suite(ids_suite);

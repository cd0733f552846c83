// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite pcipass_uapi: the conventions every ioctl follows
 * (include/uapi/linux/pcipass.h, "General ioctl format"), checked against
 * a table written from the UAPI header, not from the driver's own table:
 *
 *  - each ioctl number exists on one kind of file only (context or device
 *    file), is _IO(PCIPASS_TYPE, nr), and nothing else is an ioctl;
 *  - the size rule: below the first version of the structure is EINVAL,
 *    above a page is E2BIG, anything in between goes on;
 *  - the flags rule: a bit the ioctl does not know is EOPNOTSUPP;
 *  - the structures' sizes, which are ABI and never change.
 */

#include <kunit/test.h>
#include <linux/ioctl.h>
#include <linux/limits.h>
#include <linux/mm.h>
#include <linux/pcipass.h>

#include "pcipass.h"

/**
 * struct uapi_ioctl - what the UAPI header says about one ioctl
 * @name: the ioctl's name
 * @cmd: its number
 * @device: made on a device file (else on a context)
 * @abi_size: sizeof() its structure in bytes, written out: the ABI
 * @struct_size: sizeof() its structure as compiled
 * @first_size: size of the first version of the structure
 * @flags: the flags the header defines for it
 */
struct uapi_ioctl {
	const char *name;
	unsigned int cmd;
	bool device;
	u32 abi_size;
	u32 struct_size;
	u32 first_size;
	u32 flags;
};

#define UAPI_IOCTL(_cmd, _dev, _struct, _abi, _first, _flags) {		\
	.name = #_cmd, .cmd = _cmd, .device = _dev, .abi_size = _abi,	\
	.struct_size = sizeof(_struct), .first_size = _first,		\
	.flags = _flags,						\
}

/* Sizes in bytes: now, and of the first version. */
static const struct uapi_ioctl uapi_ioctls[] = {
	UAPI_IOCTL(PCIPASS_GET_API_VERSION, false, struct pcipass_api_version,
		   16, 16, 0),
	UAPI_IOCTL(PCIPASS_GET_INFO, false, struct pcipass_info,
		   40, 32, 0),
	UAPI_IOCTL(PCIPASS_DEVICE_ATTACH, false, struct pcipass_device_attach,
		   24, 24, 0),
	UAPI_IOCTL(PCIPASS_DEVICE_DETACH, false, struct pcipass_device_detach,
		   16, 16, 0),
	UAPI_IOCTL(PCIPASS_DMA_MAP, false, struct pcipass_dma_map,
		   48, 32, PCIPASS_DMA_MAP_READ | PCIPASS_DMA_MAP_WRITE |
		   PCIPASS_DMA_MAP_FILE),
	UAPI_IOCTL(PCIPASS_DMA_UNMAP, false, struct pcipass_dma_unmap,
		   24, 24, PCIPASS_DMA_UNMAP_ALL),
	UAPI_IOCTL(PCIPASS_IOVA_RANGES, false, struct pcipass_iova_ranges,
		   24, 24, 0),
	UAPI_IOCTL(PCIPASS_DEVICE_GET_INFO, true, struct pcipass_device_info,
		   32, 32, 0),
	UAPI_IOCTL(PCIPASS_DEVICE_GET_IRQ_INFO, true, struct pcipass_irq_info,
		   24, 24, 0),
	UAPI_IOCTL(PCIPASS_DEVICE_SET_IRQS, true, struct pcipass_irq_set,
		   32, 32,
		   PCIPASS_IRQ_SET_ENABLE | PCIPASS_IRQ_SET_DISABLE |
		   PCIPASS_IRQ_SET_EVENTFD | PCIPASS_IRQ_SET_TRIGGER |
		   PCIPASS_IRQ_SET_MASK | PCIPASS_IRQ_SET_UNMASK |
		   PCIPASS_IRQ_SET_UNMASK_EVENTFD),
	UAPI_IOCTL(PCIPASS_DEVICE_GET_REGION_INFO, true,
		   struct pcipass_region_info, 32, 32, 0),
	UAPI_IOCTL(PCIPASS_DEVICE_RESET, true, struct pcipass_device_reset,
		   8, 8, 0),
	UAPI_IOCTL(PCIPASS_DEVICE_HOT_RESET_INFO, true,
		   struct pcipass_device_hot_reset_info, 24, 24, 0),
	UAPI_IOCTL(PCIPASS_DEVICE_HOT_RESET, true,
		   struct pcipass_device_hot_reset, 8, 8, 0),
	UAPI_IOCTL(PCIPASS_DEVICE_ERR_INFO, true,
		   struct pcipass_device_err_info, 40, 40, 0),
};

static void uapi_ioctl_desc(const struct uapi_ioctl *t, char *desc)
{
	strscpy(desc, t->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(uapi_ioctl, uapi_ioctls, uapi_ioctl_desc);

static const struct pcipass_ioctl_op *uapi_op(struct kunit *test,
					      const struct uapi_ioctl *t)
{
	const struct pcipass_ioctl_op *op = pcipass_ioctl_lookup(t->device,
								 t->cmd);

	KUNIT_ASSERT_NOT_NULL_MSG(test, op, "%s is not in the %s table",
				  t->name, t->device ? "device" : "context");
	return op;
}

/* The structure has the size the ABI fixed, and the driver knows it. */
static void uapi_structure_size_is_abi(struct kunit *test)
{
	const struct uapi_ioctl *t = test->param_value;
	const struct pcipass_ioctl_op *op = uapi_op(test, t);

	KUNIT_EXPECT_EQ(test, t->struct_size, t->abi_size);
	KUNIT_EXPECT_EQ(test, op->size, t->abi_size);
	KUNIT_EXPECT_EQ(test, op->min_size, t->first_size);
	KUNIT_EXPECT_NOT_NULL(test, op->handler);
	/* The numbering: context ioctls from 0x00, device ioctls from 0x40. */
	KUNIT_EXPECT_EQ(test, _IOC_TYPE(t->cmd), PCIPASS_TYPE);
	KUNIT_EXPECT_EQ(test, _IOC_SIZE(t->cmd), 0);
	KUNIT_EXPECT_EQ(test, _IOC_DIR(t->cmd), _IOC_NONE);
	KUNIT_EXPECT_EQ(test, _IOC_NR(t->cmd) >= 0x40, t->device);
}

/* An ioctl of one kind of file is ENOTTY on the other kind. */
static void uapi_ioctl_is_on_its_file_only(struct kunit *test)
{
	const struct uapi_ioctl *t = test->param_value;

	uapi_op(test, t);
	KUNIT_EXPECT_NULL_MSG(test, pcipass_ioctl_lookup(!t->device, t->cmd),
			      "%s is also an ioctl of %s files", t->name,
			      t->device ? "context" : "device");
}

/* Size and direction bits make a different number: not an ioctl. */
static void uapi_encoded_sizes_are_not_ioctls(struct kunit *test)
{
	const struct uapi_ioctl *t = test->param_value;
	unsigned int nr = _IOC_NR(t->cmd);
	const unsigned int variants[] = {
		_IOC(_IOC_READ, PCIPASS_TYPE, nr, t->abi_size),
		_IOC(_IOC_WRITE, PCIPASS_TYPE, nr, t->abi_size),
		_IOC(_IOC_READ | _IOC_WRITE, PCIPASS_TYPE, nr, t->abi_size),
		_IOC(_IOC_NONE, PCIPASS_TYPE, nr, t->abi_size),
		_IO(PCIPASS_TYPE + 1, nr),
		_IO(PCIPASS_TYPE - 1, nr),
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(variants); i++)
		KUNIT_EXPECT_NULL_MSG(test,
				      pcipass_ioctl_lookup(t->device,
							   variants[i]),
				      "%s: %#x is taken for an ioctl", t->name,
				      variants[i]);
}

/* Below the first version: EINVAL; up to a page: on; above: E2BIG. */
static void uapi_size_rule(struct kunit *test)
{
	const struct uapi_ioctl *t = test->param_value;
	const struct pcipass_ioctl_op *op = uapi_op(test, t);
	const struct {
		u32 size;
		int ret;
	} sizes[] = {
		{ 0, -EINVAL },
		{ 4, -EINVAL },
		{ 8, t->first_size > 8 ? -EINVAL : 0 },
		{ t->first_size - 1, -EINVAL },
		{ t->first_size, 0 },
		{ t->abi_size, 0 },
		/* A newer user-space header: a larger structure. */
		{ t->abi_size + 1, 0 },
		{ t->abi_size + 8, 0 },
		{ PAGE_SIZE - 1, 0 },
		{ PAGE_SIZE, 0 },
		{ PAGE_SIZE + 1, -E2BIG },
		{ 2 * PAGE_SIZE, -E2BIG },
		{ S32_MAX, -E2BIG },
		{ U32_MAX, -E2BIG },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		KUNIT_EXPECT_EQ_MSG(test, pcipass_ioctl_check_size(op,
								   sizes[i].size),
				    sizes[i].ret, "%s with size %u", t->name,
				    sizes[i].size);
}

/* Every bit the header defines is accepted, every other one refused. */
static void uapi_flags_rule(struct kunit *test)
{
	const struct uapi_ioctl *t = test->param_value;
	const struct pcipass_ioctl_op *op = uapi_op(test, t);
	unsigned int bit;

	KUNIT_EXPECT_EQ(test, op->valid_flags, t->flags);
	KUNIT_EXPECT_EQ(test, pcipass_ioctl_check_flags(op, 0), 0);
	KUNIT_EXPECT_EQ(test, pcipass_ioctl_check_flags(op, t->flags), 0);
	KUNIT_EXPECT_EQ(test, pcipass_ioctl_check_flags(op, U32_MAX),
			-EOPNOTSUPP);
	for (bit = 0; bit < 32; bit++) {
		u32 flag = BIT(bit);
		int want = (t->flags & flag) ? 0 : -EOPNOTSUPP;

		KUNIT_EXPECT_EQ_MSG(test, pcipass_ioctl_check_flags(op, flag),
				    want, "%s with flags %#x", t->name, flag);
		/* An unknown bit next to known ones is still refused. */
		KUNIT_EXPECT_EQ_MSG(test,
				    pcipass_ioctl_check_flags(op,
							      t->flags | flag),
				    want, "%s with flags %#x", t->name,
				    t->flags | flag);
	}
}

/* Exactly the numbers of the table are ioctls, on each kind of file. */
static void uapi_only_the_header_numbers_are_ioctls(struct kunit *test)
{
	unsigned int nr, i, found;
	int dev;

	for (dev = 0; dev <= 1; dev++) {
		found = 0;
		for (nr = 0; nr <= _IOC_NRMASK; nr++) {
			bool want = false;

			for (i = 0; i < ARRAY_SIZE(uapi_ioctls); i++)
				if (uapi_ioctls[i].device == dev &&
				    _IOC_NR(uapi_ioctls[i].cmd) == nr)
					want = true;
			if (pcipass_ioctl_lookup(dev, _IO(PCIPASS_TYPE, nr)))
				found++;
			KUNIT_EXPECT_EQ_MSG(test,
					    !!pcipass_ioctl_lookup(dev,
								   _IO(PCIPASS_TYPE, nr)),
					    want, "%s file, nr %#x",
					    dev ? "device" : "context", nr);
		}
		/* Seven context ioctls, eight device ioctls. */
		KUNIT_EXPECT_EQ(test, found, dev ? 8 : 7);
	}
	/* Not even a well-formed number of another driver. */
	KUNIT_EXPECT_NULL(test, pcipass_ioctl_lookup(false, 0));
	KUNIT_EXPECT_NULL(test, pcipass_ioctl_lookup(false, U32_MAX));
	KUNIT_EXPECT_NULL(test, pcipass_ioctl_lookup(true, U32_MAX));
}

static struct kunit_case uapi_cases[] = {
	KUNIT_CASE_PARAM(uapi_structure_size_is_abi, uapi_ioctl_gen_params),
	KUNIT_CASE_PARAM(uapi_ioctl_is_on_its_file_only, uapi_ioctl_gen_params),
	KUNIT_CASE_PARAM(uapi_encoded_sizes_are_not_ioctls,
			 uapi_ioctl_gen_params),
	KUNIT_CASE_PARAM(uapi_size_rule, uapi_ioctl_gen_params),
	KUNIT_CASE_PARAM(uapi_flags_rule, uapi_ioctl_gen_params),
	KUNIT_CASE(uapi_only_the_header_numbers_are_ioctls),
	{}
};

static struct kunit_suite uapi_suite = {
	.name = "pcipass_uapi",
	.test_cases = uapi_cases,
};

kunit_test_suite(uapi_suite);

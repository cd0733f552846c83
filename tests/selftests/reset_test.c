// SPDX-License-Identifier: GPL-2.0
/*
 * Resets that tell the truth, and the hot reset of a bus: two pci-testdev
 * functions behind the iommu VM's root port (01:00.0, 01:00.1), whose only
 * reset is a secondary bus reset of both, as a GPU and its HDMI audio; the
 * root port (on pcieport) is in their IOMMU group, as with most GPUs.
 *
 * A reset is seen in the device: writing 0 to BAR0 offset 0 selects
 * pci-testdev's first MMIO test, whose header (its name at offset 16)
 * BAR0 then reads; a reset deselects it and BAR0 reads 0.
 * Each test takes a second or two.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "pcipass_util.h"

#define BAR0(off)	(PCIPASS_REGION_OFFSET(PCIPASS_REGION_BAR0) + (off))
#define TESTDEV_NAME	16	/* offset of the selected test's name */

/* Select pci-testdev's MMIO test 0: its name becomes readable. */
static int testdev_select(int dev)
{
	__u32 zero = 0;

	return pwrite(dev, &zero, 4, BAR0(0)) == 4 ? 0 : -errno;
}

static __u32 testdev_name(int dev)
{
	__u32 v = 0xdeadbeef;

	if (pread(dev, &v, 4, BAR0(TESTDEV_NAME)) != 4)
		return 0xdeadbeef;
	return v;
}

static __u32 dev_caps(int dev)
{
	struct pcipass_device_info info = { .size = sizeof(info) };

	if (pp_ioctl(dev, PCIPASS_DEVICE_GET_INFO, &info))
		return 0;
	return info.caps;
}

static int hot_reset_info(int dev, struct pcipass_device_hot_reset_info *hi,
			  struct pcipass_hot_reset_dev *devs, __u32 room)
{
	memset(hi, 0, sizeof(*hi));
	hi->size = sizeof(*hi);
	hi->num_devices = room;
	hi->devices = (__u64)(unsigned long)devs;
	return pp_ioctl(dev, PCIPASS_DEVICE_HOT_RESET_INFO, hi);
}

static int hot_reset(int dev)
{
	struct pcipass_device_hot_reset hr = { .size = sizeof(hr) };

	return pp_ioctl(dev, PCIPASS_DEVICE_HOT_RESET, &hr);
}

FIXTURE(pair) {
	const char *a0;
	const char *a1;
	int ctx;
	int dev0;
	int dev1;
	int kmsg;
};

FIXTURE_SETUP(pair)
{
	self->a0 = pp_pair0_addr();
	self->a1 = pp_pair1_addr();
	self->ctx = -1;
	self->dev0 = -1;
	self->dev1 = -1;
	self->kmsg = -1;
	if (!pp_vm_is("iommu"))
		SKIP(return, "the device pair is in the iommu VM");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_TRUE(pp_claim(self->a0));
	ASSERT_TRUE(pp_claim(self->a1));
	self->kmsg = pp_kmsg_open();
	ASSERT_LE(0, self->kmsg);
	self->ctx = open(PP_DEV_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ctx);
	ASSERT_EQ(0, pp_attach(self->ctx, self->a0, &self->dev0));
}

FIXTURE_TEARDOWN(pair)
{
	if (self->dev1 >= 0)
		close(self->dev1);
	if (self->dev0 >= 0)
		close(self->dev0);
	if (self->ctx >= 0)
		close(self->ctx);
	if (self->kmsg >= 0) {
		/* Neither attach nor detach tried a reset that cannot work. */
		EXPECT_FALSE(pp_kmsg_find(self->kmsg, "reset on attach failed"));
		EXPECT_FALSE(pp_kmsg_find(self->kmsg, "reset on detach failed"));
		close(self->kmsg);
	}
	if (pp_vm_is("iommu")) {
		pp_dev_rebind(self->a1, "");
		pp_dev_rebind(self->a0, "");
	}
}

/*
 * The GPU layout: the root port, on pcieport, shares the functions' IOMMU
 * group, and the fixture's attach of function 0 worked all the same.
 */
TEST_F(pair, root_port_on_pcieport_keeps_the_group_viable)
{
	char link[256], g0[256], gb[256], drv[64];
	ssize_t n;

	snprintf(link, sizeof(link), PP_SYSFS_PCI "/%s/iommu_group", self->a0);
	n = readlink(link, g0, sizeof(g0) - 1);
	ASSERT_LT(0, n);
	g0[n] = '\0';
	snprintf(link, sizeof(link), PP_SYSFS_PCI "/%s/iommu_group",
		 pp_bridge_addr());
	n = readlink(link, gb, sizeof(gb) - 1);
	ASSERT_LT(0, n);
	gb[n] = '\0';
	/* The links' depths differ: compare the group numbers. */
	EXPECT_STREQ(strrchr(gb, '/'), strrchr(g0, '/'));
	ASSERT_EQ(0, pp_dev_driver(pp_bridge_addr(), drv, sizeof(drv)));
	EXPECT_STREQ("pcieport", drv);
	EXPECT_LE(0, self->dev0);
	EXPECT_FALSE(pp_kmsg_find(self->kmsg, "is not viable"));
}

/* Function 0's "bus" reset method is refused with function 1 on the bus. */
TEST_F(pair, reset_available_only_when_it_works)
{
	struct pcipass_device_reset reset = { .size = sizeof(reset) };
	__u32 caps = dev_caps(self->dev0);

	EXPECT_EQ(0, caps & PCIPASS_DEVICE_RESET_AVAILABLE);
	EXPECT_EQ(PCIPASS_DEVICE_HOT_RESET_AVAILABLE,
		  caps & PCIPASS_DEVICE_HOT_RESET_AVAILABLE);
	EXPECT_EQ(EOPNOTSUPP, pp_ioctl(self->dev0, PCIPASS_DEVICE_RESET, &reset));
}

TEST_F(pair, hot_reset_info_lists_the_bus)
{
	struct pcipass_device_hot_reset_info hi;
	struct pcipass_hot_reset_dev devs[4];
	struct pcipass_pci_addr a0, a1;

	ASSERT_EQ(0, pp_parse_addr(self->a0, &a0));
	ASSERT_EQ(0, pp_parse_addr(self->a1, &a1));

	/* Too small: the number needed, nothing else written. */
	memset(devs, 0xa5, sizeof(devs));
	EXPECT_EQ(EMSGSIZE, hot_reset_info(self->dev0, &hi, devs, 1));
	EXPECT_EQ(2, hi.num_devices);
	EXPECT_EQ(0, hi.info_flags & PCIPASS_HOT_RESET_ALL_ATTACHED);
	EXPECT_EQ(0xa5a5, devs[0].vendor);

	ASSERT_EQ(0, hot_reset_info(self->dev0, &hi, devs, 4));
	ASSERT_EQ(2, hi.num_devices);
	EXPECT_EQ(0, hi.info_flags & PCIPASS_HOT_RESET_ALL_ATTACHED);
	EXPECT_EQ(0, memcmp(&a0, &devs[0].addr, sizeof(a0)));
	EXPECT_EQ(0, memcmp(&a1, &devs[1].addr, sizeof(a1)));
	EXPECT_EQ(0x1b36, devs[0].vendor);
	EXPECT_EQ(0x0005, devs[1].device);
	EXPECT_EQ(PCIPASS_HOT_RESET_DEV_ATTACHED, devs[0].dev_flags);
	/* Function 1 is in the group the context owns through function 0. */
	EXPECT_EQ(PCIPASS_HOT_RESET_DEV_GROUP_OWNED, devs[1].dev_flags);
	EXPECT_EQ(PCIPASS_HOT_RESET_ALLOWED,
		  hi.info_flags & PCIPASS_HOT_RESET_ALLOWED);

	/* Bad input. */
	hi.flags = 1;
	EXPECT_EQ(EOPNOTSUPP, pp_ioctl(self->dev0, PCIPASS_DEVICE_HOT_RESET_INFO,
				       &hi));
	EXPECT_EQ(EFAULT, hot_reset_info(self->dev0, &hi,
					 (struct pcipass_hot_reset_dev *)8, 4));

	/* Both attached: the set is complete. */
	ASSERT_EQ(0, pp_attach(self->ctx, self->a1, &self->dev1));
	ASSERT_EQ(0, hot_reset_info(self->dev1, &hi, devs, 4));
	EXPECT_EQ(PCIPASS_HOT_RESET_ALL_ATTACHED,
		  hi.info_flags & PCIPASS_HOT_RESET_ALL_ATTACHED);
	EXPECT_EQ(PCIPASS_HOT_RESET_DEV_ATTACHED, devs[0].dev_flags);
	EXPECT_EQ(PCIPASS_HOT_RESET_DEV_ATTACHED, devs[1].dev_flags);
}

/*
 * A function of the context's IOMMU group that the VMM did not attach (a
 * GPU's HDMI audio): no other context can have it, so the hot reset
 * resets it too, as vfio-pci does for a group the user holds.
 */
TEST_F(pair, hot_reset_includes_an_unattached_function_of_the_group)
{
	int ctx2, dev = -1;

	ASSERT_EQ(0, pp_attach(self->ctx, self->a1, &self->dev1));
	ASSERT_EQ(0, testdev_select(self->dev0));
	ASSERT_EQ(0, testdev_select(self->dev1));
	ASSERT_EQ(0, pp_detach(self->ctx, self->a1));
	close(self->dev1);
	self->dev1 = -1;

	/* Another context cannot take function 1: the group is this one's. */
	ctx2 = open(PP_DEV_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, ctx2);
	EXPECT_EQ(EBUSY, pp_attach(ctx2, self->a1, &dev));
	if (dev >= 0)
		close(dev);
	close(ctx2);
	EXPECT_NE(0, testdev_name(self->dev0));

	ASSERT_EQ(0, hot_reset(self->dev0));
	EXPECT_EQ(0, testdev_name(self->dev0));
	/* Function 1 was reset with it. */
	ASSERT_EQ(0, pp_attach(self->ctx, self->a1, &self->dev1));
	EXPECT_EQ(0, testdev_name(self->dev1));
}

TEST_F(pair, hot_reset_resets_the_bus_and_restores_config)
{
	__u8 before0[64], before1[64], after0[64], after1[64];

	ASSERT_EQ(0, pp_attach(self->ctx, self->a1, &self->dev1));
	ASSERT_EQ(0, testdev_select(self->dev0));
	ASSERT_EQ(0, testdev_select(self->dev1));
	ASSERT_NE(0, testdev_name(self->dev0));
	ASSERT_NE(0, testdev_name(self->dev1));
	ASSERT_EQ(0, pp_dev_config_read(self->a0, 0, before0, 64));
	ASSERT_EQ(0, pp_dev_config_read(self->a1, 0, before1, 64));

	ASSERT_EQ(0, hot_reset(self->dev1));

	/* Both functions were reset... */
	EXPECT_EQ(0, testdev_name(self->dev0));
	EXPECT_EQ(0, testdev_name(self->dev1));
	/* ...their config space is back (BARs, decoding)... */
	ASSERT_EQ(0, pp_dev_config_read(self->a0, 0, after0, 64));
	ASSERT_EQ(0, pp_dev_config_read(self->a1, 0, after1, 64));
	EXPECT_EQ(0, memcmp(before0, after0, sizeof(before0)));
	EXPECT_EQ(0, memcmp(before1, after1, sizeof(before1)));
	/* ...and they work. */
	EXPECT_EQ(0, testdev_select(self->dev0));
	EXPECT_NE(0, testdev_name(self->dev0));

	/*
	 * After a detach the device file has nothing to reset; function 0
	 * is still in the context's group.
	 */
	ASSERT_EQ(0, pp_detach(self->ctx, self->a0));
	EXPECT_EQ(ENODEV, hot_reset(self->dev0));
	EXPECT_EQ(0, hot_reset(self->dev1));
}

/*
 * Hand-over: what a context left in the pair is gone when the next context
 * attaches it, by a bus reset made as soon as neither function is in use.
 */
TEST_F(pair, handover_resets_the_bus_when_both_are_free)
{
	int ctx2, d0 = -1, d1 = -1;

	ASSERT_EQ(0, pp_attach(self->ctx, self->a1, &self->dev1));
	ASSERT_EQ(0, testdev_select(self->dev0));
	ASSERT_EQ(0, testdev_select(self->dev1));

	/* Function 1 is in use: function 0's detach resets nothing. */
	ASSERT_EQ(0, pp_detach(self->ctx, self->a0));
	EXPECT_NE(0, testdev_name(self->dev1));
	EXPECT_FALSE(pp_kmsg_find(self->kmsg, "reset at hand-over"));

	/* The last one out: both are reset. */
	ASSERT_EQ(0, pp_detach(self->ctx, self->a1));
	EXPECT_TRUE(pp_kmsg_find(self->kmsg,
				 "reset at hand-over: 2 device(s)"));

	ctx2 = open(PP_DEV_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, ctx2);
	EXPECT_EQ(0, pp_attach(ctx2, self->a0, &d0));
	EXPECT_EQ(0, pp_attach(ctx2, self->a1, &d1));
	EXPECT_EQ(0, testdev_name(d0));
	EXPECT_EQ(0, testdev_name(d1));
	EXPECT_FALSE(pp_kmsg_find(self->kmsg, "attached without a reset"));
	if (d1 >= 0)
		close(d1);
	if (d0 >= 0)
		close(d0);
	close(ctx2);
}

/*
 * Closing the context is a hand-over too; a function on no driver keeps
 * the bus from being reset, and the next attach says so.
 */
TEST_F(pair, handover_needs_every_device_idle_on_pcipass)
{
	int ctx2, d0 = -1;

	ASSERT_EQ(0, testdev_select(self->dev0));
	ASSERT_EQ(0, pp_dev_rebind(self->a1, ""));
	close(self->dev0);
	self->dev0 = -1;
	close(self->ctx);
	self->ctx = -1;
	EXPECT_FALSE(pp_kmsg_find(self->kmsg, "reset at hand-over"));

	ctx2 = open(PP_DEV_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, ctx2);
	ASSERT_EQ(0, pp_attach(ctx2, self->a0, &d0));
	EXPECT_NE(0, testdev_name(d0));
	EXPECT_TRUE(pp_kmsg_find(self->kmsg,
				 "attached without a reset since its previous context"));

	/* Function 1 back on pcipass: the next close resets both. */
	ASSERT_TRUE(pp_claim(self->a1));
	close(d0);
	EXPECT_TRUE(pp_kmsg_find(self->kmsg,
				 "reset at hand-over: 2 device(s)"));
	close(ctx2);
}

TEST_HARNESS_MAIN

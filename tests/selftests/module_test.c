// SPDX-License-Identifier: GPL-2.0
/*
 * The pcipass PCI driver as an admin meets it: loading with ids=, claiming
 * through driver_override and new_id, refusing bridges, leaving a claimed
 * device quiet, and unloading cleanly with devices bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "pcipass_util.h"

#define EDU_ID		"1234:11e8"
#define CMD_DECODE_MASK	0x0007	/* I/O, memory, bus master */

static void expect_driver(struct __test_metadata *_metadata,
			  const char *addr, const char *want)
{
	char drv[64] = "?";

	if (!pp_wait_driver(addr, want, 5000))
		pp_dev_driver(addr, drv, sizeof(drv));
	else
		snprintf(drv, sizeof(drv), "%s", want);
	ASSERT_STREQ(want, drv) TH_LOG("%s bound to \"%s\"", addr, drv);
}

TEST(load_with_ids_claims_edu_and_skips_bad_entries)
{
	const char *edu = pp_edu_addr();
	struct stat st;
	int kmsg;

	if (pp_vm_has_iommu() < 0)
		SKIP(return, "not in a pcipass test VM");
	if (pp_module_loaded())
		ASSERT_EQ(0, pp_run("rmmod pcipass"));
	expect_driver(_metadata, edu, "");

	kmsg = pp_kmsg_open();
	ASSERT_LE(0, kmsg);
	ASSERT_EQ(0, pp_run("modprobe pcipass ids=zz:top," EDU_ID ",1234,1:2:3:4:5:6:7"));
	expect_driver(_metadata, edu, "pcipass");
	EXPECT_TRUE(pp_kmsg_find(kmsg, "skipping invalid entry \"zz:top\""));
	close(kmsg);
	kmsg = pp_kmsg_open();
	ASSERT_EQ(0, pp_run("rmmod pcipass"));
	ASSERT_EQ(0, pp_run("modprobe pcipass ids=1234,1:2:3:4:5:6:7," EDU_ID));
	expect_driver(_metadata, edu, "pcipass");
	EXPECT_TRUE(pp_kmsg_find(kmsg, "skipping invalid entry \"1234\""));
	close(kmsg);

	ASSERT_EQ(0, stat(PP_DEV_NODE, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 07777);
}

TEST(claimed_device_has_decoding_and_bus_mastering_off)
{
	const char *edu = pp_edu_addr();
	__u16 before, after;

	if (pp_vm_has_iommu() < 0)
		SKIP(return, "not in a pcipass test VM");
	if (pp_module_loaded())
		ASSERT_EQ(0, pp_run("rmmod pcipass"));
	expect_driver(_metadata, edu, "");
	/* Firmware enabled memory decoding for edu's BAR. */
	before = pp_dev_command(edu);
	ASSERT_NE(0xffff, before);
	EXPECT_NE(0, before & 0x2) TH_LOG("command %#x before claim", before);

	ASSERT_EQ(0, pp_run("modprobe pcipass ids=" EDU_ID));
	expect_driver(_metadata, edu, "pcipass");
	after = pp_dev_command(edu);
	EXPECT_EQ(0, after & CMD_DECODE_MASK) TH_LOG("command %#x", after);

	/* Unloading gives decoding back, never bus mastering. */
	ASSERT_EQ(0, pp_run("rmmod pcipass"));
	after = pp_dev_command(edu);
	EXPECT_EQ(before & 0x3, after & CMD_DECODE_MASK)
		TH_LOG("command %#x after unload", after);
}

/* Tests that rebind drivers: minutes on the debug kernel under load. */
FIXTURE(slow) {
	int unused;
};

FIXTURE_SETUP(slow)
{
}

FIXTURE_TEARDOWN(slow)
{
}

TEST_F_TIMEOUT(slow, driver_override_moves_nvme_and_back, 300)
{
	const char *nvme = pp_nvme_addr();
	char sector[16] = "";
	int fd;

	if (pp_vm_has_iommu() < 0)
		SKIP(return, "not in a pcipass test VM");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_EQ(0, pp_run("modprobe nvme"));
	ASSERT_EQ(0, pp_dev_rebind(nvme, ""));
	expect_driver(_metadata, nvme, "nvme");
	ASSERT_TRUE(pp_wait_path("/sys/block/nvme0n1", true, 10000));

	ASSERT_EQ(0, pp_dev_rebind(nvme, "pcipass"));
	expect_driver(_metadata, nvme, "pcipass");
	EXPECT_TRUE(pp_wait_path("/sys/block/nvme0n1", false, 5000));
	EXPECT_EQ(0, pp_dev_command(nvme) & CMD_DECODE_MASK);

	ASSERT_EQ(0, pp_dev_rebind(nvme, ""));
	expect_driver(_metadata, nvme, "nvme");
	ASSERT_TRUE(pp_wait_path("/sys/block/nvme0n1", true, 10000));
	ASSERT_TRUE(pp_wait_path("/dev/nvme0n1", true, 5000));

	/* The nvme driver works again: the disk's first bytes read back. */
	fd = open("/dev/nvme0n1", O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ((ssize_t)sizeof(sector), read(fd, sector, sizeof(sector)));
	close(fd);
}

TEST(new_id_claims_an_unbound_device)
{
	const char *serial = pp_serial_addr();
	char orig[64];

	if (pp_vm_has_iommu() < 0)
		SKIP(return, "not in a pcipass test VM");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_EQ(0, pp_dev_driver(serial, orig, sizeof(orig)));

	if (*orig) {
		char path[256];

		snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s/driver/unbind",
			 serial);
		ASSERT_EQ(0, pp_write_file(path, serial));
	}
	ASSERT_EQ(0, pp_write_file("/sys/bus/pci/drivers/pcipass/new_id",
				   "1b36 0002"));
	expect_driver(_metadata, serial, "pcipass");
	EXPECT_EQ(0, pp_dev_command(serial) & CMD_DECODE_MASK);

	ASSERT_EQ(0, pp_write_file("/sys/bus/pci/drivers/pcipass/remove_id",
				   "1b36 0002"));
	ASSERT_EQ(0, pp_dev_rebind(serial, ""));
	expect_driver(_metadata, serial, orig);
}

TEST(bridge_is_refused)
{
	const char *bridge = pp_bridge_addr();
	char orig[64];
	int kmsg;

	if (pp_vm_has_iommu() < 0)
		SKIP(return, "not in a pcipass test VM");
	ASSERT_EQ(0, pp_module_ensure());
	if (pp_dev_driver(bridge, orig, sizeof(orig)))
		SKIP(return, "no bridge at %s", bridge);

	kmsg = pp_kmsg_open();
	ASSERT_EQ(0, pp_dev_rebind(bridge, "pcipass"));
	expect_driver(_metadata, bridge, "");
	EXPECT_TRUE(pp_kmsg_find(kmsg, "is not a type-0 endpoint header"));
	close(kmsg);

	ASSERT_EQ(0, pp_dev_rebind(bridge, ""));
	expect_driver(_metadata, bridge, orig);
}

TEST(unload_with_devices_bound_and_contexts_closed)
{
	const char *edu = pp_edu_addr();
	const char *nvme = pp_nvme_addr();
	int fd;

	if (pp_vm_has_iommu() < 0)
		SKIP(return, "not in a pcipass test VM");
	ASSERT_EQ(0, pp_module_reload("ids=" EDU_ID));
	ASSERT_EQ(0, pp_run("modprobe nvme"));
	ASSERT_EQ(0, pp_dev_rebind(nvme, "pcipass"));
	expect_driver(_metadata, nvme, "pcipass");
	expect_driver(_metadata, edu, "pcipass");

	fd = open(PP_DEV_NODE, O_RDWR);
	ASSERT_LE(0, fd);
	/* An open context holds the module. */
	EXPECT_NE(0, pp_run("rmmod pcipass 2>/dev/null"));
	close(fd);

	ASSERT_EQ(0, pp_run("rmmod pcipass"));
	EXPECT_FALSE(pp_module_loaded());
	EXPECT_FALSE(pp_path_exists(PP_DEV_NODE));
	expect_driver(_metadata, edu, "");
	expect_driver(_metadata, nvme, "");

	/* The devices are usable by their own drivers again. */
	ASSERT_EQ(0, pp_dev_rebind(nvme, ""));
	expect_driver(_metadata, nvme, "nvme");
	EXPECT_TRUE(pp_wait_path("/sys/block/nvme0n1", true, 10000));

	ASSERT_EQ(0, pp_module_ensure());
}

TEST_HARNESS_MAIN

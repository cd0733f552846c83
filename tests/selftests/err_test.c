// SPDX-License-Identifier: GPL-2.0
/*
 * Error reports (PCIPASS_IRQ_ERR, PCIPASS_DEVICE_ERR_INFO): AER errors of
 * an attached device, injected with the kernel's aer_inject
 * (/dev/aer_inject, CONFIG_PCIEAER_INJECT), reach the VMM's eventfd, and
 * the device reports what the PCI core's recovery did:
 *
 *  - a correctable error is counted, not signalled;
 *  - an uncorrectable non-fatal one is signalled twice (reported,
 *    recovered), without a reset;
 *  - a fatal one is signalled twice, the link is reset and the device's
 *    BARs are back where they were;
 *  - the same eventfd through the VFIO layer's error index;
 *  - the errno contract, and nothing left once the device file is closed.
 *
 * Needs the nointremap VM's e1000e behind its own root port
 * (PCIPASS_AER): both have the AER capability. Skips on a kernel without
 * AER or aer_inject (the debug kernel has neither).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "kselftest_harness.h"
#include "pcipass_util.h"

#define AER_INJECT	"/dev/aer_inject"
#define VFIO_DIR	"/dev/pcipass-vfio"

/* drivers/pci/pcie/aer_inject.c: what a write to /dev/aer_inject takes. */
struct aer_error_inj {
	__u8 bus;
	__u8 dev;
	__u8 fn;
	__u32 uncor_status;
	__u32 cor_status;
	__u32 header_log0;
	__u32 header_log1;
	__u32 header_log2;
	__u32 header_log3;
	__u32 domain;
};

/* QEMU's default severities: Unsupported Request non-fatal, MTLP fatal. */
#define ERR_NONFATAL	PCI_ERR_UNC_UNSUP
#define ERR_FATAL	PCI_ERR_UNC_MALF_TLP
#define ERR_COR		PCI_ERR_COR_BAD_TLP

static const char *aer_addr(void)
{
	return pp_env("PCIPASS_AER", "none");
}

/* Inject one error into @addr; 0, an errno, or -1 for a bad address. */
static int inject(const char *addr, __u32 uncor, __u32 cor)
{
	struct pcipass_pci_addr a;
	struct aer_error_inj e = { 0 };
	int fd, ret = 0;

	if (pp_parse_addr(addr, &a))
		return -1;
	e.domain = a.segment;
	e.bus = a.bus;
	e.dev = a.device;
	e.fn = a.function;
	e.uncor_status = uncor;
	e.cor_status = cor;
	fd = open(AER_INJECT, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (write(fd, &e, sizeof(e)) != sizeof(e))
		ret = errno;
	close(fd);
	return ret;
}

static int err_info(int dev, struct pcipass_device_err_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return pp_ioctl(dev, PCIPASS_DEVICE_ERR_INFO, info);
}

/* Poll ERR_INFO until @done says the report arrived; false on timeout. */
static bool wait_info(int dev, struct pcipass_device_err_info *info,
		      bool (*done)(const struct pcipass_device_err_info *))
{
	long end = pp_now_ms() + pp_bound_ms(5000);

	do {
		if (!err_info(dev, info) && done(info))
			return true;
		usleep(20000);
	} while (pp_now_ms() < end);
	return false;
}

static bool cor_seen(const struct pcipass_device_err_info *i)
{
	return i->correctable > 0;
}

static bool recovery_ended(const struct pcipass_device_err_info *i)
{
	return i->result != PCIPASS_ERR_RESULT_NONE &&
	       i->result != PCIPASS_ERR_RESULT_RECOVERING;
}

/* Everything the eventfd counts within @ms of quiet. */
static __u64 efd_drain(int efd, int ms)
{
	__u64 total = 0, n;

	while ((n = pp_efd_wait(efd, ms)))
		total += n;
	return total;
}

/* BAR0 as the host assigned it, from sysfs config (not the device file). */
static __u32 host_bar0(const char *addr)
{
	__u32 bar = 0;

	if (pp_dev_config_read(addr, PCI_BASE_ADDRESS_0, &bar, sizeof(bar)))
		return 0;
	return bar;
}

FIXTURE(err) {
	int ctx;
	int dev;
	int efd;
};

FIXTURE_SETUP(err)
{
	char path[256];
	__s32 fd;

	self->ctx = -1;
	self->dev = -1;
	self->efd = -1;
	if (!strcmp(aer_addr(), "none"))
		SKIP(return, "no AER device in this VM (nointremap has one)");
	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s/aer_dev_correctable",
		 aer_addr());
	if (!pp_path_exists(path))
		SKIP(return, "the kernel has no AER (CONFIG_PCIEAER)");
	if (!pp_path_exists(AER_INJECT) && pp_run("modprobe aer_inject"))
		SKIP(return, "no aer_inject (CONFIG_PCIEAER_INJECT)");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_TRUE(pp_claim(aer_addr()));
	self->ctx = open(PP_DEV_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ctx);
	ASSERT_EQ(0, pp_attach(self->ctx, aer_addr(), &self->dev));
	self->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, self->efd);
	fd = self->efd;
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_EVENTFD,
				PCIPASS_IRQ_ERR, 0, 1, &fd));
}

FIXTURE_TEARDOWN(err)
{
	if (self->dev >= 0)
		close(self->dev);
	if (self->ctx >= 0)
		close(self->ctx);
	if (self->efd >= 0)
		close(self->efd);
	if (strcmp(aer_addr(), "none"))
		pp_dev_rebind(aer_addr(), "");
}

TEST_F(err, irq_info_feature_and_errnos)
{
	struct pcipass_irq_info irq = { .size = sizeof(irq),
					.type = PCIPASS_IRQ_ERR };
	struct pcipass_device_err_info info;
	struct pcipass_info ci;
	__s32 fd = self->efd;

	ASSERT_EQ(0, pp_ctx_info(self->ctx, &ci));
	EXPECT_TRUE(ci.features & PCIPASS_FEATURE_ERR_REPORT);

	/* One vector, always there: only EVENTFD, DISABLE and TRIGGER. */
	EXPECT_EQ(NULL, pp_event_irq_contract(self->dev, PCIPASS_IRQ_ERR,
					      self->efd));
	/* After DISABLE nothing reaches the eventfd. */
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_DISABLE,
				PCIPASS_IRQ_ERR, 0, 0, NULL));
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_TRIGGER,
				PCIPASS_IRQ_ERR, 0, 1, NULL));
	EXPECT_EQ(0, pp_efd_wait(self->efd, 100));
	ASSERT_EQ(0, pp_ioctl(self->dev, PCIPASS_DEVICE_GET_IRQ_INFO, &irq));
	EXPECT_EQ(0, irq.info_flags & PCIPASS_IRQ_INFO_ENABLED);

	/* Nothing reported yet; the struct's rules. */
	ASSERT_EQ(0, err_info(self->dev, &info));
	EXPECT_EQ(0, info.correctable + info.nonfatal + info.fatal +
		  info.resets + info.recoveries);
	EXPECT_EQ(PCIPASS_ERR_CHANNEL_NONE, info.channel);
	EXPECT_EQ(PCIPASS_ERR_RESULT_NONE, info.result);
	info.__reserved = 1;
	EXPECT_EQ(EINVAL, pp_ioctl(self->dev, PCIPASS_DEVICE_ERR_INFO, &info));
	info.__reserved = 0;
	info.flags = 1;
	EXPECT_EQ(EOPNOTSUPP, pp_ioctl(self->dev, PCIPASS_DEVICE_ERR_INFO,
				       &info));
	info.flags = 0;
	info.size = offsetof(struct pcipass_device_err_info, __reserved);
	EXPECT_EQ(EINVAL, pp_ioctl(self->dev, PCIPASS_DEVICE_ERR_INFO, &info));

	/* A detached device file: ENODEV. */
	ASSERT_EQ(0, pp_detach(self->ctx, aer_addr()));
	EXPECT_EQ(ENODEV, err_info(self->dev, &info));
	EXPECT_EQ(ENODEV, pp_irq_set(self->dev, PCIPASS_IRQ_SET_EVENTFD,
				     PCIPASS_IRQ_ERR, 0, 1, &fd));
}

TEST_F(err, correctable_is_counted_not_signalled)
{
	struct pcipass_device_err_info info;

	ASSERT_EQ(0, inject(aer_addr(), 0, ERR_COR));
	ASSERT_TRUE(wait_info(self->dev, &info, cor_seen));
	EXPECT_EQ(1, info.correctable);
	EXPECT_EQ(0, info.nonfatal + info.fatal + info.resets +
		  info.recoveries);
	EXPECT_EQ(PCIPASS_ERR_RESULT_NONE, info.result);
	EXPECT_EQ(0, efd_drain(self->efd, 300));
}

/*
 * Inject the uncorrectable error @uncor and check the report of its
 * recovery against @want (result, channel and every count): two signals in
 * all (reported, then recovered), and the device still the VMM's, its BAR
 * as before (a fatal error's link reset zeroes it: pcipass puts it back).
 */
static void recovers_as(struct __test_metadata *_metadata, int dev, int efd,
			__u32 uncor, const struct pcipass_device_err_info *want)
{
	struct pcipass_device_err_info info;
	__u32 bar = host_bar0(aer_addr());
	__u16 vendor = 0;
	__u64 n;

	ASSERT_NE(0, bar);
	ASSERT_EQ(0, inject(aer_addr(), uncor, 0));
	n = pp_efd_wait(efd, pp_bound_ms(5000));
	EXPECT_LE(1, n);
	ASSERT_TRUE(wait_info(dev, &info, recovery_ended));
	EXPECT_EQ(want->result, info.result);
	EXPECT_EQ(want->channel, info.channel);
	EXPECT_EQ(want->nonfatal, info.nonfatal);
	EXPECT_EQ(want->fatal, info.fatal);
	EXPECT_EQ(want->resets, info.resets);
	EXPECT_EQ(want->recoveries, info.recoveries);
	EXPECT_EQ(want->correctable, info.correctable);
	EXPECT_EQ(2, n + efd_drain(efd, 300));
	ASSERT_EQ(0, pp_cfg_read(dev, PCI_VENDOR_ID, &vendor, 2));
	EXPECT_EQ(0x8086, vendor);
	EXPECT_EQ(bar, host_bar0(aer_addr()));
}

TEST_F(err, nonfatal_is_signalled_and_recovered_without_reset)
{
	const struct pcipass_device_err_info want = {
		.result = PCIPASS_ERR_RESULT_RECOVERED,
		.channel = PCIPASS_ERR_CHANNEL_NORMAL,
		.nonfatal = 1,
		.recoveries = 1,
	};

	recovers_as(_metadata, self->dev, self->efd, ERR_NONFATAL, &want);
}

TEST_F(err, fatal_resets_the_link_and_restores_the_bars)
{
	const struct pcipass_device_err_info want = {
		.result = PCIPASS_ERR_RESULT_RESET,
		.channel = PCIPASS_ERR_CHANNEL_FROZEN,
		.fatal = 1,
		.resets = 1,
		.recoveries = 1,
	};

	recovers_as(_metadata, self->dev, self->efd, ERR_FATAL, &want);
}

TEST_F(err, counts_start_again_at_the_next_attach)
{
	struct pcipass_device_err_info info;
	__s32 fd = self->efd;

	ASSERT_EQ(0, inject(aer_addr(), ERR_NONFATAL, 0));
	ASSERT_TRUE(wait_info(self->dev, &info, recovery_ended));
	EXPECT_EQ(1, info.nonfatal);
	close(self->dev);
	self->dev = -1;
	efd_drain(self->efd, 100);
	ASSERT_EQ(0, pp_attach(self->ctx, aer_addr(), &self->dev));
	ASSERT_EQ(0, err_info(self->dev, &info));
	EXPECT_EQ(0, info.nonfatal + info.recoveries);
	EXPECT_EQ(PCIPASS_ERR_RESULT_NONE, info.result);
	/* The eventfd went with the old file: nothing is signalled now. */
	ASSERT_EQ(0, inject(aer_addr(), ERR_NONFATAL, 0));
	ASSERT_TRUE(wait_info(self->dev, &info, recovery_ended));
	EXPECT_EQ(0, efd_drain(self->efd, 300));
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_EVENTFD,
				PCIPASS_IRQ_ERR, 0, 1, &fd));
}

/* VFIO_SET_IRQS on the error index with up to one data element. */
static long vfio_err_irq(int dev, __u32 data, __u32 count, __s32 fd)
{
	struct {
		struct vfio_irq_set hdr;
		__s32 fd;
	} s = { .hdr = {
		.argsz = sizeof(s),
		.flags = data | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = VFIO_PCI_ERR_IRQ_INDEX, .count = count,
	}, .fd = fd };

	return ioctl(dev, VFIO_DEVICE_SET_IRQS, &s) ? -errno : 0;
}

TEST(vfio_error_index)
{
	struct vfio_irq_info irq = { .argsz = sizeof(irq),
				     .index = VFIO_PCI_ERR_IRQ_INDEX };
	char path[256], link[256];
	int c, g, d, efd;
	ssize_t n;

	if (!strcmp(aer_addr(), "none"))
		SKIP(return, "no AER device in this VM (nointremap has one)");
	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s/aer_dev_correctable",
		 aer_addr());
	if (!pp_path_exists(path))
		SKIP(return, "the kernel has no AER (CONFIG_PCIEAER)");
	if (!pp_path_exists(AER_INJECT) && pp_run("modprobe aer_inject"))
		SKIP(return, "no aer_inject (CONFIG_PCIEAER_INJECT)");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_TRUE(pp_claim(aer_addr()));

	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s/iommu_group",
		 aer_addr());
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_LT(0, n);
	link[n] = 0;
	c = open(VFIO_DIR "/vfio", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, c);
	snprintf(path, sizeof(path), VFIO_DIR "/%s", strrchr(link, '/') + 1);
	g = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, g);
	ASSERT_EQ(0, ioctl(g, VFIO_GROUP_SET_CONTAINER, &c));
	ASSERT_EQ(0, ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, aer_addr());
	ASSERT_LE(0, d);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);

	/* As vfio-pci: one vector on PCI Express, only ACTION_TRIGGER. */
	ASSERT_EQ(0, ioctl(d, VFIO_DEVICE_GET_IRQ_INFO, &irq));
	EXPECT_EQ(1, irq.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, irq.flags);
	EXPECT_EQ(-EINVAL, vfio_err_irq(d, VFIO_IRQ_SET_DATA_EVENTFD, 2, efd));
	ASSERT_EQ(0, vfio_err_irq(d, VFIO_IRQ_SET_DATA_EVENTFD, 1, efd));

	/* QEMU's vfio_err_notifier_handler() hears of a real error. */
	ASSERT_EQ(0, inject(aer_addr(), ERR_NONFATAL, 0));
	EXPECT_LE(1, pp_efd_wait(efd, pp_bound_ms(5000)));
	efd_drain(efd, 300);
	/* Count 0 with NONE removes the eventfd: the next error is silent. */
	ASSERT_EQ(0, vfio_err_irq(d, VFIO_IRQ_SET_DATA_NONE, 0, 0));
	ASSERT_EQ(0, inject(aer_addr(), ERR_NONFATAL, 0));
	EXPECT_EQ(0, efd_drain(efd, 1000));

	close(d);
	close(g);
	close(c);
	close(efd);
	EXPECT_EQ(0, pp_dev_rebind(aer_addr(), ""));
}

TEST_HARNESS_MAIN

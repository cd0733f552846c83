// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupts as a VMM receives them: edu's MSI and INTx, nvme's MSI-X,
 * pci-serial's INTx without an IOMMU, each raised by the real (emulated)
 * device and read from eventfds; masking with pending delivery; loopback
 * triggers; the MSI isolation rule; bad SET_IRQS input; and that every IRQ
 * is gone from /proc/interrupts once released.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "pcipass_util.h"

#define PAGE_SZ		4096UL
#define EDU_IRQ_STATUS	0x24
#define EDU_IRQ_RAISE	0x60
#define EDU_IRQ_ACK	0x64
#define CMD_INTX_DISABLE 0x400

static int irq_enable_with_eventfds(int dev, __u32 type, __u32 count,
				    int *efds)
{
	__s32 fds[8];
	__u32 i;
	int ret;

	ret = pp_irq_set(dev, PCIPASS_IRQ_SET_ENABLE, type, 0, count, NULL);
	if (ret)
		return ret;
	for (i = 0; i < count; i++) {
		efds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		fds[i] = efds[i];
	}
	return pp_irq_set(dev, PCIPASS_IRQ_SET_EVENTFD, type, 0, count, fds);
}

static int irq_info(int dev, __u32 type, struct pcipass_irq_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	info->type = type;
	return pp_ioctl(dev, PCIPASS_DEVICE_GET_IRQ_INFO, info);
}

FIXTURE(edu) {
	int ctx;
	int dev;
	void *bar;
	size_t bar_len;
	int efd;
};

FIXTURE_SETUP(edu)
{
	self->ctx = -1;
	self->dev = -1;
	self->efd = -1;
	self->bar = NULL;
	if (!pp_vm_is("iommu"))
		SKIP(return, "needs the IOMMU VM with interrupt remapping");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_EQ(0, pp_dev_rebind(pp_edu_addr(), "pcipass"));
	ASSERT_TRUE(pp_wait_driver(pp_edu_addr(), "pcipass", 5000));
	self->ctx = open(PP_DEV_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ctx);
	ASSERT_EQ(0, pp_attach(self->ctx, pp_edu_addr(), &self->dev));
	/* MSI is a memory write: it needs bus mastering. */
	ASSERT_EQ(0, pp_cfg_set_bus_master(self->dev, true));
	self->bar = pp_map_bar(self->dev, 0, &self->bar_len);
	ASSERT_NE(NULL, self->bar);
	pp_edu_write(self->bar, EDU_IRQ_ACK, 0xffffffff);
}

FIXTURE_TEARDOWN(edu)
{
	if (self->bar)
		munmap(self->bar, self->bar_len);
	if (self->dev >= 0)
		close(self->dev);
	if (self->ctx >= 0)
		close(self->ctx);
	if (self->efd >= 0)
		close(self->efd);
	/* Nothing of the device is left in /proc/interrupts. */
	if (self->ctx >= 0)
		EXPECT_EQ(0, pp_irq_lines(pp_edu_addr()));
}

TEST_F(edu, irq_info_describes_the_device)
{
	struct pcipass_irq_info info;

	ASSERT_EQ(0, irq_info(self->dev, PCIPASS_IRQ_INTX, &info));
	EXPECT_EQ(1, info.count);
	EXPECT_EQ(PCIPASS_IRQ_INFO_AUTOMASKED, info.info_flags &
		  PCIPASS_IRQ_INFO_AUTOMASKED);
	ASSERT_EQ(0, irq_info(self->dev, PCIPASS_IRQ_MSI, &info));
	EXPECT_EQ(1, info.count);
	EXPECT_EQ(0, info.info_flags & PCIPASS_IRQ_INFO_NOT_ALLOWED);
	EXPECT_EQ(0, info.info_flags & PCIPASS_IRQ_INFO_ENABLED);
	ASSERT_EQ(0, irq_info(self->dev, PCIPASS_IRQ_MSIX, &info));
	EXPECT_EQ(0, info.count);
	ASSERT_EQ(0, irq_info(self->dev, PCIPASS_IRQ_ERR, &info));
	EXPECT_EQ(0, info.count);
	info.type = PCIPASS_IRQ_NUM_TYPES;
	EXPECT_EQ(EINVAL, pp_ioctl(self->dev, PCIPASS_DEVICE_GET_IRQ_INFO,
				   &info));
}

TEST_F(edu, msi_raised_by_the_device_reaches_the_eventfd)
{
	struct pcipass_irq_info info;

	ASSERT_EQ(0, irq_enable_with_eventfds(self->dev, PCIPASS_IRQ_MSI, 1,
					      &self->efd));
	ASSERT_EQ(0, irq_info(self->dev, PCIPASS_IRQ_MSI, &info));
	EXPECT_NE(0, info.info_flags & PCIPASS_IRQ_INFO_ENABLED);
	EXPECT_EQ(1, info.enabled_count);
	EXPECT_EQ(1, pp_irq_lines(pp_edu_addr()));

	pp_edu_write(self->bar, EDU_IRQ_RAISE, 0x1);
	EXPECT_EQ(1, pp_efd_wait(self->efd, 3000));
	EXPECT_EQ(0x1, pp_edu_read(self->bar, EDU_IRQ_STATUS));
	pp_edu_write(self->bar, EDU_IRQ_ACK, 0x1);
	EXPECT_EQ(0, pp_edu_read(self->bar, EDU_IRQ_STATUS));

	/* Once more: edges, not a level. */
	pp_edu_write(self->bar, EDU_IRQ_RAISE, 0x4);
	EXPECT_EQ(1, pp_efd_wait(self->efd, 3000));
	pp_edu_write(self->bar, EDU_IRQ_ACK, 0x4);

	EXPECT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_DISABLE,
				PCIPASS_IRQ_MSI, 0, 0, NULL));
	EXPECT_EQ(0, pp_irq_lines(pp_edu_addr()));
}

TEST_F(edu, dma_completion_interrupt_arrives)
{
	__u8 *buf = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	int i;

	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, pp_map(self->ctx, buf, 0x100000, PAGE_SZ,
			    PCIPASS_DMA_MAP_WRITE));
	ASSERT_EQ(0, irq_enable_with_eventfds(self->dev, PCIPASS_IRQ_MSI, 1,
					      &self->efd));
	memset(buf, 0, PAGE_SZ);
	pp_mmio_write64(self->bar, 0x80, EDU_BUF);
	pp_mmio_write64(self->bar, 0x88, 0x100000);
	pp_mmio_write64(self->bar, 0x90, 64);
	/* Start, device to RAM, interrupt when done. */
	pp_mmio_write64(self->bar, 0x98, 0x1 | 0x2 | 0x4);
	EXPECT_EQ(1, pp_efd_wait(self->efd, 5000));
	EXPECT_EQ(0x100, pp_edu_read(self->bar, EDU_IRQ_STATUS));
	for (i = 0; i < 100 && (pp_edu_read(self->bar, 0x98) & 1); i++)
		usleep(10000);
	pp_edu_write(self->bar, EDU_IRQ_ACK, 0x100);
	munmap(buf, PAGE_SZ);
}

TEST_F(edu, masked_msi_is_held_then_delivered_on_unmask)
{
	ASSERT_EQ(0, irq_enable_with_eventfds(self->dev, PCIPASS_IRQ_MSI, 1,
					      &self->efd));
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_MASK,
				PCIPASS_IRQ_MSI, 0, 1, NULL));
	pp_edu_write(self->bar, EDU_IRQ_RAISE, 0x1);
	/* The device raised it (its status says so), nothing arrived. */
	EXPECT_EQ(0x1, pp_edu_read(self->bar, EDU_IRQ_STATUS));
	EXPECT_EQ(0, pp_efd_wait(self->efd, 500));
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_UNMASK,
				PCIPASS_IRQ_MSI, 0, 1, NULL));
	EXPECT_EQ(1, pp_efd_wait(self->efd, 1000));
	/* Unmasking again delivers nothing more. */
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_UNMASK,
				PCIPASS_IRQ_MSI, 0, 1, NULL));
	EXPECT_EQ(0, pp_efd_wait(self->efd, 200));
	pp_edu_write(self->bar, EDU_IRQ_ACK, 0x1);
}

TEST_F(edu, loopback_trigger_on_msi_and_intx)
{
	ASSERT_EQ(0, irq_enable_with_eventfds(self->dev, PCIPASS_IRQ_MSI, 1,
					      &self->efd));
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_TRIGGER,
				PCIPASS_IRQ_MSI, 0, 1, NULL));
	EXPECT_EQ(1, pp_efd_wait(self->efd, 1000));
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_DISABLE,
				PCIPASS_IRQ_MSI, 0, 0, NULL));
	close(self->efd);

	ASSERT_EQ(0, irq_enable_with_eventfds(self->dev, PCIPASS_IRQ_INTX, 1,
					      &self->efd));
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_TRIGGER,
				PCIPASS_IRQ_INTX, 0, 1, NULL));
	EXPECT_EQ(1, pp_efd_wait(self->efd, 1000));
	/* As if the device raised it: automasked. */
	EXPECT_NE(0, pp_dev_command(pp_edu_addr()) & CMD_INTX_DISABLE);
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_TRIGGER,
				PCIPASS_IRQ_INTX, 0, 1, NULL));
	EXPECT_EQ(0, pp_efd_wait(self->efd, 200));
	/* Held while masked, delivered (and masked again) on unmask. */
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_UNMASK,
				PCIPASS_IRQ_INTX, 0, 1, NULL));
	EXPECT_EQ(1, pp_efd_wait(self->efd, 1000));
	EXPECT_NE(0, pp_dev_command(pp_edu_addr()) & CMD_INTX_DISABLE);
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_UNMASK,
				PCIPASS_IRQ_INTX, 0, 1, NULL));
	EXPECT_EQ(0, pp_efd_wait(self->efd, 200));
	EXPECT_EQ(0, pp_dev_command(pp_edu_addr()) & CMD_INTX_DISABLE);
}

TEST_F(edu, intx_is_automasked_and_held_until_unmask)
{
	int unmask_fd;
	__s32 fd;

	ASSERT_EQ(0, irq_enable_with_eventfds(self->dev, PCIPASS_IRQ_INTX, 1,
					      &self->efd));
	EXPECT_EQ(1, pp_irq_lines(pp_edu_addr()));
	EXPECT_EQ(0, pp_dev_command(pp_edu_addr()) & CMD_INTX_DISABLE);

	pp_edu_write(self->bar, EDU_IRQ_RAISE, 0x1);
	EXPECT_EQ(1, pp_efd_wait(self->efd, 3000));
	/* Automasked: the device's INTx is disabled until unmask. */
	EXPECT_NE(0, pp_dev_command(pp_edu_addr()) & CMD_INTX_DISABLE);

	/* Still asserted while masked: held. */
	EXPECT_EQ(0, pp_efd_wait(self->efd, 300));
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_UNMASK,
				PCIPASS_IRQ_INTX, 0, 1, NULL));
	/* The line is still asserted: delivered again at unmask. */
	EXPECT_EQ(1, pp_efd_wait(self->efd, 3000));

	/* The guest acks, then unmasks through the unmask eventfd. */
	pp_edu_write(self->bar, EDU_IRQ_ACK, 0x1);
	unmask_fd = eventfd(0, EFD_CLOEXEC);
	fd = unmask_fd;
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_UNMASK_EVENTFD,
				PCIPASS_IRQ_INTX, 0, 1, &fd));
	ASSERT_EQ(8, write(unmask_fd, &(__u64){1}, 8));
	EXPECT_EQ(0, pp_efd_wait(self->efd, 300));
	EXPECT_EQ(0, pp_dev_command(pp_edu_addr()) & CMD_INTX_DISABLE);

	/* A bad descriptor is refused and keeps the unmask eventfd. */
	fd = open("/dev/null", O_RDONLY);
	EXPECT_EQ(EINVAL, pp_irq_set(self->dev, PCIPASS_IRQ_SET_UNMASK_EVENTFD,
				     PCIPASS_IRQ_INTX, 0, 1, &fd));
	close(fd);

	/* A new interrupt, automasked, unmasked by the eventfd. */
	pp_edu_write(self->bar, EDU_IRQ_RAISE, 0x2);
	EXPECT_EQ(1, pp_efd_wait(self->efd, 3000));
	pp_edu_write(self->bar, EDU_IRQ_ACK, 0x2);
	ASSERT_EQ(8, write(unmask_fd, &(__u64){1}, 8));
	EXPECT_EQ(0, pp_efd_wait(self->efd, 300));
	EXPECT_EQ(0, pp_dev_command(pp_edu_addr()) & CMD_INTX_DISABLE);
	close(unmask_fd);
}

/*
 * The unmask eventfd was signalled before SET_IRQS hands it over: the
 * unmask it asks for happens at once (and, on a debug kernel, under the
 * eventfd's lock: eventfd_ctx_do_read() asserts it).
 */
TEST_F(edu, intx_unmask_eventfd_signalled_before_it_is_set)
{
	__u64 cnt;
	int unmask_fd;
	__s32 fd;

	ASSERT_EQ(0, irq_enable_with_eventfds(self->dev, PCIPASS_IRQ_INTX, 1,
					      &self->efd));
	pp_edu_write(self->bar, EDU_IRQ_RAISE, 0x1);
	ASSERT_EQ(1, pp_efd_wait(self->efd, 3000));
	ASSERT_NE(0, pp_dev_command(pp_edu_addr()) & CMD_INTX_DISABLE);
	pp_edu_write(self->bar, EDU_IRQ_ACK, 0x1);

	unmask_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, unmask_fd);
	ASSERT_EQ(8, write(unmask_fd, &(__u64){1}, 8));
	fd = unmask_fd;
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_UNMASK_EVENTFD,
				PCIPASS_IRQ_INTX, 0, 1, &fd));
	/* Unmasked, and the eventfd's count was consumed. */
	EXPECT_EQ(0, pp_dev_command(pp_edu_addr()) & CMD_INTX_DISABLE);
	EXPECT_EQ(-1, read(unmask_fd, &cnt, 8));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, pp_efd_wait(self->efd, 200));
	/* And INTx works: the next one arrives. */
	pp_edu_write(self->bar, EDU_IRQ_RAISE, 0x2);
	EXPECT_EQ(1, pp_efd_wait(self->efd, 3000));
	pp_edu_write(self->bar, EDU_IRQ_ACK, 0x2);
	close(unmask_fd);
}

struct intx_storm {
	int dev;
	int stop;
	unsigned long ioctls;
	int errors;
};

static void *intx_storm_thread(void *arg)
{
	static const __u32 actions[] = {
		PCIPASS_IRQ_SET_MASK, PCIPASS_IRQ_SET_UNMASK,
		PCIPASS_IRQ_SET_TRIGGER, PCIPASS_IRQ_SET_MASK,
		PCIPASS_IRQ_SET_TRIGGER, PCIPASS_IRQ_SET_UNMASK,
	};
	struct intx_storm *st = arg;
	unsigned long n = 0;

	while (!__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE)) {
		if (pp_irq_set(st->dev, actions[n % ARRAY_SIZE(actions)],
			       PCIPASS_IRQ_INTX, 0, 1, NULL))
			st->errors++;
		n++;
	}
	st->ioctls = n;
	return NULL;
}

/*
 * MASK, UNMASK and TRIGGER race the device raising INTx (and the handler
 * automasking it): whatever the interleaving, INTx is not left disabled.
 */
static void intx_storm(struct __test_metadata *_metadata, int dev, void *bar,
		       int efd)
{
	struct intx_storm st = { .dev = dev };
	unsigned long raised = 0, got = 0;
	pthread_t t;
	long end;
	int i;

	ASSERT_EQ(0, pthread_create(&t, NULL, intx_storm_thread, &st));
	end = pp_now_ms() + 4000;
	while (pp_now_ms() < end) {
		pp_edu_write(bar, EDU_IRQ_RAISE, 0x1);
		raised++;
		got += pp_efd_wait(efd, 2) ? 1 : 0;
		pp_edu_write(bar, EDU_IRQ_ACK, 0x1);
		pp_irq_set(dev, PCIPASS_IRQ_SET_UNMASK, PCIPASS_IRQ_INTX, 0,
			   1, NULL);
	}
	__atomic_store_n(&st.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	TH_LOG("%lu raised, %lu ioctls in the other thread, %lu signals",
	       raised, st.ioctls, got);
	EXPECT_EQ(0, st.errors);

	/*
	 * Quiet again: acked, unmasked, nothing pending. A TRIGGER that came
	 * while INTx was masked is delivered by the unmask, automasked like
	 * any INTx: unmask until no interrupt follows.
	 */
	pp_edu_write(bar, EDU_IRQ_ACK, 0xffffffff);
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, pp_irq_set(dev, PCIPASS_IRQ_SET_UNMASK,
					PCIPASS_IRQ_INTX, 0, 1, NULL));
		if (!pp_efd_wait(efd, 300))
			break;
	}
	ASSERT_GT(8, i) TH_LOG("INTx keeps firing after the storm");
	/* Interrupts still arrive, one per raise. */
	pp_edu_write(bar, EDU_IRQ_RAISE, 0x1);
	EXPECT_EQ(1, pp_efd_wait(efd, 3000));
	pp_edu_write(bar, EDU_IRQ_ACK, 0x1);
	ASSERT_EQ(0, pp_irq_set(dev, PCIPASS_IRQ_SET_UNMASK, PCIPASS_IRQ_INTX,
				0, 1, NULL));
	pp_edu_write(bar, EDU_IRQ_RAISE, 0x2);
	EXPECT_EQ(1, pp_efd_wait(efd, 3000));
	pp_edu_write(bar, EDU_IRQ_ACK, 0x2);
}

TEST_F(edu, intx_survives_a_storm_of_mask_unmask_and_trigger)
{
	ASSERT_EQ(0, irq_enable_with_eventfds(self->dev, PCIPASS_IRQ_INTX, 1,
					      &self->efd));
	intx_storm(_metadata, self->dev, self->bar, self->efd);
}

/*
 * The same with INTx masking at the device turned off (nointxmask=1, as
 * vfio-pci has it): the exclusive handler disables the line, and a MASK or
 * TRIGGER racing it must not disable it twice (one unmask would then leave
 * it disabled for good).
 */
TEST_F(edu, exclusive_intx_survives_a_storm_of_mask_unmask_and_trigger)
{
	const char *param = "/sys/module/pcipass/parameters/nointxmask";
	struct pcipass_irq_info info;
	int ret;

	ASSERT_EQ(0, pp_write_file(param, "1"));
	ASSERT_EQ(0, irq_info(self->dev, PCIPASS_IRQ_INTX, &info));
	EXPECT_EQ(0, info.info_flags & PCIPASS_IRQ_INFO_SHARED);
	ret = irq_enable_with_eventfds(self->dev, PCIPASS_IRQ_INTX, 1,
				       &self->efd);
	pp_write_file(param, "0");
	if (ret == EBUSY)
		SKIP(return, "edu's interrupt line is shared with another device");
	ASSERT_EQ(0, ret);
	intx_storm(_metadata, self->dev, self->bar, self->efd);
	/* The line was disabled, not the device: its INTx disable is clear. */
	EXPECT_EQ(0, pp_dev_command(pp_edu_addr()) & CMD_INTX_DISABLE);
}

TEST_F(edu, set_irqs_refuses_bad_input)
{
	int efd = eventfd(0, EFD_CLOEXEC);
	int notefd = open("/dev/null", O_RDONLY);
	__s32 fds[2] = { efd, efd };
	struct pcipass_irq_set cmd = { .size = sizeof(cmd) };

	/* Not exactly one action; unknown flags; unknown type. */
	cmd.flags = 0;
	EXPECT_EQ(EINVAL, pp_ioctl(self->dev, PCIPASS_DEVICE_SET_IRQS, &cmd));
	cmd.flags = PCIPASS_IRQ_SET_ENABLE | PCIPASS_IRQ_SET_TRIGGER;
	EXPECT_EQ(EINVAL, pp_ioctl(self->dev, PCIPASS_DEVICE_SET_IRQS, &cmd));
	cmd.flags = 1u << 20;
	EXPECT_EQ(EOPNOTSUPP, pp_ioctl(self->dev, PCIPASS_DEVICE_SET_IRQS,
				       &cmd));
	EXPECT_EQ(EINVAL, pp_irq_set(self->dev, PCIPASS_IRQ_SET_ENABLE,
				     PCIPASS_IRQ_NUM_TYPES, 0, 1, NULL));
	cmd.flags = PCIPASS_IRQ_SET_ENABLE;
	cmd.type = PCIPASS_IRQ_MSI;
	cmd.count = 1;
	cmd.__reserved = 1;
	EXPECT_EQ(EINVAL, pp_ioctl(self->dev, PCIPASS_DEVICE_SET_IRQS, &cmd));

	/* Bad ranges and types the device does not have. */
	EXPECT_EQ(EINVAL, pp_irq_set(self->dev, PCIPASS_IRQ_SET_ENABLE,
				     PCIPASS_IRQ_MSI, 0, 2, NULL));
	EXPECT_EQ(EINVAL, pp_irq_set(self->dev, PCIPASS_IRQ_SET_ENABLE,
				     PCIPASS_IRQ_MSI, 1, 1, NULL));
	EXPECT_EQ(EINVAL, pp_irq_set(self->dev, PCIPASS_IRQ_SET_ENABLE,
				     PCIPASS_IRQ_MSI, 0, 0, NULL));
	EXPECT_EQ(ENODEV, pp_irq_set(self->dev, PCIPASS_IRQ_SET_ENABLE,
				     PCIPASS_IRQ_MSIX, 0, 1, NULL));
	/* Actions on a type that is not enabled. */
	EXPECT_EQ(EINVAL, pp_irq_set(self->dev, PCIPASS_IRQ_SET_TRIGGER,
				     PCIPASS_IRQ_MSI, 0, 1, NULL));
	EXPECT_EQ(EINVAL, pp_irq_set(self->dev, PCIPASS_IRQ_SET_DISABLE,
				     PCIPASS_IRQ_MSI, 0, 0, NULL));
	/* @data where it is not used, and missing where it is. */
	EXPECT_EQ(EINVAL, pp_irq_set(self->dev, PCIPASS_IRQ_SET_ENABLE,
				     PCIPASS_IRQ_MSI, 0, 1, fds));

	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_ENABLE,
				PCIPASS_IRQ_MSI, 0, 1, NULL));
	/* One type at a time. */
	EXPECT_EQ(EBUSY, pp_irq_set(self->dev, PCIPASS_IRQ_SET_ENABLE,
				    PCIPASS_IRQ_INTX, 0, 1, NULL));
	EXPECT_EQ(EBUSY, pp_irq_set(self->dev, PCIPASS_IRQ_SET_ENABLE,
				    PCIPASS_IRQ_MSI, 0, 1, NULL));
	EXPECT_EQ(EINVAL, pp_irq_set(self->dev, PCIPASS_IRQ_SET_EVENTFD,
				     PCIPASS_IRQ_MSI, 0, 1, NULL));
	EXPECT_EQ(EINVAL, pp_irq_set(self->dev, PCIPASS_IRQ_SET_EVENTFD,
				     PCIPASS_IRQ_MSI, 0, 2, fds));
	EXPECT_EQ(EINVAL, pp_irq_set(self->dev, PCIPASS_IRQ_SET_TRIGGER,
				     PCIPASS_IRQ_MSI, 1, 1, NULL));
	EXPECT_EQ(EINVAL, pp_irq_set(self->dev, PCIPASS_IRQ_SET_TRIGGER,
				     PCIPASS_IRQ_MSI, 0xffffffff, 2, NULL));
	/* Bad file descriptors: not open, not an eventfd, bad pointer. */
	fds[0] = 1000;
	EXPECT_EQ(EBADF, pp_irq_set(self->dev, PCIPASS_IRQ_SET_EVENTFD,
				    PCIPASS_IRQ_MSI, 0, 1, fds));
	fds[0] = -5;
	EXPECT_EQ(EBADF, pp_irq_set(self->dev, PCIPASS_IRQ_SET_EVENTFD,
				    PCIPASS_IRQ_MSI, 0, 1, fds));
	fds[0] = notefd;
	EXPECT_EQ(EINVAL, pp_irq_set(self->dev, PCIPASS_IRQ_SET_EVENTFD,
				     PCIPASS_IRQ_MSI, 0, 1, fds));
	EXPECT_EQ(EFAULT, pp_irq_set(self->dev, PCIPASS_IRQ_SET_EVENTFD,
				     PCIPASS_IRQ_MSI, 0, 1, (void *)8));
	/* The unmask eventfd is INTx's only. */
	fds[0] = efd;
	EXPECT_EQ(EINVAL, pp_irq_set(self->dev, PCIPASS_IRQ_SET_UNMASK_EVENTFD,
				     PCIPASS_IRQ_MSI, 0, 1, fds));

	/* None of the failures changed anything: a trigger reaches nobody. */
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_TRIGGER,
				PCIPASS_IRQ_MSI, 0, 1, NULL));
	EXPECT_EQ(0, pp_efd_wait(efd, 100));
	/* And -1 is a valid "no eventfd". */
	fds[0] = -1;
	EXPECT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_EVENTFD,
				PCIPASS_IRQ_MSI, 0, 1, fds));
	close(notefd);
	close(efd);
}

TEST_F(edu, closing_the_device_file_frees_its_irqs)
{
	ASSERT_EQ(0, irq_enable_with_eventfds(self->dev, PCIPASS_IRQ_MSI, 1,
					      &self->efd));
	EXPECT_EQ(1, pp_irq_lines(pp_edu_addr()));
	/* A mapping holds the file: the last of the two releases it. */
	munmap(self->bar, self->bar_len);
	self->bar = NULL;
	close(self->dev);
	self->dev = -1;
	EXPECT_EQ(0, pp_irq_lines(pp_edu_addr()));
}

/* nvme's admin queue, from user space, with MSI-X completions. */
#define NVME_CC		0x14
#define NVME_CSTS	0x1c
#define NVME_AQA	0x24
#define NVME_ASQ	0x28
#define NVME_ACQ	0x30
#define NVME_SQ0TDBL	0x1000
#define NVME_CQ0HDBL	0x1004
#define IOVA_SQ		0x400000ULL
#define IOVA_CQ		0x401000ULL
#define IOVA_DATA	0x402000ULL

struct nvme_q {
	void *bar;
	__u32 *sq;
	__u32 *cq;
	unsigned int tail;
	unsigned int head;
	unsigned int phase;
};

static bool nvme_ready(void *bar, bool ready)
{
	int i;

	for (i = 0; i < 2000; i++) {
		if ((pp_mmio_read32(bar, NVME_CSTS) & 1) == ready)
			return true;
		usleep(1000);
	}
	return false;
}

static bool nvme_start(struct nvme_q *q)
{
	pp_mmio_write32(q->bar, NVME_CC, 0);
	if (!nvme_ready(q->bar, false))
		return false;
	pp_mmio_write32(q->bar, NVME_AQA, (15u << 16) | 15);
	pp_mmio_write64(q->bar, NVME_ASQ, IOVA_SQ);
	pp_mmio_write64(q->bar, NVME_ACQ, IOVA_CQ);
	pp_mmio_write32(q->bar, NVME_CC, (4u << 20) | (6u << 16) | 1);
	q->tail = 0;
	q->head = 0;
	q->phase = 1;
	return nvme_ready(q->bar, true);
}

/* Submit Identify Controller; the completion is the test's to see. */
static void nvme_submit_identify(struct nvme_q *q, __u16 cid)
{
	__u32 *sqe = q->sq + q->tail * 16;

	memset(sqe, 0, 64);
	sqe[0] = 0x06 | ((__u32)cid << 16);
	sqe[6] = (__u32)IOVA_DATA;
	sqe[10] = 1;
	q->tail = (q->tail + 1) % 16;
	__sync_synchronize();
	pp_mmio_write32(q->bar, NVME_SQ0TDBL, q->tail);
}

/* Consume one completion; its command ID, or -1 when none is there. */
static int nvme_reap(struct nvme_q *q)
{
	__u32 dw3 = __atomic_load_n(&q->cq[q->head * 4 + 3], __ATOMIC_ACQUIRE);

	if (((dw3 >> 16) & 1) != q->phase)
		return -1;
	q->head = (q->head + 1) % 16;
	if (!q->head)
		q->phase ^= 1;
	pp_mmio_write32(q->bar, NVME_CQ0HDBL, q->head);
	return dw3 & 0xffff;
}

FIXTURE(nvme) {
	int ctx;
	int dev;
	int efd[2];
	struct nvme_q q;
	size_t bar_len;
};

FIXTURE_SETUP(nvme)
{
	void *mem;

	self->ctx = -1;
	self->dev = -1;
	self->q.bar = NULL;
	if (!pp_vm_is("iommu"))
		SKIP(return, "needs the IOMMU VM with interrupt remapping");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_EQ(0, pp_dev_rebind(pp_nvme_addr(), "pcipass"));
	ASSERT_TRUE(pp_wait_driver(pp_nvme_addr(), "pcipass", 5000));
	self->ctx = open(PP_DEV_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ctx);
	ASSERT_EQ(0, pp_attach(self->ctx, pp_nvme_addr(), &self->dev));
	ASSERT_EQ(0, pp_cfg_set_bus_master(self->dev, true));

	mem = mmap(NULL, 3 * PAGE_SZ, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 0, 3 * PAGE_SZ);
	self->q.sq = mem;
	self->q.cq = mem + PAGE_SZ;
	ASSERT_EQ(0, pp_map(self->ctx, mem, IOVA_SQ, 3 * PAGE_SZ,
			    PCIPASS_DMA_MAP_READ | PCIPASS_DMA_MAP_WRITE));
	/* Registers and doorbells; the MSI-X table (at 8 KiB) is not ours. */
	self->bar_len = 8192;
	self->q.bar = pp_map_bar_head(self->dev, 0, self->bar_len);
	ASSERT_NE(NULL, self->q.bar);
}

FIXTURE_TEARDOWN(nvme)
{
	if (self->q.bar) {
		pp_mmio_write32(self->q.bar, NVME_CC, 0);
		munmap(self->q.bar, self->bar_len);
	}
	if (self->dev >= 0)
		close(self->dev);
	if (self->ctx >= 0)
		close(self->ctx);
	if (self->ctx >= 0) {
		EXPECT_EQ(0, pp_irq_lines(pp_nvme_addr()));
		pp_dev_rebind(pp_nvme_addr(), "");
		pp_wait_driver(pp_nvme_addr(), "nvme", 5000);
	}
}

TEST_F(nvme, msix_completion_arrives_on_its_vector_and_masking_holds_it)
{
	struct pcipass_irq_info info;
	int cid;

	ASSERT_EQ(0, irq_info(self->dev, PCIPASS_IRQ_MSIX, &info));
	EXPECT_LE(2, info.count);
	ASSERT_EQ(0, irq_enable_with_eventfds(self->dev, PCIPASS_IRQ_MSIX, 2,
					      self->efd));
	EXPECT_EQ(2, pp_irq_lines(pp_nvme_addr()));
	ASSERT_TRUE(nvme_start(&self->q));

	/* The admin completion queue raises vector 0, not vector 1. */
	nvme_submit_identify(&self->q, 0x11);
	EXPECT_EQ(1, pp_efd_wait(self->efd[0], 3000));
	EXPECT_EQ(0x11, nvme_reap(&self->q));
	EXPECT_EQ(0, pp_efd_wait(self->efd[1], 100));

	/* Masked: the completion is posted, the interrupt held. */
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_MASK,
				PCIPASS_IRQ_MSIX, 0, 1, NULL));
	nvme_submit_identify(&self->q, 0x22);
	for (cid = -1; cid < 0 && pp_efd_wait(self->efd[0], 20) == 0;)
		cid = nvme_reap(&self->q);
	EXPECT_EQ(0x22, cid);
	EXPECT_EQ(0, pp_efd_wait(self->efd[0], 300));
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_UNMASK,
				PCIPASS_IRQ_MSIX, 0, 1, NULL));
	EXPECT_EQ(1, pp_efd_wait(self->efd[0], 1000));

	/* Loopback on the second vector. */
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_TRIGGER,
				PCIPASS_IRQ_MSIX, 1, 1, NULL));
	EXPECT_EQ(1, pp_efd_wait(self->efd[1], 1000));
	EXPECT_EQ(0, pp_efd_wait(self->efd[0], 100));
}

/*
 * The VMM has memory decoding off while it enables MSI-X (QEMU does, while
 * the guest has not enabled the BAR yet): the kernel's writes to the MSI-X
 * table are made with decoding turned on for them, so once the VMM turns
 * it on the vector fires to the right place.
 */
TEST_F(nvme, msix_enabled_while_memory_decoding_is_off_still_fires)
{
	__u16 cmd, off;

	ASSERT_EQ(0, pp_cfg_read(self->dev, 0x04, &cmd, 2));
	ASSERT_NE(0, cmd & 0x2);
	off = cmd & ~0x2;
	ASSERT_EQ(0, pp_cfg_write(self->dev, 0x04, &off, 2));
	ASSERT_EQ(0, pp_dev_command(pp_nvme_addr()) & 0x2);

	ASSERT_EQ(0, irq_enable_with_eventfds(self->dev, PCIPASS_IRQ_MSIX, 2,
					      self->efd));
	/* Decoding is as the VMM left it: off. */
	EXPECT_EQ(0, pp_dev_command(pp_nvme_addr()) & 0x2);

	/*
	 * QEMU's nvme uses a vector only if MSI-X is on when the controller
	 * starts: start it now, with decoding on.
	 */
	ASSERT_EQ(0, pp_cfg_write(self->dev, 0x04, &cmd, 2));
	ASSERT_TRUE(nvme_start(&self->q));
	nvme_submit_identify(&self->q, 0x33);
	EXPECT_EQ(1, pp_efd_wait(self->efd[0], 3000));
	EXPECT_EQ(0x33, nvme_reap(&self->q));

	/* Disabled with decoding off, enabled again with it off: the same. */
	pp_mmio_write32(self->q.bar, NVME_CC, 0);
	ASSERT_TRUE(nvme_ready(self->q.bar, false));
	ASSERT_EQ(0, pp_cfg_write(self->dev, 0x04, &off, 2));
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_DISABLE,
				PCIPASS_IRQ_MSIX, 0, 0, NULL));
	EXPECT_EQ(0, pp_irq_lines(pp_nvme_addr()));
	close(self->efd[0]);
	close(self->efd[1]);
	ASSERT_EQ(0, irq_enable_with_eventfds(self->dev, PCIPASS_IRQ_MSIX, 1,
					      self->efd));
	EXPECT_EQ(0, pp_dev_command(pp_nvme_addr()) & 0x2);
	ASSERT_EQ(0, pp_cfg_write(self->dev, 0x04, &cmd, 2));
	memset(self->q.sq, 0, 2 * PAGE_SZ);
	ASSERT_TRUE(nvme_start(&self->q));
	nvme_submit_identify(&self->q, 0x44);
	EXPECT_EQ(1, pp_efd_wait(self->efd[0], 3000));
	EXPECT_EQ(0x44, nvme_reap(&self->q));
	close(self->efd[0]);
}

TEST(msi_needs_interrupt_isolation_unless_the_admin_allows_it)
{
	const char *param =
		"/sys/module/pcipass/parameters/allow_unsafe_interrupts";
	struct pcipass_irq_info info;
	char tainted[32];
	int ctx, dev, kmsg;

	if (!pp_vm_is("nointremap"))
		SKIP(return, "needs the VM with interrupt remapping off");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_EQ(0, pp_dev_rebind(pp_edu_addr(), "pcipass"));
	ASSERT_TRUE(pp_wait_driver(pp_edu_addr(), "pcipass", 5000));
	ctx = open(PP_DEV_NODE, O_RDWR);
	ASSERT_LE(0, ctx);
	ASSERT_EQ(0, pp_attach(ctx, pp_edu_addr(), &dev));

	ASSERT_EQ(0, pp_write_file(param, "0"));
	ASSERT_EQ(0, irq_info(dev, PCIPASS_IRQ_MSI, &info));
	EXPECT_NE(0, info.info_flags & PCIPASS_IRQ_INFO_NOT_ALLOWED);
	kmsg = pp_kmsg_open();
	EXPECT_EQ(EPERM, pp_irq_set(dev, PCIPASS_IRQ_SET_ENABLE, PCIPASS_IRQ_MSI,
				    0, 1, NULL));
	EXPECT_TRUE(pp_kmsg_find(kmsg, "allow_unsafe_interrupts=1"));
	close(kmsg);
	/* INTx needs no isolation. */
	EXPECT_EQ(0, pp_irq_set(dev, PCIPASS_IRQ_SET_ENABLE, PCIPASS_IRQ_INTX,
				0, 1, NULL));
	EXPECT_EQ(0, pp_irq_set(dev, PCIPASS_IRQ_SET_DISABLE, PCIPASS_IRQ_INTX,
				0, 0, NULL));

	ASSERT_EQ(0, pp_write_file(param, "1"));
	EXPECT_EQ(0, pp_irq_set(dev, PCIPASS_IRQ_SET_ENABLE, PCIPASS_IRQ_MSI,
				0, 1, NULL));
	ASSERT_EQ(0, pp_read_file("/proc/sys/kernel/tainted", tainted,
				  sizeof(tainted)));
	/* TAINT_USER is bit 6. */
	EXPECT_NE(0, strtoul(tainted, NULL, 10) & (1ul << 6));
	ASSERT_EQ(0, pp_write_file(param, "0"));
	close(dev);
	close(ctx);
}

TEST(noiommu_msi_is_refused_and_serial_intx_works)
{
	const char *param = "/sys/module/pcipass/parameters/allow_noiommu";
	const char *serial = pp_serial_addr();
	struct pcipass_irq_info info;
	int ctx, dev, efd;
	off_t io;
	__u8 v;

	if (pp_vm_has_iommu() != 0)
		SKIP(return, "needs the no-IOMMU VM");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_EQ(0, pp_write_file(param, "1"));
	ASSERT_EQ(0, pp_dev_rebind(pp_edu_addr(), "pcipass"));
	ASSERT_TRUE(pp_wait_driver(pp_edu_addr(), "pcipass", 5000));
	ctx = open(PP_DEV_NODE, O_RDWR);
	ASSERT_LE(0, ctx);

	/* edu has MSI, but without an IOMMU there is no bus mastering. */
	ASSERT_EQ(0, pp_attach(ctx, pp_edu_addr(), &dev));
	ASSERT_EQ(0, irq_info(dev, PCIPASS_IRQ_MSI, &info));
	EXPECT_NE(0, info.info_flags & PCIPASS_IRQ_INFO_NOT_ALLOWED);
	EXPECT_EQ(EPERM, pp_irq_set(dev, PCIPASS_IRQ_SET_ENABLE, PCIPASS_IRQ_MSI,
				    0, 1, NULL));
	close(dev);

	/* pci-serial: a 16550 behind an I/O BAR, with INTx. */
	ASSERT_EQ(0, pp_dev_rebind(serial, "pcipass"));
	ASSERT_TRUE(pp_wait_driver(serial, "pcipass", 5000));
	ASSERT_EQ(0, pp_attach(ctx, serial, &dev));
	ASSERT_EQ(0, irq_enable_with_eventfds(dev, PCIPASS_IRQ_INTX, 1, &efd));
	/* The UART's I/O BAR, through the device file. */
	io = PCIPASS_REGION_OFFSET(PCIPASS_REGION_BAR0);
	/* MCR: OUT2 (the interrupt gate of PC UARTs); IER: THR empty. */
	v = 0x08;
	ASSERT_EQ(1, pwrite(dev, &v, 1, io + 4));
	v = 0x02;
	ASSERT_EQ(1, pwrite(dev, &v, 1, io + 1));
	v = 'x';
	ASSERT_EQ(1, pwrite(dev, &v, 1, io + 0));
	EXPECT_LE(1, pp_efd_wait(efd, 3000));
	v = 0;
	pwrite(dev, &v, 1, io + 1);
	close(efd);
	close(dev);
	close(ctx);
	EXPECT_EQ(0, pp_irq_lines(serial));
	pp_dev_rebind(serial, "");
	ASSERT_EQ(0, pp_write_file(param, "0"));
}

TEST_HARNESS_MAIN

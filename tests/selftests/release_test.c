// SPDX-License-Identifier: GPL-2.0
/*
 * Release requests: a device that leaves pcipass while attached (sysfs
 * unbind, sysfs remove) first signals its holder's PCIPASS_IRQ_REQ eventfd
 * and waits at most release_timeout_ms for the holder to let go.
 *
 *  - a holder that closes its device file on the request: the unbind ends
 *    at once, not after the timeout; the device is quiesced, the pins back;
 *  - a holder that ignores it: revoked after the timeout, ENODEV after,
 *    one log line naming the device and the holder;
 *  - another device's unbind, and another context, while one waits;
 *  - an unbind while a large DMA_MAP is in progress ends within a bound,
 *    and the map completes or fails with nothing left;
 *  - the REQ interrupt type's errno contract;
 *  - /sys/bus/pci/devices/X/remove, then a rescan that brings edu back.
 *
 * Cheap: the longest case waits one 500 ms timeout (a few seconds in all
 * on the stock kernel). Runs in the IOMMU VM.
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
#define IOVA_A		0x100000ULL
#define IOVA_BIG	0x40000000ULL
/* The big map: RAM-sized maps are refused, so alias a small memfd. */
#define BIG_LEN		(512UL << 20)
#define BIG_CHUNK	(2UL << 20)
/* Long enough that a prompt release cannot be mistaken for a timeout. */
#define LONG_TIMEOUT_MS	60000

/* A sysfs write in another thread, timed. */
struct writer {
	pthread_t thread;
	char path[256];
	char val[64];
	long start;
	long took;
	int ret;
	int done;
};

static void *writer_run(void *arg)
{
	struct writer *w = arg;

	w->ret = pp_write_file(w->path, w->val);
	w->took = pp_now_ms() - w->start;
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void writer_start(struct writer *w, const char *path, const char *val)
{
	snprintf(w->path, sizeof(w->path), "%s", path);
	snprintf(w->val, sizeof(w->val), "%s", val);
	w->done = 0;
	w->ret = -1;
	w->start = pp_now_ms();
	pthread_create(&w->thread, NULL, writer_run, w);
}

static bool writer_done(struct writer *w)
{
	return __atomic_load_n(&w->done, __ATOMIC_ACQUIRE);
}

/* Unbind @addr from pcipass without probing it again. */
static void unbind_start(struct writer *w, const char *addr)
{
	writer_start(w, "/sys/bus/pci/drivers/pcipass/unbind", addr);
}

FIXTURE(release) {
	int ctx;
	int dev;
	int efd;
	int kmsg;
	long pins;
	void *mem;
};

FIXTURE_SETUP(release)
{
	__s32 fd;

	self->ctx = -1;
	self->dev = -1;
	self->efd = -1;
	self->kmsg = -1;
	self->mem = MAP_FAILED;
	if (pp_vm_has_iommu() != 1)
		SKIP(return, "needs the IOMMU VM");
	ASSERT_EQ(0, pp_module_ensure());
	ASSERT_TRUE(pp_claim(pp_edu_addr()));
	self->pins = pp_foll_pins();
	self->mem = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	self->ctx = open(PP_DEV_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->ctx);
	ASSERT_EQ(0, pp_attach(self->ctx, pp_edu_addr(), &self->dev));
	ASSERT_EQ(0, pp_map(self->ctx, self->mem, IOVA_A, PAGE_SZ,
			    PCIPASS_DMA_MAP_READ));
	self->efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, self->efd);
	fd = self->efd;
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_EVENTFD,
				PCIPASS_IRQ_REQ, 0, 1, &fd));
	self->kmsg = pp_kmsg_open();
	ASSERT_LE(0, self->kmsg);
}

FIXTURE_TEARDOWN(release)
{
	if (self->dev >= 0)
		close(self->dev);
	if (self->ctx >= 0)
		close(self->ctx);
	if (self->efd >= 0)
		close(self->efd);
	if (self->kmsg >= 0)
		close(self->kmsg);
	if (self->mem != MAP_FAILED)
		munmap(self->mem, PAGE_SZ);
	if (pp_vm_has_iommu() == 1) {
		EXPECT_EQ(0, pp_release_timeout(10000));
		EXPECT_EQ(self->pins, pp_foll_pins());
		EXPECT_EQ(0, pp_irq_lines(pp_edu_addr()));
		pp_claim(pp_edu_addr());
	}
}

TEST_F(release, req_type_follows_the_errno_contract)
{
	struct pcipass_irq_info info = { .size = sizeof(info),
					 .type = PCIPASS_IRQ_REQ };
	struct pcipass_info ci;
	__s32 fd, bad = 0;

	ASSERT_EQ(0, pp_ctx_info(self->ctx, &ci));
	EXPECT_NE(0, ci.features & PCIPASS_FEATURE_RELEASE_REQ);
	/* One vector, always there, eventfd only. */
	EXPECT_EQ(NULL, pp_event_irq_contract(self->dev, PCIPASS_IRQ_REQ,
					      self->efd));
	EXPECT_EQ(EINVAL, pp_irq_set(self->dev, PCIPASS_IRQ_SET_DISABLE,
				     PCIPASS_IRQ_REQ, 0, 1, NULL));
	/* Not an eventfd (stdin), not a descriptor: the eventfd stays. */
	EXPECT_EQ(EINVAL, pp_irq_set(self->dev, PCIPASS_IRQ_SET_EVENTFD,
				     PCIPASS_IRQ_REQ, 0, 1, &bad));
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_TRIGGER,
				PCIPASS_IRQ_REQ, 0, 1, NULL));
	EXPECT_EQ(1, pp_efd_wait(self->efd, 1000));

	/* REQ beside MSI: independent of the enabled type. */
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_ENABLE,
				PCIPASS_IRQ_MSI, 0, 1, NULL));
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_TRIGGER,
				PCIPASS_IRQ_REQ, 0, 1, NULL));
	EXPECT_EQ(1, pp_efd_wait(self->efd, 1000));
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_DISABLE,
				PCIPASS_IRQ_MSI, 0, 0, NULL));

	/* -1 and DISABLE remove it: a trigger then signals nothing. */
	fd = -1;
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_EVENTFD,
				PCIPASS_IRQ_REQ, 0, 1, &fd));
	ASSERT_EQ(0, pp_ioctl(self->dev, PCIPASS_DEVICE_GET_IRQ_INFO, &info));
	EXPECT_EQ(0, info.info_flags & PCIPASS_IRQ_INFO_ENABLED);
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_TRIGGER,
				PCIPASS_IRQ_REQ, 0, 1, NULL));
	EXPECT_EQ(0, pp_efd_wait(self->efd, 100));
	fd = self->efd;
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_EVENTFD,
				PCIPASS_IRQ_REQ, 0, 1, &fd));
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_DISABLE,
				PCIPASS_IRQ_REQ, 0, 0, NULL));
	ASSERT_EQ(0, pp_irq_set(self->dev, PCIPASS_IRQ_SET_TRIGGER,
				PCIPASS_IRQ_REQ, 0, 1, NULL));
	EXPECT_EQ(0, pp_efd_wait(self->efd, 100));

	/* The parameter is bounded. */
	EXPECT_EQ(-EINVAL, pp_release_timeout(60001));
}

/* (a) The holder closes its device file on the request. */
TEST_F(release, holder_that_lets_go_is_not_waited_for)
{
	struct writer w;

	ASSERT_EQ(0, pp_release_timeout(LONG_TIMEOUT_MS));
	unbind_start(&w, pp_edu_addr());
	ASSERT_EQ(1, pp_efd_wait(self->efd, pp_bound_ms(5000)));
	/* It waits for us... */
	usleep(100000);
	EXPECT_FALSE(writer_done(&w));
	/* ...and not a moment longer once we let go. */
	close(self->dev);
	self->dev = -1;
	pthread_join(w.thread, NULL);
	EXPECT_EQ(0, w.ret);
	TH_LOG("unbind took %ld ms with the holder letting go", w.took);
	EXPECT_GT(pp_bound_ms(3000), w.took);
	EXPECT_TRUE(pp_wait_driver(pp_edu_addr(), "", 1000));
	/* Quiesced, given back, nothing of ours left. */
	EXPECT_EQ(0, pp_dev_command(pp_edu_addr()) & 0x4);
	EXPECT_EQ(0, pp_irq_lines(pp_edu_addr()));
	EXPECT_FALSE(pp_kmsg_find(self->kmsg, "revoked from"));
	close(self->ctx);
	self->ctx = -1;
	EXPECT_EQ(self->pins, pp_foll_pins());
}

/* Letting go by DETACH, or by closing the context, counts too. */
TEST_F(release, detach_and_context_close_let_go_too)
{
	struct writer w;
	int ctx2, dev2;

	ASSERT_EQ(0, pp_release_timeout(LONG_TIMEOUT_MS));
	unbind_start(&w, pp_edu_addr());
	ASSERT_EQ(1, pp_efd_wait(self->efd, pp_bound_ms(5000)));
	/* Released: by the time DETACH could look, the device was gone. */
	EXPECT_EQ(ENODEV, pp_detach(self->ctx, pp_edu_addr()));
	pthread_join(w.thread, NULL);
	EXPECT_EQ(0, w.ret);
	EXPECT_GT(pp_bound_ms(3000), w.took);
	ASSERT_TRUE(pp_claim(pp_edu_addr()));

	ctx2 = open(PP_DEV_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, ctx2);
	ASSERT_EQ(0, pp_attach(ctx2, pp_edu_addr(), &dev2));
	unbind_start(&w, pp_edu_addr());
	usleep(200000);
	EXPECT_FALSE(writer_done(&w));
	/* No REQ eventfd: the holder exits, say; its context closes. */
	close(ctx2);
	pthread_join(w.thread, NULL);
	EXPECT_EQ(0, w.ret);
	EXPECT_GT(pp_bound_ms(3000), w.took);
	close(dev2);
	EXPECT_FALSE(pp_kmsg_find(self->kmsg, "revoked from"));
}

/* (b) The holder ignores the request. */
TEST_F(release, holder_that_ignores_it_is_revoked_after_the_timeout)
{
	off_t cfg = PCIPASS_REGION_OFFSET(PCIPASS_REGION_CONFIG);
	struct pcipass_device_info dinfo = { .size = sizeof(dinfo) };
	char line[128];
	__u8 cmd;
	long t0, took;

	ASSERT_EQ(0, pp_release_timeout(500));
	t0 = pp_now_ms();
	ASSERT_EQ(0, pp_write_file("/sys/bus/pci/drivers/pcipass/unbind",
				   pp_edu_addr()));
	took = pp_now_ms() - t0;
	TH_LOG("unbind took %ld ms with the holder holding on", took);
	EXPECT_LE(490, took);
	EXPECT_GT(pp_bound_ms(2500), took);
	EXPECT_EQ(1, pp_efd_wait(self->efd, 0));
	EXPECT_TRUE(pp_wait_driver(pp_edu_addr(), "", 1000));
	EXPECT_EQ(ENODEV, pp_ioctl(self->dev, PCIPASS_DEVICE_GET_INFO, &dinfo));
	EXPECT_EQ(ENODEV, pp_irq_set(self->dev, PCIPASS_IRQ_SET_TRIGGER,
				     PCIPASS_IRQ_REQ, 0, 1, NULL));
	EXPECT_EQ(-1, pread(self->dev, &cmd, 1, cfg + 4));
	EXPECT_EQ(ENODEV, errno);
	snprintf(line, sizeof(line),
		 "%s: revoked from release_test[%d]: not released within 500 ms",
		 pp_edu_addr(), getpid());
	EXPECT_TRUE(pp_kmsg_wait(self->kmsg, line, 1000));
	EXPECT_EQ(0, pp_dev_command(pp_edu_addr()) & 0x4);
	/* The mapping stays with the context until it goes. */
	EXPECT_EQ(self->pins + 1, pp_foll_pins());
	EXPECT_EQ(0, pp_unmap(self->ctx, IOVA_A, PAGE_SZ, 0));
	EXPECT_EQ(self->pins, pp_foll_pins());
}

/* 0: revoked at once, said so. */
TEST_F(release, zero_timeout_revokes_at_once)
{
	long t0 = pp_now_ms();

	ASSERT_EQ(0, pp_release_timeout(0));
	ASSERT_EQ(0, pp_write_file("/sys/bus/pci/drivers/pcipass/unbind",
				   pp_edu_addr()));
	EXPECT_GT(pp_bound_ms(1000), pp_now_ms() - t0);
	/* Nothing to wait for: the VMM is not asked. */
	EXPECT_EQ(0, pp_efd_wait(self->efd, 0));
	EXPECT_TRUE(pp_kmsg_wait(self->kmsg, "at once (release_timeout_ms is 0)",
				 1000));
}

/* (c) While edu waits, nvme leaves and another context works. */
TEST_F(release, another_device_and_context_do_not_wait)
{
	struct writer w, w2;
	char orig[64];
	int ctx2, dev2;
	long t0;

	ASSERT_EQ(0, pp_dev_driver(pp_nvme_addr(), orig, sizeof(orig)));
	ASSERT_TRUE(pp_claim(pp_nvme_addr()));
	ASSERT_EQ(0, pp_release_timeout(LONG_TIMEOUT_MS));
	unbind_start(&w, pp_edu_addr());
	ASSERT_EQ(1, pp_efd_wait(self->efd, pp_bound_ms(5000)));

	t0 = pp_now_ms();
	ctx2 = open(PP_DEV_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, ctx2);
	EXPECT_EQ(0, pp_attach(ctx2, pp_nvme_addr(), &dev2));
	/* nvme's own removal waits for its own holder only: release it. */
	unbind_start(&w2, pp_nvme_addr());
	usleep(100000);
	close(dev2);
	close(ctx2);
	pthread_join(w2.thread, NULL);
	EXPECT_EQ(0, w2.ret);
	EXPECT_TRUE(pp_wait_driver(pp_nvme_addr(), "", 1000));
	TH_LOG("nvme attached and unbound in %ld ms while edu waited",
	       pp_now_ms() - t0);
	EXPECT_GT(pp_bound_ms(3000), pp_now_ms() - t0);
	/* The same context still answers. */
	EXPECT_EQ(0, pp_unmap(self->ctx, IOVA_A, PAGE_SZ, 0));
	EXPECT_FALSE(writer_done(&w));

	close(self->dev);
	self->dev = -1;
	pthread_join(w.thread, NULL);
	EXPECT_EQ(0, w.ret);
	EXPECT_GT(pp_bound_ms(10000), w.took);
	pp_dev_rebind(pp_nvme_addr(), "");
	EXPECT_TRUE(pp_wait_driver(pp_nvme_addr(), orig, 5000));
}

/*
 * While the removal waits, the guest keeps using the device, config
 * writes included (the guest's driver clears bus mastering on unplug),
 * though a reset is refused.
 */
TEST_F(release, config_writes_and_resets_go_on_while_a_removal_waits)
{
	off_t cfg = PCIPASS_REGION_OFFSET(PCIPASS_REGION_CONFIG);
	struct pcipass_device_reset reset = { .size = sizeof(reset) };
	struct writer w;
	__u16 cmd;
	long t0;

	ASSERT_EQ(0, pp_cfg_set_bus_master(self->dev, true));
	ASSERT_EQ(0, pp_release_timeout(LONG_TIMEOUT_MS));
	unbind_start(&w, pp_edu_addr());
	ASSERT_EQ(1, pp_efd_wait(self->efd, pp_bound_ms(5000)));
	t0 = pp_now_ms();
	ASSERT_EQ(0, pp_cfg_set_bus_master(self->dev, false));
	EXPECT_GT(pp_bound_ms(1000), pp_now_ms() - t0);
	ASSERT_EQ(2, pread(self->dev, &cmd, 2, cfg + 4));
	EXPECT_EQ(0, cmd & 0x4);
	EXPECT_EQ(0, pp_dev_command(pp_edu_addr()) & 0x4);
	/* A reset does not wait for the removal: the device is leaving. */
	t0 = pp_now_ms();
	EXPECT_EQ(ENODEV, pp_ioctl(self->dev, PCIPASS_DEVICE_RESET, &reset));
	EXPECT_GT(pp_bound_ms(1000), pp_now_ms() - t0);
	EXPECT_FALSE(writer_done(&w));
	close(self->dev);
	self->dev = -1;
	pthread_join(w.thread, NULL);
	EXPECT_EQ(0, w.ret);
	EXPECT_GT(pp_bound_ms(3000), w.took);
}

/* The same through /sys/bus/pci/devices/X/remove, then a rescan. */
TEST_F(release, sysfs_remove_asks_too)
{
	char path[128];
	struct writer w;

	ASSERT_EQ(0, pp_release_timeout(LONG_TIMEOUT_MS));
	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s/remove", pp_edu_addr());
	writer_start(&w, path, "1");
	ASSERT_EQ(1, pp_efd_wait(self->efd, pp_bound_ms(5000)));
	usleep(100000);
	EXPECT_FALSE(writer_done(&w));
	close(self->dev);
	self->dev = -1;
	pthread_join(w.thread, NULL);
	EXPECT_EQ(0, w.ret);
	EXPECT_GT(pp_bound_ms(3000), w.took);
	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s", pp_edu_addr());
	EXPECT_TRUE(pp_wait_path(path, false, 1000));
	ASSERT_EQ(0, pp_write_file("/sys/bus/pci/rescan", "1"));
	ASSERT_TRUE(pp_wait_path(path, true, pp_bound_ms(5000)));
	EXPECT_TRUE(pp_claim(pp_edu_addr()));
}

/* An unbind from another thread, timed, given the holder's context. */
struct big_map {
	pthread_t thread;
	int ctx;
	void *va;
	int ret;
	int done;
};

static void *big_map_run(void *arg)
{
	struct big_map *m = arg;

	m->ret = pp_map(m->ctx, m->va, IOVA_BIG, BIG_LEN,
			PCIPASS_DMA_MAP_READ);
	__atomic_store_n(&m->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* BIG_LEN of address space backed by one BIG_CHUNK memfd, mapped over. */
static void *big_alias(void)
{
	char *va;
	size_t off;
	int fd;

	fd = memfd_create("release_test", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, BIG_CHUNK))
		return MAP_FAILED;
	va = mmap(NULL, BIG_LEN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (off = 0; va != MAP_FAILED && off < BIG_LEN; off += BIG_CHUNK)
		if (mmap(va + off, BIG_CHUNK, PROT_READ,
			 MAP_SHARED | MAP_FIXED | MAP_POPULATE, fd, 0) ==
		    MAP_FAILED)
			va = MAP_FAILED;
	close(fd);
	return va;
}

/* (d) A removal does not wait for a large DMA_MAP in progress. */
TEST_F(release, unbind_during_a_large_map_ends_in_bounded_time)
{
	struct big_map m = { .ctx = self->ctx };
	long t0, took, pins;
	struct writer w;

	m.va = big_alias();
	ASSERT_NE(MAP_FAILED, m.va);
	ASSERT_EQ(0, pp_release_timeout(0));
	pins = pp_foll_pins();
	pthread_create(&m.thread, NULL, big_map_run, &m);
	/* Wait until it is well under way. */
	t0 = pp_now_ms();
	while (pp_foll_pins() < pins + 2048 && pp_now_ms() - t0 < 5000 &&
	       !__atomic_load_n(&m.done, __ATOMIC_ACQUIRE))
		usleep(1000);
	unbind_start(&w, pp_edu_addr());
	pthread_join(w.thread, NULL);
	took = w.took;
	EXPECT_EQ(0, w.ret);
	TH_LOG("unbind took %ld ms, the map %s by then", took,
	       __atomic_load_n(&m.done, __ATOMIC_ACQUIRE) ? "done" :
							     "still going");
	EXPECT_GT(pp_bound_ms(1000), took);
	pthread_join(m.thread, NULL);
	TH_LOG("the map took %ld ms in all", pp_now_ms() - t0);
	/* It went on into the domain, which no device uses any more. */
	EXPECT_EQ(0, m.ret);
	if (!m.ret) {
		EXPECT_EQ(pins + (long)(BIG_LEN / PAGE_SZ), pp_foll_pins());
		EXPECT_EQ(0, pp_unmap(self->ctx, IOVA_BIG, BIG_LEN, 0));
	}
	EXPECT_EQ(pins, pp_foll_pins());
	munmap(m.va, BIG_LEN);
}

TEST_HARNESS_MAIN

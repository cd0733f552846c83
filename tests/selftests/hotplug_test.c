// SPDX-License-Identifier: GPL-2.0
/*
 * Release requests on native PCIe hot-unplug: QEMU's device_del of a
 * device behind a pcie-root-port, which the guest's pciehp handles (an
 * attention button: it blinks the power indicator for 5 s, then removes
 * the device under the PCI core's rescan/remove lock and powers the slot
 * off). pcipass asks the holder when the button is pressed, and remove()
 * does not wait under that lock. The host agent (tests/vm/host-agent.py)
 * sends the QMP commands the test asks for; each case plugs its devices
 * back.
 *
 *  - the request comes during pciehp's countdown, with the device still
 *    there; a holder that closes its device file on it loses the device
 *    when the slot goes, not after release_timeout_ms;
 *  - a holder that ignores it is revoked after the timeout, before the
 *    slot goes: ENODEV, and SIGBUS from its BAR mapping;
 *  - with a timeout longer than the countdown, a holder that ignores the
 *    request is revoked when its slot goes, and a second slot's removal
 *    meanwhile goes on as if there were no wait;
 *  - a removal while a 1 GiB DMA_MAP is in progress ends in bounded time,
 *    and the map completes with nothing left behind;
 *  - a VMM resetting one slot's device (alone, and with a hot reset) while
 *    the other device of its context is unplugged: both go on (on the
 *    debug kernel lockdep checks the resets hold no lock the removal
 *    takes under the PCI core's rescan/remove lock).
 *
 * The nointremap VM only (two pci-testdevs, QEMU ids hpa and hpb, each
 * behind a root port of its own); skips without pciehp (the debug kernel
 * has no CONFIG_HOTPLUG_PCI_PCIE) or without a host agent. About 40 s.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "pcipass_util.h"

#define PAGE_SZ		4096UL
#define IOVA_BIG	0x40000000ULL
#define GIB		(1024UL << 20)
#define CHUNK		(2UL << 20)
/* Long enough that a prompt release cannot be mistaken for a timeout. */
#define LONG_TIMEOUT_MS	60000
/* pciehp's attention button waits 5 s before it removes the device. */
#define BUTTON_MS	5000
#define REMOVAL_MS	20000
/* A device_add until the guest has enumerated the device again. */
#define PLUG_MS		30000

static const char *const hp_id[2] = { "hpa", "hpb" };

static const char *hp_addr(int i)
{
	return i ? pp_hp_b_addr() : pp_hp_a_addr();
}

static bool present(int i)
{
	char path[128];

	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s", hp_addr(i));
	return pp_path_exists(path);
}

static bool wait_gone(int i, int ms)
{
	char path[128];

	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s", hp_addr(i));
	return pp_wait_path(path, false, ms);
}

/* Plug device @i back (if it is missing) and wait for the guest to see it. */
static bool plug(int i)
{
	char path[128];

	if (present(i))
		return true;
	if (pp_host_request("device_add", hp_id[i]))
		return false;
	snprintf(path, sizeof(path), PP_SYSFS_PCI "/%s", hp_addr(i));
	return pp_wait_path(path, true, pp_bound_ms(PLUG_MS));
}

FIXTURE(hp) {
	int ctx[2];
	int dev[2];
	int efd[2];
	int kmsg;
	long pins;
	bool ready;
};

FIXTURE_SETUP(hp)
{
	__s32 fd;
	int i;

	for (i = 0; i < 2; i++) {
		self->ctx[i] = -1;
		self->dev[i] = -1;
		self->efd[i] = -1;
	}
	self->kmsg = -1;
	self->ready = false;
	if (!strcmp(pp_hp_a_addr(), "none") || !strcmp(pp_hp_b_addr(), "none"))
		SKIP(return, "no hotplug slots in this VM (nointremap has them)");
	if (strcmp(pp_env("PCIPASS_HOST_AGENT", "0"), "1"))
		SKIP(return, "no host agent to send QMP device_del");
	if (!pp_path_exists("/sys/module/pciehp"))
		SKIP(return, "no native PCIe hotplug (CONFIG_HOTPLUG_PCI_PCIE)");
	self->ready = true;
	ASSERT_EQ(0, pp_module_ensure());
	self->pins = pp_foll_pins();
	self->kmsg = pp_kmsg_open();
	ASSERT_LE(0, self->kmsg);
	/* Two contexts: the slots' holders are unrelated VMMs. */
	for (i = 0; i < 2; i++) {
		ASSERT_TRUE(plug(i));
		ASSERT_TRUE(pp_claim(hp_addr(i)));
		self->ctx[i] = open(PP_DEV_NODE, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, self->ctx[i]);
		ASSERT_EQ(0, pp_attach(self->ctx[i], hp_addr(i),
				       &self->dev[i]));
		self->efd[i] = eventfd(0, EFD_CLOEXEC);
		ASSERT_LE(0, self->efd[i]);
		fd = self->efd[i];
		ASSERT_EQ(0, pp_irq_set(self->dev[i], PCIPASS_IRQ_SET_EVENTFD,
					PCIPASS_IRQ_REQ, 0, 1, &fd));
	}
}

FIXTURE_TEARDOWN(hp)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (self->dev[i] >= 0)
			close(self->dev[i]);
		if (self->ctx[i] >= 0)
			close(self->ctx[i]);
		if (self->efd[i] >= 0)
			close(self->efd[i]);
	}
	if (self->kmsg >= 0)
		close(self->kmsg);
	if (!self->ready)
		return;
	EXPECT_EQ(0, pp_release_timeout(10000));
	EXPECT_EQ(self->pins, pp_foll_pins());
	/* Both slots full again, the devices back to no driver. */
	for (i = 0; i < 2; i++) {
		EXPECT_TRUE(plug(i));
		pp_dev_rebind(hp_addr(i), "");
	}
}

struct resetter {
	pthread_t thread;
	int dev;
	int stop;
	int resets;
	int failed;	/* the errno of the first failed reset, or 0 */
};

/* Reset the device alone and with its slot, in turn, until told to stop. */
static void *resetter_run(void *arg)
{
	struct pcipass_device_hot_reset hr = { .size = sizeof(hr) };
	struct pcipass_device_reset r = { .size = sizeof(r) };
	struct resetter *t = arg;
	int ret;

	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		if (t->resets % 2)
			ret = pp_ioctl(t->dev, PCIPASS_DEVICE_HOT_RESET, &hr);
		else
			ret = pp_ioctl(t->dev, PCIPASS_DEVICE_RESET, &r);
		if (ret && !t->failed)
			t->failed = ret;
		t->resets++;
	}
	return NULL;
}

/*
 * First in the file: on the debug kernel, the first hot-unplug ends with
 * pciehp's own lockdep report, after which lockdep is off
 * (tests/vm/parse-results.sh); this case's removal comes before it.
 *
 * One context holds both slots' devices. Its VMM resets A over and over
 * (each reset is A's slot reset, which takes pciehp's reset_lock) while B
 * is unplugged and, ignoring the request, revoked: a removal that takes
 * the context lock under the PCI core's rescan/remove lock, which pciehp
 * takes with reset_lock held. A reset holding the context lock would
 * close that circle.
 */
TEST_F_TIMEOUT(hp, resets_of_one_slot_during_removal_of_the_other, 120)
{
	struct pcipass_device_info info = { .size = sizeof(info) };
	struct resetter t = { 0 };
	__s32 fd;

	/* B moves to A's context. */
	close(self->dev[1]);
	self->dev[1] = -1;
	ASSERT_EQ(0, pp_attach(self->ctx[0], hp_addr(1), &self->dev[1]));
	fd = self->efd[1];
	ASSERT_EQ(0, pp_irq_set(self->dev[1], PCIPASS_IRQ_SET_EVENTFD,
				PCIPASS_IRQ_REQ, 0, 1, &fd));
	ASSERT_EQ(0, pp_ioctl(self->dev[0], PCIPASS_DEVICE_GET_INFO, &info));
	ASSERT_TRUE(info.caps & PCIPASS_DEVICE_RESET_AVAILABLE);

	/* Longer than the countdown: remove() revokes B, under the lock. */
	ASSERT_EQ(0, pp_release_timeout(LONG_TIMEOUT_MS));
	t.dev = self->dev[0];
	ASSERT_EQ(0, pthread_create(&t.thread, NULL, resetter_run, &t));
	ASSERT_EQ(0, pp_host_request("device_del", hp_id[1]));
	EXPECT_EQ(1, pp_efd_wait(self->efd[1], pp_bound_ms(REMOVAL_MS)));
	EXPECT_TRUE(wait_gone(1, pp_bound_ms(REMOVAL_MS)));
	__atomic_store_n(&t.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t.thread, NULL);
	TH_LOG("%d resets of A during B's removal", t.resets);
	EXPECT_EQ(0, t.failed);
	EXPECT_LE(2, t.resets);
	EXPECT_TRUE(pp_kmsg_find(self->kmsg, "its slot was hot-unplugged"));
	/* A is still attached and works; B's file is dead. */
	EXPECT_EQ(0, pp_ioctl(self->dev[0], PCIPASS_DEVICE_GET_INFO, &info));
	EXPECT_EQ(ENODEV, pp_ioctl(self->dev[1], PCIPASS_DEVICE_GET_INFO,
				   &info));
}

/*
 * Ask the host to unplug slot @i and wait for the release request: it must
 * come during pciehp's countdown, the device still there. Return: the time
 * of device_del, or -1.
 */
static long unplug_and_wait_request(struct __test_metadata *_metadata,
				    const int *efd, int i)
{
	long t_del = pp_now_ms(), t_req;

	if (pp_host_request("device_del", hp_id[i]))
		return -1;
	EXPECT_EQ(1, pp_efd_wait(efd[i], pp_bound_ms(REMOVAL_MS)));
	t_req = pp_now_ms();
	EXPECT_TRUE(present(i));
	TH_LOG("%s: release request %ld ms after device_del", hp_id[i],
	       t_req - t_del);
	EXPECT_GT(BUTTON_MS, t_req - t_del);
	return t_del;
}

TEST_F_TIMEOUT(hp, holder_that_lets_go_loses_the_device_when_the_slot_goes, 120)
{
	long t_del, took;

	ASSERT_EQ(0, pp_release_timeout(LONG_TIMEOUT_MS));
	t_del = unplug_and_wait_request(_metadata, self->efd, 0);
	ASSERT_LE(0, t_del);
	close(self->dev[0]);
	self->dev[0] = -1;
	ASSERT_TRUE(wait_gone(0, pp_bound_ms(REMOVAL_MS)));
	took = pp_now_ms() - t_del;
	TH_LOG("gone %ld ms after device_del, release_timeout_ms %d", took,
	       LONG_TIMEOUT_MS);
	EXPECT_GT(BUTTON_MS + pp_bound_ms(3000), took);
	EXPECT_FALSE(pp_kmsg_find(self->kmsg, "revoked from"));
	/* The other slot's device stays, attached. */
	EXPECT_TRUE(present(1));
	EXPECT_EQ(0, pp_efd_wait(self->efd[1], 0));
}

/* GET_INFO on @dev until it fails with ENODEV, for at most @ms. */
static bool wait_enodev(int dev, int ms)
{
	struct pcipass_device_info info = { .size = sizeof(info) };
	long t0 = pp_now_ms();

	while (pp_ioctl(dev, PCIPASS_DEVICE_GET_INFO, &info) != ENODEV) {
		if (pp_now_ms() - t0 > ms)
			return false;
		usleep(20000);
	}
	return true;
}

TEST_F_TIMEOUT(hp, holder_that_ignores_it_is_revoked_after_the_timeout, 120)
{
	struct pcipass_device_info info = { .size = sizeof(info) };
	long t0, took;
	size_t len;
	void *bar;

	bar = pp_map_bar(self->dev[0], 0, &len);
	ASSERT_NE(NULL, bar);
	EXPECT_FALSE(pp_access_faults(bar));
	ASSERT_EQ(0, pp_release_timeout(2000));
	ASSERT_LE(0, unplug_and_wait_request(_metadata, self->efd, 0));
	t0 = pp_now_ms();
	/* The device works while the VMM has time. */
	EXPECT_FALSE(pp_access_faults(bar));
	EXPECT_EQ(0, pp_ioctl(self->dev[0], PCIPASS_DEVICE_GET_INFO, &info));
	ASSERT_TRUE(wait_enodev(self->dev[0], 2000 + pp_bound_ms(3000)));
	took = pp_now_ms() - t0;
	TH_LOG("revoked %ld ms after the request", took);
	EXPECT_LE(1800, took);
	EXPECT_TRUE(pp_kmsg_wait(self->kmsg, "not released within 2000 ms",
				 1000));
	/* Its only reset is the slot's, which a removal does not take. */
	EXPECT_TRUE(pp_kmsg_find(self->kmsg, "not reset on removal"));
	EXPECT_TRUE(pp_access_faults(bar));
	munmap(bar, len);
	ASSERT_TRUE(wait_gone(0, pp_bound_ms(REMOVAL_MS)));
	EXPECT_EQ(ENODEV, pp_ioctl(self->dev[0], PCIPASS_DEVICE_GET_INFO,
				   &info));
}

/*
 * The PCI core removes hot-unplugged devices under one global lock
 * (pci_lock_rescan_remove() in pciehp_unconfigure_device()), which is held
 * around pcipass's remove(). A wait there would hold up every other slot:
 * with release_timeout_ms at 60 s, A's holder ignoring the request and B's
 * letting go, each slot is gone within its own countdown.
 */
TEST_F_TIMEOUT(hp, second_slot_removal_proceeds_during_the_first_wait, 120)
{
	long ta_del, tb_del, ta_gone, tb_gone;

	ASSERT_EQ(0, pp_release_timeout(LONG_TIMEOUT_MS));
	ta_del = unplug_and_wait_request(_metadata, self->efd, 0);
	ASSERT_LE(0, ta_del);
	/* A's holder ignores the request; B's lets go on its own. */
	tb_del = unplug_and_wait_request(_metadata, self->efd, 1);
	ASSERT_LE(0, tb_del);
	close(self->dev[1]);
	self->dev[1] = -1;
	ASSERT_TRUE(wait_gone(0, pp_bound_ms(REMOVAL_MS)));
	ta_gone = pp_now_ms();
	ASSERT_TRUE(wait_gone(1, pp_bound_ms(REMOVAL_MS)));
	tb_gone = pp_now_ms();
	TH_LOG("A gone %ld ms after its device_del, B %ld ms after its own (%ld ms after A's)",
	       ta_gone - ta_del, tb_gone - tb_del, tb_del - ta_del);
	EXPECT_GT(BUTTON_MS + pp_bound_ms(3000), ta_gone - ta_del);
	EXPECT_GT(BUTTON_MS + pp_bound_ms(3000), tb_gone - tb_del);
	EXPECT_TRUE(pp_kmsg_find(self->kmsg, "its slot was hot-unplugged"));
	EXPECT_FALSE(pp_kmsg_find(self->kmsg, "not released within"));
}

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

	m->ret = pp_map(m->ctx, m->va, IOVA_BIG, GIB, PCIPASS_DMA_MAP_READ);
	__atomic_store_n(&m->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * 1 GiB of address space: a 2 MiB memfd mapped over and over, then 2 MiB
 * of userfaultfd memory that stalls whoever touches it, so that the map
 * is certainly in progress (its last chunk waiting to be pinned, the rest
 * pinned and mapped) when the removal comes.
 */
static void *big_stalling(struct pp_uffd *u)
{
	char *va;
	size_t off;
	int fd;

	/* PROT_NONE: reserved, not charged (1 GiB is all the VM has). */
	va = mmap(NULL, GIB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (va == MAP_FAILED)
		return MAP_FAILED;
	if (pp_uffd_create_at(u, va + GIB - CHUNK, CHUNK))
		return MAP_FAILED;
	fd = memfd_create("hotplug_test", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, CHUNK))
		return MAP_FAILED;
	for (off = 0; off < GIB - CHUNK; off += CHUNK)
		if (mmap(va + off, CHUNK, PROT_READ,
			 MAP_SHARED | MAP_FIXED | MAP_POPULATE, fd, 0) ==
		    MAP_FAILED)
			va = MAP_FAILED;
	close(fd);
	return va;
}

/* Pinned pages once there are @want, or after @ms. */
static long pins_at_least(long want, int ms)
{
	long t0 = pp_now_ms(), have;

	while ((have = pp_foll_pins()) < want && pp_now_ms() - t0 < ms)
		usleep(20000);
	return have;
}

TEST_F_TIMEOUT(hp, removal_during_a_1gib_map_ends_in_bounded_time, 120)
{
	struct big_map m = { .ctx = self->ctx[0] };
	struct pp_uffd u;
	long t0, took;

	m.va = big_stalling(&u);
	ASSERT_NE(MAP_FAILED, m.va);
	ASSERT_EQ(0, pp_release_timeout(LONG_TIMEOUT_MS));
	pthread_create(&m.thread, NULL, big_map_run, &m);
	ASSERT_EQ(1, pp_uffd_waiters(&u, pp_bound_ms(20000)));
	/* The other pinning workers may still be on their chunks. */
	EXPECT_LE(self->pins + (long)((GIB - CHUNK) / PAGE_SZ),
		  pins_at_least(self->pins + (GIB - CHUNK) / PAGE_SZ,
				pp_bound_ms(20000)));

	t0 = unplug_and_wait_request(_metadata, self->efd, 0);
	ASSERT_LE(0, t0);
	close(self->dev[0]);
	self->dev[0] = -1;
	ASSERT_TRUE(wait_gone(0, pp_bound_ms(REMOVAL_MS)));
	took = pp_now_ms() - t0;
	TH_LOG("gone %ld ms after device_del, the map %s", took,
	       __atomic_load_n(&m.done, __ATOMIC_ACQUIRE) ? "done" :
							     "still going");
	EXPECT_GT(BUTTON_MS + pp_bound_ms(3000), took);
	EXPECT_FALSE(__atomic_load_n(&m.done, __ATOMIC_ACQUIRE));

	/* The map goes on into the domain no device uses, and completes. */
	pp_uffd_release(&u, false);
	pthread_join(m.thread, NULL);
	EXPECT_EQ(0, m.ret);
	if (!m.ret)
		EXPECT_EQ(0, pp_unmap(self->ctx[0], IOVA_BIG, GIB, 0));
	EXPECT_EQ(self->pins, pp_foll_pins());
	pp_uffd_destroy(&u);
	munmap(m.va, GIB - CHUNK);
}

TEST_HARNESS_MAIN

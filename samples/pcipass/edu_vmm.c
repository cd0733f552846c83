// SPDX-License-Identifier: GPL-2.0
/*
 * edu_vmm: the smallest VMM that uses pcipass, for QEMU's edu device.
 *
 * It does what a VMM does to hand a device to a guest: opens a context,
 * attaches the device, maps "guest memory" for DMA, turns on bus
 * mastering through the virtual config space, routes the device's MSI to
 * an eventfd, and then lets the device copy a message through the IOMMU
 * and raise interrupts. Run as root: edu_vmm [PCI address].
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/pcipass.h>

#define IOVA_SRC	0x100000ULL
#define IOVA_DST	0x200000ULL
#define EDU_BUF		0x40000
#define PAGE		4096

static void die(const char *what)
{
	fprintf(stderr, "edu_vmm: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void check(int ret, const char *what)
{
	if (ret)
		die(what);
}

static __u32 rd32(void *bar, unsigned int off)
{
	return __atomic_load_n((__u32 *)((char *)bar + off), __ATOMIC_ACQUIRE);
}

static void wr32(void *bar, unsigned int off, __u32 v)
{
	__atomic_store_n((__u32 *)((char *)bar + off), v, __ATOMIC_RELEASE);
}

static void wr64(void *bar, unsigned int off, __u64 v)
{
	__atomic_store_n((__u64 *)((char *)bar + off), v, __ATOMIC_RELEASE);
}

static __u64 wait_irq(int efd)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	__u64 n = 0;

	if (poll(&pfd, 1, 5000) != 1 || read(efd, &n, sizeof(n)) != 8)
		return 0;
	return n;
}

static void *guest_page(int ctx, __u64 iova, __u32 flags)
{
	struct pcipass_dma_map map = { .size = sizeof(map), .flags = flags };
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	memset(p, 0, PAGE);
	map.user_va = (__u64)(unsigned long)p;
	map.iova = iova;
	map.length = PAGE;
	check(ioctl(ctx, PCIPASS_DMA_MAP, &map), "PCIPASS_DMA_MAP");
	return p;
}

int main(int argc, char **argv)
{
	const char *addr = argc > 1 ? argv[1] : "0000:00:03.0";
	struct pcipass_api_version ver = { .size = sizeof(ver) };
	struct pcipass_info info = { .size = sizeof(info) };
	struct pcipass_device_attach att = { .size = sizeof(att) };
	struct pcipass_region_info bar0 = { .size = sizeof(bar0) };
	struct pcipass_irq_set irq = { .size = sizeof(irq) };
	unsigned int seg, bus, dev, fn;
	const char *msg = "hello from guest memory, via the device";
	char *src, *dst;
	__s32 efd_fd;
	void *bar;
	int ctx, efd;
	__u16 cmd;

	if (sscanf(addr, "%x:%x:%x.%x", &seg, &bus, &dev, &fn) != 4) {
		fprintf(stderr, "usage: edu_vmm [SSSS:BB:DD.F]\n");
		return 2;
	}

	ctx = open("/dev/pcipass", O_RDWR | O_CLOEXEC);
	if (ctx < 0)
		die("/dev/pcipass");
	check(ioctl(ctx, PCIPASS_GET_API_VERSION, &ver), "GET_API_VERSION");
	check(ioctl(ctx, PCIPASS_GET_INFO, &info), "GET_INFO");
	printf("pcipass API %u; host: IOMMU %s, isolated MSI %s\n", ver.version,
	       info.host_caps & PCIPASS_HOST_IOMMU ? "yes" : "no",
	       info.host_caps & PCIPASS_HOST_ISOLATED_MSI ? "yes" : "no");

	att.addr = (struct pcipass_pci_addr) {
		.segment = seg, .bus = bus, .device = dev, .function = fn,
	};
	check(ioctl(ctx, PCIPASS_DEVICE_ATTACH, &att), "DEVICE_ATTACH");
	printf("attached %s: device fd %d\n", addr, att.out_device_fd);

	bar0.index = PCIPASS_REGION_BAR0;
	check(ioctl(att.out_device_fd, PCIPASS_DEVICE_GET_REGION_INFO, &bar0),
	      "GET_REGION_INFO");
	bar = mmap(NULL, bar0.region_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   att.out_device_fd, bar0.offset);
	if (bar == MAP_FAILED)
		die("mmap BAR0");
	printf("BAR0: %llu KiB mapped, ID register 0x%08x\n",
	       (unsigned long long)bar0.region_size / 1024, rd32(bar, 0));

	/* Guest memory: one page the device reads, one it writes. */
	src = guest_page(ctx, IOVA_SRC, PCIPASS_DMA_MAP_READ);
	dst = guest_page(ctx, IOVA_DST, PCIPASS_DMA_MAP_WRITE);
	memcpy(src, msg, strlen(msg) + 1);

	/* The guest turns on bus mastering: through the virtual config. */
	check(pread(att.out_device_fd, &cmd, 2,
		    PCIPASS_REGION_OFFSET(PCIPASS_REGION_CONFIG) + 4) != 2,
	      "config read");
	cmd |= 0x4;
	check(pwrite(att.out_device_fd, &cmd, 2,
		     PCIPASS_REGION_OFFSET(PCIPASS_REGION_CONFIG) + 4) != 2,
	      "bus master enable");

	/* MSI vector 0 to an eventfd. */
	efd = eventfd(0, EFD_CLOEXEC);
	efd_fd = efd;
	irq.type = PCIPASS_IRQ_MSI;
	irq.count = 1;
	irq.flags = PCIPASS_IRQ_SET_ENABLE;
	check(ioctl(att.out_device_fd, PCIPASS_DEVICE_SET_IRQS, &irq),
	      "enable MSI");
	irq.flags = PCIPASS_IRQ_SET_EVENTFD;
	irq.data = (__u64)(unsigned long)&efd_fd;
	check(ioctl(att.out_device_fd, PCIPASS_DEVICE_SET_IRQS, &irq),
	      "MSI eventfd");

	/* DMA guest memory -> device, then device -> guest memory + IRQ. */
	wr64(bar, 0x80, IOVA_SRC);
	wr64(bar, 0x88, EDU_BUF);
	wr64(bar, 0x90, strlen(msg) + 1);
	wr64(bar, 0x98, 0x1 | 0x4);
	printf("DMA to the device: interrupt %s\n",
	       wait_irq(efd) ? "received" : "MISSING");
	wr32(bar, 0x64, rd32(bar, 0x24));
	wr64(bar, 0x80, EDU_BUF);
	wr64(bar, 0x88, IOVA_DST);
	wr64(bar, 0x90, strlen(msg) + 1);
	wr64(bar, 0x98, 0x1 | 0x2 | 0x4);
	printf("DMA back to guest memory: interrupt %s\n",
	       wait_irq(efd) ? "received" : "MISSING");
	wr32(bar, 0x64, rd32(bar, 0x24));
	printf("guest memory now holds: \"%s\"\n", dst);

	/* The guest driver raises an interrupt through the device. */
	wr32(bar, 0x60, 0x1);
	printf("raised interrupt 0x1: %s\n",
	       wait_irq(efd) ? "received on the eventfd" : "MISSING");
	wr32(bar, 0x64, 0x1);

	fflush(stdout);
	if (system("pcipass-tool stat") != 0)
		printf("(pcipass-tool stat unavailable)\n");

	close(efd);
	munmap(bar, bar0.region_size);
	close(att.out_device_fd);
	close(ctx);
	printf("closed: mappings, pins and interrupts released\n");
	return strcmp(dst, msg) ? 1 : 0;
}

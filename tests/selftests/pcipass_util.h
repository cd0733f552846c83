/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the pcipass selftests: sysfs access, PCI driver
 * binding, module loading and reading the kernel log. They run inside the
 * test VM, as root, on the devices the VM was started with.
 */
#ifndef PCIPASS_UTIL_H
#define PCIPASS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/pcipass.h>
#include <linux/types.h>

#define PP_SYSFS_PCI	"/sys/bus/pci/devices"
#define PP_DEV_NODE	"/dev/pcipass"

/* The devices of the test VMs (see tests/vm/), overridable by environment. */
const char *pp_env(const char *name, const char *fallback);
#define pp_edu_addr()		pp_env("PCIPASS_EDU", "0000:00:03.0")
#define pp_nvme_addr()		pp_env("PCIPASS_NVME", "0000:00:04.0")
#define pp_serial_addr()	pp_env("PCIPASS_SERIAL", "0000:00:05.0")
#define pp_bridge_addr()	pp_env("PCIPASS_BRIDGE", "0000:00:06.0")
/* noiommu VM only: a device alone behind the bridge, reset by bus reset. */
/* Behind the root port: "none" (no such device) where the VM has none. */
#define pp_testdev_addr()	pp_env("PCIPASS_TESTDEV", "none")
#define pp_pair0_addr()		pp_env("PCIPASS_PAIR0", "none")
#define pp_pair1_addr()		pp_env("PCIPASS_PAIR1", "none")
/* nointremap VM only: hot-pluggable pci-testdevs, QEMU ids hpa and hpb. */
#define pp_hp_a_addr()		pp_env("PCIPASS_HP_A", "none")
#define pp_hp_b_addr()		pp_env("PCIPASS_HP_B", "none")

/*
 * Ask the host agent (tests/vm/host-agent.py) to act on QEMU device @id:
 * @verb "device_del" or "device_add". The request is a line on stdout,
 * which the VM's results channel carries to the host; the outcome shows in
 * sysfs. -1 when the VM has no host agent (PCIPASS_HOST_AGENT), else 0.
 */
int pp_host_request(const char *verb, const char *id);

/*
 * The test VMs (PCIPASS_VM): "iommu" (VT-d with interrupt remapping),
 * "nointremap" (VT-d without it) and "noiommu".
 * pp_vm_has_iommu(): 1 with VT-d, 0 without, -1 outside the test VMs.
 */
int pp_vm_has_iommu(void);
bool pp_vm_is(const char *name);

int pp_read_file(const char *path, char *buf, size_t len);
int pp_write_file(const char *path, const char *val);
bool pp_path_exists(const char *path);

/* The driver bound to @addr, "" when none; 0 or -errno. */
int pp_dev_driver(const char *addr, char *drv, size_t len);
int pp_dev_config_read(const char *addr, unsigned int off, void *buf,
		       size_t len);
__u16 pp_dev_command(const char *addr);
/* driver_override + unbind + drivers_probe; "" clears the override. */
int pp_dev_rebind(const char *addr, const char *override);
/* Bind @addr to pcipass and wait (5 s) until it is: true when it is. */
bool pp_claim(const char *addr);
/*
 * The sum of @key's values (" pinned_bytes ", " mappings ") over the
 * contexts of this process in debugfs stat; -1 when it cannot be read or
 * no such context has @key.
 */
long long pp_stat_ctx_sum(const char *key);
/*
 * Poll up to @timeout_ms until @addr is bound to @drv ("" for none); false
 * at once when no driver @drv is registered (its module is not loaded).
 */
bool pp_wait_driver(const char *addr, const char *drv, int timeout_ms);
bool pp_wait_path(const char *path, bool present, int timeout_ms);
/* Wait up to @ms for @efd; returns its count, 0 when nothing came. */
__u64 pp_efd_wait(int efd, int ms);
/*
 * The contract of the event types (PCIPASS_IRQ_ERR, PCIPASS_IRQ_REQ), whose
 * eventfd @efd is set: one vector, always enabled, eventfd only, EBADF for
 * a bad descriptor, a TRIGGER loopback reaches @efd. NULL, or what differs.
 */
const char *pp_event_irq_contract(int dev, __u32 type, int efd);
/* Read 32 bits at @p in a child: true when the child died of SIGBUS. */
bool pp_access_faults(void *p);

/* Run a shell command, return its exit status (or -1). */
int pp_run(const char *fmt, ...);
bool pp_module_loaded(void);
/* Unload pcipass if loaded, then load it with @params ("" for none). */
int pp_module_reload(const char *params);
/* Make sure pcipass is loaded (with ids= for edu when it was not). */
int pp_module_ensure(void);
/*
 * How long a removal waits for the VMM (release_timeout_ms): a test that
 * unbinds an attached device sets what it needs; 0 or -errno.
 */
int pp_release_timeout(unsigned int ms);

/* Kernel log: open at the current end, then search what arrives. */
int pp_kmsg_open(void);
bool pp_kmsg_find(int fd, const char *needle);
/* The same, waiting up to @timeout_ms for the line (asynchronous logs). */
bool pp_kmsg_wait(int fd, const char *needle, int timeout_ms);

/* ioctl() that returns 0 or the errno. */
int pp_ioctl(int fd, unsigned long num, void *arg);
int pp_parse_addr(const char *str, struct pcipass_pci_addr *addr);
/* PCIPASS_DEVICE_ATTACH by address string; 0 or errno, *dev_fd set. */
int pp_attach(int ctx_fd, const char *addr, int *dev_fd);
int pp_detach(int ctx_fd, const char *addr);
int pp_map(int ctx_fd, void *va, __u64 iova, __u64 len, __u32 flags);
int pp_unmap(int ctx_fd, __u64 iova, __u64 len, __u32 flags);
int pp_ctx_info(int ctx_fd, struct pcipass_info *info);

/* mmap BAR @bar of @addr through sysfs (resourceN), NULL on failure. */
void *pp_map_bar_sysfs(const char *addr, int bar, size_t *len);
/* Region info of a device file; 0 or errno. */
int pp_region_info(int dev_fd, __u32 index, struct pcipass_region_info *ri);
/* mmap BAR @bar through the device file, NULL on failure. */
void *pp_map_bar(int dev_fd, int bar, size_t *len);
/* mmap the first @len bytes of BAR @bar (e.g. to stay clear of MSI-X). */
void *pp_map_bar_head(int dev_fd, int bar, size_t len);
/* Config space through the device file: 0 or errno. */
int pp_cfg_read(int dev_fd, unsigned int off, void *buf, size_t len);
int pp_cfg_write(int dev_fd, unsigned int off, const void *buf, size_t len);
/* Set or clear bus mastering the way a VMM does: 0 or errno. */
int pp_cfg_set_bus_master(int dev_fd, bool on);
int pp_dev_config_write16(const char *addr, unsigned int off, __u16 val);
int pp_set_bus_master(const char *addr, bool on);

/* /proc/self/status field in kB (VmPin, VmLck), -1 when absent. */
long pp_status_kb(const char *key);
long pp_status_kb_of(pid_t pid, const char *key);
/* A /proc/vmstat counter, -1 when absent. */
long pp_vmstat(const char *key);
/* A "Key: value kB" field of a file like /proc/meminfo, -1 when absent. */
long pp_file_kb(const char *path, const char *key);
/* Outstanding FOLL_PIN pins of the whole system, from /proc/vmstat. */
long pp_foll_pins(void);
/*
 * Kernel memory that a mapping's bookkeeping can use, in kB: Slab +
 * VmallocUsed of /proc/meminfo, after folding the per-CPU counters. The
 * IOMMU's page tables are not in it (nr_iommu_pages of /proc/vmstat).
 */
long pp_kmem_kb(void);

/* PCIPASS_DEVICE_SET_IRQS with one action; 0 or errno. */
int pp_irq_set(int dev_fd, __u32 action, __u32 type, __u32 start, __u32 count,
	       void *data);
/* Lines of /proc/interrupts naming pcipass vectors of @addr (NULL: any). */
int pp_irq_lines(const char *addr);

/* Device registers: one access of exactly that width, never merged. */
__u32 pp_mmio_read32(void *bar, unsigned int off);
void pp_mmio_write32(void *bar, unsigned int off, __u32 val);
void pp_mmio_write64(void *bar, unsigned int off, __u64 val);

/* QEMU's edu device, through its BAR0. */
#define EDU_BUF			0x40000
#define EDU_DMA_MAX		4095	/* 4096 aborts QEMU 7.2 */
#define EDU_DMA_MASK		((1ull << 28) - 1)
__u32 pp_edu_read(void *bar, unsigned int off);
void pp_edu_write(void *bar, unsigned int off, __u32 val);
/* Run one DMA; false when it does not complete in time. */
bool pp_edu_dma(void *bar, __u64 src, __u64 dst, __u32 count, bool to_ram);

/*
 * User memory that stalls: @len bytes (page multiple) registered with
 * userfaultfd in missing mode, never populated. Any access, from user
 * space or from the kernel (copy_from_user, pin_user_pages), blocks until
 * pp_uffd_release() fills the pages with zeroes (or, with @fail, closes the
 * userfaultfd: the waiters wake and the pages are then faulted in as
 * ordinary memory).
 */
struct pp_uffd {
	int fd;
	void *addr;
	size_t len;
	bool wp;
};

/* 0 or -errno. */
int pp_uffd_create(struct pp_uffd *u, size_t len);
/* The same at @at (MAP_FIXED: it replaces what was mapped there). */
int pp_uffd_create_at(struct pp_uffd *u, void *at, size_t len);
/*
 * The same, but the pages hold @init (copied in) and are write-protected:
 * reads work, writes stall until pp_uffd_release().
 */
int pp_uffd_create_wp(struct pp_uffd *u, size_t len, const void *init,
		      size_t init_len);
/* 1 once a fault is waiting (within @timeout_ms), else 0. */
int pp_uffd_waiters(struct pp_uffd *u, int timeout_ms);
void pp_uffd_release(struct pp_uffd *u, bool fail);
void pp_uffd_destroy(struct pp_uffd *u);

/*
 * A liveness bound of @ms milliseconds, stretched on the debug kernel
 * (KASAN, lockdep: 5-10 times slower): for "did not hang" checks only.
 */
int pp_bound_ms(int ms);

/* Milliseconds since an arbitrary start (CLOCK_MONOTONIC). */
long pp_now_ms(void);

/*
 * An NVMe controller driven from user space through a BAR0 mapping
 * (doorbell stride 0, as QEMU's): one queue pair per qid, 16 entries,
 * in memory the caller mapped for DMA at the IOVAs given.
 */
#define PP_NVME_QDEPTH	16
struct pp_nvme_queue {
	__u32 *sq;
	__u32 *cq;
	__u64 sq_iova;
	__u64 cq_iova;
	unsigned int tail;
	unsigned int head;
	unsigned int phase;
};

struct pp_nvme {
	void *bar;
	struct pp_nvme_queue q[2];	/* admin, one I/O queue pair */
};

/* Reset the controller and enable it with the admin queue q[0]; 0 or -1. */
int pp_nvme_enable(struct pp_nvme *n);
/* Turn the controller off (CC.EN = 0) and wait; 0 or -1. */
int pp_nvme_disable(struct pp_nvme *n);
/*
 * Submit the 16 dwords of @sqe (its command ID is set here) on queue @qid
 * and poll for the completion: its status field (0 for success), or -1
 * when none came in time; @result gets dword 0 when not NULL.
 */
int pp_nvme_cmd(struct pp_nvme *n, unsigned int qid, __u32 *sqe,
		__u32 *result);
/* Create I/O queue pair 1 (q[1]), completions on MSI-X vector @iv. */
int pp_nvme_create_io_queues(struct pp_nvme *n, __u16 iv);

#endif /* PCIPASS_UTIL_H */

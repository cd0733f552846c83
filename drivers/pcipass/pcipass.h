/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcipass internal interfaces: the types shared between the files of the
 * driver, which lock protects which field, and the cross-file prototypes.
 *
 * Lock order (outermost first):
 *   device_lock(&pci_dev->dev) -> pcipass_ctx.lock
 *	-> pcipass_device.memory_lock
 *   User memory (pinning, copies, hence mmap_lock and page faults that
 *   userfaultfd or FUSE may stall for ever) must be touched under none of
 *   device_lock, pcipass_ctx.lock or pcipass_ctx_list_lock (dma.c keeps
 *   to it).
 *   pcipass_ctx.lock -> pcipass_device.irq_lock (a spinlock)
 *   device_lock or pcipass_ctx.lock -> pcipass_device.err_lock (a
 *   spinlock): the PCI core's error callbacks (err.c) hold device_lock
 *   and take nothing else of pcipass
 *   pcipass_ctx_list_lock (stat.c) nests nothing: it is dropped before a
 *   context's lock is taken
 *   VFIO compatibility (vfio.c, vfio_device.c):
 *   device_lock -> pcipass_vfio_lock -> pcipass_ctx.lock;
 *   pcipass_device.vfio_lock -> pcipass_ctx.lock. pcipass_vfio_lock is
 *   never held while taking a device_lock.
 *   mmap() and BAR faults: mmap_lock -> memory_lock; they never take the
 *   context lock.
 *   A removal (remove(), under the driver core's device_lock) waits for the
 *   VMM to release the device holding no lock of pcipass (release.c): the
 *   VMM's ways out (closing the device file or the context, DETACH)
 *   announce themselves under the context lock before they take
 *   device_lock, and config writes borrow the removal's device_lock.
 */
#ifndef _PCIPASS_H
#define _PCIPASS_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/pcipass.h>
#include <linux/rbtree.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/poll.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

struct eventfd_ctx;
struct iommu_domain;
struct iommu_group;
struct pcipass_device;
struct pcipass_iova_span;
struct vfio_region_sparse_mmap_area;

/* &pcipass_device.irq_type when no interrupt type is enabled. */
#define PCIPASS_IRQ_NONE	U32_MAX

/* &pcipass_vconfig.bar_flags of the upper half of a 64-bit BAR. */
#define PCIPASS_BAR_UPPER	BIT(31)

/**
 * struct pcipass_vconfig - the virtual config space of an attached device
 * @shadow: the values of the virtual bits (and a snapshot of the rest)
 * @virt: per byte, the bits read from and written to @shadow
 * @write: per byte, the bits a VMM may write
 * @size: bytes of config space: 256, or 4096 for PCI Express
 * @bar_size: sizes of BARs 0-5 and of the ROM (index 6)
 * @bar_flags: the low flag bits of each BAR, or %PCIPASS_BAR_UPPER
 * @msi_pos: offset of the MSI capability, or 0
 * @pcie_pos: offset of the PCI Express capability, or 0
 * @af_pos: offset of the Advanced Features capability, or 0
 *
 * Everything is under the context lock.
 */
struct pcipass_vconfig {
	u8 *shadow;
	u8 *virt;
	u8 *write;
	u32 size;
	u64 bar_size[PCIPASS_REGION_ROM + 1];
	u32 bar_flags[PCIPASS_REGION_ROM + 1];
	u8 msi_pos;
	u8 pcie_pos;
	u8 af_pos;
};

/**
 * struct pcipass_msix_area - where a BAR holds the MSI-X table or PBA
 * @bar: the BAR
 * @start: offset of the first byte
 * @end: offset after the last byte
 * @len: @end - @start; 0 when the device has no MSI-X
 */
struct pcipass_msix_area {
	int bar;
	u64 start;
	u64 end;
	u64 len;
};

/**
 * struct pcipass_irq_vector - one enabled interrupt vector of a device
 * @pdevice: the device (constant)
 * @trigger: the eventfd signalled when the vector fires, or NULL
 *	(&pcipass_device.irq_lock; released only after synchronize_irq())
 * @irq: the Linux interrupt number (constant while enabled)
 * @requested: request_irq() succeeded (context lock)
 * @masked: the vector is masked (irq_lock)
 * @pending: the vector fired while masked (irq_lock)
 * @delivered: interrupts signalled (irq_lock)
 * @name: the name in /proc/interrupts
 */
struct pcipass_irq_vector {
	struct pcipass_device *pdevice;
	struct eventfd_ctx *trigger;
	unsigned int irq;
	bool requested;
	bool masked;
	bool pending;
	u64 delivered;
	char name[48];
};

/**
 * struct pcipass_err_state - the error reports of an attachment
 * @correctable: correctable errors reported
 * @nonfatal: uncorrectable non-fatal errors reported
 * @fatal: uncorrectable fatal errors reported
 * @resets: resets of the device by a recovery
 * @recoveries: recoveries that ended
 * @channel: &enum pcipass_err_channel of the last uncorrectable error
 * @result: &enum pcipass_err_result of the last uncorrectable error
 *
 * Everything is under &pcipass_device.err_lock.
 */
struct pcipass_err_state {
	u32 correctable;
	u32 nonfatal;
	u32 fatal;
	u32 resets;
	u32 recoveries;
	u32 channel;
	u32 result;
};

/**
 * struct pcipass_ctx - one open file of /dev/pcipass
 * @ref: held by the context file and by every device file made from it
 * @lock: protects every field below; the ioctls of the context and its
 *	devices hold it while they read or change them, never while they
 *	touch user memory (PCIPASS_DMA_MAP pins with it dropped, its range
 *	reserved by a busy &struct pcipass_mapping)
 * @mode: &enum pcipass_ctx_mode, decided by the first attach
 * @domain: the IOMMU domain, allocated at the first IOMMU attach
 * @groups: the &struct pcipass_group attached to @domain
 * @devices: the &struct pcipass_device attached to this context
 * @num_devices: entries in @devices
 * @mappings: interval tree of &struct pcipass_mapping, by IOVA
 * @num_mappings: entries in @mappings
 * @pinned_pages: pages pinned by @mappings (an unmap in progress takes
 *	them out a chunk at a time)
 * @dma_busy: the busy entries of @mappings: DMA_MAPs and unmaps in
 *	progress with the lock dropped
 * @dma_idle: woken when @dma_busy drops to 0 (pcipass_dma_release() waits)
 * @dma_closing: pcipass_dma_release() is unmapping everything, or the
 *	last VFIO group left during a map and the mappings wait for the
 *	context's release (pcipass_dma_release_nowait()): maps and unmaps are
 *	refused, maps in progress end at their next batch
 * @aperture_start: first IOVA of @domain's aperture
 * @aperture_last: last IOVA of @domain's aperture
 * @coherent: @domain enforces cache coherency (every DMA snoops the CPU
 *	caches, IOMMU_CAP_ENFORCE_CACHE_COHERENCY); decided by the first
 *	attach, before any mapping
 * @opener_uid: the fsuid the context was opened with (constant)
 * @privileged: the opener had CAP_SYS_ADMIN: any bound device may be
 *	attached; otherwise only those whose owner is @opener_uid (constant)
 * @stat_node: entry in the statistics' list of contexts (its own lock)
 * @id: the context's number in the statistics (constant)
 * @owner_pid: process that opened the context (constant)
 * @owner_comm: that process's name (constant)
 */
struct pcipass_ctx {
	struct kref ref;
	struct mutex lock; /* see @lock above */
	u32 mode;
	struct iommu_domain *domain;
	struct list_head groups;
	struct list_head devices;
	u32 num_devices;
	struct rb_root_cached mappings;
	u32 num_mappings;
	unsigned long pinned_pages;
	unsigned int dma_busy;
	wait_queue_head_t dma_idle;
	bool dma_closing;
	u64 aperture_start;
	u64 aperture_last;
	bool coherent;
	kuid_t opener_uid;
	bool privileged;
	struct list_head stat_node;
	u64 id;
	pid_t owner_pid;
	char owner_comm[TASK_COMM_LEN];
};

/**
 * struct pcipass_pci - a PCI device bound to the pcipass driver
 * @pdev: the device
 * @saved_decode: PCI_COMMAND I/O and memory decode bits found at probe,
 *	given back at remove (device_lock)
 * @attached: the context attachment, or NULL; set and cleared under both
 *	device_lock() and the context's lock
 * @owner: the user whose contexts may attach the device without
 *	CAP_SYS_ADMIN, or INVALID_UID (sysfs pcipass_owner; device_lock)
 * @needs_reset: a context used the device and no reset has cleared what
 *	it left since, because the device cannot be reset alone, only with
 *	its slot or bus: the slot or bus reset of pcipass_reset_handover()
 *	is due (device_lock)
 * @vfs_enabled: pcipass enabled the SR-IOV VFs of this PF (sriov_numvfs),
 *	and disables them at remove (device_lock)
 * @unplug_watch: while the device is attached in a hotplug slot with an
 *	attention button and a power indicator, looks at the indicator for
 *	a pending hot-unplug (release.c)
 * @unplug_blinks: looks in a row that found the indicator blinking
 *	(device_lock)
 * @unplug_requested: the VMM was asked to release the device for that
 *	hot-unplug (device_lock)
 * @unplug_asked: the VMM had a %PCIPASS_IRQ_REQ eventfd then (device_lock)
 * @unplug_req_at: when it was asked, in jiffies (device_lock)
 */
struct pcipass_pci {
	struct pci_dev *pdev;
	u16 saved_decode;
	struct pcipass_device *attached;
	kuid_t owner;
	bool needs_reset;
	bool vfs_enabled;
	struct delayed_work unplug_watch;
	unsigned int unplug_blinks;
	bool unplug_requested;
	bool unplug_asked;
	unsigned long unplug_req_at;
};

/**
 * struct pcipass_group - an IOMMU group attached to a context's domain
 * @node: entry in &pcipass_ctx.groups (context lock)
 * @group: the group, with a reference held
 * @users: devices of this group attached to the context (context lock)
 * @resv_regions: the group's reserved regions, &struct iommu_resv_region
 *	copies, sorted and merged by the IOMMU core (constant once attached)
 */
struct pcipass_group {
	struct list_head node;
	struct iommu_group *group;
	unsigned int users;
	struct list_head resv_regions;
};

/**
 * struct pcipass_device - a device attached to a context: the device file
 * @ctx: the context, with a reference held (constant)
 * @pdev: the PCI device, with a reference held (constant)
 * @ppci: the bound device, or NULL once detached (context lock)
 * @pgroup: the device's IOMMU group in the context, or NULL (context lock)
 * @node: entry in &pcipass_ctx.devices while attached (context lock)
 * @irq_lock: protects what interrupt handlers read: the vectors' trigger,
 *	masked, pending and delivered fields, and the @irqs pointer
 * @irq_type: the enabled &enum pcipass_irq_type, or %PCIPASS_IRQ_NONE
 *	(context lock)
 * @irq_count: vectors in @irqs (context lock)
 * @irqs: the enabled vectors (context lock to change, irq_lock to read
 *	from an interrupt or work)
 * @intx_shared: INTx is masked at the device (PCI 2.3), so the line is
 *	shared (context lock)
 * @intx_unmask: the eventfd that unmasks INTx, or NULL (context lock)
 * @intx_unmask_wait: our entry in @intx_unmask's wait queue
 * @intx_unmask_wqh: @intx_unmask's wait queue, whose lock the wake-up
 *	function needs (set by the poll table callback, context lock)
 * @intx_unmask_pt: the poll table that adds @intx_unmask_wait
 * @intx_deliver: signals INTx from process context after an unmask by
 *	eventfd found the device still asserting it
 * @file: the device file (constant)
 * @memory_lock: taken for reading by BAR mapping faults, for writing by
 *	whoever changes @bars_usable, and around the kernel's own MSI-X
 *	table writes while memory decoding is turned on for them
 * @bars_usable: BARs may be accessed: attached, memory decoding on, not in
 *	reset (@memory_lock to write; read under it or the context lock)
 * @revoked: detached for good: no new mapping (@memory_lock)
 * @decode: the device's I/O and memory decoding bits as last written or
 *	restored, so that BAR reads need no config read (context lock)
 * @barmap: kernel mappings of the BARs for pread/pwrite (context lock)
 * @msix_mmap_ok: the MSI-X table may be mapped and written: the IOMMU group
 *	isolates MSI (constant while attached)
 * @msix_areas: the MSI-X table and PBA (constant while attached)
 * @cfg: the virtual config space (context lock)
 * @rom_failed: the PCI core could not map the ROM: further reads fail
 *	without asking it again (context lock)
 * @bus_master_refusals: refused bus master enables (context lock)
 * @saved_state: the device's state when it was attached (both locks)
 * @reset_works: the function reset made at attach succeeded, so
 *	PCIPASS_DEVICE_RESET resets this device alone (constant while
 *	attached)
 * @vfio_group_file: for a device file opened through a VFIO group
 *	(VFIO_GROUP_GET_DEVICE_FD), a reference on that group's file, so that
 *	the group outlives its open devices as in VFIO; else NULL (constant)
 * @vfio_lock: serializes the VFIO ioctls of the device file that read the
 *	interrupt state then act on it (VFIO_DEVICE_SET_IRQS); user memory may
 *	be read under it, it nests outside the context lock
 * @req_trigger: the eventfd of %PCIPASS_IRQ_REQ, or NULL (context lock)
 * @releasing: the VMM is releasing the device (closing its file or the
 *	context, or DETACH): a removal waiting for it revokes at once
 *	(context lock to set; read without it by that removal)
 * @release_requested: a removal holds the device lock and waits for the
 *	VMM: config writes go on under the context lock alone, without
 *	resets (context lock)
 * @resetting: a VMM's reset of the device (alone, or in a hot reset) runs
 *	without the context lock: the device's calls wait for it
 *	(pcipass_device_ctx_lock()), and its file's release too (set under
 *	the context lock, read without it by those waits)
 * @err_lock: protects @err_trigger and @err: the PCI core's error
 *	callbacks take it under device_lock, the ioctls under the context
 *	lock
 * @err_trigger: the eventfd of %PCIPASS_IRQ_ERR, or NULL (changed under
 *	the context lock and @err_lock, so read under either)
 * @err: what the error reports said (@err_lock)
 */
struct pcipass_device {
	struct pcipass_ctx *ctx;
	struct pci_dev *pdev;
	struct pcipass_pci *ppci;
	struct pcipass_group *pgroup;
	struct list_head node;
	spinlock_t irq_lock; /* see @irq_lock above */
	u32 irq_type;
	u32 irq_count;
	struct pcipass_irq_vector *irqs;
	bool intx_shared;
	struct eventfd_ctx *intx_unmask;
	wait_queue_entry_t intx_unmask_wait;
	wait_queue_head_t *intx_unmask_wqh;
	poll_table intx_unmask_pt;
	struct work_struct intx_deliver;
	struct file *file;
	struct rw_semaphore memory_lock;
	bool bars_usable;
	bool revoked;
	u16 decode;
	void __iomem *barmap[PCI_STD_NUM_BARS];
	bool msix_mmap_ok;
	struct pcipass_msix_area msix_areas[2];
	struct pcipass_vconfig cfg;
	bool rom_failed;
	u32 bus_master_refusals;
	struct pci_saved_state *saved_state;
	bool reset_works;
	struct file *vfio_group_file;
	struct mutex vfio_lock; /* see @vfio_lock above */
	struct eventfd_ctx *req_trigger;
	bool releasing;
	bool release_requested;
	bool resetting;
	spinlock_t err_lock; /* see @err_lock above */
	struct eventfd_ctx *err_trigger;
	struct pcipass_err_state err;
};

/**
 * struct pcipass_mapping - a range of user memory mapped for device DMA
 * @node: entry in &pcipass_ctx.mappings (context lock, like every field)
 * @iova_start: first IOVA
 * @iova_last: last IOVA (inclusive)
 * @subtree_last: maintained by the interval tree
 * @npages: pages of the range, pinned while mapped; the IOMMU's
 *	translation says which pages they are (no page array is kept)
 * @writable: the device may write: pages are dirtied when unpinned
 * @busy: a DMA_MAP is still pinning and mapping the range, or an unmap
 *	is unmapping it, without the context lock: no one else may unmap it
 *	(counted in &pcipass_ctx.dma_busy)
 * @contig: one bit per 2 MiB block of IOVA (from the block of @iova_start
 *	on) mapped whole from one physically contiguous run, so that unmap
 *	looks one address up per such block; NULL for a mapping below 2 MiB
 *	(or when it could not be allocated: every page is looked up). Written
 *	by the DMA_MAP that owns the busy mapping, then read by its unmap
 * @unmap_node: entry in the list of mappings an unmap has taken
 *	(owned by that unmap while @busy)
 * @file: for a file map (%PCIPASS_DMA_MAP_FILE), the file, with a
 *	reference held and, when @writable, a writable count of its mapping;
 *	its folios are pinned once each (constant)
 * @user: the user charged for @npages locked pages, with a reference
 *	(constant)
 * @mm: the memory the pages were pinned from, grabbed, whose pinned_vm
 *	(VmPin) counts them (constant)
 */
struct pcipass_mapping {
	struct rb_node node;
	u64 iova_start;
	u64 iova_last;
	u64 subtree_last;
	unsigned long npages;
	bool writable;
	bool busy;
	unsigned long *contig;
	struct list_head unmap_node;
	struct file *file;
	struct user_struct *user;
	struct mm_struct *mm;
};

/**
 * struct pcipass_ucmd - one ioctl call being handled
 * @ctx: the context the ioctl was made on
 * @dev: the device, for an ioctl made on a device file, else NULL
 * @ubuf: the user's structure
 * @user_size: the size the user gave in its first field
 * @cmd: the kernel's copy of the structure, validated by the dispatcher
 * @kernel_size: the size of the kernel's structure
 * @writable: the file the ioctl was made on was opened for writing
 */
struct pcipass_ucmd {
	struct pcipass_ctx *ctx;
	struct pcipass_device *dev;
	void __user *ubuf;
	u32 user_size;
	void *cmd;
	u32 kernel_size;
	bool writable;
};

/**
 * struct pcipass_ioctl_op - one entry of the ioctl table
 * @size: sizeof() the structure this kernel knows
 * @min_size: the size of the first version of the structure
 * @valid_flags: the bits of the structure's flags this kernel knows
 * @needs_write: the ioctl changes state: refused with -EBADF on a file
 *	not opened for writing
 * @handler: called with a validated copy of the structure
 */
struct pcipass_ioctl_op {
	u32 size;
	u32 min_size;
	u32 valid_flags;
	bool needs_write;
	int (*handler)(struct pcipass_ucmd *ucmd);
};

/* main.c: the context and the ioctl dispatcher */
struct pcipass_ctx *pcipass_ctx_create(struct file *file);
void pcipass_ctx_destroy(struct pcipass_ctx *ctx);
void pcipass_ctx_put(struct pcipass_ctx *ctx);
void pcipass_ctx_get(struct pcipass_ctx *ctx);
int pcipass_ucmd_respond(struct pcipass_ucmd *ucmd);
long pcipass_device_dispatch(struct pcipass_device *dev, unsigned int cmd,
			     unsigned long arg);
#if IS_ENABLED(CONFIG_KUNIT)
const struct pcipass_ioctl_op *pcipass_ioctl_lookup(bool device,
						    unsigned int cmd);
int pcipass_ioctl_check_size(const struct pcipass_ioctl_op *op, u32 user_size);
int pcipass_ioctl_check_flags(const struct pcipass_ioctl_op *op, u32 flags);
#endif

/* stat.c: statistics in debugfs */
void pcipass_stat_ctx_add(struct pcipass_ctx *ctx);
void pcipass_stat_ctx_del(struct pcipass_ctx *ctx);
void pcipass_stat_init(void);
void pcipass_stat_exit(void);

/* driver.c: the PCI driver */
int pcipass_parse_id(const char *str, struct pci_device_id *id);
int pcipass_driver_register(const char *ids);
void pcipass_driver_unregister(void);
bool pcipass_driver_owns(struct pci_dev *pdev);

/* device.c: attach, detach and the device file */
int pcipass_device_attach_pdev(struct pcipass_ctx *ctx, struct pci_dev *pdev,
			       struct file *vfio_group_file, struct file **out);
int pcipass_device_attach(struct pcipass_ucmd *ucmd);
int pcipass_group_may_attach(struct iommu_group *group, const char *who);
int pcipass_device_detach(struct pcipass_ucmd *ucmd);
int pcipass_device_get_info(struct pcipass_ucmd *ucmd);
void pcipass_ctx_detach_all(struct pcipass_ctx *ctx);
bool pcipass_ctx_has_group(struct pcipass_ctx *ctx, struct iommu_group *group);
void pcipass_device_detach_locked(struct pcipass_device *pdevice, bool removal);
extern bool pcipass_allow_noiommu;

/* release.c: release requests and the bounded wait of a removal */
void pcipass_release_announce(struct pcipass_device *pdevice);
void pcipass_unplug_watch_init(struct pcipass_pci *ppci);
void pcipass_unplug_watch_start(struct pcipass_pci *ppci);
void pcipass_unplug_watch_stop(struct pcipass_pci *ppci);
void pcipass_pci_revoke(struct pcipass_pci *ppci);
bool pcipass_cfg_write_lock(struct pcipass_device *pdevice,
			    struct pci_dev **bridge);
void pcipass_cfg_write_unlock(struct pcipass_device *pdevice, bool locked,
			      struct pci_dev *bridge);
int pcipass_release_init(void);
void pcipass_release_exit(void);

/* err.c: AER error reports */
extern const struct pci_error_handlers pcipass_err_handlers;
void pcipass_err_init(struct pcipass_device *pdevice);
struct eventfd_ctx *pcipass_err_trigger_swap(struct pcipass_device *pdevice,
					     struct eventfd_ctx *trigger);
bool pcipass_err_trigger_set(struct pcipass_device *pdevice);
void pcipass_err_signal(struct pcipass_device *pdevice);
int pcipass_device_err_info(struct pcipass_ucmd *ucmd);

/* intrs.c: interrupts */
void pcipass_irq_init(struct pcipass_device *pdevice);
void pcipass_irq_release(struct pcipass_device *pdevice);
int pcipass_irq_info_cmd(struct pcipass_device *pdevice,
			 struct pcipass_irq_info *cmd);
int pcipass_irq_info(struct pcipass_ucmd *ucmd);
int pcipass_irq_set_cmd(struct pcipass_device *pdevice,
			const struct pcipass_irq_set *cmd);
int pcipass_irq_set(struct pcipass_ucmd *ucmd);
bool pcipass_irq_unsafe_allowed(void);
bool pcipass_irq_req_signal(struct pcipass_device *pdevice);

/* config.c: config space virtualization */
int pcipass_config_init(struct pcipass_device *pdevice);
void pcipass_config_free(struct pcipass_device *pdevice);
ssize_t pcipass_config_access(struct pcipass_device *pdevice, void *buf,
			      size_t count, u64 pos, bool write);
#if IS_ENABLED(CONFIG_KUNIT)
bool pcipass_config_hidden_ext_cap(u16 id);
int pcipass_vconfig_build(struct pcipass_vconfig *cfg, u32 *bad);
u32 pcipass_vconfig_read(const struct pcipass_vconfig *cfg, u32 pos, u32 len,
			 u32 hw);
u32 pcipass_vconfig_write(struct pcipass_vconfig *cfg, u32 pos, u32 len,
			  u32 val, u32 *hw_mask);
#endif

/* sriov.c: SR-IOV virtual functions and their physical functions */
void pcipass_sriov_shadow(struct pci_dev *pdev, struct pcipass_vconfig *cfg);
void pcipass_sriov_perms(struct pci_dev *pdev, struct pcipass_vconfig *cfg);
u16 pcipass_sriov_command(struct pcipass_device *pdevice, u16 cmd);
int pcipass_sriov_may_attach(struct pci_dev *pdev);
int pcipass_sriov_configure(struct pci_dev *pdev, int num_vfs);
void pcipass_sriov_remove(struct pcipass_pci *ppci);

/* rdwr.c: BARs, ROM and config through the device file */
int pcipass_region_info_cmd(struct pcipass_device *pdevice,
			    struct pcipass_region_info *cmd);
int pcipass_region_info(struct pcipass_ucmd *ucmd);
ssize_t pcipass_region_rw(struct pcipass_device *pdevice, u32 index,
			  char __user *buf, size_t count, u64 off, bool write);
ssize_t pcipass_device_read(struct file *file, char __user *buf,
			    size_t count, loff_t *ppos);
ssize_t pcipass_device_write(struct file *file, const char __user *buf,
			     size_t count, loff_t *ppos);
int pcipass_device_mmap(struct file *file, struct vm_area_struct *vma);
void pcipass_bars_block(struct pcipass_device *pdevice);
void pcipass_bars_unblock(struct pcipass_device *pdevice);
void pcipass_bars_revoke(struct pcipass_device *pdevice);
u16 pcipass_memory_lock_and_enable(struct pcipass_device *pdevice);
void pcipass_memory_unlock_and_restore(struct pcipass_device *pdevice, u16 cmd);
int pcipass_regions_init(struct pcipass_device *pdevice, bool msix_mmap_ok);
void pcipass_regions_release(struct pcipass_device *pdevice);

/**
 * struct pcipass_hot_reset_set - the devices a hot reset affects
 * @flags: &enum pcipass_hot_reset_info_flags
 * @count: entries in @members
 * @members: the devices, in the PCI core's order of the bus
 * @members.pdev: a device, with a reference held
 * @members.pdevice: its attachment to the context, or NULL (set and valid
 *	under the context lock, by pcipass_hot_reset_set_attached())
 * @members.group_owned: not attached, but its IOMMU group is attached to
 *	the context's domain (as @pdevice)
 */
struct pcipass_hot_reset_set {
	u32 flags;
	u32 count;
	struct {
		struct pci_dev *pdev;
		struct pcipass_device *pdevice;
		bool group_owned;
	} members[] __counted_by(count);
};

/* Whether a device a hot reset affects may be reset (VFIO: its group). */
typedef bool (*pcipass_hot_reset_filter_t)(struct pci_dev *pdev, void *data);

/* reset.c: device reset */
bool pcipass_reset_available(struct pcipass_device *pdevice);
bool pcipass_hot_reset_available(struct pci_dev *pdev);
struct pcipass_hot_reset_set *pcipass_hot_reset_set_get(struct pci_dev *pdev);
void pcipass_hot_reset_set_put(struct pcipass_hot_reset_set *set);
struct pci_dev *pcipass_hot_reset_set_attached(struct pcipass_ctx *ctx,
					       struct pcipass_hot_reset_set *set);
int pcipass_hot_reset_cmd(struct pcipass_device *pdevice,
			  pcipass_hot_reset_filter_t filter, void *data);
int pcipass_device_hot_reset(struct pcipass_ucmd *ucmd);
int pcipass_device_hot_reset_info(struct pcipass_ucmd *ucmd);
int pcipass_reset_locked(struct pcipass_device *pdevice);
struct pci_dev *pcipass_reset_lock_bridge(struct pci_dev *pdev);
void pcipass_reset_unlock_bridge(struct pci_dev *bridge);
int pcipass_device_reset_cmd(struct pcipass_device *pdevice);
int pcipass_device_reset(struct pcipass_ucmd *ucmd);
int pcipass_reset_on_attach(struct pcipass_device *pdevice);
int pcipass_reset_on_detach(struct pcipass_device *pdevice);
int pcipass_reset_on_removal(struct pcipass_device *pdevice);
void pcipass_device_ctx_lock(struct pcipass_device *pdevice);
void pcipass_reset_wait_idle(struct pcipass_device *pdevice);
int pcipass_reset_unlocked(struct pcipass_device *pdevice,
			   int (*reset)(struct pcipass_device *pdevice));
void pcipass_reset_handover(struct pci_dev *pdev);

struct pcipass_iova_span;

/* dma.c: the IOMMU domain, pinning and mapping */
u64 pcipass_host_iommu_caps(void);
int pcipass_domain_attach_group(struct pcipass_ctx *ctx, struct pci_dev *pdev,
				struct pcipass_group **out);
void pcipass_domain_detach_group(struct pcipass_ctx *ctx,
				 struct pcipass_group *pgroup);
int pcipass_dma_map_range(struct pcipass_ctx *ctx, u64 user_va, u64 iova,
			  u64 length, u32 flags);
int pcipass_dma_map_file(struct pcipass_ctx *ctx, struct file *file,
			 u64 offset, u64 iova, u64 length, u32 flags);
int pcipass_dma_unmap_range(struct pcipass_ctx *ctx, u64 iova, u64 length,
			    u32 flags, u64 *unmapped);
struct pcipass_iova_span *pcipass_dma_iova_ranges(struct pcipass_ctx *ctx,
						  unsigned int *count);
int pcipass_dma_map(struct pcipass_ucmd *ucmd);
int pcipass_dma_unmap(struct pcipass_ucmd *ucmd);
int pcipass_iova_ranges(struct pcipass_ucmd *ucmd);
void pcipass_dma_release(struct pcipass_ctx *ctx);
bool pcipass_dma_release_nowait(struct pcipass_ctx *ctx);

/* vfio.c: the VFIO container and group nodes */
int pcipass_vfio_init(void);
void pcipass_vfio_exit(void);
void pcipass_vfio_pci_add(struct pci_dev *pdev);
void pcipass_vfio_pci_del(struct pci_dev *pdev);
struct iommu_group *pcipass_vfio_file_iommu_group(struct file *file);

/* vfio_device.c: the VFIO ioctls of a device file */
long pcipass_vfio_device_ioctl(struct pcipass_device *pdevice,
			       unsigned int cmd, unsigned long arg);
/* Entries of &pcipass_device.msix_areas: the MSI-X table, then the PBA. */
#define PCIPASS_MSIX_AREAS	2
#if IS_ENABLED(CONFIG_KUNIT)
u32 pcipass_vfio_sparse_areas(const struct pcipass_msix_area *msix, int bar,
			      u64 bar_len,
			      struct vfio_region_sparse_mmap_area *areas);
#endif

/* iova.c: IOVA range arithmetic and the mapping tree */
struct pcipass_iova_span {
	u64 start;
	u64 last;
};

void pcipass_mapping_insert(struct rb_root_cached *root,
			    struct pcipass_mapping *map);
void pcipass_mapping_remove(struct rb_root_cached *root,
			    struct pcipass_mapping *map);
struct pcipass_mapping *pcipass_mapping_first(struct rb_root_cached *root,
					      u64 start, u64 last);
struct pcipass_mapping *pcipass_mapping_next(struct pcipass_mapping *map,
					     u64 start, u64 last);
int pcipass_iova_check_range(u64 start, u64 length, u64 *last);
unsigned int pcipass_iova_usable(const struct pcipass_iova_span *resv,
				 unsigned int nresv, u64 aperture_start,
				 u64 aperture_last, struct pcipass_iova_span *out,
				 unsigned int nout);

#endif /* _PCIPASS_H */

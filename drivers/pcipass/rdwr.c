// SPDX-License-Identifier: GPL-2.0
/*
 * The regions of a device file: PCIPASS_DEVICE_GET_REGION_INFO, pread()
 * and pwrite() of BARs, ROM and config space, mmap() of memory BARs with
 * fault-time mapping, and the blocking of those mappings while the device
 * cannot be reached (memory decoding off, reset, detach).
 *
 * Locking: reads and writes bounce through a kernel buffer, in chunks of
 * at most PCIPASS_RW_CHUNK bytes: user memory is copied in before any lock
 * is taken and copied out after every lock is dropped, so that a stalled
 * user page (userfaultfd, FUSE) holds no lock that removal, another
 * context or another device needs. The device access itself runs under
 * the context's lock (and, for a config write, the device lock and the
 * upstream bridge's before it). mmap() and faults hold mmap_lock and take
 * &pcipass_device.memory_lock for reading (never the context lock, which
 * is taken before mmap_lock elsewhere); whoever makes the BARs unreachable
 * takes memory_lock for writing and zaps every mapping of the device file
 * before the BARs stop decoding.
 */

#include <linux/fs.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/pcipass.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "pcipass.h"

#define PCIPASS_REGION_MASK	((1ULL << PCIPASS_REGION_SHIFT) - 1)

/* The most bytes moved between user memory and a region per locked step. */
#define PCIPASS_RW_CHUNK	SZ_4K
/*
 * Transfers up to this size (a register, a config dword: what a VMM's
 * trapped guest accesses are) bounce through the stack, not kmalloc().
 */
#define PCIPASS_RW_SMALL	16

static bool pcipass_bar_is_mem(struct pci_dev *pdev, int bar)
{
	return pci_resource_flags(pdev, bar) & IORESOURCE_MEM;
}

/*
 * Does [@start, @end) of @bar touch the MSI-X table or PBA? With @pages,
 * the question is about the pages that hold them (for mmap).
 */
static bool pcipass_bar_hits_msix(struct pcipass_device *pdevice, int bar,
				  u64 start, u64 end, bool pages)
{
	const struct pcipass_msix_area *area;
	u64 astart, aend;
	int i;

	for (i = 0; i < ARRAY_SIZE(pdevice->msix_areas); i++) {
		area = &pdevice->msix_areas[i];
		if (!area->len || area->bar != bar)
			continue;
		astart = pages ? round_down(area->start, PAGE_SIZE) : area->start;
		aend = pages ? round_up(area->end, PAGE_SIZE) : area->end;
		if (start < aend && astart < end)
			return true;
	}
	return false;
}

static void pcipass_msix_areas_init(struct pcipass_device *pdevice)
{
	struct pci_dev *pdev = pdevice->pdev;
	u32 table, pba;
	u16 ctrl;
	int pos, i;

	memset(pdevice->msix_areas, 0, sizeof(pdevice->msix_areas));
	pos = pdev->msix_cap;
	if (!pos)
		return;
	pci_read_config_word(pdev, pos + PCI_MSIX_FLAGS, &ctrl);
	pci_read_config_dword(pdev, pos + PCI_MSIX_TABLE, &table);
	pci_read_config_dword(pdev, pos + PCI_MSIX_PBA, &pba);

	pdevice->msix_areas[0].bar = table & PCI_MSIX_TABLE_BIR;
	pdevice->msix_areas[0].start = table & PCI_MSIX_TABLE_OFFSET;
	pdevice->msix_areas[0].len = ((ctrl & PCI_MSIX_FLAGS_QSIZE) + 1) *
				     PCI_MSIX_ENTRY_SIZE;
	pdevice->msix_areas[1].bar = pba & PCI_MSIX_PBA_BIR;
	pdevice->msix_areas[1].start = pba & PCI_MSIX_PBA_OFFSET;
	pdevice->msix_areas[1].len =
		DIV_ROUND_UP((ctrl & PCI_MSIX_FLAGS_QSIZE) + 1, 64) * 8;
	for (i = 0; i < ARRAY_SIZE(pdevice->msix_areas); i++)
		pdevice->msix_areas[i].end = pdevice->msix_areas[i].start +
					     pdevice->msix_areas[i].len;
}

static u32 pcipass_region_flags(struct pcipass_device *pdevice, u32 index)
{
	struct pci_dev *pdev = pdevice->pdev;
	unsigned long res;
	u32 flags;

	if (index == PCIPASS_REGION_CONFIG)
		return PCIPASS_REGION_READ | PCIPASS_REGION_WRITE;
	if (!pci_resource_len(pdev, index))
		return 0;
	if (index == PCIPASS_REGION_ROM)
		return PCIPASS_REGION_READ;

	res = pci_resource_flags(pdev, index);
	flags = PCIPASS_REGION_READ | PCIPASS_REGION_WRITE;
	if (res & IORESOURCE_IO)
		return flags | PCIPASS_REGION_IO;
	if (res & IORESOURCE_MEM_64)
		flags |= PCIPASS_REGION_MEM64;
	if (res & IORESOURCE_PREFETCH)
		flags |= PCIPASS_REGION_PREFETCH;
	if (pci_resource_len(pdev, index) >= PAGE_SIZE &&
	    PAGE_ALIGNED(pci_resource_start(pdev, index)))
		flags |= PCIPASS_REGION_MMAP;
	return flags;
}

/**
 * pcipass_region_info_cmd() - describe a region of a device file
 * @pdevice: the device file's attachment
 * @cmd: a kernel copy of the request; the output fields are filled
 *
 * The core of PCIPASS_DEVICE_GET_REGION_INFO, shared with the VFIO
 * compatibility layer. Nothing is copied to user space.
 *
 * Return: 0 or an errno documented with &struct pcipass_region_info.
 */
int pcipass_region_info_cmd(struct pcipass_device *pdevice,
			    struct pcipass_region_info *cmd)
{
	struct pcipass_ctx *ctx = pdevice->ctx;
	int ret = 0;

	if (cmd->index >= PCIPASS_NUM_REGIONS)
		return -EINVAL;

	mutex_lock(&ctx->lock);
	if (!pdevice->ppci) {
		ret = -ENODEV;
		goto out_unlock;
	}
	cmd->region_flags = pcipass_region_flags(pdevice, cmd->index);
	if (cmd->index == PCIPASS_REGION_CONFIG)
		cmd->region_size = pdevice->cfg.size;
	else if (cmd->region_flags)
		cmd->region_size = pci_resource_len(pdevice->pdev, cmd->index);
	else
		cmd->region_size = 0;
	cmd->offset = PCIPASS_REGION_OFFSET(cmd->index);
out_unlock:
	mutex_unlock(&ctx->lock);
	return ret;
}

/**
 * pcipass_region_info() - PCIPASS_DEVICE_GET_REGION_INFO
 * @ucmd: the ioctl call, a &struct pcipass_region_info
 *
 * Return: 0 or an errno documented with &struct pcipass_region_info.
 */
int pcipass_region_info(struct pcipass_ucmd *ucmd)
{
	int ret = pcipass_region_info_cmd(ucmd->dev, ucmd->cmd);

	/* The answer is copied out once the lock is dropped. */
	return ret ? ret : pcipass_ucmd_respond(ucmd);
}

static void __iomem *pcipass_bar_iomap(struct pcipass_device *pdevice, int bar)
{
	if (!pdevice->barmap[bar])
		pdevice->barmap[bar] = pci_iomap(pdevice->pdev, bar, 0);
	return pdevice->barmap[bar];
}

/* One access of @width bytes between a BAR and a kernel buffer. */
static void pcipass_bar_io(void __iomem *io, u64 off, void *val,
			   unsigned int width, bool write)
{
	switch (width) {
	case 8:
		/* Only memory BARs get 8-byte accesses: a plain MMIO pointer. */
		if (write)
			writeq(*(u64 *)val, io + off);
		else
			*(u64 *)val = readq(io + off);
		break;
	case 4:
		if (write)
			iowrite32(*(u32 *)val, io + off);
		else
			*(u32 *)val = ioread32(io + off);
		break;
	case 2:
		if (write)
			iowrite16(*(u16 *)val, io + off);
		else
			*(u16 *)val = ioread16(io + off);
		break;
	default:
		if (write)
			iowrite8(*(u8 *)val, io + off);
		else
			*(u8 *)val = ioread8(io + off);
		break;
	}
}

/* With the context lock (which a reset holds): is @bar decoded now? */
static bool pcipass_bar_decoding(struct pcipass_device *pdevice, int bar)
{
	if (pdevice->revoked)
		return false;
	if (pcipass_bar_is_mem(pdevice->pdev, bar))
		return pdevice->decode & PCI_COMMAND_MEMORY;
	return pdevice->decode & PCI_COMMAND_IO;
}

/* With the context lock: @count bytes between @bar and a kernel buffer. */
static ssize_t pcipass_bar_access(struct pcipass_device *pdevice, int bar,
				  u8 *buf, size_t count, u64 off, bool write)
{
	struct pci_dev *pdev = pdevice->pdev;
	u64 len = pci_resource_len(pdev, bar);
	void __iomem *io;
	size_t done = 0;

	lockdep_assert_held(&pdevice->ctx->lock);
	if (!len || off >= len)
		return -EINVAL;
	/* The device is not decoding this BAR: it must not be touched. */
	if (!pcipass_bar_decoding(pdevice, bar))
		return -EIO;
	count = min_t(u64, count, len - off);
	if (write && !pdevice->msix_mmap_ok &&
	    pcipass_bar_hits_msix(pdevice, bar, off, off + count, false))
		return -EPERM;
	io = pcipass_bar_iomap(pdevice, bar);
	if (!io)
		return -ENOMEM;

	while (done < count) {
		unsigned int width = 1;
		u64 pos = off + done;
		u64 val = 0;

		/* The widest naturally aligned access that fits. */
		if (count - done >= 8 && IS_ALIGNED(pos, 8) &&
		    pcipass_bar_is_mem(pdev, bar))
			width = 8;
		else if (count - done >= 4 && IS_ALIGNED(pos, 4))
			width = 4;
		else if (count - done >= 2 && IS_ALIGNED(pos, 2))
			width = 2;

		if (write) {
			memcpy(&val, buf + done, width);
			pcipass_bar_io(io, pos, &val, width, true);
		} else {
			pcipass_bar_io(io, pos, &val, width, false);
			memcpy(buf + done, &val, width);
		}
		done += width;
	}
	return done;
}

/*
 * With the context lock: read the ROM into a kernel buffer. A device
 * without a ROM is answered from its size, and a ROM the PCI core failed
 * to map once is not asked for again during the attachment: both paths
 * of pci_map_rom() log, and a VMM may read as often as it likes.
 */
static ssize_t pcipass_rom_read(struct pcipass_device *pdevice, u8 *buf,
				size_t count, u64 off)
{
	void __iomem *rom;
	size_t size;
	ssize_t ret;

	lockdep_assert_held(&pdevice->ctx->lock);
	if (!pdevice->cfg.bar_size[PCIPASS_REGION_ROM] || pdevice->rom_failed)
		return -EIO;
	/* The ROM is decoded with memory: not while the VMM has that off. */
	if (pdevice->revoked || !(pdevice->decode & PCI_COMMAND_MEMORY))
		return -EIO;
	rom = pci_map_rom(pdevice->pdev, &size);
	if (!rom) {
		pdevice->rom_failed = true;
		return -EIO;
	}
	if (off >= size) {
		ret = 0;
		goto out_unmap;
	}
	ret = min_t(u64, count, size - off);
	memcpy_fromio(buf, rom + off, ret);
out_unmap:
	pci_unmap_rom(pdevice->pdev, rom);
	return ret;
}

/*
 * One locked step of pcipass_region_rw(): at most PCIPASS_RW_CHUNK bytes
 * between the region and the kernel buffer @buf.
 */
static ssize_t pcipass_region_access(struct pcipass_device *pdevice,
				     u32 index, u8 *buf, size_t count, u64 off,
				     bool write)
{
	struct pcipass_ctx *ctx = pdevice->ctx;
	bool cfg_write = index == PCIPASS_REGION_CONFIG && write;
	struct pci_dev *bridge = NULL;
	bool locked = false;
	ssize_t ret;

	/* A config write may reset the device: take the locks in order. */
	if (cfg_write)
		locked = pcipass_cfg_write_lock(pdevice, &bridge);
	pcipass_device_ctx_lock(pdevice);
	if (!pdevice->ppci)
		ret = -ENODEV;
	else if (index == PCIPASS_REGION_CONFIG)
		ret = pcipass_config_access(pdevice, buf, count, off, write);
	else if (index == PCIPASS_REGION_ROM)
		ret = pcipass_rom_read(pdevice, buf, count, off);
	else
		ret = pcipass_bar_access(pdevice, index, buf, count, off, write);
	mutex_unlock(&ctx->lock);
	if (cfg_write)
		pcipass_cfg_write_unlock(pdevice, locked, bridge);
	return ret;
}

/**
 * pcipass_region_rw() - read or write a region of an attached device
 * @pdevice: the attachment; no lock held
 * @index: the region, &enum pcipass_region_index
 * @buf: user memory
 * @count: bytes
 * @off: offset in the region
 * @write: direction
 *
 * The entry point for every transfer between user memory and a region
 * (read() and write() of the device file, and any other interface that
 * serves regions). User memory is copied through a kernel buffer in
 * chunks, outside every lock; config space goes through
 * pcipass_config_access(), as one access of @count bytes when it fits in
 * a chunk (it always does for config space).
 *
 * Return: bytes moved (short at the end of a BAR or ROM, or when user
 * memory faults after some were), or -EINVAL (bad region or range),
 * -EPERM (a ROM write; a write to the MSI-X table without isolated MSI; a
 * refused bus master enable), -EIO (the device is not decoding; no ROM),
 * -ENODEV (detached), -EFAULT, -ENOMEM.
 */
ssize_t pcipass_region_rw(struct pcipass_device *pdevice, u32 index,
			  char __user *buf, size_t count, u64 off, bool write)
{
	u8 small[PCIPASS_RW_SMALL] __aligned(8);
	size_t done = 0;
	ssize_t ret = 0;
	u8 *kbuf = small;

	if (index >= PCIPASS_NUM_REGIONS)
		return -EINVAL;
	if (index == PCIPASS_REGION_ROM && write)
		return -EPERM;
	if (!count)
		return 0;
	/*
	 * @cfg.size is constant once the device file exists. Past its end a
	 * device file opened through VFIO gets vfio-pci's errno.
	 */
	if (index == PCIPASS_REGION_CONFIG &&
	    (off >= pdevice->cfg.size || count > pdevice->cfg.size - off))
		return pdevice->vfio_group_file ? -EFAULT : -EINVAL;

	if (count > sizeof(small)) {
		kbuf = kmalloc(min_t(size_t, count, PCIPASS_RW_CHUNK),
			       GFP_KERNEL_ACCOUNT);
		if (!kbuf)
			return -ENOMEM;
	}
	while (done < count) {
		size_t n = min_t(size_t, count - done, PCIPASS_RW_CHUNK);

		if (write && copy_from_user(kbuf, buf + done, n)) {
			ret = -EFAULT;
			break;
		}
		ret = pcipass_region_access(pdevice, index, kbuf, n,
					    off + done, write);
		if (ret <= 0)
			break;
		if (!write && copy_to_user(buf + done, kbuf, ret)) {
			ret = -EFAULT;
			break;
		}
		done += ret;
		if (ret < n)
			break;
	}
	if (kbuf != small)
		kfree(kbuf);
	return done ? done : ret;
}

static ssize_t pcipass_device_rw(struct file *file, char __user *buf,
				 size_t count, loff_t *ppos, bool write)
{
	struct pcipass_device *pdevice = file->private_data;
	ssize_t ret;

	if (*ppos < 0)
		return -EINVAL;
	ret = pcipass_region_rw(pdevice, *ppos >> PCIPASS_REGION_SHIFT, buf,
				count, *ppos & PCIPASS_REGION_MASK, write);
	if (ret > 0)
		*ppos += ret;
	return ret;
}

/**
 * pcipass_device_read() - read() of a device file: a region
 * @file: the device file
 * @buf: user buffer
 * @count: bytes
 * @ppos: file offset: region index and offset in the region
 *
 * Return: bytes read, or an errno.
 */
ssize_t pcipass_device_read(struct file *file, char __user *buf,
			    size_t count, loff_t *ppos)
{
	return pcipass_device_rw(file, buf, count, ppos, false);
}

/**
 * pcipass_device_write() - write() of a device file: a region
 * @file: the device file
 * @buf: user buffer
 * @count: bytes
 * @ppos: file offset: region index and offset in the region
 *
 * Return: bytes written, or an errno.
 */
ssize_t pcipass_device_write(struct file *file, const char __user *buf,
			     size_t count, loff_t *ppos)
{
	return pcipass_device_rw(file, (char __user *)buf, count, ppos, true);
}

static vm_fault_t pcipass_bar_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct pcipass_device *pdevice = vma->vm_private_data;
	vm_fault_t ret = VM_FAULT_SIGBUS;

	/*
	 * During a VMM's reset the BARs are blocked for a moment, not for
	 * good: wait for it, as an access would wait for vfio-pci's reset.
	 */
	for (;;) {
		pcipass_reset_wait_idle(pdevice);
		down_read(&pdevice->memory_lock);
		if (pdevice->bars_usable || !READ_ONCE(pdevice->resetting))
			break;
		up_read(&pdevice->memory_lock);
	}
	if (pdevice->bars_usable) {
		unsigned long pgoff = vmf->pgoff &
			(PCIPASS_REGION_MASK >> PAGE_SHIFT);
		int bar = vmf->pgoff >> (PCIPASS_REGION_SHIFT - PAGE_SHIFT);
		unsigned long pfn = (pci_resource_start(pdevice->pdev, bar) >>
				     PAGE_SHIFT) + pgoff;

		ret = vmf_insert_pfn(vma, vmf->address, pfn);
	}
	up_read(&pdevice->memory_lock);
	return ret;
}

static const struct vm_operations_struct pcipass_bar_vm_ops = {
	.fault = pcipass_bar_fault,
};

/**
 * pcipass_device_mmap() - mmap() of a memory BAR of a device file
 * @file: the device file
 * @vma: the mapping; its offset selects the BAR and the offset in it
 *
 * Pages are inserted at fault time, while the BAR is reachable.
 *
 * Return: 0 or an errno.
 */
int pcipass_device_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct pcipass_device *pdevice = file->private_data;
	u64 index = vma->vm_pgoff >> (PCIPASS_REGION_SHIFT - PAGE_SHIFT);
	u64 start = (vma->vm_pgoff << PAGE_SHIFT) & PCIPASS_REGION_MASK;
	u64 len = vma->vm_end - vma->vm_start;
	int ret = 0;

	if (!(vma->vm_flags & VM_SHARED) || index >= PCIPASS_REGION_ROM)
		return -EINVAL;

	/*
	 * mmap_lock is held: the context lock (taken before mmap_lock by
	 * DMA_MAP) must not be taken here. memory_lock orders us with detach.
	 */
	down_read(&pdevice->memory_lock);
	if (pdevice->revoked) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (!(pcipass_region_flags(pdevice, index) & PCIPASS_REGION_MMAP) ||
	    start + len > PAGE_ALIGN(pci_resource_len(pdevice->pdev, index))) {
		ret = -EINVAL;
		goto out_unlock;
	}
	if (!pdevice->msix_mmap_ok &&
	    pcipass_bar_hits_msix(pdevice, index, start, start + len, true)) {
		ret = -EPERM;
		goto out_unlock;
	}

	vma->vm_private_data = pdevice;
	vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
	vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &pcipass_bar_vm_ops;
out_unlock:
	up_read(&pdevice->memory_lock);
	return ret;
}

/**
 * pcipass_bars_block() - make the BARs unreachable through mappings
 * @pdevice: the attachment, with the context lock held
 *
 * Zaps every mapping of the device file; faults raise SIGBUS until
 * pcipass_bars_unblock().
 */
void pcipass_bars_block(struct pcipass_device *pdevice)
{
	down_write(&pdevice->memory_lock);
	pdevice->bars_usable = false;
	up_write(&pdevice->memory_lock);
	unmap_mapping_range(pdevice->file->f_mapping, 0, 0, true);
}

/**
 * pcipass_bars_unblock() - let mappings fault the BARs in again
 * @pdevice: the attachment, with the context lock held
 *
 * Only while the device is attached and its memory decoding is on.
 */
void pcipass_bars_unblock(struct pcipass_device *pdevice)
{
	u16 cmd;

	pci_read_config_word(pdevice->pdev, PCI_COMMAND, &cmd);
	cmd = pcipass_sriov_command(pdevice, cmd);
	pdevice->decode = cmd & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	down_write(&pdevice->memory_lock);
	pdevice->bars_usable = !pdevice->revoked && (cmd & PCI_COMMAND_MEMORY);
	up_write(&pdevice->memory_lock);
}

/**
 * pcipass_memory_lock_and_enable() - turn memory decoding on for the
 *	kernel's own access to a BAR
 * @pdevice: the attachment, with the context lock held
 *
 * For the MSI-X table writes of vector allocation and release, which the
 * device would drop while the VMM has its memory decoding off. The BAR
 * mappings stay blocked: faults wait on memory_lock, held for writing
 * until pcipass_memory_unlock_and_restore().
 *
 * Return: the command register as it was, for the restore.
 */
u16 pcipass_memory_lock_and_enable(struct pcipass_device *pdevice)
{
	struct pci_dev *pdev = pdevice->pdev;
	u16 cmd;

	lockdep_assert_held(&pdevice->ctx->lock);
	down_write(&pdevice->memory_lock);
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	if (!(cmd & PCI_COMMAND_MEMORY))
		pci_write_config_word(pdev, PCI_COMMAND,
				      cmd | PCI_COMMAND_MEMORY);
	return cmd;
}

/**
 * pcipass_memory_unlock_and_restore() - undo pcipass_memory_lock_and_enable()
 * @pdevice: the attachment, with the context lock held
 * @cmd: what pcipass_memory_lock_and_enable() returned
 *
 * Only the memory decoding bit is given back: the other bits of the
 * command register may have changed meanwhile (MSI sets INTx disable).
 */
void pcipass_memory_unlock_and_restore(struct pcipass_device *pdevice, u16 cmd)
{
	struct pci_dev *pdev = pdevice->pdev;
	u16 now;

	if (!(cmd & PCI_COMMAND_MEMORY)) {
		pci_read_config_word(pdev, PCI_COMMAND, &now);
		pci_write_config_word(pdev, PCI_COMMAND,
				      now & ~PCI_COMMAND_MEMORY);
	}
	up_write(&pdevice->memory_lock);
}

/**
 * pcipass_bars_revoke() - end BAR access for good: the device is detached
 * @pdevice: the attachment, with the context lock held
 *
 * New mmaps fail with -ENODEV, existing ones fault with SIGBUS.
 */
void pcipass_bars_revoke(struct pcipass_device *pdevice)
{
	down_write(&pdevice->memory_lock);
	pdevice->revoked = true;
	up_write(&pdevice->memory_lock);
	pcipass_bars_block(pdevice);
}

/**
 * pcipass_regions_init() - claim the BARs of a device being attached
 * @pdevice: the attachment
 * @msix_mmap_ok: the MSI-X table may be mapped (MSI is isolated)
 *
 * Return: 0, or -EBUSY when another driver holds a BAR.
 */
int pcipass_regions_init(struct pcipass_device *pdevice, bool msix_mmap_ok)
{
	int ret;

	ret = pci_request_regions(pdevice->pdev, "pcipass");
	if (ret)
		return ret;
	pdevice->msix_mmap_ok = msix_mmap_ok;
	pcipass_msix_areas_init(pdevice);
	return 0;
}

/**
 * pcipass_regions_release() - unmap and give back the BARs
 * @pdevice: the attachment, with mappings already blocked
 */
void pcipass_regions_release(struct pcipass_device *pdevice)
{
	int i;

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		if (pdevice->barmap[i])
			pci_iounmap(pdevice->pdev, pdevice->barmap[i]);
		pdevice->barmap[i] = NULL;
	}
	pci_release_regions(pdevice->pdev);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO compatibility, device side: the VFIO device ioctls of a device file
 * opened with VFIO_GROUP_GET_DEVICE_FD (VFIO_DEVICE_GET_INFO,
 * VFIO_DEVICE_GET_REGION_INFO with its sparse-mmap and MSI-X-mappable
 * capabilities, VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_SET_IRQS,
 * VFIO_DEVICE_RESET and the hot reset pair), translated onto pcipass's own
 * region, interrupt and reset paths. The device file's read, write and mmap
 * are pcipass's: its region offsets are vfio-pci's (index << 40; BARs 0-5,
 * ROM 6, config 7).
 *
 * Each ioctl checks VFIO's argsz and flags rules first, then calls the
 * pcipass core function with a kernel structure. VFIO_DEVICE_SET_IRQS
 * reads the interrupt state and acts on it in several pcipass calls, under
 * &pcipass_device.vfio_lock so that two VFIO callers cannot interleave.
 */

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/iommu.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <uapi/linux/vfio.h>
#include <kunit/visibility.h>

#include "pcipass.h"

/* Same numbering on both sides: checked here once. */
static_assert((int)VFIO_PCI_BAR0_REGION_INDEX == (int)PCIPASS_REGION_BAR0);
static_assert((int)VFIO_PCI_ROM_REGION_INDEX == (int)PCIPASS_REGION_ROM);
static_assert((int)VFIO_PCI_CONFIG_REGION_INDEX == (int)PCIPASS_REGION_CONFIG);
static_assert((int)VFIO_PCI_INTX_IRQ_INDEX == (int)PCIPASS_IRQ_INTX);
static_assert((int)VFIO_PCI_MSI_IRQ_INDEX == (int)PCIPASS_IRQ_MSI);
static_assert((int)VFIO_PCI_MSIX_IRQ_INDEX == (int)PCIPASS_IRQ_MSIX);
static_assert((int)VFIO_PCI_ERR_IRQ_INDEX == (int)PCIPASS_IRQ_ERR);
static_assert((int)VFIO_PCI_REQ_IRQ_INDEX == (int)PCIPASS_IRQ_REQ);
static_assert(ARRAY_SIZE(((struct pcipass_device *)NULL)->msix_areas) ==
	      PCIPASS_MSIX_AREAS);

static bool pcipass_vfio_attached(struct pcipass_device *pdevice)
{
	bool attached;

	mutex_lock(&pdevice->ctx->lock);
	attached = pdevice->ppci;
	mutex_unlock(&pdevice->ctx->lock);
	return attached;
}

static long pcipass_vfio_device_get_info(struct pcipass_device *pdevice,
					 void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_info, num_irqs);
	struct vfio_device_info info;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	if (!pcipass_vfio_attached(pdevice))
		return -ENODEV;

	info.flags = VFIO_DEVICE_FLAGS_PCI;
	if (pcipass_reset_available(pdevice))
		info.flags |= VFIO_DEVICE_FLAGS_RESET;
	info.num_regions = VFIO_PCI_NUM_REGIONS;
	info.num_irqs = VFIO_PCI_NUM_IRQS;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

/* Room for the region capabilities: at most three mmap-able areas. */
struct pcipass_vfio_region_caps {
	union {
		struct vfio_region_info_cap_sparse_mmap sparse;
		struct vfio_info_cap_header msix_mappable;
	};
	struct vfio_region_sparse_mmap_area areas[3];
};

/**
 * pcipass_vfio_sparse_areas() - the mmap-able areas of a BAR with MSI-X
 * @msix: the MSI-X table and PBA of the device (&pcipass_device.msix_areas)
 * @bar: the BAR
 * @bar_len: its size
 * @areas: filled with up to three areas, in increasing order
 *
 * The pages of @bar that may be mapped while the MSI-X table and PBA may
 * not: the BAR minus the pages holding them.
 *
 * Return: the number of areas.
 */
VISIBLE_IF_KUNIT u32
pcipass_vfio_sparse_areas(const struct pcipass_msix_area *msix, int bar,
			  u64 bar_len, struct vfio_region_sparse_mmap_area *areas)
{
	u64 hole_start[2], hole_end[2], pos = 0;
	u32 nholes = 0, nareas = 0, i;

	for (i = 0; i < PCIPASS_MSIX_AREAS; i++) {
		const struct pcipass_msix_area *area = &msix[i];

		if (!area->len || area->bar != bar)
			continue;
		hole_start[nholes] = round_down(area->start, PAGE_SIZE);
		hole_end[nholes] = min(round_up(area->end, PAGE_SIZE), bar_len);
		nholes++;
	}
	if (nholes == 2 && hole_start[1] < hole_start[0]) {
		swap(hole_start[0], hole_start[1]);
		swap(hole_end[0], hole_end[1]);
	}
	for (i = 0; i < nholes; i++) {
		if (hole_start[i] > pos) {
			areas[nareas].offset = pos;
			areas[nareas].size = hole_start[i] - pos;
			nareas++;
		}
		pos = max(pos, hole_end[i]);
	}
	if (pos < bar_len) {
		areas[nareas].offset = pos;
		areas[nareas].size = bar_len - pos;
		nareas++;
	}
	return nareas;
}
EXPORT_SYMBOL_IF_KUNIT(pcipass_vfio_sparse_areas);

static bool pcipass_vfio_bar_has_msix(struct pcipass_device *pdevice, int bar)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(pdevice->msix_areas); i++)
		if (pdevice->msix_areas[i].len && pdevice->msix_areas[i].bar == bar)
			return true;
	return false;
}

static long pcipass_vfio_device_get_region_info(struct pcipass_device *pdevice,
						void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_region_info, offset);
	struct pcipass_region_info region = { .size = sizeof(region) };
	struct pcipass_vfio_region_caps caps = {};
	struct vfio_region_info info;
	size_t caps_size = 0;
	int ret;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	/* No VGA region (vfio-pci: only with its VGA option). */
	if (info.index >= VFIO_PCI_NUM_REGIONS ||
	    info.index == VFIO_PCI_VGA_REGION_INDEX)
		return -EINVAL;

	region.index = info.index;
	ret = pcipass_region_info_cmd(pdevice, &region);
	if (ret)
		return ret;

	info.offset = region.offset;
	info.size = region.region_size;
	info.cap_offset = 0;
	info.flags = 0;
	if (region.region_flags & PCIPASS_REGION_READ)
		info.flags |= VFIO_REGION_INFO_FLAG_READ;
	if (region.region_flags & PCIPASS_REGION_WRITE)
		info.flags |= VFIO_REGION_INFO_FLAG_WRITE;
	if (region.region_flags & PCIPASS_REGION_MMAP)
		info.flags |= VFIO_REGION_INFO_FLAG_MMAP;

	/* The MSI-X areas are constant while the device is attached. */
	if (info.flags & VFIO_REGION_INFO_FLAG_MMAP &&
	    pcipass_vfio_bar_has_msix(pdevice, info.index)) {
		if (pdevice->msix_mmap_ok) {
			caps.msix_mappable.id = VFIO_REGION_INFO_CAP_MSIX_MAPPABLE;
			caps.msix_mappable.version = 1;
			caps_size = sizeof(caps.msix_mappable);
		} else {
			caps.sparse.header.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
			caps.sparse.header.version = 1;
			caps.sparse.nr_areas =
				pcipass_vfio_sparse_areas(pdevice->msix_areas,
							  info.index, info.size,
							  caps.areas);
			caps_size = struct_size(&caps.sparse, areas,
						caps.sparse.nr_areas);
		}
	}

	if (caps_size) {
		info.flags |= VFIO_REGION_INFO_FLAG_CAPS;
		if (info.argsz < sizeof(info) + caps_size) {
			info.argsz = sizeof(info) + caps_size;
		} else {
			if (copy_to_user(arg + sizeof(info), &caps, caps_size))
				return -EFAULT;
			info.cap_offset = sizeof(info);
		}
	}
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

/* Vectors of VFIO interrupt @index (ERR: 1 on PCI Express, as vfio-pci). */
static int pcipass_vfio_irq_count(struct pcipass_device *pdevice, u32 index,
				  u32 *count)
{
	struct pcipass_irq_info irq = { .size = sizeof(irq), .type = index };
	int ret;

	*count = 0;
	ret = pcipass_irq_info_cmd(pdevice, &irq);
	if (!ret)
		*count = irq.count;
	return ret;
}

static long pcipass_vfio_device_get_irq_info(struct pcipass_device *pdevice,
					     void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_info, count);
	struct vfio_irq_info info;
	int ret;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	/* As vfio-pci: no error index on conventional PCI. */
	if (info.index == VFIO_PCI_ERR_IRQ_INDEX && !pci_is_pcie(pdevice->pdev))
		return -EINVAL;

	ret = pcipass_vfio_irq_count(pdevice, info.index, &info.count);
	if (ret)
		return ret;
	info.flags = VFIO_IRQ_INFO_EVENTFD;
	if (info.index == VFIO_PCI_INTX_IRQ_INDEX)
		info.flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
	else
		info.flags |= VFIO_IRQ_INFO_NORESIZE;
	/* pcipass masks MSI and MSI-X vectors too (vfio-pci does not). */
	if (info.index == VFIO_PCI_MSI_IRQ_INDEX ||
	    info.index == VFIO_PCI_MSIX_IRQ_INDEX)
		info.flags |= VFIO_IRQ_INFO_MASKABLE;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

/* One pcipass SET_IRQS action. */
static int pcipass_vfio_irq_do(struct pcipass_device *pdevice, u32 action,
			       u32 type, u32 start, u32 count,
			       const void __user *data)
{
	struct pcipass_irq_set cmd = {
		.size = sizeof(cmd),
		.flags = action,
		.type = type,
		.start = start,
		.count = count,
		.data = (u64)(uintptr_t)data,
	};

	return pcipass_irq_set_cmd(pdevice, &cmd);
}

/* Per vector: @action for each vector whose BOOL is set, or for all. */
static int pcipass_vfio_irq_each(struct pcipass_device *pdevice, u32 action,
				 u32 type, u32 start, u32 count,
				 const u8 *bools)
{
	u32 i;
	int ret;

	if (!bools)
		return pcipass_vfio_irq_do(pdevice, action, type, start, count,
					   NULL);
	for (i = 0; i < count; i++) {
		if (!bools[i])
			continue;
		ret = pcipass_vfio_irq_do(pdevice, action, type, start + i, 1,
					  NULL);
		if (ret)
			return ret;
	}
	return 0;
}

/* The enabled interrupt type and its vectors. */
static void pcipass_vfio_irq_state(struct pcipass_device *pdevice, u32 *type,
				   u32 *count)
{
	mutex_lock(&pdevice->ctx->lock);
	*type = pdevice->irq_type;
	*count = pdevice->irq_count;
	mutex_unlock(&pdevice->ctx->lock);
}

/*
 * VFIO's ACTION_TRIGGER: with EVENTFD data, enable the index if nothing is
 * enabled (start + count vectors) and set the eventfds; with NONE or BOOL
 * data, a loopback trigger; count 0 with NONE disables.
 */
static int pcipass_vfio_irq_trigger(struct pcipass_device *pdevice,
				    const struct vfio_irq_set *hdr,
				    const u8 *bools, const void __user *fds)
{
	u32 type = hdr->index, cur, enabled;
	u32 data = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	int ret;

	pcipass_vfio_irq_state(pdevice, &cur, &enabled);
	if (cur == type && !hdr->count && data == VFIO_IRQ_SET_DATA_NONE)
		return pcipass_vfio_irq_do(pdevice, PCIPASS_IRQ_SET_DISABLE,
					   type, 0, 0, NULL);
	if (cur != type && cur != PCIPASS_IRQ_NONE)
		return -EINVAL;
	if (!hdr->count)
		return -EINVAL;

	if (data == VFIO_IRQ_SET_DATA_EVENTFD) {
		if (cur == type) {
			/* NORESIZE: grow by disable and enable, as VFIO. */
			if (hdr->start + hdr->count > enabled)
				return -EINVAL;
			return pcipass_vfio_irq_do(pdevice,
						   PCIPASS_IRQ_SET_EVENTFD,
						   type, hdr->start,
						   hdr->count, fds);
		}
		ret = pcipass_vfio_irq_do(pdevice, PCIPASS_IRQ_SET_ENABLE, type,
					  0, hdr->start + hdr->count, NULL);
		if (ret)
			return ret;
		ret = pcipass_vfio_irq_do(pdevice, PCIPASS_IRQ_SET_EVENTFD,
					  type, hdr->start, hdr->count, fds);
		if (ret)
			pcipass_vfio_irq_do(pdevice, PCIPASS_IRQ_SET_DISABLE,
					    type, 0, 0, NULL);
		return ret;
	}

	if (cur != type || hdr->start + hdr->count > enabled)
		return -EINVAL;
	return pcipass_vfio_irq_each(pdevice, PCIPASS_IRQ_SET_TRIGGER, type,
				     hdr->start, hdr->count, bools);
}

/*
 * VFIO's ACTION_TRIGGER of the request and error indexes (vfio-pci's
 * req_trigger and err_trigger): EVENTFD sets or (-1) removes pcipass's
 * %PCIPASS_IRQ_REQ or %PCIPASS_IRQ_ERR eventfd, NONE with count 0 removes
 * it, NONE or a true BOOL signals it. The caller checked start 0 and count
 * at most 1.
 */
static int pcipass_vfio_irq_event(struct pcipass_device *pdevice,
				  const struct vfio_irq_set *hdr,
				  const u8 *bools, const void __user *fds)
{
	u32 data = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	u32 type = hdr->index;

	if (!hdr->count)
		return data == VFIO_IRQ_SET_DATA_NONE ?
		       pcipass_vfio_irq_do(pdevice, PCIPASS_IRQ_SET_DISABLE,
					   type, 0, 0, NULL) :
		       -EINVAL;
	if (data == VFIO_IRQ_SET_DATA_EVENTFD)
		return pcipass_vfio_irq_do(pdevice, PCIPASS_IRQ_SET_EVENTFD,
					   type, 0, 1, fds);
	return pcipass_vfio_irq_each(pdevice, PCIPASS_IRQ_SET_TRIGGER,
				     type, 0, 1, bools);
}

/*
 * VFIO's ACTION_MASK and ACTION_UNMASK. INTx: vector 0 only; UNMASK with
 * an eventfd is the resample eventfd (-1 removes it), MASK with one is
 * -ENOTTY as in vfio-pci. MSI and MSI-X: pcipass's per-vector masking.
 */
static int pcipass_vfio_irq_mask(struct pcipass_device *pdevice,
				 const struct vfio_irq_set *hdr,
				 const u8 *bools, const void __user *fds,
				 bool mask)
{
	u32 action = mask ? PCIPASS_IRQ_SET_MASK : PCIPASS_IRQ_SET_UNMASK;
	u32 data = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	u32 type = hdr->index, cur, enabled;

	pcipass_vfio_irq_state(pdevice, &cur, &enabled);
	if (type == VFIO_PCI_INTX_IRQ_INDEX) {
		if (cur != type || hdr->start || hdr->count != 1)
			return -EINVAL;
		if (data == VFIO_IRQ_SET_DATA_EVENTFD) {
			if (mask)
				return -ENOTTY;
			return pcipass_vfio_irq_do(pdevice,
						   PCIPASS_IRQ_SET_UNMASK_EVENTFD,
						   type, 0, 1, fds);
		}
		return pcipass_vfio_irq_each(pdevice, action, type, 0, 1,
					     bools);
	}

	if (data == VFIO_IRQ_SET_DATA_EVENTFD)
		return -ENOTTY;
	if (cur != type || !hdr->count || hdr->start + hdr->count > enabled)
		return -EINVAL;
	return pcipass_vfio_irq_each(pdevice, action, type, hdr->start,
				     hdr->count, bools);
}

static long pcipass_vfio_device_set_irqs(struct pcipass_device *pdevice,
					 void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_set, count);
	const void __user *data = arg + minsz;
	struct vfio_irq_set hdr;
	u8 *bools = NULL;
	size_t size;
	u32 max;
	int ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	/* vfio_set_irqs_validate_and_prepare(), check for check. */
	if (hdr.argsz < minsz || hdr.index >= VFIO_PCI_NUM_IRQS ||
	    hdr.count >= U32_MAX - hdr.start ||
	    hdr.flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK |
			  VFIO_IRQ_SET_ACTION_TYPE_MASK))
		return -EINVAL;
	ret = pcipass_vfio_irq_count(pdevice, hdr.index, &max);
	if (ret)
		return ret;
	if (hdr.start >= max || hdr.start + hdr.count > max)
		return -EINVAL;
	switch (hdr.flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_NONE:
		size = 0;
		break;
	case VFIO_IRQ_SET_DATA_BOOL:
		size = sizeof(u8);
		break;
	case VFIO_IRQ_SET_DATA_EVENTFD:
		size = sizeof(s32);
		break;
	default:
		return -EINVAL;
	}
	if (size && hdr.argsz - minsz < (size_t)hdr.count * size)
		return -EINVAL;

	/* Eventfds are read by pcipass's own path, from @data. */
	if (size == sizeof(u8) && hdr.count) {
		bools = memdup_user(data, hdr.count);
		if (IS_ERR(bools))
			return PTR_ERR(bools);
	}

	mutex_lock(&pdevice->vfio_lock);
	/* REQ and ERR have only ACTION_TRIGGER, as in vfio-pci. */
	if (hdr.index == VFIO_PCI_REQ_IRQ_INDEX ||
	    hdr.index == VFIO_PCI_ERR_IRQ_INDEX) {
		if ((hdr.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) ==
		    VFIO_IRQ_SET_ACTION_TRIGGER)
			ret = pcipass_vfio_irq_event(pdevice, &hdr, bools, data);
		else
			ret = -ENOTTY;
		goto out_unlock;
	}
	switch (hdr.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK) {
	case VFIO_IRQ_SET_ACTION_MASK:
		ret = pcipass_vfio_irq_mask(pdevice, &hdr, bools, data, true);
		break;
	case VFIO_IRQ_SET_ACTION_UNMASK:
		ret = pcipass_vfio_irq_mask(pdevice, &hdr, bools, data, false);
		break;
	case VFIO_IRQ_SET_ACTION_TRIGGER:
		ret = pcipass_vfio_irq_trigger(pdevice, &hdr, bools, data);
		break;
	default:
		ret = -ENOTTY;	/* none or several actions */
		break;
	}
out_unlock:
	mutex_unlock(&pdevice->vfio_lock);
	kfree(bools);
	return ret;
}

static long pcipass_vfio_device_reset(struct pcipass_device *pdevice)
{
	int ret;

	if (!pcipass_reset_available(pdevice))
		return -EINVAL;
	ret = pcipass_device_reset_cmd(pdevice);
	return ret == -EOPNOTSUPP ? -EINVAL : ret;
}

/*
 * VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: pcipass's hot reset set, each device
 * named by its IOMMU group as vfio-pci does for a group-opened device.
 */
static long pcipass_vfio_device_hot_reset_info(struct pcipass_device *pdevice,
					       void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_pci_hot_reset_info,
					  count);
	struct vfio_pci_hot_reset_info __user *uinfo = arg;
	struct vfio_pci_dependent_device *devs = NULL;
	struct pcipass_hot_reset_set *set;
	struct vfio_pci_hot_reset_info hdr;
	long ret = 0;
	u32 i;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz)
		return -EINVAL;
	hdr.flags = 0;
	if (!pcipass_vfio_attached(pdevice))
		return -ENODEV;

	set = pcipass_hot_reset_set_get(pdevice->pdev);
	if (IS_ERR(set))	/* vfio-pci: ENODEV without a slot or bus reset */
		return PTR_ERR(set) == -EOPNOTSUPP ? -ENODEV : PTR_ERR(set);
	if (set->count > (hdr.argsz - sizeof(hdr)) / sizeof(*devs)) {
		hdr.count = set->count;
		ret = -ENOSPC;
		goto out_header;
	}
	devs = kcalloc(set->count, sizeof(*devs), GFP_KERNEL);
	if (!devs) {
		ret = -ENOMEM;
		goto out_put;
	}
	for (i = 0; i < set->count; i++) {
		struct pci_dev *pdev = set->members[i].pdev;
		struct iommu_group *group = iommu_group_get(&pdev->dev);

		/* vfio-pci: a device no IOMMU isolates cannot be reset. */
		if (!group) {
			ret = -EPERM;
			goto out_free;
		}
		devs[i].group_id = iommu_group_id(group);
		iommu_group_put(group);
		devs[i].segment = pci_domain_nr(pdev->bus);
		devs[i].bus = pdev->bus->number;
		devs[i].devfn = pdev->devfn;
	}
	if (copy_to_user(uinfo->devices, devs, set->count * sizeof(*devs))) {
		ret = -EFAULT;
		goto out_free;
	}
	hdr.count = set->count;
out_header:
	if (copy_to_user(arg, &hdr, minsz))
		ret = -EFAULT;
out_free:
	kfree(devs);
out_put:
	pcipass_hot_reset_set_put(set);
	return ret;
}

struct pcipass_vfio_hot_reset_groups {
	struct iommu_group **groups;
	u32 count;
};

/* Is @pdev in one of the VFIO groups the caller gave? */
static bool pcipass_vfio_hot_reset_in_groups(struct pci_dev *pdev, void *data)
{
	struct pcipass_vfio_hot_reset_groups *given = data;
	struct iommu_group *group = iommu_group_get(&pdev->dev);
	bool found = false;
	u32 i;

	for (i = 0; group && !found && i < given->count; i++)
		found = given->groups[i] == group;
	iommu_group_put(group);
	return found;
}

/*
 * VFIO_DEVICE_PCI_HOT_RESET: vfio-pci's checks of the group fds (a pcipass
 * VFIO group file each, no more than the devices affected), then
 * pcipass's hot reset with "in one of those groups" as a further rule.
 */
static long pcipass_vfio_device_hot_reset(struct pcipass_device *pdevice,
					  void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_pci_hot_reset, count);
	struct vfio_pci_hot_reset __user *ureset = arg;
	struct pcipass_vfio_hot_reset_groups given = {};
	struct pcipass_hot_reset_set *set;
	struct vfio_pci_hot_reset hdr;
	struct file **files = NULL;
	s32 *fds = NULL;
	u32 nfiles = 0;
	long ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	/* No iommufd cdev here: a zero-length array is never valid. */
	if (hdr.argsz < minsz || hdr.flags || !hdr.count)
		return -EINVAL;
	if (!pcipass_vfio_attached(pdevice))
		return -ENODEV;
	set = pcipass_hot_reset_set_get(pdevice->pdev);
	if (IS_ERR(set))
		return PTR_ERR(set) == -EOPNOTSUPP ? -ENODEV : PTR_ERR(set);
	/* One group per device at most, as vfio-pci bounds the copy. */
	ret = hdr.count > set->count ? -EINVAL : 0;
	pcipass_hot_reset_set_put(set);
	if (ret)
		return ret;

	fds = memdup_array_user(ureset->group_fds, hdr.count, sizeof(*fds));
	if (IS_ERR(fds))
		return PTR_ERR(fds);
	files = kcalloc(hdr.count, sizeof(*files), GFP_KERNEL);
	given.groups = kcalloc(hdr.count, sizeof(*given.groups), GFP_KERNEL);
	if (!files || !given.groups) {
		ret = -ENOMEM;
		goto out_free;
	}
	for (nfiles = 0; nfiles < hdr.count; nfiles++) {
		struct file *file = fget(fds[nfiles]);

		if (!file) {
			ret = -EBADF;
			goto out_put;
		}
		files[nfiles] = file;
		given.groups[nfiles] = pcipass_vfio_file_iommu_group(file);
		if (!given.groups[nfiles]) {
			nfiles++;
			ret = -EINVAL;
			goto out_put;
		}
	}
	given.count = nfiles;

	ret = pcipass_hot_reset_cmd(pdevice, pcipass_vfio_hot_reset_in_groups,
				    &given);
	/* vfio-pci's answer for a device the caller does not own. */
	if (ret == -EBUSY)
		ret = -EINVAL;
	else if (ret == -EOPNOTSUPP)
		ret = -ENODEV;
out_put:
	while (nfiles)
		fput(files[--nfiles]);
out_free:
	kfree(given.groups);
	kfree(files);
	kfree(fds);
	return ret;
}

/**
 * pcipass_vfio_device_ioctl() - a VFIO ioctl made on a device file
 * @pdevice: the device file's attachment
 * @cmd: an ioctl number of type %VFIO_TYPE
 * @arg: the user's argument
 *
 * Only a device file opened through a VFIO group answers them.
 *
 * Return: what VFIO returns for the ioctl, -ENOTTY for the others.
 */
long pcipass_vfio_device_ioctl(struct pcipass_device *pdevice,
			       unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	if (!pdevice->vfio_group_file)
		return -ENOTTY;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return pcipass_vfio_device_get_info(pdevice, uarg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return pcipass_vfio_device_get_region_info(pdevice, uarg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return pcipass_vfio_device_get_irq_info(pdevice, uarg);
	case VFIO_DEVICE_SET_IRQS:
		return pcipass_vfio_device_set_irqs(pdevice, uarg);
	case VFIO_DEVICE_RESET:
		return pcipass_vfio_device_reset(pdevice);
	case VFIO_DEVICE_GET_PCI_HOT_RESET_INFO:
		return pcipass_vfio_device_hot_reset_info(pdevice, uarg);
	case VFIO_DEVICE_PCI_HOT_RESET:
		return pcipass_vfio_device_hot_reset(pdevice, uarg);
	default:
		return -ENOTTY;
	}
}


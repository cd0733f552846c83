/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * pcipass: hand a physical PCI device to a virtual machine monitor.
 *
 * This header is the whole user-space interface of /dev/pcipass.
 */
#ifndef _UAPI_LINUX_PCIPASS_H
#define _UAPI_LINUX_PCIPASS_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * DOC: General ioctl format
 *
 * Every open file of ``/dev/pcipass`` is one *context*: the future owner of
 * one IOMMU domain and of the PCI devices attached to it. Closing the file
 * releases everything the context holds.
 *
 * Every ioctl takes a pointer to a structure that starts with two fields:
 *
 *  - ``__u32 size``: the size of the structure as user space knows it,
 *    normally ``sizeof()`` of the structure in the header it was built with;
 *  - ``__u32 flags``: a bit mask of options. Each ioctl documents its bits.
 *
 * 64-bit values and user-space pointers are ``__aligned_u64``; no structure
 * holds a ``long``, so 32-bit and 64-bit callers share one layout. Fields
 * named ``__reserved`` must be zero.
 *
 * The kernel copies the structure with copy_struct_from_user(): a caller
 * built against an older header passes a smaller @size and the kernel treats
 * the missing tail as zero; a caller built against a newer header passes a
 * larger @size and the kernel accepts it as long as every byte it does not
 * know is zero. On success the kernel writes the output fields back, never
 * more than @size bytes.
 *
 * The ioctl numbers do not encode the structure size: they are
 * ``_IO(PCIPASS_TYPE, nr)``.
 *
 * Errors common to every ioctl:
 *
 *  - ``ENOTTY``: the ioctl number is not known on this kind of file.
 *  - ``EFAULT``: the structure, or a user pointer inside it, cannot be
 *    read or written.
 *  - ``EINVAL``: @size is smaller than the first version of the structure,
 *    a field has a value that is not valid, or a ``__reserved`` field is
 *    not zero.
 *  - ``E2BIG``: @size is larger than the kernel's structure and a byte past
 *    the kernel's structure is not zero (also: @size above one page).
 *  - ``EOPNOTSUPP``: a bit of @flags is not known to this kernel.
 *  - ``ENOMEM``: the kernel ran out of memory.
 *
 * Errors of specific ioctls (each ioctl lists those it returns):
 *
 *  - ``ENODEV``: the PCI address names no device bound to pcipass, or the
 *    device went away.
 *  - ``EBUSY``: the device is attached to another context.
 *  - ``EPERM``: the admin's policy forbids it (no IOMMU without opt-in,
 *    a group that is not viable, DMA without an IOMMU).
 *  - ``ENXIO``: the context has no IOMMU domain yet (no device attached).
 *  - ``EEXIST``: the IOVA range overlaps an existing mapping.
 *  - ``ENOENT``: the IOVA range holds no mapping.
 *  - ``ERANGE``: the IOVA range is outside the usable IOVA ranges.
 *  - ``ENOSPC``: pinning would exceed ``RLIMIT_MEMLOCK``.
 *  - ``EMSGSIZE``: the output array given is too small; the structure
 *    says how large it must be.
 */

/* 0xB9 is not registered in Documentation/userspace-api/ioctl/ioctl-number.rst */
#define PCIPASS_TYPE 0xB9

/**
 * define PCIPASS_API_VERSION - version of this interface
 *
 * Raised only for a change that an existing caller must know of; additions
 * are announced through &struct pcipass_info.features instead.
 */
#define PCIPASS_API_VERSION 1

/* ioctl numbers on a context (the open file of /dev/pcipass) */
enum {
	PCIPASS_CMD_GET_API_VERSION = 0x00,
	PCIPASS_CMD_GET_INFO = 0x01,
	PCIPASS_CMD_DEVICE_ATTACH = 0x02,
	PCIPASS_CMD_DEVICE_DETACH = 0x03,
	PCIPASS_CMD_DMA_MAP = 0x04,
	PCIPASS_CMD_DMA_UNMAP = 0x05,
	PCIPASS_CMD_IOVA_RANGES = 0x06,
};

/**
 * struct pcipass_api_version - ioctl(PCIPASS_GET_API_VERSION)
 * @size: sizeof(struct pcipass_api_version)
 * @flags: must be 0
 * @version: output: %PCIPASS_API_VERSION of the running driver
 * @__reserved: must be 0
 *
 * Return: 0, or an errno of the general ioctl format.
 */
struct pcipass_api_version {
	__u32 size;
	__u32 flags;
	__u32 version;
	__u32 __reserved;
};

#define PCIPASS_GET_API_VERSION _IO(PCIPASS_TYPE, PCIPASS_CMD_GET_API_VERSION)

/**
 * enum pcipass_host_caps - what the host offers, in &struct pcipass_info
 * @PCIPASS_HOST_IOMMU: PCI devices on this host are translated by an IOMMU.
 * @PCIPASS_HOST_ISOLATED_MSI: every IOMMU group of a PCI device isolates
 *	MSI writes (interrupt remapping).
 * @PCIPASS_HOST_ALLOW_NOIOMMU: the admin allowed devices to be attached
 *	without an IOMMU (module parameter ``allow_noiommu``).
 * @PCIPASS_HOST_ALLOW_UNSAFE_INTERRUPTS: the admin allowed MSI without
 *	isolation (module parameter ``allow_unsafe_interrupts``).
 */
enum pcipass_host_caps {
	PCIPASS_HOST_IOMMU = 1 << 0,
	PCIPASS_HOST_ISOLATED_MSI = 1 << 1,
	PCIPASS_HOST_ALLOW_NOIOMMU = 1 << 2,
	PCIPASS_HOST_ALLOW_UNSAFE_INTERRUPTS = 1 << 3,
};

/**
 * enum pcipass_features - what this build of pcipass supports
 * @PCIPASS_FEATURE_DEVICE_ATTACH: PCIPASS_DEVICE_ATTACH and
 *	PCIPASS_DEVICE_DETACH.
 * @PCIPASS_FEATURE_DMA_MAP: PCIPASS_DMA_MAP, PCIPASS_DMA_UNMAP and
 *	PCIPASS_IOVA_RANGES.
 */
enum pcipass_features {
	PCIPASS_FEATURE_DEVICE_ATTACH = 1 << 0,
	PCIPASS_FEATURE_DMA_MAP = 1 << 1,
};

/**
 * enum pcipass_ctx_mode - how a context reaches memory
 * @PCIPASS_CTX_MODE_UNSET: no device attached yet; the first attach decides.
 * @PCIPASS_CTX_MODE_IOMMU: the context owns an IOMMU domain; device DMA is
 *	translated through the mappings of PCIPASS_DMA_MAP.
 * @PCIPASS_CTX_MODE_NOIOMMU: no IOMMU (admin opted in): DMA mapping and
 *	bus mastering are refused.
 */
enum pcipass_ctx_mode {
	PCIPASS_CTX_MODE_UNSET = 0,
	PCIPASS_CTX_MODE_IOMMU = 1,
	PCIPASS_CTX_MODE_NOIOMMU = 2,
};

/**
 * struct pcipass_info - ioctl(PCIPASS_GET_INFO)
 * @size: sizeof(struct pcipass_info)
 * @flags: must be 0
 * @host_caps: output: bit mask of &enum pcipass_host_caps
 * @features: output: bit mask of &enum pcipass_features
 * @ctx_mode: output: &enum pcipass_ctx_mode of this context
 * @num_devices: output: number of devices attached to this context
 *
 * Lets a VMM probe the host and the driver before it relies on them.
 *
 * Return: 0, or an errno of the general ioctl format.
 */
struct pcipass_info {
	__u32 size;
	__u32 flags;
	__aligned_u64 host_caps;
	__aligned_u64 features;
	__u32 ctx_mode;
	__u32 num_devices;
};

#define PCIPASS_GET_INFO _IO(PCIPASS_TYPE, PCIPASS_CMD_GET_INFO)

#endif /* _UAPI_LINUX_PCIPASS_H */

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
 * What a context may do is decided by how it was opened, whoever holds the
 * file later: a file opened read-only may only query (GET_API_VERSION,
 * GET_INFO, IOVA_RANGES); every ioctl that changes state fails on it with
 * ``EBADF``. A context opened with ``CAP_SYS_ADMIN`` may attach any device
 * bound to pcipass; one opened without it only the devices whose
 * ``pcipass_owner`` sysfs attribute the admin set to the opener's user.
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
 *  - ``EBADF``: the ioctl changes state and the file was opened read-only.
 *
 * Output fields are valid only when the ioctl succeeds: some ioctls write
 * their reply before the work that can still fail (so that no user memory
 * is touched while a lock is held).
 *
 * Errors of specific ioctls (each ioctl lists those it returns):
 *
 *  - ``ENODEV``: the PCI address names no device bound to pcipass, or the
 *    device went away.
 *  - ``EBUSY``: the device is attached to another context (or is an
 *    SR-IOV physical function with virtual functions enabled).
 *  - ``EPERM``: the admin's policy forbids it (no IOMMU without opt-in,
 *    no MSI isolation without opt-in, a group that is not viable, DMA
 *    without an IOMMU).
 *  - ``EACCES``: the context's opener is neither privileged nor the
 *    device's owner.
 *  - ``ENXIO``: the context has no IOMMU domain yet (no device attached).
 *  - ``EEXIST``: the IOVA range overlaps an existing mapping.
 *  - ``ENOENT``: the IOVA range holds no mapping.
 *  - ``ERANGE``: the IOVA range is outside the usable IOVA ranges.
 *  - ``ENOSPC``: pinning would exceed ``RLIMIT_MEMLOCK``.
 *  - ``EBUSY`` (DMA_UNMAP): a map or unmap of the range is still in progress.
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

/* ioctl numbers on a device file (returned by PCIPASS_DEVICE_ATTACH) */
enum {
	PCIPASS_CMD_DEVICE_GET_INFO = 0x40,
	PCIPASS_CMD_DEVICE_GET_IRQ_INFO = 0x41,
	PCIPASS_CMD_DEVICE_SET_IRQS = 0x42,
	PCIPASS_CMD_DEVICE_GET_REGION_INFO = 0x43,
	PCIPASS_CMD_DEVICE_RESET = 0x44,
	PCIPASS_CMD_DEVICE_HOT_RESET_INFO = 0x45,
	PCIPASS_CMD_DEVICE_HOT_RESET = 0x46,
	PCIPASS_CMD_DEVICE_ERR_INFO = 0x47,
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
 * @PCIPASS_FEATURE_IRQS: PCIPASS_DEVICE_GET_IRQ_INFO and
 *	PCIPASS_DEVICE_SET_IRQS: INTx, MSI and MSI-X to eventfds.
 * @PCIPASS_FEATURE_REGIONS: PCIPASS_DEVICE_GET_REGION_INFO, and read,
 *	write and mmap of the device file: BARs, ROM and virtualized config
 *	space.
 * @PCIPASS_FEATURE_RESET: PCIPASS_DEVICE_RESET, and reset on attach and
 *	detach.
 * @PCIPASS_FEATURE_HOT_RESET: PCIPASS_DEVICE_HOT_RESET_INFO and
 *	PCIPASS_DEVICE_HOT_RESET: a slot or bus reset of several devices.
 * @PCIPASS_FEATURE_RELEASE_REQ: %PCIPASS_IRQ_REQ: before a device leaves
 *	pcipass (unbind, hot-unplug), its VMM is asked to release it and
 *	given time to (see "Release requests").
 * @PCIPASS_FEATURE_DMA_MAP_FILE: %PCIPASS_DMA_MAP_FILE: PCIPASS_DMA_MAP of
 *	a memfd, tmpfs or hugetlbfs file by descriptor and offset.
 * @PCIPASS_FEATURE_ERR_REPORT: %PCIPASS_IRQ_ERR and
 *	PCIPASS_DEVICE_ERR_INFO: the device's AER errors are reported to its
 *	VMM with what their recovery did (see "Error reports").
 */
enum pcipass_features {
	PCIPASS_FEATURE_DEVICE_ATTACH = 1 << 0,
	PCIPASS_FEATURE_DMA_MAP = 1 << 1,
	PCIPASS_FEATURE_IRQS = 1 << 2,
	PCIPASS_FEATURE_REGIONS = 1 << 3,
	PCIPASS_FEATURE_RESET = 1 << 4,
	PCIPASS_FEATURE_HOT_RESET = 1 << 5,
	PCIPASS_FEATURE_RELEASE_REQ = 1 << 6,
	PCIPASS_FEATURE_DMA_MAP_FILE = 1 << 7,
	PCIPASS_FEATURE_ERR_REPORT = 1 << 8,
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
 * enum pcipass_info_dma - cache coherency of a context's DMA, in
 *	&struct pcipass_info.dma_flags
 * @PCIPASS_INFO_DMA_COHERENT: the context's IOMMU domain enforces cache
 *	coherency: the IOMMU makes every DMA of the attached devices snoop
 *	the CPU caches, whatever the No Snoop attribute of the request says.
 *	Decided by the first attach (when the device's IOMMU can, as with
 *	VT-d's snoop control); a device whose IOMMU cannot is then refused
 *	(``EINVAL``).
 * @PCIPASS_INFO_DMA_NO_SNOOP_OFF: the domain does not enforce coherency, so
 *	pcipass keeps the PCI Express "Enable No Snoop" bit (Device Control)
 *	of every attached device clear in the device; the VMM reads back what
 *	it wrote, but the device issues no No Snoop requests. A conventional
 *	PCI device with no PCI Express capability cannot be controlled
 *	that way.
 */
enum pcipass_info_dma {
	PCIPASS_INFO_DMA_COHERENT = 1 << 0,
	PCIPASS_INFO_DMA_NO_SNOOP_OFF = 1 << 1,
};

/**
 * struct pcipass_info - ioctl(PCIPASS_GET_INFO)
 * @size: sizeof(struct pcipass_info)
 * @flags: must be 0
 * @host_caps: output: bit mask of &enum pcipass_host_caps
 * @features: output: bit mask of &enum pcipass_features
 * @ctx_mode: output: &enum pcipass_ctx_mode of this context
 * @num_devices: output: number of devices attached to this context
 * @dma_flags: output: &enum pcipass_info_dma, 0 until a device is attached
 *	with an IOMMU (added after the first version: a caller passing the
 *	old @size does not get it)
 * @__reserved: output: 0
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
	__u32 dma_flags;
	__u32 __reserved;
};

#define PCIPASS_GET_INFO _IO(PCIPASS_TYPE, PCIPASS_CMD_GET_INFO)

/**
 * struct pcipass_pci_addr - the address of a PCI function
 * @segment: PCI segment (domain), as in 0000:00:03.0
 * @bus: bus number
 * @device: device (slot) number, 0 to 31
 * @function: function number, 0 to 7
 * @__reserved: must be 0
 */
struct pcipass_pci_addr {
	__u32 segment;
	__u8 bus;
	__u8 device;
	__u8 function;
	__u8 __reserved;
};

/**
 * struct pcipass_device_attach - ioctl(PCIPASS_DEVICE_ATTACH)
 * @size: sizeof(struct pcipass_device_attach)
 * @flags: must be 0
 * @addr: the device, which must be bound to the pcipass driver
 * @out_device_fd: output: a new file descriptor (close-on-exec) for the
 *	device; its ioctls are the PCIPASS_DEVICE_* ones
 * @__reserved: must be 0
 *
 * Attaches a device to the context. With an IOMMU, the context claims DMA
 * ownership of the device (every other device of its IOMMU group must be
 * bound to pcipass or to no driver), allocates its IOMMU domain on the first
 * attach and attaches the device's group to it: from then on the device's
 * DMA reaches only what PCIPASS_DMA_MAP mapped. Several devices and groups
 * share the context's one domain.
 *
 * A device whose IOMMU group does not isolate MSI writes (no interrupt
 * remapping) can be attached only when the admin set
 * ``allow_unsafe_interrupts=1``: its DMA could otherwise write the MSI
 * window and raise host interrupts. Such an attach taints the kernel.
 *
 * Without an IOMMU, a device can be attached only when the admin loaded
 * pcipass with ``allow_noiommu=1``; the context is then in
 * %PCIPASS_CTX_MODE_NOIOMMU, DMA mapping is refused and bus mastering stays
 * off. A context never mixes the two modes.
 *
 * The device is detached by PCIPASS_DEVICE_DETACH, by closing the device
 * file, or by closing the context, whichever comes first; after that the
 * device file's ioctls fail with ENODEV. It is also revoked when it leaves
 * the pcipass driver (unbind, hot-unplug), after a release request (see
 * "Release requests").
 *
 * Return: 0 or an errno: ``EINVAL`` a malformed address (@addr.device
 * above 31, @addr.function above 7, a non-zero @addr.__reserved) or a
 * non-zero @__reserved, or a device whose IOMMU cannot map memory cache
 * coherent, or cannot enforce coherency while the context's domain does
 * (see %PCIPASS_INFO_DMA_COHERENT; logged); ``ENODEV`` no such device, or not bound to
 * pcipass; ``EBUSY`` the device, or its IOMMU group, is attached to another
 * context or owned by another user of the IOMMU (VFIO, iommufd), or
 * another holder has the device's BARs, or the device is an SR-IOV
 * physical function with virtual functions enabled (logged; see
 * "SR-IOV virtual functions" in Documentation/userspace-api/pcipass.rst);
 * ``EEXIST`` the device is already
 * attached to this context, or a reserved region of the device overlaps an
 * existing mapping; ``EPERM`` the group is not viable (the kernel log names
 * the device in the way), the group does not isolate MSI and
 * ``allow_unsafe_interrupts`` is off, no IOMMU and ``allow_noiommu`` is
 * off, or the device's mode differs from the context's; ``EACCES`` the
 * context was opened without ``CAP_SYS_ADMIN`` by a user who is not the
 * device's ``pcipass_owner``; ``EBADF`` the context was opened read-only;
 * ``EMFILE`` no free file
 * descriptor; other errnos of the IOMMU core (allocating the domain,
 * attaching the group) or of enabling the device.
 */
struct pcipass_device_attach {
	__u32 size;
	__u32 flags;
	struct pcipass_pci_addr addr;
	__s32 out_device_fd;
	__u32 __reserved;
};

#define PCIPASS_DEVICE_ATTACH _IO(PCIPASS_TYPE, PCIPASS_CMD_DEVICE_ATTACH)

/**
 * struct pcipass_device_detach - ioctl(PCIPASS_DEVICE_DETACH)
 * @size: sizeof(struct pcipass_device_detach)
 * @flags: must be 0
 * @addr: a device attached to this context
 *
 * Detaches the device: when it was the last device of its IOMMU group in
 * the context, the group goes back to its default domain and the context
 * releases its DMA ownership. The mappings of the context stay.
 *
 * A DETACH releases a device whose removal waits for the VMM (see
 * "Release requests"): the removal then revokes the device at once, and
 * the DETACH returns ``ENODEV``.
 *
 * Return: 0 or an errno: ``EINVAL`` a malformed address (as for
 * PCIPASS_DEVICE_ATTACH); ``ENODEV`` no such device, or it is not attached
 * to this context (any more).
 */
struct pcipass_device_detach {
	__u32 size;
	__u32 flags;
	struct pcipass_pci_addr addr;
};

#define PCIPASS_DEVICE_DETACH _IO(PCIPASS_TYPE, PCIPASS_CMD_DEVICE_DETACH)

/**
 * enum pcipass_dma_map_flags - flags of &struct pcipass_dma_map
 * @PCIPASS_DMA_MAP_READ: the device may read the memory
 * @PCIPASS_DMA_MAP_WRITE: the device may write the memory (the memory
 *	must then be writable by the caller)
 * @PCIPASS_DMA_MAP_FILE: map the pages of a file, @fd at @offset, instead
 *	of the caller's memory at @user_va (which must be 0); needs the
 *	structure up to @offset (%PCIPASS_FEATURE_DMA_MAP_FILE)
 */
enum pcipass_dma_map_flags {
	PCIPASS_DMA_MAP_READ = 1 << 0,
	PCIPASS_DMA_MAP_WRITE = 1 << 1,
	PCIPASS_DMA_MAP_FILE = 1 << 2,
};

/**
 * struct pcipass_dma_map - ioctl(PCIPASS_DMA_MAP)
 * @size: sizeof(struct pcipass_dma_map); the structure up to @length is
 *	still accepted, without %PCIPASS_DMA_MAP_FILE
 * @flags: &enum pcipass_dma_map_flags, %PCIPASS_DMA_MAP_READ or
 *	%PCIPASS_DMA_MAP_WRITE or both
 * @user_va: start of the caller's memory, page aligned; 0 with
 *	%PCIPASS_DMA_MAP_FILE
 * @iova: the device address it appears at, page aligned
 * @length: bytes, a non-zero multiple of the page size
 * @fd: with %PCIPASS_DMA_MAP_FILE, the file whose pages are mapped: a
 *	memfd (shmem or hugetlbfs, ``memfd_create()``), or a file of tmpfs
 *	or hugetlbfs; open for reading, and for writing too with
 *	%PCIPASS_DMA_MAP_WRITE; otherwise 0
 * @__reserved: must be 0
 * @offset: with %PCIPASS_DMA_MAP_FILE, the byte offset in @fd of the first
 *	page, page aligned (for hugetlbfs, a huge page's alignment gives
 *	large IOMMU pages); @offset + @length must not pass the file's end;
 *	otherwise 0
 *
 * Pins the memory of the calling process (long term) and maps it into the
 * context's IOMMU domain for every attached device, cache coherent where
 * the IOMMU can (see %PCIPASS_INFO_DMA_COHERENT).
 *
 * Who is charged: the pinned pages are charged to the *user* of the
 * calling process (its real UID: the ``locked_vm`` of its
 * ``struct user_struct``, shared by all the processes of that user and by
 * io_uring and iommufd), within the calling process's ``RLIMIT_MEMLOCK``
 * counted over everything that user has locked that way; a caller with
 * ``CAP_IPC_LOCK`` is not limited, but its pages are still charged. The
 * charge belongs to the mapping: it lasts exactly as long as the pages stay
 * pinned (until PCIPASS_DMA_UNMAP, or the context is closed), whichever
 * process unmaps or closes and whatever becomes of the process that
 * mapped, so handing the context to another process and exiting frees
 * no charge. The pages also count in the calling process's ``VmPin``
 * (/proc/PID/status); not in anyone's ``VmLck``. The limit is checked
 * before anything else is done: a refused length allocates nothing.
 *
 * The memory is pinned without the context's lock held: a map whose memory
 * is slow to come (userfaultfd, FUSE) delays no other ioctl of the context
 * and no removal of its devices. While it is in progress its IOVA range is
 * taken: another map of it fails with ``EEXIST``, an unmap with ``EBUSY``.
 *
 * Physically contiguous runs are mapped with as few IOMMU calls as
 * possible, so hugetlbfs and transparent huge pages are mapped with large
 * IOMMU pages when @iova is aligned like @user_va.
 *
 * With %PCIPASS_DMA_MAP_FILE the file's pages are pinned (``FOLL_PIN``, a
 * folio at a time, allocated where the file has a hole) without the
 * caller's page tables being walked or even mapped: the mapping stays
 * valid whatever the caller's address space becomes (``execve()`` of a
 * VMM that keeps the context's descriptor and the memfd). It is charged
 * like an address map. The mapping holds the file open; a writable one
 * also counts as a writable shared mapping of it, so ``F_SEAL_WRITE``
 * cannot be added while it lasts. A file truncated under the mapping
 * keeps the pinned pages mapped (the device sees the old pages, no longer
 * the file's) until the unmap, which frees them.
 *
 * On any failure nothing stays pinned, charged or mapped.
 *
 * Return: 0 or an errno: ``EINVAL`` a zero or unaligned length, address or
 * offset, a range that wraps around, a non-zero @user_va, @__reserved or
 * (without %PCIPASS_DMA_MAP_FILE) @fd or @offset, %PCIPASS_DMA_MAP_FILE
 * with a structure that ends before @offset, an @fd that is not a memfd,
 * tmpfs or hugetlbfs file, or @offset + @length past the file's end (also
 * when the file shrinks during the map); ``EBADF`` @fd is not an open file
 * descriptor; ``EACCES`` @fd is not open for reading, or not for writing
 * while %PCIPASS_DMA_MAP_WRITE asks for it; ``EPERM`` the file is sealed
 * against writes (``F_SEAL_WRITE``, ``F_SEAL_FUTURE_WRITE``) while
 * %PCIPASS_DMA_MAP_WRITE asks for it; ``ENXIO`` no device attached yet;
 * ``EPERM`` the context has no IOMMU (%PCIPASS_CTX_MODE_NOIOMMU);
 * ``ERANGE`` the IOVA range is not inside the usable ranges of
 * PCIPASS_IOVA_RANGES; ``EEXIST`` it overlaps an existing mapping (or one
 * being made or unmapped); ``ENOSPC`` the user's locked memory would
 * exceed ``RLIMIT_MEMLOCK``; ``ENOMEM`` @length is more than the host's
 * RAM, or out of memory (for hugetlbfs: no free huge page for a hole);
 * ``EFAULT`` the memory is not mapped in the caller, or is not writable
 * while %PCIPASS_DMA_MAP_WRITE asks for it; ``EINTR`` a fatal signal
 * arrived.
 */
struct pcipass_dma_map {
	__u32 size;
	__u32 flags;
	__aligned_u64 user_va;
	__aligned_u64 iova;
	__aligned_u64 length;
	__s32 fd;
	__u32 __reserved;
	__aligned_u64 offset;
};

#define PCIPASS_DMA_MAP _IO(PCIPASS_TYPE, PCIPASS_CMD_DMA_MAP)

/**
 * enum pcipass_dma_unmap_flags - flags of &struct pcipass_dma_unmap
 * @PCIPASS_DMA_UNMAP_ALL: unmap every mapping of the context; @iova and
 *	@length must then be 0
 */
enum pcipass_dma_unmap_flags {
	PCIPASS_DMA_UNMAP_ALL = 1 << 0,
};

/**
 * struct pcipass_dma_unmap - ioctl(PCIPASS_DMA_UNMAP)
 * @size: sizeof(struct pcipass_dma_unmap)
 * @flags: &enum pcipass_dma_unmap_flags
 * @iova: start of the range, page aligned
 * @length: input: bytes, a non-zero multiple of the page size; output:
 *	the bytes that were mapped and are now unmapped
 *
 * Unmaps every mapping inside the range, flushes the IOTLB, then unpins
 * the memory and gives the charge back. A mapping is unmapped whole or not
 * at all: a range that cuts one is refused. A large range is unmapped a
 * chunk at a time (flushed, then unpinned, before the next): other ioctls
 * of the context, removals of its devices and readers of the statistics
 * wait for one chunk, not for the whole unmap, and see the pinned bytes
 * fall as it goes; the mappings of the range are taken at the start
 * (another unmap of them fails with ``EBUSY``, a map over them with
 * ``EEXIST``).
 *
 * Return: 0 or an errno: ``EINVAL`` a zero or unaligned length or address,
 * a range that wraps around, a range that cuts a mapping, or
 * %PCIPASS_DMA_UNMAP_ALL with a non-zero @iova or @length; ``ENOENT`` no
 * mapping in the range; ``EBUSY`` a PCIPASS_DMA_MAP or another unmap of
 * the range is still in progress (nothing is unmapped); ``ENXIO`` no
 * device attached yet (or the context is being closed); ``EPERM`` the
 * context has no IOMMU; ``EFAULT`` @length could not be written back (the
 * range is unmapped all the same).
 */
struct pcipass_dma_unmap {
	__u32 size;
	__u32 flags;
	__aligned_u64 iova;
	__aligned_u64 length;
};

#define PCIPASS_DMA_UNMAP _IO(PCIPASS_TYPE, PCIPASS_CMD_DMA_UNMAP)

/**
 * struct pcipass_iova_range - one usable IOVA range
 * @start: first usable address
 * @last: last usable address (inclusive)
 */
struct pcipass_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};

/**
 * struct pcipass_iova_ranges - ioctl(PCIPASS_IOVA_RANGES)
 * @size: sizeof(struct pcipass_iova_ranges)
 * @flags: must be 0
 * @num_ranges: input: the number of entries @ranges has room for; output:
 *	the number of usable ranges
 * @__reserved: must be 0
 * @ranges: user pointer to an array of &struct pcipass_iova_range
 *
 * Reports where PCIPASS_DMA_MAP may place mappings: the IOMMU domain's
 * aperture minus the reserved regions of every attached group (on x86 the
 * MSI window 0xfee00000-0xfeefffff), in increasing order. The answer
 * changes as devices are attached.
 *
 * Return: 0 or an errno: ``EMSGSIZE`` @num_ranges is too small (it is
 * updated to the number needed and nothing else is written); ``ENXIO`` no
 * device attached yet; ``EPERM`` the context has no IOMMU.
 */
struct pcipass_iova_ranges {
	__u32 size;
	__u32 flags;
	__u32 num_ranges;
	__u32 __reserved;
	__aligned_u64 ranges;
};

#define PCIPASS_IOVA_RANGES _IO(PCIPASS_TYPE, PCIPASS_CMD_IOVA_RANGES)

/**
 * enum pcipass_device_caps - what a VMM may do with an attached device
 * @PCIPASS_DEVICE_BUS_MASTER_FORBIDDEN: the context has no IOMMU: setting
 *	the bus master enable bit fails with ``EPERM`` (and counts in
 *	&struct pcipass_device_info.bus_master_refusals), so the device can
 *	do no DMA and raise no MSI.
 * @PCIPASS_DEVICE_RESET_AVAILABLE: PCIPASS_DEVICE_RESET resets the
 *	device alone: the reset made when it was attached succeeded. Clear
 *	when the device has no reset method, or when its only one is a bus
 *	reset and its bus holds other devices (the PCI core then refuses a
 *	reset of this one function); the device then works, but is not
 *	reset on attach and detach (state can leak between users) unless a
 *	hot reset is used, see %PCIPASS_DEVICE_HOT_RESET_AVAILABLE.
 * @PCIPASS_DEVICE_MSIX_MMAP: the MSI-X table and PBA may be mmapped and
 *	written directly, because the IOMMU group isolates MSI.
 * @PCIPASS_DEVICE_HOT_RESET_AVAILABLE: the device's slot or bus can be
 *	reset (a hotplug slot reset, or a secondary bus reset of its
 *	upstream bridge): PCIPASS_DEVICE_HOT_RESET_INFO lists the devices
 *	such a reset affects, and PCIPASS_DEVICE_HOT_RESET does it when all
 *	of them are attached to the context.
 */
enum pcipass_device_caps {
	PCIPASS_DEVICE_BUS_MASTER_FORBIDDEN = 1 << 0,
	PCIPASS_DEVICE_RESET_AVAILABLE = 1 << 1,
	PCIPASS_DEVICE_MSIX_MMAP = 1 << 2,
	PCIPASS_DEVICE_HOT_RESET_AVAILABLE = 1 << 3,
};

/**
 * struct pcipass_device_info - ioctl(PCIPASS_DEVICE_GET_INFO) on a device
 * @size: sizeof(struct pcipass_device_info)
 * @flags: must be 0
 * @addr: output: the device's PCI address
 * @vendor: output: PCI vendor ID
 * @device: output: PCI device ID
 * @caps: output: &enum pcipass_device_caps
 * @num_regions: output: regions of PCIPASS_DEVICE_GET_REGION_INFO
 *	(%PCIPASS_NUM_REGIONS)
 * @bus_master_refusals: output: how many times the bus master enable bit
 *	was refused; a VMM polls it to stop a guest that depends on DMA
 *
 * Return: 0 or an errno: ``ENODEV`` the device was detached.
 */
struct pcipass_device_info {
	__u32 size;
	__u32 flags;
	struct pcipass_pci_addr addr;
	__u16 vendor;
	__u16 device;
	__u32 caps;
	__u32 num_regions;
	__u32 bus_master_refusals;
};

#define PCIPASS_DEVICE_GET_INFO _IO(PCIPASS_TYPE, PCIPASS_CMD_DEVICE_GET_INFO)

/**
 * DOC: Interrupts
 *
 * Each interrupt *type* of a device (&enum pcipass_irq_type) has a number of
 * vectors. At most one of INTx, MSI and MSI-X is enabled at a time, as PCI
 * requires. A VMM enables a type with the number of vectors it wants, gives
 * each vector an eventfd, and the kernel signals the eventfd from the hard
 * interrupt handler each time the device raises the vector.
 *
 * Masking is per vector, for every type, and done by pcipass: a masked
 * vector that fires is remembered as pending and signalled once when it is
 * unmasked, so no interrupt is lost while a guest has it masked.
 *
 * INTx is level triggered: pcipass masks INTx each time the device
 * interrupts (*automask*) and the VMM unmasks it once the guest has
 * serviced it, with %PCIPASS_IRQ_SET_UNMASK or by signalling an eventfd
 * given with %PCIPASS_IRQ_SET_UNMASK_EVENTFD (KVM's resamplefd). On a
 * device that supports INTx masking (PCI 2.3), pcipass masks it with the
 * INTx disable bit of the command register and the line may be shared with
 * other devices; otherwise it disables the host's interrupt line, which it
 * then needs exclusively.
 *
 * MSI and MSI-X are refused (``EPERM``) unless the device's IOMMU group
 * isolates MSI writes (interrupt remapping), because a device could forge
 * any interrupt otherwise; the admin may override this with the module
 * parameter ``allow_unsafe_interrupts=1``, which taints the kernel. Without
 * an IOMMU they are always refused: only INTx is available.
 */

/**
 * enum pcipass_irq_type - interrupt types of a device
 * @PCIPASS_IRQ_INTX: the legacy INTx line; one vector
 * @PCIPASS_IRQ_MSI: MSI vectors
 * @PCIPASS_IRQ_MSIX: MSI-X vectors
 * @PCIPASS_IRQ_ERR: the error report: one vector on a PCI Express device
 *	(none on conventional PCI), an eventfd that pcipass signals when the
 *	PCI core reports an uncorrectable error of the device and again when
 *	its recovery ends (see "Error reports"); always enabled, neither
 *	maskable nor automasked
 * @PCIPASS_IRQ_REQ: the release request: one vector, an eventfd that
 *	pcipass signals when the device is about to be taken away (see
 *	"Release requests"); always enabled, neither maskable nor automasked
 * @PCIPASS_IRQ_NUM_TYPES: number of types
 */
enum pcipass_irq_type {
	PCIPASS_IRQ_INTX = 0,
	PCIPASS_IRQ_MSI = 1,
	PCIPASS_IRQ_MSIX = 2,
	PCIPASS_IRQ_ERR = 3,
	PCIPASS_IRQ_REQ = 4,
	PCIPASS_IRQ_NUM_TYPES = 5,
};

/**
 * enum pcipass_irq_info_flags - properties of an interrupt type
 * @PCIPASS_IRQ_INFO_EVENTFD: vectors can be delivered to eventfds
 * @PCIPASS_IRQ_INFO_MASKABLE: vectors can be masked and unmasked
 * @PCIPASS_IRQ_INFO_AUTOMASKED: each interrupt masks its vector until it
 *	is unmasked (INTx)
 * @PCIPASS_IRQ_INFO_SHARED: the line can be shared with other devices
 *	(the device supports PCI 2.3 INTx masking)
 * @PCIPASS_IRQ_INFO_ENABLED: the type is enabled now
 * @PCIPASS_IRQ_INFO_NOT_ALLOWED: the type exists but enabling it would be
 *	refused (no IOMMU, or no MSI isolation without the admin's opt-in)
 */
enum pcipass_irq_info_flags {
	PCIPASS_IRQ_INFO_EVENTFD = 1 << 0,
	PCIPASS_IRQ_INFO_MASKABLE = 1 << 1,
	PCIPASS_IRQ_INFO_AUTOMASKED = 1 << 2,
	PCIPASS_IRQ_INFO_SHARED = 1 << 3,
	PCIPASS_IRQ_INFO_ENABLED = 1 << 4,
	PCIPASS_IRQ_INFO_NOT_ALLOWED = 1 << 5,
};

/**
 * struct pcipass_irq_info - ioctl(PCIPASS_DEVICE_GET_IRQ_INFO) on a device
 * @size: sizeof(struct pcipass_irq_info)
 * @flags: must be 0
 * @type: &enum pcipass_irq_type to describe
 * @count: output: number of vectors the device supports (0: none)
 * @info_flags: output: &enum pcipass_irq_info_flags
 * @enabled_count: output: vectors enabled now, 0 when the type is off
 *
 * Return: 0 or an errno: ``EINVAL`` unknown @type; ``ENODEV`` the device
 * was detached.
 */
struct pcipass_irq_info {
	__u32 size;
	__u32 flags;
	__u32 type;
	__u32 count;
	__u32 info_flags;
	__u32 enabled_count;
};

#define PCIPASS_DEVICE_GET_IRQ_INFO \
	_IO(PCIPASS_TYPE, PCIPASS_CMD_DEVICE_GET_IRQ_INFO)

/**
 * enum pcipass_irq_set_action - what PCIPASS_DEVICE_SET_IRQS does (exactly
 * one per call, in &struct pcipass_irq_set.flags)
 * @PCIPASS_IRQ_SET_ENABLE: enable @type with vectors 0 to @count - 1;
 *	@start must be 0. Fails with ``EBUSY`` while a type, this one
 *	included, is enabled: disable it first.
 * @PCIPASS_IRQ_SET_DISABLE: disable @type: free its vectors, drop every
 *	eventfd; @start and @count must be 0.
 * @PCIPASS_IRQ_SET_EVENTFD: @data points to @count ``__s32`` eventfd file
 *	descriptors for vectors @start to @start + @count - 1; -1 removes a
 *	vector's eventfd.
 * @PCIPASS_IRQ_SET_TRIGGER: signal the vectors as if the device had raised
 *	them (a loopback for tests and VMMs); masking applies.
 * @PCIPASS_IRQ_SET_MASK: mask the vectors.
 * @PCIPASS_IRQ_SET_UNMASK: unmask the vectors; a vector that fired while
 *	masked is signalled now.
 * @PCIPASS_IRQ_SET_UNMASK_EVENTFD: INTx only: @data points to one ``__s32``
 *	eventfd (or -1 to remove it); signalling it unmasks INTx.
 */
enum pcipass_irq_set_action {
	PCIPASS_IRQ_SET_ENABLE = 1 << 0,
	PCIPASS_IRQ_SET_DISABLE = 1 << 1,
	PCIPASS_IRQ_SET_EVENTFD = 1 << 2,
	PCIPASS_IRQ_SET_TRIGGER = 1 << 3,
	PCIPASS_IRQ_SET_MASK = 1 << 4,
	PCIPASS_IRQ_SET_UNMASK = 1 << 5,
	PCIPASS_IRQ_SET_UNMASK_EVENTFD = 1 << 6,
};

/**
 * struct pcipass_irq_set - ioctl(PCIPASS_DEVICE_SET_IRQS) on a device
 * @size: sizeof(struct pcipass_irq_set)
 * @flags: exactly one &enum pcipass_irq_set_action
 * @type: &enum pcipass_irq_type
 * @start: first vector
 * @count: number of vectors
 * @__reserved: must be 0
 * @data: user pointer to the eventfd array of %PCIPASS_IRQ_SET_EVENTFD and
 *	%PCIPASS_IRQ_SET_UNMASK_EVENTFD, else 0
 *
 * A failed call changes nothing.
 *
 * %PCIPASS_IRQ_REQ has one vector, independent of the INTx, MSI or MSI-X
 * vectors enabled: it needs no %PCIPASS_IRQ_SET_ENABLE and takes only
 * %PCIPASS_IRQ_SET_EVENTFD (@start 0, @count 1; -1 removes the eventfd),
 * %PCIPASS_IRQ_SET_DISABLE (@start and @count 0: removes the eventfd) and
 * %PCIPASS_IRQ_SET_TRIGGER (@start 0, @count 1: signals it now, a
 * loopback); any other action on it fails with ``EINVAL``.
 * %PCIPASS_IRQ_ERR takes the same actions with the same rules (``ENODEV``
 * on a device without PCI Express, which has no vector of it).
 *
 * Return: 0 or an errno: ``EINVAL`` not exactly one action, an unknown
 * @type, a vector range outside the device's (or, once enabled, outside the
 * enabled vectors), a type that is not enabled, @data given where it is not
 * used, a file descriptor that is not an eventfd (``EBADF`` when it is not
 * a file descriptor at all); ``EBUSY`` a type (this one included) is
 * already enabled, or the INTx line is taken by a device that cannot share
 * it; ``EPERM`` MSI or MSI-X without isolation (see above) or without an
 * IOMMU; ``ENODEV`` the device was detached or has no vector of @type;
 * ``ENOSPC`` the platform has no interrupt vectors left.
 */
struct pcipass_irq_set {
	__u32 size;
	__u32 flags;
	__u32 type;
	__u32 start;
	__u32 count;
	__u32 __reserved;
	__aligned_u64 data;
};

#define PCIPASS_DEVICE_SET_IRQS _IO(PCIPASS_TYPE, PCIPASS_CMD_DEVICE_SET_IRQS)

/**
 * DOC: Release requests
 *
 * A device attached to a context can be taken away by the host: the admin
 * unbinds it from pcipass, removes it (``/sys/bus/pci/devices/.../remove``)
 * or unplugs it. pcipass then asks the VMM to give the device back, and
 * waits for it a bounded time before it takes the device by force:
 *
 *  1. It signals the eventfd the VMM set for %PCIPASS_IRQ_REQ, if any.
 *  2. It waits until the VMM *releases* the device: closes the device file
 *     (every descriptor of it), detaches it with PCIPASS_DEVICE_DETACH, or
 *     closes the context. The wait lasts at most the module parameter
 *     ``release_timeout_ms`` (default 10000, at most 60000; 0 takes the
 *     device at once), and ends early when the process removing the device
 *     gets a fatal signal or the host shuts down. A device that is already
 *     gone (a surprise removal) is not waited for. A hot-unplug by the
 *     slot's attention button (native PCIe hotplug) is asked for when the
 *     button is pressed, and the wait ends at the latest when the slot
 *     removes the device 5 s later: the VMM has the lesser of the two.
 *  3. It revokes the attachment, released or not: BAR mappings are removed
 *     (an access then raises SIGBUS), interrupts freed, the device reset,
 *     quiesced and taken out of the context's IOMMU domain. The context's
 *     DMA mappings stay. The device file's ioctls then fail with
 *     ``ENODEV``. A revoke the VMM did not ask for is logged once, naming
 *     the device and the context's process.
 *
 * While pcipass waits, the device keeps working for the VMM (BARs,
 * interrupts, DMA, config space), so that the guest can finish with it,
 * except that it cannot be reset: a function level reset requested in
 * config space fails with ``ENODEV``, and PCIPASS_DEVICE_RESET waits for
 * the end of the wait (then fails with ``ENODEV``). A VMM should answer the
 * request by unplugging the device from its guest, then closing the device
 * file.
 */

/**
 * DOC: Error reports
 *
 * A PCI Express device reports errors through AER (Advanced Error
 * Reporting) to its root port, and the host's PCI core recovers from them.
 * pcipass takes part in that recovery for an attached device and tells
 * its VMM:
 *
 *  - A *correctable* error (the hardware corrected it) is counted in
 *    &struct pcipass_device_err_info.correctable (best effort: not one
 *    reported while an attach, detach or removal holds the device). The
 *    eventfd is not signalled: nothing was lost.
 *  - An *uncorrectable non-fatal* error (a transaction was lost, the link
 *    works) signals the %PCIPASS_IRQ_ERR eventfd when the PCI core reports
 *    it, with &struct pcipass_device_err_info.result
 *    %PCIPASS_ERR_RESULT_RECOVERING. pcipass lets the device go on without
 *    a reset; when the recovery ends the eventfd is signalled again and the
 *    result is %PCIPASS_ERR_RESULT_RECOVERED.
 *  - An *uncorrectable fatal* error (the link is unreliable: the *channel*
 *    is *frozen*) is reported the same way, but the PCI core resets the
 *    link (a secondary bus or hotplug slot reset of the device's port),
 *    which resets the device: pcipass restores the config space the
 *    device had when it was attached (BARs, command register) and the
 *    result is %PCIPASS_ERR_RESULT_RESET. Whatever the guest had
 *    programmed into the device is lost; its MSI and MSI-X vectors stay
 *    as they were enabled.
 *  - A device the PCI core gives up on (the channel is in *permanent
 *    failure*, or the device was disconnected) has the result
 *    %PCIPASS_ERR_RESULT_DISCONNECTED: it will not work again; the VMM
 *    should release it. When a recovery fails the PCI core tells no
 *    driver: the result then stays %PCIPASS_ERR_RESULT_RECOVERING.
 *
 * Each signal of the eventfd says "read PCIPASS_DEVICE_ERR_INFO": the
 * eventfd's counter may add up several signals. While the result is
 * %PCIPASS_ERR_RESULT_RECOVERING another signal follows when the recovery
 * ends (unless it fails). The counts are those of the current attachment:
 * they start at zero when the device is attached. Errors are reported
 * only by a kernel with AER (``CONFIG_PCIEAER``) that controls AER
 * natively (firmware granted it), and only for devices and ports with the
 * AER capability.
 *
 * The callbacks by which the PCI core reports errors never wait for the
 * VMM: a VMM that does not read the eventfd delays nothing.
 */

/**
 * enum pcipass_err_channel - the state of a device's link, as the PCI
 *	core's last error report gave it
 * @PCIPASS_ERR_CHANNEL_NONE: no uncorrectable error was reported
 * @PCIPASS_ERR_CHANNEL_NORMAL: a non-fatal error: the link works
 * @PCIPASS_ERR_CHANNEL_FROZEN: a fatal error: the link was reset
 * @PCIPASS_ERR_CHANNEL_PERM_FAILURE: the device cannot be recovered
 */
enum pcipass_err_channel {
	PCIPASS_ERR_CHANNEL_NONE = 0,
	PCIPASS_ERR_CHANNEL_NORMAL = 1,
	PCIPASS_ERR_CHANNEL_FROZEN = 2,
	PCIPASS_ERR_CHANNEL_PERM_FAILURE = 3,
};

/**
 * enum pcipass_err_result - what the recovery from the last uncorrectable
 *	error did
 * @PCIPASS_ERR_RESULT_NONE: no uncorrectable error was reported
 * @PCIPASS_ERR_RESULT_RECOVERING: the recovery has not ended (or failed:
 *	the PCI core does not tell)
 * @PCIPASS_ERR_RESULT_RECOVERED: the device recovered without a reset:
 *	its state is as the guest left it, less the transaction lost
 * @PCIPASS_ERR_RESULT_RESET: the device recovered after a reset of its
 *	link: its config space is as it was at attach, its internal state
 *	was reset
 * @PCIPASS_ERR_RESULT_DISCONNECTED: the device is lost
 */
enum pcipass_err_result {
	PCIPASS_ERR_RESULT_NONE = 0,
	PCIPASS_ERR_RESULT_RECOVERING = 1,
	PCIPASS_ERR_RESULT_RECOVERED = 2,
	PCIPASS_ERR_RESULT_RESET = 3,
	PCIPASS_ERR_RESULT_DISCONNECTED = 4,
};

/**
 * struct pcipass_device_err_info - ioctl(PCIPASS_DEVICE_ERR_INFO) on a
 *	device file
 * @size: sizeof(struct pcipass_device_err_info)
 * @flags: must be 0
 * @correctable: output: correctable errors reported since attach
 * @nonfatal: output: uncorrectable non-fatal errors reported since attach
 * @fatal: output: uncorrectable fatal errors reported since attach
 * @resets: output: resets of the device by the recoveries since attach
 * @recoveries: output: recoveries that ended, the device working again
 * @channel: output: &enum pcipass_err_channel of the last uncorrectable
 *	error (%PCIPASS_ERR_CHANNEL_PERM_FAILURE once the device is
 *	disconnected)
 * @result: output: &enum pcipass_err_result of the last uncorrectable error
 * @__reserved: output: 0
 *
 * The counts wrap around at 2^32. See "Error reports".
 *
 * Return: 0 or an errno: ``ENODEV`` the device was detached.
 */
struct pcipass_device_err_info {
	__u32 size;
	__u32 flags;
	__u32 correctable;
	__u32 nonfatal;
	__u32 fatal;
	__u32 resets;
	__u32 recoveries;
	__u32 channel;
	__u32 result;
	__u32 __reserved;
};

#define PCIPASS_DEVICE_ERR_INFO \
	_IO(PCIPASS_TYPE, PCIPASS_CMD_DEVICE_ERR_INFO)

/**
 * DOC: Regions
 *
 * A device file gives access to the device's regions with pread(),
 * pwrite() and mmap() at the offset %PCIPASS_REGION_OFFSET of the region's
 * index (&enum pcipass_region_index): the six BARs, the expansion ROM
 * (read only) and the configuration space.
 *
 * BARs: memory BARs of at least a page can be mmapped (uncached). Every
 * BAR can be read and written with pread() and pwrite() of any length at
 * any offset inside it: the transfer is split into naturally aligned
 * accesses of 8 bytes (memory BARs only), 4, 2 and 1 byte, and cut short
 * at the end of the BAR. While the device is not decoding a BAR (memory or
 * I/O decoding off in its command register), pread() and pwrite() of it
 * fail with ``EIO``. While the device's memory decoding is off, or the
 * device is being reset, its mappings are removed and a fault on them
 * raises SIGBUS; they come back on the next access once the device is
 * usable again. Without MSI isolation the MSI-X table and PBA are
 * protected (``EPERM``): a pwrite() that touches them, and an mmap() that
 * touches a page holding part of them, are refused; the VMM programs
 * interrupts with PCIPASS_DEVICE_SET_IRQS.
 *
 * Config space: accesses of any length and alignment over 256 bytes (or
 * 4096 for PCI Express), split into naturally aligned accesses of 4, 2 and
 * 1 bytes, each handled as if made alone; see
 * Documentation/userspace-api/pcipass.rst for what is passed to the device,
 * what is virtual and what is read only. An access that starts at or runs
 * past the end fails with ``EINVAL``.
 */

/**
 * enum pcipass_region_index - regions of a device file
 * @PCIPASS_REGION_BAR0: BAR 0; BAR n is %PCIPASS_REGION_BAR0 + n
 * @PCIPASS_REGION_ROM: the expansion ROM, read only
 * @PCIPASS_REGION_CONFIG: the configuration space
 * @PCIPASS_NUM_REGIONS: number of regions
 */
enum pcipass_region_index {
	PCIPASS_REGION_BAR0 = 0,
	PCIPASS_REGION_ROM = 6,
	PCIPASS_REGION_CONFIG = 7,
	PCIPASS_NUM_REGIONS = 8,
};

/* The file offset of region @index of a device file. */
#define PCIPASS_REGION_SHIFT		40
#define PCIPASS_REGION_OFFSET(index)	((__u64)(index) << PCIPASS_REGION_SHIFT)

/**
 * enum pcipass_region_flags - properties of a region
 * @PCIPASS_REGION_READ: pread() works
 * @PCIPASS_REGION_WRITE: pwrite() works
 * @PCIPASS_REGION_MMAP: mmap() works
 * @PCIPASS_REGION_IO: an I/O port BAR
 * @PCIPASS_REGION_MEM64: a 64-bit memory BAR (the next BAR is its upper
 *	half and reports size 0)
 * @PCIPASS_REGION_PREFETCH: a prefetchable memory BAR
 */
enum pcipass_region_flags {
	PCIPASS_REGION_READ = 1 << 0,
	PCIPASS_REGION_WRITE = 1 << 1,
	PCIPASS_REGION_MMAP = 1 << 2,
	PCIPASS_REGION_IO = 1 << 3,
	PCIPASS_REGION_MEM64 = 1 << 4,
	PCIPASS_REGION_PREFETCH = 1 << 5,
};

/**
 * struct pcipass_region_info - ioctl(PCIPASS_DEVICE_GET_REGION_INFO)
 * @size: sizeof(struct pcipass_region_info)
 * @flags: must be 0
 * @index: &enum pcipass_region_index to describe
 * @region_flags: output: &enum pcipass_region_flags; 0 for a region the
 *	device does not have
 * @region_size: output: bytes; 0 for a region the device does not have
 * @offset: output: file offset of the region in the device file
 *
 * Return: 0 or an errno: ``EINVAL`` unknown @index; ``ENODEV`` the device
 * was detached.
 */
struct pcipass_region_info {
	__u32 size;
	__u32 flags;
	__u32 index;
	__u32 region_flags;
	__aligned_u64 region_size;
	__aligned_u64 offset;
};

#define PCIPASS_DEVICE_GET_REGION_INFO \
	_IO(PCIPASS_TYPE, PCIPASS_CMD_DEVICE_GET_REGION_INFO)

/**
 * struct pcipass_device_reset - ioctl(PCIPASS_DEVICE_RESET) on a device
 * @size: sizeof(struct pcipass_device_reset)
 * @flags: must be 0
 *
 * Resets the function with the first reset method the device has (function
 * level reset, power management, bus reset...), saving and restoring its
 * config space around it. BAR mappings are removed during the reset and
 * come back on the next access. Interrupts stay configured.
 *
 * The call waits for the device's lock while another reset or a config
 * write is in progress; it does not fail because the device is busy.
 *
 * Return: 0 or an errno: ``EOPNOTSUPP`` the device cannot be reset alone
 * (%PCIPASS_DEVICE_RESET_AVAILABLE is clear: no reset method, or only a
 * bus reset on a bus shared with other devices; PCIPASS_DEVICE_HOT_RESET
 * may still reset it with them); ``ENODEV`` the device was detached, or
 * is being removed: after a release request (%PCIPASS_IRQ_REQ) the device
 * is not reset for the VMM, and the call does not wait for the removal;
 * other errnos of the PCI core's reset (``ENOTTY`` when every reset method
 * declined although the attach's reset had worked, as when a device was
 * added to the bus since; ``EIO``...).
 */
struct pcipass_device_reset {
	__u32 size;
	__u32 flags;
};

#define PCIPASS_DEVICE_RESET _IO(PCIPASS_TYPE, PCIPASS_CMD_DEVICE_RESET)

/**
 * DOC: Hot reset
 *
 * A device that cannot be reset alone (a GPU whose only reset is a bus
 * reset, on a bus it shares with its HDMI audio function) can be reset
 * together with every other device of its slot or bus: a *hot reset*,
 * vfio-pci's VFIO_DEVICE_PCI_HOT_RESET. The reset is a hotplug slot reset
 * when the device's slot has one, else a secondary bus reset of the
 * upstream bridge; it resets every function on the bus (or in the slot)
 * and everything below them.
 *
 * PCIPASS_DEVICE_HOT_RESET_INFO lists the devices the reset affects;
 * PCIPASS_DEVICE_HOT_RESET does it only when every one of them is attached
 * to the calling context or, bound to pcipass, in an IOMMU group the
 * context owns (one of its devices attached it: no other context can have
 * its devices), so
 * that no other user's device is touched. The
 * config space of every affected device is saved before and restored
 * after, as for PCIPASS_DEVICE_RESET; BAR mappings of the attached
 * devices are removed during the reset and come back on the next access.
 */

/**
 * enum pcipass_hot_reset_dev_flags - &struct pcipass_hot_reset_dev.dev_flags
 * @PCIPASS_HOT_RESET_DEV_ATTACHED: the device is attached to this context
 * @PCIPASS_HOT_RESET_DEV_GROUP_OWNED: the device is not attached, but bound
 *	to pcipass and its IOMMU group is this context's: a hot reset may
 *	reset it (a function
 *	of a multi-function device the VMM does not give its guest)
 */
enum pcipass_hot_reset_dev_flags {
	PCIPASS_HOT_RESET_DEV_ATTACHED = 1 << 0,
	PCIPASS_HOT_RESET_DEV_GROUP_OWNED = 1 << 1,
};

/**
 * struct pcipass_hot_reset_dev - one device a hot reset affects
 * @addr: its PCI address
 * @vendor: its PCI vendor ID
 * @device: its PCI device ID
 * @dev_flags: &enum pcipass_hot_reset_dev_flags
 */
struct pcipass_hot_reset_dev {
	struct pcipass_pci_addr addr;
	__u16 vendor;
	__u16 device;
	__u32 dev_flags;
};

/**
 * enum pcipass_hot_reset_info_flags - &struct
 *	pcipass_device_hot_reset_info.info_flags
 * @PCIPASS_HOT_RESET_SLOT: the reset is a hotplug slot reset; otherwise a
 *	secondary bus reset of the upstream bridge
 * @PCIPASS_HOT_RESET_ALL_ATTACHED: every listed device is attached to this
 *	context
 * @PCIPASS_HOT_RESET_ALLOWED: every listed device is attached to this
 *	context or %PCIPASS_HOT_RESET_DEV_GROUP_OWNED: PCIPASS_DEVICE_HOT_RESET would
 *	go ahead (at the time of the answer)
 */
enum pcipass_hot_reset_info_flags {
	PCIPASS_HOT_RESET_SLOT = 1 << 0,
	PCIPASS_HOT_RESET_ALL_ATTACHED = 1 << 1,
	PCIPASS_HOT_RESET_ALLOWED = 1 << 2,
};

/**
 * struct pcipass_device_hot_reset_info - ioctl(PCIPASS_DEVICE_HOT_RESET_INFO)
 *	on a device
 * @size: sizeof(struct pcipass_device_hot_reset_info)
 * @flags: must be 0
 * @num_devices: input: the number of entries @devices has room for;
 *	output: the number of devices the reset affects, this one included
 * @info_flags: output: &enum pcipass_hot_reset_info_flags
 * @devices: user pointer to an array of &struct pcipass_hot_reset_dev,
 *	in the PCI core's order of the bus
 *
 * Return: 0 or an errno: ``EOPNOTSUPP`` the device's slot and bus cannot
 * be reset (%PCIPASS_DEVICE_HOT_RESET_AVAILABLE is clear: a device on a
 * root bus, a bridge that forbids it...); ``EMSGSIZE`` @num_devices is too
 * small (it is updated to the number needed, with @info_flags, and nothing
 * else is written); ``EAGAIN`` the bus changed while it was read (a device
 * was added); ``ENODEV`` the device was detached.
 */
struct pcipass_device_hot_reset_info {
	__u32 size;
	__u32 flags;
	__u32 num_devices;
	__u32 info_flags;
	__aligned_u64 devices;
};

#define PCIPASS_DEVICE_HOT_RESET_INFO \
	_IO(PCIPASS_TYPE, PCIPASS_CMD_DEVICE_HOT_RESET_INFO)

/**
 * struct pcipass_device_hot_reset - ioctl(PCIPASS_DEVICE_HOT_RESET) on a
 *	device
 * @size: sizeof(struct pcipass_device_hot_reset)
 * @flags: must be 0
 *
 * Resets the device's slot or bus, and with it every device that
 * PCIPASS_DEVICE_HOT_RESET_INFO lists. Refused, with nothing changed,
 * unless every one of them is attached to the context the device file
 * belongs to or, bound to pcipass, in an IOMMU group that context owns
 * (%PCIPASS_HOT_RESET_ALLOWED).
 *
 * Return: 0 or an errno: ``EOPNOTSUPP`` no slot or bus reset (as for
 * PCIPASS_DEVICE_HOT_RESET_INFO); ``EBUSY`` a device the reset affects is
 * neither attached to this context nor in a group it owns (bound to
 * another driver, to no driver, or attached to another context, in a group
 * of its own; the kernel log names it); ``EAGAIN``
 * another user of the PCI core held an affected device or the bridge
 * (a sysfs reset, a removal in progress): try again; ``ENODEV`` the
 * device was detached; other errnos of the PCI core's reset.
 */
struct pcipass_device_hot_reset {
	__u32 size;
	__u32 flags;
};

#define PCIPASS_DEVICE_HOT_RESET \
	_IO(PCIPASS_TYPE, PCIPASS_CMD_DEVICE_HOT_RESET)

#endif /* _UAPI_LINUX_PCIPASS_H */

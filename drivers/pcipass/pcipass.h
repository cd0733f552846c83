/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcipass internal interfaces: the types shared between the files of the
 * driver, which lock protects which field, and the cross-file prototypes.
 *
 * Lock order (outermost first):
 *   pcipass_ctx.lock -> pcipass_pci.lock
 */
#ifndef _PCIPASS_H
#define _PCIPASS_H

#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/types.h>

/**
 * struct pcipass_ctx - one open file of /dev/pcipass
 * @lock: serializes every ioctl of the context and protects the fields below
 * @mode: &enum pcipass_ctx_mode, decided by the first attach (@lock)
 * @num_devices: number of devices attached to this context (@lock)
 */
struct pcipass_ctx {
	struct mutex lock; /* see @lock above */
	u32 mode;
	u32 num_devices;
};

/**
 * struct pcipass_pci - a PCI device bound to the pcipass driver
 * @pdev: the device
 * @lock: protects the fields below against concurrent attach and remove
 * @saved_decode: PCI_COMMAND I/O and memory decode bits found at probe,
 *	given back at remove (@lock)
 */
struct pcipass_pci {
	struct pci_dev *pdev;
	struct mutex lock; /* see @lock above */
	u16 saved_decode;
};

/* driver.c: the PCI driver */
int pcipass_parse_id(const char *str, struct pci_device_id *id);
int pcipass_driver_register(const char *ids);
void pcipass_driver_unregister(void);

/* dma.c: the IOMMU side */
u64 pcipass_host_iommu_caps(void);

#endif /* _PCIPASS_H */

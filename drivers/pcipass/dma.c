// SPDX-License-Identifier: GPL-2.0
/*
 * The IOMMU side of pcipass: what the host's IOMMUs offer, the DMA
 * ownership of IOMMU groups, the context's paging domain, and the pinning
 * and mapping of user memory into it.
 */

#include <linux/iommu.h>
#include <linux/pci.h>
#include <linux/pcipass.h>

#include "pcipass.h"

/**
 * pcipass_host_iommu_caps() - what the host's IOMMUs offer PCI devices
 *
 * %PCIPASS_HOST_IOMMU when at least one PCI device is translated by an
 * IOMMU, and %PCIPASS_HOST_ISOLATED_MSI when in addition the group of every
 * such device isolates MSI writes.
 *
 * Return: a mask of &enum pcipass_host_caps.
 */
u64 pcipass_host_iommu_caps(void)
{
	struct pci_dev *pdev = NULL;
	bool any_iommu = false;
	bool all_isolated = true;

	for_each_pci_dev(pdev) {
		struct iommu_group *group = iommu_group_get(&pdev->dev);

		if (!group)
			continue;
		any_iommu = true;
		if (!iommu_group_has_isolated_msi(group))
			all_isolated = false;
		iommu_group_put(group);
	}

	if (!any_iommu)
		return 0;
	return PCIPASS_HOST_IOMMU |
	       (all_isolated ? PCIPASS_HOST_ISOLATED_MSI : 0);
}

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
#include <linux/types.h>

#define PP_SYSFS_PCI	"/sys/bus/pci/devices"
#define PP_DEV_NODE	"/dev/pcipass"

/* The devices of the test VMs (see tests/vm/), overridable by environment. */
const char *pp_env(const char *name, const char *fallback);
#define pp_edu_addr()		pp_env("PCIPASS_EDU", "0000:00:03.0")
#define pp_nvme_addr()		pp_env("PCIPASS_NVME", "0000:00:04.0")
#define pp_serial_addr()	pp_env("PCIPASS_SERIAL", "0000:00:05.0")
#define pp_bridge_addr()	pp_env("PCIPASS_BRIDGE", "0000:00:06.0")

/* 1 in the IOMMU VM, 0 in the no-IOMMU VM, -1 outside the test VMs. */
int pp_vm_has_iommu(void);

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
/* Poll up to @timeout_ms until @addr is bound to @drv ("" for none). */
bool pp_wait_driver(const char *addr, const char *drv, int timeout_ms);
bool pp_wait_path(const char *path, bool present, int timeout_ms);

/* Run a shell command, return its exit status (or -1). */
int pp_run(const char *fmt, ...);
bool pp_module_loaded(void);
/* Unload pcipass if loaded, then load it with @params ("" for none). */
int pp_module_reload(const char *params);
/* Make sure pcipass is loaded (with ids= for edu when it was not). */
int pp_module_ensure(void);

/* Kernel log: open at the current end, then search what arrives. */
int pp_kmsg_open(void);
bool pp_kmsg_find(int fd, const char *needle);

#endif /* PCIPASS_UTIL_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * pcipass-tool check: is this host ready for pcipass. One PASS/WARN/FAIL
 * line per check (CPU virtualization, IOMMU, interrupt remapping, the
 * module and its parameters, /dev/pcipass, RLIMIT_MEMLOCK), each with a
 * hint. Sources are sysfs and procfs, and the PCIPASS_GET_INFO ioctl when
 * /dev/pcipass can be opened: that one is authoritative.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/pcipass.h>

#include "pcipass-tool.h"

#define MEMLOCK_MIN	(64ULL << 20)
#define CAP_IPC_LOCK	14
#define ECAP_IR		0x8ULL	/* bit 3 of the Intel IOMMU's ecap */

/* The fix hints: split only after ';', so each part can still be grepped. */
static const char hint_cpu[] =
	"enable VT-x/AMD-V in the firmware setup;"
	" else the VMM runs guests with TCG, slowly";
static const char hint_cpu_vm[] =
	"this host is a VM: expose VT-x/AMD-V to it (nested virtualization);"
	" else the VMM runs guests with TCG, slowly";
static const char hint_iommu_off[] =
	"the IOMMU is there but off: boot with intel_iommu=on (Intel);"
	" on AMD, drop amd_iommu=off and iommu=off";
static const char hint_no_iommu[] =
	"enable VT-d (Intel) or AMD-Vi (AMD) in the firmware setup;"
	" boot with intel_iommu=on or amd_iommu=on;"
	" a QEMU guest needs -device intel-iommu or virtio-iommu";
static const char hint_ir[] =
	"enable interrupt remapping in the firmware (VT-d, AMD-Vi);"
	" do not boot with intremap=off;"
	" a QEMU guest needs -machine q35,kernel-irqchip=split;"
	" -device intel-iommu,intremap=on";
static const char hint_params[] =
	"unsafe: set allow_noiommu=0 and allow_unsafe_interrupts=0;"
	" unless every guest is trusted";
static const char hint_node_access[] =
	"the VMM's user needs read-write access: run it as root;"
	" or add a udev rule: KERNEL==\"pcipass\", GROUP=\"kvm\", MODE=\"0660\"";
static const char hint_memlock[] =
	"the VMM pins all guest memory: raise its user's limit;"
	" ulimit -l, memlock in /etc/security/limits.conf;"
	" LimitMEMLOCK= in a systemd unit, or give it CAP_IPC_LOCK";

enum { PASS, WARN, FAIL };

static const char * const status_name[] = { "PASS", "WARN", "FAIL" };

struct check {
	const char *name;
	int status;
	char detail[512];
	char hint[512];
};

/* What /dev/pcipass told us. */
struct node {
	bool present, chardev, opened;
	int open_err;
	struct stat st;
	bool api_ok;
	unsigned int api;
	bool info_ok;
	unsigned long long host_caps;
};

bool module_loaded(void)
{
	char path[512];

	fmt_path(path, sizeof(path), "%s/module/%s", sysfs_root(),
		 PCIPASS_DRIVER);
	return path_exists(path);
}

[[gnu::format(printf, 4, 5)]]
static void set(struct check *c, int status, const char *hint,
		const char *fmt, ...);

static void set(struct check *c, int status, const char *hint,
		const char *fmt, ...)
{
	va_list ap;

	c->status = status;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	snprintf(c->hint, sizeof(c->hint), "%s", hint ? hint : "");
}

[[gnu::format(printf, 3, 4)]]
static void append(char *buf, size_t len, const char *fmt, ...);

static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t off = strlen(buf);
	va_list ap;

	if (off >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + off, len - off, fmt, ap);
	va_end(ap);
}

static void check_cpu(struct check *c)
{
	char path[512], *line = NULL, *tok, *save;
	bool vmx = false, svm = false, hv = false, seen = false;
	size_t cap = 0;
	FILE *f;

	c->name = "cpu-virt";
	fmt_path(path, sizeof(path), "%s/cpuinfo", procfs_root());
	f = fopen(path, "re");
	if (!f) {
		set(c, WARN, "mount procfs on /proc",
		    "cannot read %s: %s", path, strerror(errno));
		return;
	}
	while (!seen && getline(&line, &cap, f) > 0) {
		if (strncmp(line, "flags", 5))
			continue;
		seen = true;
		for (tok = strtok_r(strchr(line, ':') ? strchr(line, ':') + 1 :
				    line, " \t\n", &save);
		     tok; tok = strtok_r(NULL, " \t\n", &save)) {
			vmx |= !strcmp(tok, "vmx");
			svm |= !strcmp(tok, "svm");
			hv |= !strcmp(tok, "hypervisor");
		}
	}
	free(line);
	fclose(f);
	if (vmx || svm)
		set(c, PASS, NULL, "%s%s", vmx ? "vmx (Intel VT-x)" :
		    "svm (AMD-V)", hv ? ", nested under a hypervisor" : "");
	else
		set(c, WARN, hv ? hint_cpu_vm : hint_cpu,
		    "no vmx or svm flag in %s", path);
}

static const char *iommu_kind(const char *name)
{
	if (!strncmp(name, "dmar", 4))
		return "Intel VT-d";
	if (!strncmp(name, "ivhd", 4))
		return "AMD-Vi";
	if (strstr(name, "virtio"))
		return "virtio-iommu";
	return NULL;
}

/* The names in a directory, ", "-separated; returns how many. */
static int list_dir(const char *path, char *buf, size_t len, bool annotate)
{
	struct dirent *de;
	int n = 0;
	DIR *d;

	buf[0] = '\0';
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		append(buf, len, "%s%s", n ? ", " : "", de->d_name);
		if (annotate && iommu_kind(de->d_name))
			append(buf, len, " (%s)", iommu_kind(de->d_name));
		n++;
	}
	closedir(d);
	return n;
}

static void check_iommu(struct check *c, const struct node *nd)
{
	char units[256], path[512], type[64] = "";
	const char *root = sysfs_root();
	int nunits, ngroups;
	struct dirent *de;
	DIR *d;

	c->name = "iommu";
	fmt_path(path, sizeof(path), "%s/class/iommu", root);
	nunits = list_dir(path, units, sizeof(units), true);
	ngroups = 0;
	fmt_path(path, sizeof(path), "%s/kernel/iommu_groups", root);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (!ngroups++) {
			char tpath[600];

			fmt_path(tpath, sizeof(tpath), "%s/%s/type", path,
				 de->d_name);
			if (read_text(tpath, type, sizeof(type)))
				type[0] = '\0';
		}
	}
	if (d)
		closedir(d);

	if (ngroups) {
		set(c, PASS, NULL, "%s%s%d IOMMU group%s%s%s%s", units,
		    nunits ? "; " : "", ngroups, ngroups == 1 ? "" : "s",
		    type[0] ? " (default domain " : "", type,
		    type[0] ? ")" : "");
	} else if (nunits) {
		set(c, FAIL, hint_iommu_off,
		    "%s present, but there are no IOMMU groups in %s", units,
		    path);
	} else {
		set(c, FAIL, hint_no_iommu,
		    "no IOMMU: %s/class/iommu is empty, and no IOMMU groups",
		    root);
	}
	if (nd->info_ok && !(nd->host_caps & PCIPASS_HOST_IOMMU) &&
	    c->status == PASS) {
		set(c, FAIL, hint_no_iommu,
		    "%s; but pcipass says no IOMMU translates PCI devices",
		    c->detail);
	}
}

/* The IR bit of the extended capabilities of Intel IOMMUs: who has it. */
static int intel_ir_capable(char *units, size_t len)
{
	char path[512], ecap_path[768], val[64];
	struct dirent *de;
	int n = 0;
	DIR *d;

	units[0] = '\0';
	fmt_path(path, sizeof(path), "%s/class/iommu", sysfs_root());
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "dmar", 4))
			continue;
		fmt_path(ecap_path, sizeof(ecap_path),
			 "%s/%s/intel-iommu/ecap", path, de->d_name);
		if (read_text(ecap_path, val, sizeof(val)))
			continue;
		if (strtoull(val, NULL, 16) & ECAP_IR) {
			append(units, len, "%s%s", n ? ", " : "", de->d_name);
			n++;
		}
	}
	if (d)
		closedir(d);
	return n;
}

/* Interrupt chips named IR-* (IR-PCI-MSI, IR-IO-APIC) remap interrupts. */
static bool ir_in_use(void)
{
	char path[512], *line = NULL;
	bool found = false;
	size_t cap = 0;
	FILE *f;

	fmt_path(path, sizeof(path), "%s/interrupts", procfs_root());
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0)
		found = strstr(line, " IR-") || strstr(line, "\tIR-") ||
			strstr(line, "AMD-IR");
	free(line);
	fclose(f);
	return found;
}

static void check_ir(struct check *c, const struct node *nd)
{
	bool unsafe_ok = module_param_set("allow_unsafe_interrupts");
	char units[256];
	int capable;

	c->name = "interrupt-remapping";
	if (nd->info_ok) {
		if (nd->host_caps & PCIPASS_HOST_ISOLATED_MSI)
			set(c, PASS, NULL,
			    "MSI writes are isolated (pcipass PCIPASS_GET_INFO)");
		else
			set(c, FAIL, hint_ir,
			    "pcipass says MSI writes are not isolated%s",
			    unsafe_ok ? " (allow_unsafe_interrupts=1 allows it anyway)" : "");
		return;
	}
	capable = intel_ir_capable(units, sizeof(units));
	if (ir_in_use())
		set(c, PASS, NULL, "in use (IR-* chips in %s/interrupts)%s%s",
		    procfs_root(), capable ? "; supported by " : "", units);
	else if (capable)
		set(c, FAIL, hint_ir,
		    "%s support%s interrupt remapping (ecap IR), but it is off",
		    units, capable == 1 ? "s" : "");
	else
		set(c, FAIL, hint_ir,
		    "none: no IOMMU offers it, no IR-* chip in %s/interrupts",
		    procfs_root());
}

/* The devices bound to the driver whose sysfs directory is @path. */
static int bound_devices(const char *path, char *names, size_t len)
{
	char addr[ADDR_LEN];
	struct dirent *de;
	int n = 0;
	DIR *d;

	names[0] = '\0';
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (pci_parse_addr(de->d_name, addr, sizeof(addr)))
			continue;
		append(names, len, "%s%s", n ? ", " : "", de->d_name);
		n++;
	}
	if (d)
		closedir(d);
	return n;
}

static void check_module(struct check *c)
{
	char path[512], names[1024];
	int bound;

	c->name = "module";
	if (!module_loaded()) {
		set(c, FAIL, "modprobe pcipass",
		    "pcipass is not loaded (no %s/module/pcipass)",
		    sysfs_root());
		return;
	}
	fmt_path(path, sizeof(path), "%s/bus/pci/drivers/%s", sysfs_root(),
		 PCIPASS_DRIVER);
	if (!path_exists(path)) {
		set(c, FAIL, "reload it: modprobe -r pcipass; modprobe pcipass",
		    "pcipass is loaded but its PCI driver is not registered (no %s)",
		    path);
		return;
	}
	bound = bound_devices(path, names, sizeof(names));
	set(c, PASS, NULL, "pcipass is loaded; %d device%s bound%s%s",
	    bound, bound == 1 ? "" : "s", bound ? ": " : "", names);
}

static void check_params(struct check *c)
{
	char path[512], file[768], val[256], buf[512] = "";
	bool noiommu = module_param_set("allow_noiommu");
	bool unsafe = module_param_set("allow_unsafe_interrupts");
	struct dirent *de;
	int n = 0;
	DIR *d;

	c->name = "module-params";
	fmt_path(path, sizeof(path), "%s/module/%s/parameters", sysfs_root(),
		 PCIPASS_DRIVER);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		fmt_path(file, sizeof(file), "%s/%s", path, de->d_name);
		if (read_text(file, val, sizeof(val)))
			snprintf(val, sizeof(val), "?");
		append(buf, sizeof(buf), "%s%s=%s", n++ ? " " : "",
		       de->d_name, val);
	}
	if (d)
		closedir(d);
	if (noiommu || unsafe)
		set(c, WARN, hint_params, "%s%s%s", buf,
		    noiommu ? "; devices may be attached without an IOMMU" : "",
		    unsafe ? "; MSI is allowed without isolation" : "");
	else
		set(c, PASS, NULL, "%s", n ? buf : "no parameters");
}

static void probe_node(struct node *nd)
{
	struct pcipass_api_version ver = { .size = sizeof(ver) };
	struct pcipass_info info = { .size = sizeof(info) };
	int fd;

	memset(nd, 0, sizeof(*nd));
	if (stat(dev_node(), &nd->st))
		return;
	nd->present = true;
	nd->chardev = S_ISCHR(nd->st.st_mode);
	if (!nd->chardev)
		return;
	fd = open(dev_node(), O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		nd->open_err = errno;
		return;
	}
	nd->opened = true;
	if (!ioctl(fd, PCIPASS_GET_API_VERSION, &ver)) {
		nd->api_ok = true;
		nd->api = ver.version;
	}
	if (!ioctl(fd, PCIPASS_GET_INFO, &info)) {
		nd->info_ok = true;
		nd->host_caps = info.host_caps;
	}
	close(fd);
}

static void check_node(struct check *c, const struct node *nd)
{
	char mode[11] = "c---------", owner[64], group[64], desc[256];
	static const char rwx[] = "rwxrwxrwx";
	int i;

	c->name = "device-node";
	if (!nd->present) {
		set(c, FAIL, module_loaded() ?
		    "mount devtmpfs on /dev (mount -t devtmpfs none /dev)" :
		    "modprobe pcipass (devtmpfs then creates the node)",
		    "%s does not exist", dev_node());
		return;
	}
	if (!nd->chardev) {
		set(c, FAIL, "remove it and reload pcipass",
		    "%s is not a character device", dev_node());
		return;
	}
	for (i = 0; i < 9; i++)
		if (nd->st.st_mode & (0400 >> i))
			mode[i + 1] = rwx[i];
	id_name("/etc/passwd", nd->st.st_uid, owner, sizeof(owner));
	id_name("/etc/group", nd->st.st_gid, group, sizeof(group));
	snprintf(desc, sizeof(desc), "%s %s %s:%s (%u:%u)", dev_node(), mode,
		 owner, group, major(nd->st.st_rdev), minor(nd->st.st_rdev));
	if (!nd->opened)
		set(c, nd->open_err == EACCES || nd->open_err == EPERM ?
		    WARN : FAIL,
		    nd->open_err == EACCES || nd->open_err == EPERM ?
		    hint_node_access : "reload pcipass",
		    "%s; this user cannot open it: %s", desc,
		    strerror(nd->open_err));
	else if (nd->api_ok && nd->api != PCIPASS_API_VERSION)
		set(c, WARN, "use a pcipass-tool built for this driver",
		    "%s; the driver has API version %u, this tool knows %d",
		    desc, nd->api, PCIPASS_API_VERSION);
	else if (!nd->api_ok || !nd->info_ok)
		set(c, FAIL, "is /dev/pcipass really pcipass's node? reload pcipass",
		    "%s opens, but its %s ioctl fails", desc,
		    nd->api_ok ? "PCIPASS_GET_INFO" : "PCIPASS_GET_API_VERSION");
	else
		set(c, PASS, NULL, "%s; API version %u", desc, nd->api);
}

/* Effective capability @bit of this process, from /proc/self/status. */
static bool has_cap(int bit)
{
	char path[512], *line = NULL;
	unsigned long long eff = 0;
	size_t cap = 0;
	FILE *f;

	fmt_path(path, sizeof(path), "%s/self/status", procfs_root());
	f = fopen(path, "re");
	if (!f)
		return geteuid() == 0;
	while (getline(&line, &cap, f) > 0)
		if (!strncmp(line, "CapEff:", 7))
			eff = strtoull(line + 7, NULL, 16);
	free(line);
	fclose(f);
	return eff & (1ULL << bit);
}

static void check_memlock(struct check *c)
{
	char size[32];
	struct rlimit rl;

	c->name = "memlock";
	if (getrlimit(RLIMIT_MEMLOCK, &rl)) {
		set(c, WARN, NULL, "getrlimit(RLIMIT_MEMLOCK): %s",
		    strerror(errno));
		return;
	}
	if (rl.rlim_cur == RLIM_INFINITY) {
		set(c, PASS, NULL, "RLIMIT_MEMLOCK is unlimited");
		return;
	}
	human_size(rl.rlim_cur, size, sizeof(size));
	if (rl.rlim_cur >= MEMLOCK_MIN)
		set(c, PASS, NULL, "RLIMIT_MEMLOCK is %s", size);
	else if (has_cap(CAP_IPC_LOCK))
		set(c, PASS, NULL, "RLIMIT_MEMLOCK is %s, but CAP_IPC_LOCK",
		    size);
	else
		set(c, WARN, hint_memlock,
		    "RLIMIT_MEMLOCK is %s (< 64 MiB), and no CAP_IPC_LOCK",
		    size);
}

int cmd_check(struct opts *o)
{
	struct check checks[8];
	int n = 0, i, fails = 0, warns = 0;
	struct node nd;

	(void)o;
	memset(checks, 0, sizeof(checks));
	probe_node(&nd);
	check_cpu(&checks[n++]);
	check_iommu(&checks[n++], &nd);
	check_ir(&checks[n++], &nd);
	check_module(&checks[n++]);
	if (module_loaded())
		check_params(&checks[n++]);
	check_node(&checks[n++], &nd);
	check_memlock(&checks[n++]);

	if (json_mode())
		json_arr("checks");
	for (i = 0; i < n; i++) {
		struct check *c = &checks[i];

		fails += c->status == FAIL;
		warns += c->status == WARN;
		if (json_mode()) {
			json_obj(NULL);
			json_str("name", c->name);
			json_str("status", status_name[c->status]);
			json_str("detail", c->detail);
			json_str("hint", c->hint[0] ? c->hint : NULL);
			json_end();
			continue;
		}
		printf("%s  %-20s %s", status_name[c->status], c->name,
		       c->detail);
		if (c->hint[0] && c->status != PASS)
			printf("; fix: %s", c->hint);
		printf("\n");
	}
	if (json_mode()) {
		json_end();
		json_bool("ready", !fails);
		json_int("failed", fails);
		json_int("warnings", warns);
	} else if (fails) {
		printf("not ready: %d check%s failed\n", fails,
		       fails == 1 ? "" : "s");
	} else {
		printf("ready%s", warns ? "" : "\n");
		if (warns)
			printf(", with %d warning%s\n", warns,
			       warns == 1 ? "" : "s");
	}
	return fails ? EX_NOTREADY : EX_OK;
}

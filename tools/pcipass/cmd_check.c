// SPDX-License-Identifier: GPL-2.0
/*
 * pcipass-tool check: is this host ready for pcipass. One PASS/WARN/FAIL
 * (or INFO) entry per check (kernel, CPU virtualization, IOMMU, boot
 * options for the CPU's vendor, interrupt remapping, Secure Boot and
 * lockdown, the module, its parameters and its ids=, /dev/pcipass,
 * RLIMIT_MEMLOCK, /dev/kvm), each with a fix, wrapped to the terminal.
 * Sources are sysfs and procfs, and the PCIPASS_GET_INFO ioctl when
 * /dev/pcipass can be opened: that one is authoritative.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
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
	"the IOMMU is there but off: see boot-options";
static const char hint_no_iommu[] =
	"enable VT-d (Intel) or AMD-Vi (AMD) in the firmware setup;"
	" then see boot-options;"
	" a QEMU guest needs -device intel-iommu or virtio-iommu";
static const char hint_grub[] =
	" GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub;"
	" then run update-grub and reboot";
static const char hint_unsigned[] =
	"sign it: DKMS signs with /var/lib/dkms/mok.key;"
	" enroll its key once: mokutil --import /var/lib/dkms/mok.pub;"
	" reboot and confirm it in MokManager";
static const char hint_amd_on[] =
	"remove amd_iommu=on (the AMD IOMMU is on by default) from";
static const char hint_ids[] =
	"load pcipass before that driver: softdep DRIVER pre: pcipass;"
	" in /etc/modprobe.d/pcipass.conf, then update-initramfs -u;"
	" or pcipass-tool bind ADDRESS";
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
	" or add the user to the pcipass group: adduser USER pcipass;"
	" (the udev rule 70-pcipass.rules of pcipass-dkms)";
static const char hint_memlock[] =
	"the VMM pins all guest memory: raise its user's limit;"
	" ulimit -l, memlock in /etc/security/limits.conf;"
	" LimitMEMLOCK= in a systemd unit, or give it CAP_IPC_LOCK";

enum { PASS, WARN, FAIL, INFO };

static const char * const status_name[] = { "PASS", "WARN", "FAIL", "INFO" };

#define SB_EFIVAR "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
#define MODSIG_MAGIC "~Module signature appended~\n"

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

/* The first line of procfs file @name, "" when unreadable. */
static void proc_line(const char *name, char *buf, size_t len)
{
	char path[512];

	fmt_path(path, sizeof(path), "%s/%s", procfs_root(), name);
	if (read_text(path, buf, len))
		buf[0] = '\0';
}

static void check_kernel(struct check *c, const char *release)
{
	c->name = "kernel";
	if (!release[0])
		set(c, WARN, NULL, "unknown: cannot read %s/sys/kernel/osrelease",
		    procfs_root());
	else if (!strncmp(release, "6.12.", 5))
		set(c, PASS, NULL, "Linux %s (pcipass is for 6.12)", release);
	else
		set(c, WARN, "boot a 6.12 kernel (Debian 12: linux-image-6.12.*-amd64)",
		    "Linux %s: pcipass is built and tested for 6.12 only",
		    release);
}

/* "intel", "amd" or "" from the vendor_id of /proc/cpuinfo. */
static const char *cpu_vendor(void)
{
	char path[512], *line = NULL;
	const char *vendor = "";
	size_t cap = 0;
	FILE *f;

	fmt_path(path, sizeof(path), "%s/cpuinfo", procfs_root());
	f = fopen(path, "re");
	while (f && !vendor[0] && getline(&line, &cap, f) > 0) {
		if (strncmp(line, "vendor_id", 9))
			continue;
		if (strstr(line, "GenuineIntel"))
			vendor = "intel";
		else if (strstr(line, "AuthenticAMD") ||
			 strstr(line, "HygonGenuine"))
			vendor = "amd";
	}
	free(line);
	if (f)
		fclose(f);
	return vendor;
}

/* Is option @opt (with its "=value", if given) on the command line? */
static bool has_opt(const char *cmdline, const char *opt)
{
	size_t n = strlen(opt);
	const char *p = cmdline;

	while ((p = strstr(p, opt))) {
		if ((p == cmdline || p[-1] == ' ') &&
		    (p[n] == ' ' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

static void check_boot(struct check *c, const char *cmdline, bool iommu_ok)
{
	const char *vendor = cpu_vendor();
	char hint[512], found[256] = "";
	static const char * const shown[] = {
		"intel_iommu=on", "intel_iommu=off", "amd_iommu=on",
		"amd_iommu=off", "iommu=off", "iommu=pt", "intremap=off",
	};
	size_t i;

	c->name = "boot-options";
	for (i = 0; i < ARRAY_SIZE(shown); i++)
		if (has_opt(cmdline, shown[i]))
			append(found, sizeof(found), "%s%s", found[0] ? " " : "",
			       shown[i]);
	if (has_opt(cmdline, "amd_iommu=on")) {
		snprintf(hint, sizeof(hint), "%s%s", hint_amd_on, hint_grub);
		set(c, WARN, hint, "amd_iommu=on is not a valid value: the kernel ignores it");
	} else if (has_opt(cmdline, "iommu=off") ||
		   has_opt(cmdline, "intel_iommu=off") ||
		   has_opt(cmdline, "amd_iommu=off") ||
		   has_opt(cmdline, "intremap=off")) {
		snprintf(hint, sizeof(hint), "remove them from%s", hint_grub);
		set(c, FAIL, hint, "%s: the IOMMU or interrupt remapping is off",
		    found);
	} else if (!strcmp(vendor, "intel") && !iommu_ok &&
		   !has_opt(cmdline, "intel_iommu=on")) {
		snprintf(hint, sizeof(hint), "add intel_iommu=on to%s", hint_grub);
		set(c, FAIL, hint,
		    "Intel CPU: Debian's kernel needs intel_iommu=on; not given");
	} else if (!strcmp(vendor, "intel")) {
		set(c, PASS, NULL, "Intel CPU: %s", found[0] ? found :
		    "the IOMMU is on without intel_iommu=on");
	} else if (!strcmp(vendor, "amd")) {
		set(c, PASS, NULL, "AMD CPU: the IOMMU is on by default%s%s",
		    found[0] ? "; " : "", found);
	} else {
		set(c, INFO, NULL, "CPU vendor unknown; %s", found[0] ? found :
		    "no IOMMU options");
	}
}

/* Is the module file @path signed? -1: cannot tell (compressed). */
static int module_signed(const char *path)
{
	char tail[sizeof(MODSIG_MAGIC) - 1];
	size_t n = strlen(path);
	FILE *f;
	int ret = -1;

	if (n < 3 || strcmp(path + n - 3, ".ko"))
		return -1;
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (!fseek(f, -(long)sizeof(tail), SEEK_END) &&
	    fread(tail, 1, sizeof(tail), f) == sizeof(tail))
		ret = !memcmp(tail, MODSIG_MAGIC, sizeof(tail));
	fclose(f);
	return ret;
}

/* The pcipass module file of kernel @release, from modules.dep. */
static bool find_module(const char *release, char *path, size_t len)
{
	char dep[512], *line = NULL;
	bool found = false;
	size_t cap = 0;
	FILE *f;

	fmt_path(dep, sizeof(dep), "%s/%s/modules.dep", modules_dir(),
		 release);
	f = fopen(dep, "re");
	while (f && !found && getline(&line, &cap, f) > 0) {
		char *colon = strchr(line, ':'), *base;

		if (!colon)
			continue;
		*colon = '\0';
		base = strrchr(line, '/');
		base = base ? base + 1 : line;
		if (!strncmp(base, "pcipass.ko", 10)) {
			fmt_path(path, len, "%s/%s/%s", modules_dir(), release,
				 line);
			found = true;
		}
	}
	free(line);
	if (f)
		fclose(f);
	return found;
}

struct secure {
	int secure_boot;	/* 1 on, 0 off, -1 no EFI */
	char lockdown[32];	/* "none", "integrity", "confidentiality", "" */
	bool sig_enforce;
};

static void read_secure(struct secure *s)
{
	char path[512], val[128], *l, *r;
	unsigned char var[5];

	memset(s, 0, sizeof(*s));
	fmt_path(path, sizeof(path), "%s/firmware/efi/efivars/%s", sysfs_root(),
		 SB_EFIVAR);
	if (read_bytes(path, var, sizeof(var)) == sizeof(var))
		s->secure_boot = var[4] == 1;	/* 4 bytes of attributes first */
	else
		s->secure_boot = path_exists(path) ? 0 : -1;
	if (s->secure_boot < 0) {
		fmt_path(path, sizeof(path), "%s/firmware/efi", sysfs_root());
		if (path_exists(path))
			s->secure_boot = 0;
	}
	fmt_path(path, sizeof(path), "%s/kernel/security/lockdown", sysfs_root());
	if (!read_text(path, val, sizeof(val))) {
		/* "none [integrity] confidentiality" */
		l = strchr(val, '[');
		r = l ? strchr(l, ']') : NULL;
		if (l && r) {
			*r = '\0';
			str_copy(s->lockdown, l + 1, sizeof(s->lockdown));
		}
	}
	fmt_path(path, sizeof(path), "%s/module/module/parameters/sig_enforce",
		 sysfs_root());
	s->sig_enforce = !read_text(path, val, sizeof(val)) && val[0] == 'Y';
}

static void check_secure(struct check *c, const char *release)
{
	char mod[512], desc[256];
	struct secure s;
	bool enforced;
	int sig = -1;

	c->name = "secure-boot";
	read_secure(&s);
	enforced = s.sig_enforce || (s.lockdown[0] && strcmp(s.lockdown, "none"));
	snprintf(desc, sizeof(desc), "Secure Boot %s; lockdown %s; module signatures %s",
		 s.secure_boot > 0 ? "on" : s.secure_boot == 0 ? "off" :
		 "n/a (no EFI)", s.lockdown[0] ? s.lockdown : "n/a",
		 enforced ? "enforced" : "not enforced");
	if (release[0] && find_module(release, mod, sizeof(mod)))
		sig = module_signed(mod);
	if (enforced && sig == 0)
		set(c, FAIL, hint_unsigned, "%s; %s is not signed: it is refused",
		    desc, mod);
	else if (enforced || s.secure_boot > 0)
		set(c, sig == 1 ? PASS : WARN, sig == 1 ? NULL : hint_unsigned,
		    "%s%s", desc, sig == 1 ? "; pcipass.ko is signed" :
		    "; pcipass.ko must be signed with an enrolled key");
	else
		set(c, PASS, NULL, "%s", desc);
}

/* The ids= of pcipass: its parameter when loaded, else modprobe.d. */
static void pcipass_ids(char *ids, size_t len)
{
	char path[512], *line = NULL, *p;
	struct dirent *de;
	size_t cap = 0;
	DIR *d;
	FILE *f;

	ids[0] = '\0';
	fmt_path(path, sizeof(path), "%s/module/%s/parameters/ids", sysfs_root(),
		 PCIPASS_DRIVER);
	if (module_loaded()) {
		if (read_text(path, ids, len))
			ids[0] = '\0';
		return;
	}
	fmt_path(path, sizeof(path), "%s/modprobe.d", sysconf_dir());
	d = opendir(path);
	while (d && (de = readdir(d))) {
		char file[768];

		if (!strstr(de->d_name, ".conf"))
			continue;
		fmt_path(file, sizeof(file), "%s/%s", path, de->d_name);
		f = fopen(file, "re");
		while (f && getline(&line, &cap, f) > 0) {
			/* "options pcipass ... ids=LIST ..." */
			p = line + strspn(line, " \t");
			if (strncmp(p, "options", 7) || !isspace(p[7]))
				continue;
			p += 7 + strspn(p + 7, " \t");
			if (strncmp(p, "pcipass", 7) || !isspace(p[7]))
				continue;
			p = strstr(p, " ids=");
			if (!p)
				continue;
			p += 5;
			p[strcspn(p, " \t\n")] = '\0';
			append(ids, len, "%s%s", ids[0] ? "," : "", p);
		}
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	free(line);
}

/* ids= devices held by another driver. */
static bool check_ids(struct check *c)
{
	char ids[512], held[512] = "", *tok, *save;
	struct pci_list list;
	int i, n = 0, nheld = 0;

	pcipass_ids(ids, sizeof(ids));
	if (!ids[0])
		return false;
	c->name = "ids";
	if (pci_scan(&list)) {
		set(c, WARN, NULL, "ids=%s; cannot list the PCI devices", ids);
		return true;
	}
	for (i = 0; i < list.n; i++) {
		struct pci_dev *dev = &list.dev[i];
		char copy[512];

		str_copy(copy, ids, sizeof(copy));
		for (tok = strtok_r(copy, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			unsigned int v, p;

			if (sscanf(tok, "%x:%x", &v, &p) != 2 ||
			    v != dev->vendor || p != dev->device)
				continue;
			n++;
			if (dev->driver[0] && strcmp(dev->driver, PCIPASS_DRIVER)) {
				append(held, sizeof(held), "%s%s by %s",
				       nheld ? ", " : "", dev->addr, dev->driver);
				nheld++;
			}
			break;
		}
	}
	pci_list_free(&list);
	if (nheld)
		set(c, WARN, hint_ids,
		    "ids=%s: %d device%s match; still held by another driver: %s",
		    ids, n, n == 1 ? "" : "s", held);
	else
		set(c, PASS, NULL, "ids=%s: %d device%s match, none held by another driver",
		    ids, n, n == 1 ? "" : "s");
	return true;
}

static void check_kvm(struct check *c)
{
	struct stat st;

	c->name = "kvm";
	if (!stat(kvm_node(), &st) && S_ISCHR(st.st_mode))
		set(c, INFO, NULL, "%s is there: a VMM can run guests with KVM",
		    kvm_node());
	else
		set(c, INFO, NULL,
		    "no %s: guests run with TCG, slowly (modprobe kvm_intel or kvm_amd)",
		    kvm_node());
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

static void check_module(struct check *c, const char *release)
{
	char path[512], names[1024];
	int bound;

	c->name = "module";
	if (!module_loaded()) {
		if (release[0] && find_module(release, path, sizeof(path)))
			set(c, FAIL, "modprobe pcipass",
			    "pcipass is not loaded; it is installed: %s", path);
		else
			set(c, FAIL, "apt install pcipass-dkms, or make install from the sources",
			    "pcipass is not loaded, and not installed for Linux %s (not in %s/%s/modules.dep)",
			    release[0] ? release : "?", modules_dir(),
			    release[0] ? release : "?");
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

/* The width to wrap to: $COLUMNS, the terminal's, else 80. */
static int term_width(void)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;
	int w = env ? atoi(env) : 0;

	if (w <= 0 && isatty(STDOUT_FILENO) &&
	    !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws))
		w = ws.ws_col;
	if (w <= 0)
		w = 80;
	return w < 40 ? 40 : w;
}

/*
 * @first, then the words of @text, wrapped before @width; continuation
 * lines start at column @indent, where the first word went.
 */
static void print_wrapped(const char *first, const char *text, int indent,
			  int width)
{
	const char *p = text + strspn(text, " ");
	int col = printf("%s", first);
	bool fresh = false;

	while (*p) {
		int n = (int)strcspn(p, " ");

		if (!fresh && col > indent && col + 1 + n > width) {
			col = printf("\n%*s", indent, "") - 1;
			fresh = true;
		}
		col += printf("%s%.*s", fresh ? "" : " ", n, p);
		fresh = false;
		p += n;
		p += strspn(p, " ");
	}
	printf("\n");
}

int cmd_check(struct opts *o)
{
	char release[128], cmdline[4096], first[64];
	int n = 0, i, fails = 0, warns = 0, width;
	struct check checks[16];
	struct node nd;
	bool iommu_ok;

	(void)o;
	memset(checks, 0, sizeof(checks));
	proc_line("sys/kernel/osrelease", release, sizeof(release));
	proc_line("cmdline", cmdline, sizeof(cmdline));
	probe_node(&nd);
	check_kernel(&checks[n++], release);
	check_cpu(&checks[n++]);
	check_iommu(&checks[n], &nd);
	iommu_ok = checks[n++].status == PASS;
	check_boot(&checks[n++], cmdline, iommu_ok);
	check_ir(&checks[n++], &nd);
	check_secure(&checks[n++], release);
	check_module(&checks[n++], release);
	if (module_loaded())
		check_params(&checks[n++]);
	if (check_ids(&checks[n]))
		n++;
	check_node(&checks[n++], &nd);
	check_memlock(&checks[n++]);
	check_kvm(&checks[n++]);

	width = term_width();
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
		snprintf(first, sizeof(first), "%s  %-20s", status_name[c->status],
			 c->name);
		print_wrapped(first, c->detail, 27, width);
		if (c->hint[0] && c->status != PASS && c->status != INFO)
			print_wrapped("      fix:", c->hint, 11, width);
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

// SPDX-License-Identifier: GPL-2.0
/*
 * pcipass-tool: the command line. Owns option parsing, the help text,
 * dispatch to the subcommands, and the JSON document's envelope
 * ("command", "exit_status" and, on failure, "error").
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pcipass.h>

#include "pcipass-tool.h"

struct command {
	const char *name;
	int (*run)(struct opts *o);
	int min_args, max_args;	/* max -1: any number */
	bool group, persist, watch, nodes;
	const char *usage;
};

static const struct command commands[] = {
	{ "list", cmd_list, 0, 0, true, false, false, false,
	  "list [--group]\n"
	  "    Every PCI device with its IOMMU group, its driver and whether it\n"
	  "    can be passed through. --group: by IOMMU group.\n" },
	{ "check", cmd_check, 0, 0, false, false, false, false,
	  "check\n"
	  "    Is this host ready for pcipass: one PASS/WARN/FAIL line per\n"
	  "    check, with a hint. Exit status 1 when any check FAILs.\n" },
	{ "bind", cmd_bind, 1, -1, true, true, false, false,
	  "bind [--group] [--persist] DEVICE...\n"
	  "    Move devices to pcipass. --group: every device of their IOMMU\n"
	  "    groups. --persist: also after a reboot (udev rule).\n" },
	{ "unbind", cmd_unbind, 1, -1, true, true, false, false,
	  "unbind [--group] [--persist] DEVICE...\n"
	  "    Give devices back to the driver they had before bind.\n"
	  "    --persist: also remove the rule written by bind --persist.\n" },
	{ "info", cmd_info, 1, -1, false, false, false, false,
	  "info DEVICE...\n"
	  "    BARs, capabilities, interrupts, reset methods, IOMMU group,\n"
	  "    NUMA node, and why the device cannot be passed through now.\n" },
	{ "stat", cmd_stat, 0, 0, false, false, true, false,
	  "stat [-w [SECONDS]]\n"
	  "    Live contexts, attached devices, pinned memory, mappings and\n"
	  "    interrupts per vector. -w: refresh every SECONDS (2).\n" },
	{ "run", cmd_run, 1, -1, false, false, false, true,
	  "run [--nodes DIR] [--] COMMAND [ARG...]\n"
	  "    Run COMMAND in a private mount namespace where pcipass's VFIO\n"
	  "    nodes (DIR, default /dev/pcipass-vfio) are at /dev/vfio.\n" },
};

#define NCOMMANDS ARRAY_SIZE(commands)

static void print_usage(FILE *out)
{
	size_t i;

	fprintf(out,
		"Usage: %s [--json] COMMAND [OPTIONS] [DEVICE...]\n"
		"Prepare PCI devices of this host for passthrough with pcipass.\n\n"
		"Commands:\n", PROG);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %s", commands[i].usage);
	fprintf(out,
		"  help [COMMAND]\n"
		"    This text, or the help of one command.\n\n"
		"DEVICE is a PCI address, [DOMAIN:]BUS:DEV.FN (00:04.0,\n"
		"0000:00:04.0), or VENDOR:DEVICE in hex (1b36:0010): every match.\n\n"
		"Options:\n"
		"  --json        print one JSON document on stdout\n"
		"  -h, --help    print help and exit\n"
		"  --version     print the version and exit\n\n"
		"Exit status:\n"
		"  0  success (check: the host is ready)\n"
		"  1  check: the host is not ready (a check FAILed)\n"
		"  2  usage error: bad command line or malformed address\n"
		"  3  no such PCI device\n"
		"  4  permission denied (most commands that change things need root)\n"
		"  5  other failure\n"
		"  6  bind/unbind refused: it would split an IOMMU group, or the\n"
		"     device cannot be passed through (a bridge)\n"
		"  7  stat: pcipass provides no statistics (or debugfs is not mounted)\n"
		"  126, 127  run: COMMAND could not be started (127: not found);\n"
		"     otherwise run exits with COMMAND's status\n\n"
		"See pcipass-tool(8).\n");
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static bool is_number(const char *s)
{
	if (!*s)
		return false;
	while (isdigit((unsigned char)*s))
		s++;
	return !*s;
}

static int parse_watch(const char *val, struct opts *o)
{
	if (!is_number(val) || atoi(val) < 1 || atoi(val) > 86400)
		return fail(EX_USAGE, "-w: %s: not a number of seconds (1-86400)",
			    val);
	o->watch = atoi(val);
	return 0;
}

/* Options may stand before or after the command. */
static int parse(int argc, char **argv, struct opts *o, bool *help,
		 bool *version)
{
	bool dashdash = false;
	int i, ret;

	memset(o, 0, sizeof(*o));
	o->args = xcalloc(argc, sizeof(*o->args));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		/* run: the options of COMMAND are its own. */
		if (o->cmd && !strcmp(o->cmd, "run") && o->nargs)
			dashdash = true;
		if (dashdash || a[0] != '-' || !a[1]) {
			if (!o->cmd)
				o->cmd = a;
			else
				o->args[o->nargs++] = argv[i];
		} else if (!strcmp(a, "--")) {
			dashdash = true;
		} else if (!strcmp(a, "--json") || !strcmp(a, "-j")) {
			o->json = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			*help = true;
		} else if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
			*version = true;
		} else if (!strcmp(a, "--group") || !strcmp(a, "-g")) {
			o->group = true;
		} else if (!strcmp(a, "--persist") || !strcmp(a, "-p")) {
			o->persist = true;
		} else if (!strcmp(a, "--nodes")) {
			if (i + 1 >= argc)
				return fail(EX_USAGE, "--nodes: which directory?");
			o->nodes = argv[++i];
		} else if (!strncmp(a, "--nodes=", 8)) {
			o->nodes = a + 8;
		} else if (!strcmp(a, "-w") || !strcmp(a, "--watch")) {
			o->watch = 2;
			if (i + 1 < argc && is_number(argv[i + 1])) {
				ret = parse_watch(argv[++i], o);
				if (ret)
					return ret;
			}
		} else if (!strncmp(a, "--watch=", 8) || !strncmp(a, "-w", 2)) {
			ret = parse_watch(a + (a[1] == '-' ? 8 : 2), o);
			if (ret)
				return ret;
		} else {
			return fail(EX_USAGE, "%s: unknown option (try %s --help)",
				    a, PROG);
		}
	}
	return 0;
}

/* Options that the command does not take are usage errors. */
static int validate(const struct command *c, struct opts *o)
{
	if (o->group && !c->group)
		return fail(EX_USAGE, "%s: --group is not an option of this command",
			    c->name);
	if (o->persist && !c->persist)
		return fail(EX_USAGE, "%s: --persist is not an option of this command",
			    c->name);
	if (o->watch && !c->watch)
		return fail(EX_USAGE, "%s: -w is not an option of this command",
			    c->name);
	if (o->nodes && !c->nodes)
		return fail(EX_USAGE, "%s: --nodes is not an option of this command",
			    c->name);
	/* COMMAND replaces the tool: there is no JSON document to finish. */
	if (o->json && c->nodes)
		return fail(EX_USAGE, "%s: --json is not an option of this command",
			    c->name);
	if (o->nargs < c->min_args)
		return fail(EX_USAGE, "%s: which %s? usage: %s %.*s",
			    c->name, c->nodes ? "command" : "device", PROG,
			    (int)strcspn(c->usage, "\n"), c->usage);
	if (c->max_args >= 0 && o->nargs > c->max_args)
		return fail(EX_USAGE, "%s: unexpected argument '%s'", c->name,
			    o->args[c->max_args]);
	return 0;
}

static int print_help(struct opts *o)
{
	const struct command *c;
	const char *name = o->nargs ? o->args[0] :
			   (o->cmd && strcmp(o->cmd, "help") ? o->cmd : NULL);

	if (!name) {
		print_usage(stdout);
		return EX_OK;
	}
	c = find_command(name);
	if (!c)
		return fail(EX_USAGE, "%s: unknown command (try %s --help)",
			    name, PROG);
	printf("Usage: %s [--json] %s\nSee %s --help for exit statuses.\n",
	       PROG, c->usage, PROG);
	return EX_OK;
}

/* The JSON envelope: the command's document, or an error document. */
static void finish_json(const char *cmd, int status)
{
	const char *msg = fail_message();

	if (status && msg) {
		json_begin();
		json_str("command", cmd);
	}
	json_int("exit_status", status);
	if (status && msg)
		json_str("error", msg);
	json_end();
	json_flush(stdout, true);
}

int main(int argc, char **argv)
{
	bool want_help = false, want_version = false;
	const struct command *c = NULL;
	struct opts o;
	int status;

	status = parse(argc, argv, &o, &want_help, &want_version);
	set_json_mode(o.json);
	if (o.json) {
		json_begin();
		json_str("command", o.cmd);
	}
	if (status)
		goto out;
	if (want_version) {
		printf("%s %s (pcipass API %d)\n", PROG, PCIPASS_TOOL_VERSION,
		       PCIPASS_API_VERSION);
		return EX_OK;
	}
	if (want_help || (o.cmd && !strcmp(o.cmd, "help"))) {
		set_json_mode(false);
		return print_help(&o);
	}
	if (!o.cmd) {
		print_usage(stderr);
		status = fail(EX_USAGE, "no command given");
		goto out;
	}
	c = find_command(o.cmd);
	if (!c) {
		status = fail(EX_USAGE, "%s: unknown command (try %s --help)",
			      o.cmd, PROG);
		goto out;
	}
	status = validate(c, &o);
	if (!status)
		status = c->run(&o);
out:
	if (o.json && !(c && c->watch && o.watch))
		finish_json(o.cmd, status);
	free(o.args);
	return status;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * pcipass-tool: the JSON writer. A command builds one document in memory
 * (so a command that fails can drop what it wrote and main.c can print an
 * error document instead); json_flush() prints it compact or indented.
 * Strings are escaped per RFC 8259; bytes that are not valid UTF-8 become
 * U+FFFD.
 */
#include <stdlib.h>
#include <string.h>

#include "pcipass-tool.h"

#define JSON_MAX_DEPTH	32

static char *buf;
static size_t len, cap;
static int depth;
static bool has_items[JSON_MAX_DEPTH];
static char kind[JSON_MAX_DEPTH];

static void put(const char *s, size_t n)
{
	if (len + n + 1 > cap) {
		size_t ncap = cap ? cap * 2 : 4096;
		char *nbuf;

		while (ncap < len + n + 1)
			ncap *= 2;
		nbuf = realloc(buf, ncap);
		if (!nbuf) {
			fprintf(stderr, "%s: out of memory\n", PROG);
			exit(EX_FAIL);
		}
		buf = nbuf;
		cap = ncap;
	}
	memcpy(buf + len, s, n);
	len += n;
	buf[len] = '\0';
}

static void puts_raw(const char *s)
{
	put(s, strlen(s));
}

/* Length of the valid UTF-8 sequence at @s, or 0 if it is not valid. */
static int utf8_len(const unsigned char *s)
{
	int n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlong 3- and 4-byte forms, surrogates, above U+10FFFF */
	if (n == 3 && s[0] == 0xe0 && s[1] < 0xa0)
		return 0;
	if (n == 3 && s[0] == 0xed && s[1] >= 0xa0)
		return 0;
	if (n == 4 && s[0] == 0xf0 && s[1] < 0x90)
		return 0;
	if (n == 4 && s[0] == 0xf4 && s[1] >= 0x90)
		return 0;
	return n;
}

static void put_string(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	char esc[8];
	int n;

	put("\"", 1);
	while (*s) {
		switch (*s) {
		case '"':
			puts_raw("\\\"");
			break;
		case '\\':
			puts_raw("\\\\");
			break;
		case '\n':
			puts_raw("\\n");
			break;
		case '\t':
			puts_raw("\\t");
			break;
		case '\r':
			puts_raw("\\r");
			break;
		default:
			if (*s < 0x20 || *s == 0x7f) {
				snprintf(esc, sizeof(esc), "\\u%04x", *s);
				puts_raw(esc);
				break;
			}
			n = utf8_len(s);
			if (!n) {
				puts_raw("\\ufffd");
				break;
			}
			put((const char *)s, n);
			s += n - 1;
		}
		s++;
	}
	put("\"", 1);
}

/* Separator and key before a value. */
static void member(const char *key)
{
	if (depth > 0 && depth <= JSON_MAX_DEPTH) {
		if (has_items[depth - 1])
			put(",", 1);
		has_items[depth - 1] = true;
	}
	if (key) {
		put_string(key);
		put(":", 1);
	}
}

void json_begin(void)
{
	json_discard();
	json_obj(NULL);
}

void json_discard(void)
{
	len = 0;
	depth = 0;
	if (buf)
		buf[0] = '\0';
}

static void open_container(const char *key, const char *c)
{
	member(key);
	puts_raw(c);
	if (depth < JSON_MAX_DEPTH) {
		has_items[depth] = false;
		kind[depth] = c[0];
	}
	depth++;
}

void json_obj(const char *key)
{
	open_container(key, "{");
}

void json_arr(const char *key)
{
	open_container(key, "[");
}

/* Close the innermost object or array. */
void json_end(void)
{
	if (depth <= 0)
		return;
	depth--;
	put(depth < JSON_MAX_DEPTH && kind[depth] == '[' ? "]" : "}", 1);
}

void json_str(const char *key, const char *val)
{
	member(key);
	if (val)
		put_string(val);
	else
		puts_raw("null");
}

void json_int(const char *key, long long val)
{
	char num[32];

	member(key);
	snprintf(num, sizeof(num), "%lld", val);
	puts_raw(num);
}

void json_bool(const char *key, bool val)
{
	member(key);
	puts_raw(val ? "true" : "false");
}

void json_null(const char *key)
{
	member(key);
	puts_raw("null");
}

/* A hexadecimal ID as a string: "1b36", "0108". */
void json_hex(const char *key, unsigned int val, int digits)
{
	char num[16];

	snprintf(num, sizeof(num), "%0*x", digits, val);
	json_str(key, num);
}

static void indent(FILE *out, int level)
{
	fputc('\n', out);
	while (level-- > 0)
		fputs("  ", out);
}

/* Print the document, compact on one line or indented by two spaces. */
void json_flush(FILE *out, bool pretty)
{
	bool in_str = false, esc = false;
	int level = 0;
	size_t i;

	if (!buf)
		return;
	for (i = 0; i < len && pretty; i++) {
		char ch = buf[i];

		if (in_str) {
			fputc(ch, out);
			if (esc)
				esc = false;
			else if (ch == '\\')
				esc = true;
			else if (ch == '"')
				in_str = false;
			continue;
		}
		switch (ch) {
		case '"':
			in_str = true;
			fputc(ch, out);
			break;
		case '{':
		case '[':
			fputc(ch, out);
			if (buf[i + 1] == '}' || buf[i + 1] == ']') {
				fputc(buf[++i], out);
				break;
			}
			indent(out, ++level);
			break;
		case '}':
		case ']':
			indent(out, --level);
			fputc(ch, out);
			break;
		case ',':
			fputc(ch, out);
			indent(out, level);
			break;
		case ':':
			fputs(": ", out);
			break;
		default:
			fputc(ch, out);
		}
	}
	if (!pretty)
		fwrite(buf, 1, len, out);
	fputc('\n', out);
	fflush(out);
	json_discard();
}

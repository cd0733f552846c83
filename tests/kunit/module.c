// SPDX-License-Identifier: GPL-2.0
/*
 * pcipass_kunit: the KUnit suites of pcipass, one module for the debug
 * lane (Documentation/dev-tools/pcipass-testing.rst). Each suite lives in
 * tests/kunit/<area>_kunit.c and is named pcipass_<area>; loading the
 * module runs them all, and /sys/kernel/debug/kunit/<suite>/results holds
 * each one's KTAP report.
 */

#include <linux/module.h>

MODULE_DESCRIPTION("KUnit tests of the pcipass driver");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

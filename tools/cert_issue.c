/* cert-issue: test and script certificates from src/tls/pki.c, so nothing
 * is ever checked in and every test makes its own.
 *
 *   cert-issue ca   --cn NAME --out-cert F --out-key F [--days N]
 *   cert-issue leaf --ca-cert F --ca-key F --cn NAME [--san 127.0.0.1,localhost]
 *                   [--days N] [--not-before-days N] --out-cert F --out-key F
 *   cert-issue info --cert F     prints cn=, issuer=, serial=, sans=, days-left=
 *
 * Exit 0 on success, 1 with a message on stderr, 2 on a usage error. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "config/bind.h"
#include "tls/pki.h"

struct args {
	const char *cn, *out_cert, *out_key, *ca_cert, *ca_key, *san, *cert;
	int days, not_before_days;
};

static int usage(void)
{
	fprintf(stderr, "usage: cert-issue ca --cn NAME --out-cert F --out-key F [--days N]\n"
	                "       cert-issue leaf --ca-cert F --ca-key F --cn NAME "
	                "[--san A,B] [--days N] [--not-before-days N] --out-cert F --out-key F\n"
	                "       cert-issue info --cert F\n");
	return 2;
}

static int parse(int argc, char **argv, struct args *a)
{
	static const struct {
		const char *name;
		size_t off;
	} strs[] = {
	        {"cn", offsetof(struct args, cn)},
	        {"out-cert", offsetof(struct args, out_cert)},
	        {"out-key", offsetof(struct args, out_key)},
	        {"ca-cert", offsetof(struct args, ca_cert)},
	        {"ca-key", offsetof(struct args, ca_key)},
	        {"san", offsetof(struct args, san)},
	        {"cert", offsetof(struct args, cert)},
	};
	for (int i = 2; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) != 0) {
			fprintf(stderr, "cert-issue: unexpected argument \"%s\"\n", argv[i]);
			return -1;
		}
		char *name = argv[i] + 2;
		char *eq = strchr(name, '=');
		const char *value;
		size_t nlen = eq != NULL ? (size_t)(eq - name) : strlen(name);
		if (eq != NULL) {
			value = eq + 1;
		} else if (i + 1 < argc) {
			value = argv[++i];
		} else {
			fprintf(stderr, "cert-issue: --%s needs a value\n", name);
			return -1;
		}
		bool known = false;
		for (size_t k = 0; k < sizeof(strs) / sizeof(strs[0]); k++) {
			if (strlen(strs[k].name) == nlen &&
			    strncmp(strs[k].name, name, nlen) == 0) {
				*(const char **)((char *)a + strs[k].off) = value;
				known = true;
			}
		}
		if (nlen == 4 && strncmp(name, "days", 4) == 0) {
			a->days = atoi(value);
			known = true;
		} else if (nlen == 15 && strncmp(name, "not-before-days", 15) == 0) {
			a->not_before_days = atoi(value);
			known = true;
		}
		if (!known) {
			fprintf(stderr, "cert-issue: unknown flag --%.*s\n", (int)nlen, name);
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	struct args a;
	memset(&a, 0, sizeof(a));
	if (parse(argc, argv, &a) < 0)
		return usage();
	dm_err err;
	const char *cmd = argv[1];
	if (strcmp(cmd, "ca") == 0) {
		if (a.cn == NULL || a.out_cert == NULL || a.out_key == NULL)
			return usage();
		if (dm_pki_create_ca(a.cn, a.days, a.out_cert, a.out_key, &err) < 0)
			goto fail;
		return 0;
	}
	if (strcmp(cmd, "leaf") == 0) {
		if (a.cn == NULL || a.out_cert == NULL || a.out_key == NULL || a.ca_cert == NULL ||
		    a.ca_key == NULL)
			return usage();
		dm_strlist sans = {NULL, 0};
		dm_strlist_split(&sans, a.san != NULL ? a.san : "127.0.0.1,localhost");
		dm_pki_issue_opts o = {
		        .ca_cert_path = a.ca_cert,
		        .ca_key_path = a.ca_key,
		        .cn = a.cn,
		        .sans = (const char *const *)sans.items,
		        .n_sans = sans.n,
		        .days = a.days,
		        .not_before_offset_days = a.not_before_days,
		        .cert_path = a.out_cert,
		        .key_path = a.out_key,
		};
		int rc = dm_pki_issue(&o, &err);
		dm_strlist_fini(&sans);
		if (rc < 0)
			goto fail;
		return 0;
	}
	if (strcmp(cmd, "info") == 0) {
		if (a.cert == NULL)
			return usage();
		dm_pki_info info;
		if (dm_pki_cert_info(a.cert, &info, &err) < 0)
			goto fail;
		printf("cn=%s\nissuer=%s\nserial=%s\nsans=%s\ndays-left=%ld\n", info.cn,
		       info.issuer_cn, info.serial_hex, info.sans, info.days_left);
		return 0;
	}
	return usage();
fail:
	fprintf(stderr, "cert-issue %s: %s\n", cmd, err.msg);
	return 1;
}

#include "tls/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "base/file.h"
#include "base/mem.h"

enum { VERSION = 1, NONCE = 12, TAG = 16, HEADER = 1 + NONCE };

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int dm_secret_key_load(const char *path, dm_secret_key *ret, char **ret_warning, dm_err *err)
{
	char *text;
	size_t len;
	if (ret_warning)
		*ret_warning = NULL;
	if (dm_file_read(path, 4096, &text, &len, err) < 0)
		return dm_err_prefix(err, "secret-key-path");
	const char *p = text;
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	dm_secret_key k;
	int rc = 0;
	for (int i = 0; i < DM_SECRET_KEY_LEN; i++) {
		int hi = hexval(p[2 * i]), lo = hi < 0 ? -1 : hexval(p[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			rc = -1;
			break;
		}
		k.bytes[i] = (unsigned char)(hi << 4 | lo);
	}
	if (rc == 0) {
		for (p += 2 * DM_SECRET_KEY_LEN; *p; p++)
			if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r')
				rc = -1;
	}
	OPENSSL_cleanse(text, len);
	free(text);
	if (rc < 0) {
		OPENSSL_cleanse(&k, sizeof(k));
		return dm_err_set(
		        err, DM_EINVAL,
		        "secret-key-path %s: must hold exactly 64 hex digits (an AES-256 key), "
		        "e.g. made with `openssl rand -hex 32`",
		        path);
	}
	struct stat st;
	if (ret_warning && stat(path, &st) == 0 && (st.st_mode & 077))
		*ret_warning =
		        dm_xasprintf("secret-key-path %s is readable by group/others (mode %04o); "
		                     "chmod 600 it",
		                     path, (unsigned)(st.st_mode & 07777));
	*ret = k;
	OPENSSL_cleanse(&k, sizeof(k));
	return 0;
}

int dm_secret_key_generate(const char *path, dm_secret_key *ret, dm_err *err)
{
	dm_secret_key k;
	if (RAND_bytes(k.bytes, sizeof(k.bytes)) != 1)
		return dm_err_set(err, DM_EINTERNAL, "cannot get random bytes for a secret key");
	char hex[2 * DM_SECRET_KEY_LEN + 2];
	for (int i = 0; i < DM_SECRET_KEY_LEN; i++) {
		hex[2 * i] = "0123456789abcdef"[k.bytes[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[k.bytes[i] & 15];
	}
	hex[2 * DM_SECRET_KEY_LEN] = '\n';
	hex[2 * DM_SECRET_KEY_LEN + 1] = '\0';
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int rc = 0;
	if (fd < 0) {
		rc = dm_err_set(err, DM_EIO, "cannot create secret key %s: %s", path,
		                strerror(errno));
	} else {
		ssize_t w = write(fd, hex, sizeof(hex) - 1);
		if (w != (ssize_t)sizeof(hex) - 1 || fsync(fd) < 0)
			rc = dm_err_set(err, DM_EIO, "cannot write secret key %s: %s", path,
			                strerror(errno));
		close(fd);
		if (rc < 0)
			unlink(path);
	}
	OPENSSL_cleanse(hex, sizeof(hex));
	if (rc == 0)
		*ret = k;
	OPENSSL_cleanse(&k, sizeof(k));
	return rc;
}

void dm_secret_key_wipe(dm_secret_key *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

int dm_secret_encrypt(const dm_secret_key *k, const void *plain, size_t len, char **ret,
                      dm_err *err)
{
	if (len > (1u << 30))
		return dm_err_set(err, DM_ELIMIT, "secret larger than 1 GiB");
	size_t rawlen = HEADER + len + TAG;
	unsigned char *raw = dm_xmalloc(rawlen);
	raw[0] = VERSION;
	int outl = 0, ok = RAND_bytes(raw + 1, NONCE) == 1;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	ok = ok && c && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, k->bytes, raw + 1) == 1;
	/* The version byte is authenticated so it cannot be swapped. */
	ok = ok && EVP_EncryptUpdate(c, NULL, &outl, raw, 1) == 1;
	ok = ok && EVP_EncryptUpdate(c, raw + HEADER, &outl, plain, (int)len) == 1;
	ok = ok && EVP_EncryptFinal_ex(c, raw + HEADER + outl, &outl) == 1;
	ok = ok && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG, raw + HEADER + len) == 1;
	EVP_CIPHER_CTX_free(c);
	if (!ok) {
		free(raw);
		return dm_err_set(err, DM_EINTERNAL, "AES-256-GCM encryption failed");
	}
	char *b64 = dm_xmalloc(4 * ((rawlen + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, raw, (int)rawlen);
	free(raw);
	*ret = b64;
	return 0;
}

static int decode_b64(const char *text, unsigned char **ret, size_t *ret_len)
{
	size_t n = strlen(text);
	if (n == 0 || n % 4 != 0)
		return -1;
	unsigned char *raw = dm_xmalloc(n / 4 * 3 + 1);
	int m = EVP_DecodeBlock(raw, (const unsigned char *)text, (int)n);
	if (m < 0) {
		free(raw);
		return -1;
	}
	size_t pad = (text[n - 1] == '=') + (text[n - 2] == '=');
	*ret = raw;
	*ret_len = (size_t)m - pad;
	return 0;
}

bool dm_secret_looks_encrypted(const char *text)
{
	unsigned char *raw;
	size_t len;
	if (decode_b64(text, &raw, &len) < 0)
		return false;
	bool ok = len >= HEADER + TAG && raw[0] == VERSION;
	free(raw);
	return ok;
}

int dm_secret_decrypt(const dm_secret_key *k, const char *text, char **ret, size_t *ret_len,
                      dm_err *err)
{
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	if (decode_b64(text, &raw, &rawlen) < 0 || rawlen < HEADER + TAG || raw[0] != VERSION) {
		free(raw);
		return dm_err_set(err, DM_EINVAL, "not a value encrypted by dm (dmctl encrypt)");
	}
	size_t len = rawlen - HEADER - TAG;
	char *plain = dm_xmalloc(len + 1);
	int outl = 0;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int ok = c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, k->bytes, raw + 1) == 1;
	ok = ok && EVP_DecryptUpdate(c, NULL, &outl, raw, 1) == 1;
	ok = ok && EVP_DecryptUpdate(c, (unsigned char *)plain, &outl, raw + HEADER, (int)len) == 1;
	ok = ok && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG, raw + HEADER + len) == 1;
	ok = ok && EVP_DecryptFinal_ex(c, (unsigned char *)plain + outl, &outl) == 1;
	EVP_CIPHER_CTX_free(c);
	free(raw);
	if (!ok) {
		OPENSSL_cleanse(plain, len);
		free(plain);
		return dm_err_set(
		        err, DM_EINVAL,
		        "cannot decrypt: the value was encrypted with another secret key, "
		        "or it was altered");
	}
	plain[len] = '\0';
	*ret = plain;
	if (ret_len)
		*ret_len = len;
	return 0;
}

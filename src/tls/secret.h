/* Secrets at rest: AES-256-GCM under the cluster secret key.
 *
 * The master encrypts passwords and PEM content of sources and targets
 * before they reach the store, and `dmctl encrypt` asks it for ciphertext
 * an operator can paste into source.yaml. Ciphertext is text: base64 of
 * version byte | 12-byte nonce | ciphertext | 16-byte tag, so it survives
 * YAML, JSON and SQL unchanged. */
#ifndef DM_TLS_SECRET_H
#define DM_TLS_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define DM_SECRET_KEY_LEN 32

typedef struct dm_secret_key {
	unsigned char bytes[DM_SECRET_KEY_LEN];
} dm_secret_key;

/* Reads a key file: 64 hex digits, surrounding whitespace allowed (DM's
 * secret-key-path format). Warns through *ret_warning (malloc'd, may be
 * NULL) when the file is readable by group or others. */
int dm_secret_key_load(const char *path, dm_secret_key *ret, char **ret_warning, dm_err *err);
/* Creates a new random key file with mode 0600; fails if path exists. */
int dm_secret_key_generate(const char *path, dm_secret_key *ret, dm_err *err);
/* Overwrites the key bytes. */
void dm_secret_key_wipe(dm_secret_key *k);

/* Encrypts len bytes; *ret is a malloc'd NUL-terminated base64 string. */
int dm_secret_encrypt(const dm_secret_key *k, const void *plain, size_t len, char **ret,
                      dm_err *err);
/* Decrypts text made by dm_secret_encrypt with the same key. *ret is
 * malloc'd and NUL-terminated (free with dm_free_secret); *ret_len may be
 * NULL. Fails with DM_EINVAL when the text is not ours or the key differs. */
int dm_secret_decrypt(const dm_secret_key *k, const char *text, char **ret, size_t *ret_len,
                      dm_err *err);
/* True when text has the shape of our ciphertext (cheap, no key needed). */
bool dm_secret_looks_encrypted(const char *text);

#endif

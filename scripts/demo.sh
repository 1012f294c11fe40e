#!/usr/bin/env bash
# make demo: a TLS-secured master + worker migrating one MariaDB into another.
# The migration data path is not built yet (see README "Status").
set -euo pipefail
echo "demo: the migration data path is not built yet; see README.md 'Status'" >&2
exit 1

# shellcheck shell=bash
# Picking a TCP port for a test server on 127.0.0.1, shared by common.sh
# and mariadb.sh.
#
#   dm_port_pick VAR        a free port into VAR, reserved for this run
#   dm_port_release PORT... ends those reservations (once their servers are stopped)
#
# Two races made tests flaky under `ctest -j`, and each has its guard:
# - The kernel hands out ephemeral ports (ip_local_port_range, 32768-60999
#   on Debian) to every outgoing connection, so a port picked in that range
#   can be taken by some client's connect() between the pick and the
#   server's bind(). Ports are picked below that range.
# - Two tests running at once could pick the same port before either binds
#   it. A pick is reserved with an atomic mkdir in a directory every test
#   shares; reservations older than two hours are stale and reused.

_dm_port_reserve_dir() {
	printf '%s/dm-test-ports-%s' "${TMPDIR:-/tmp}" "$(id -u)"
}

# The range to pick from: [lo, hi). Below the kernel's ephemeral range when
# there is room for it, else above it.
_dm_port_range() {
	local elo=32768 ehi=60999
	if [[ -r /proc/sys/net/ipv4/ip_local_port_range ]]; then
		read -r elo ehi </proc/sys/net/ipv4/ip_local_port_range
	fi
	if ((elo - 10000 >= 4000)); then
		echo "10000 $elo"
	elif ((65535 - ehi >= 4000)); then
		echo "$((ehi + 1)) 65536"
	else
		echo "10000 65536"
	fi
}

_dm_port_busy() {
	if command -v ss >/dev/null 2>&1 && [[ -n $(ss -Htan "sport = :$1" 2>/dev/null) ]]; then
		return 0
	fi
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Locals are _-prefixed: printf -v into the caller's VAR must not hit one.
dm_port_pick() {
	local _lo _hi _p _dir
	read -r _lo _hi <<<"$(_dm_port_range)"
	_dir=$(_dm_port_reserve_dir)
	mkdir -p "$_dir" 2>/dev/null
	for _ in $(seq 1 300); do
		_p=$((_lo + (RANDOM * 32768 + RANDOM) % (_hi - _lo)))
		_dm_port_busy "$_p" && continue
		if ! mkdir "$_dir/$_p" 2>/dev/null; then
			# Reserved by another test; reuse it only when the reservation is stale.
			[[ -n $(find "$_dir/$_p" -maxdepth 0 -mmin +120 2>/dev/null) ]] || continue
			touch "$_dir/$_p" 2>/dev/null || continue
		fi
		printf -v "$1" '%s' "$_p"
		return 0
	done
	echo "dm_port_pick: no free port found in [$_lo, $_hi)" >&2
	return 1
}

dm_port_release() {
	local dir p
	dir=$(_dm_port_reserve_dir)
	for p in "$@"; do
		rmdir "$dir/$p" 2>/dev/null
	done
	return 0
}

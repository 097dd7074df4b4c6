# SPDX-License-Identifier: GPL-2.0
#
# run_watched: runs a stress test and fails it, with the evidence needed to
# tell a lost wake-up from a slow guest, once it stops making progress.
# Sourced by the suites' run.sh (busybox sh in the guest).
#
#	run_watched LIMIT_S FILE... -- COMMAND [ARG...]
#
# Progress is any change in the FILEs (fence_ops' info file: fences issued,
# every timeline's value and pending points) or in what COMMAND printed.
# Under TCG a slow run still changes them every few seconds; threads that
# sleep forever on a point change nothing. After LIMIT_S seconds without a
# change, run_watched prints every thread of COMMAND's process tree (state,
# wait channel, kernel stack) and the FILEs, kills the tree and returns 1.
# Otherwise it returns COMMAND's exit status. COMMAND's output goes to
# stdout as it comes. RF_WATCH_INTERVAL sets the sampling period (5 s).

# The pids of @1 and of all its descendants, one a line.
rf_process_tree() {
	rf_tree=$1
	rf_new=$1
	while [ -n "$rf_new" ]; do
		rf_next=
		for rf_stat in /proc/[0-9]*/stat; do
			# "pid (comm) state ppid ...": the fields after the comm.
			rf_rest=$(sed 's/.*) //' "$rf_stat" 2>/dev/null) || continue
			rf_ppid=$(echo "$rf_rest" | cut -d' ' -f2)
			rf_pid=${rf_stat#/proc/}
			rf_pid=${rf_pid%/stat}
			for rf_p in $rf_new; do
				[ "$rf_ppid" = "$rf_p" ] && rf_next="$rf_next $rf_pid"
			done
		done
		rf_tree="$rf_tree $rf_next"
		rf_new=$rf_next
	done
	echo $rf_tree | tr ' ' '\n'
}

# Every thread of the processes @*: state, wait channel, kernel stack.
rf_dump_threads() {
	for rf_pid in "$@"; do
		for rf_task in /proc/"$rf_pid"/task/*; do
			[ -d "$rf_task" ] || continue
			rf_state=$(sed 's/.*) //' "$rf_task/stat" 2>/dev/null | cut -d' ' -f1)
			echo "# hang: pid $rf_pid tid ${rf_task##*/} ($(cat "$rf_task/comm" 2>/dev/null))" \
				"state $rf_state wchan $(cat "$rf_task/wchan" 2>/dev/null)"
			sed 's/^/# hang:   /' "$rf_task/stack" 2>/dev/null
		done
	done
}

run_watched() {
	rf_limit=$1
	shift
	rf_files=
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		rf_files="$rf_files $1"
		shift
	done
	[ $# -gt 1 ] || { echo "# run_watched: usage: LIMIT_S FILE... -- COMMAND" >&2; return 2; }
	shift
	rf_dir=$(mktemp -d)
	# The pid file is written by the process that then becomes COMMAND.
	{
		sh -c 'echo $$ >"$0/pid"; exec "$@"' "$rf_dir" "$@"
		echo $? >"$rf_dir/rc"
	} 2>&1 | tee "$rf_dir/out" &
	rf_pipe=$!
	while [ ! -s "$rf_dir/pid" ] && [ ! -e "$rf_dir/rc" ]; do
		sleep 1
	done
	rf_cmd=$(cat "$rf_dir/pid")
	rf_last=
	rf_still=0
	while [ ! -e "$rf_dir/rc" ]; do
		sleep "${RF_WATCH_INTERVAL:-5}"
		# shellcheck disable=SC2086 # a list of files
		rf_now=$(cat $rf_files "$rf_dir/out" 2>/dev/null | md5sum)
		if [ "$rf_now" != "$rf_last" ]; then
			rf_last=$rf_now
			rf_still=0
			continue
		fi
		rf_still=$((rf_still + ${RF_WATCH_INTERVAL:-5}))
		[ "$rf_still" -ge "$rf_limit" ] || continue
		[ ! -e "$rf_dir/rc" ] || break
		rf_pids=$(rf_process_tree "$rf_cmd")
		echo "# hang: no progress for $rf_still s: $*"
		# shellcheck disable=SC2086 # a list of pids
		rf_dump_threads $rf_pids
		for rf_f in $rf_files; do
			sed "s|^|# hang: $rf_f: |" "$rf_f" 2>/dev/null
		done
		# shellcheck disable=SC2086
		kill -9 $rf_pids 2>/dev/null
		wait "$rf_pipe"
		rm -rf "$rf_dir"
		echo "# hang: killed after $rf_still s without progress (state above)"
		return 1
	done
	wait "$rf_pipe"
	rf_rc=$(cat "$rf_dir/rc" 2>/dev/null || echo 1)
	rm -rf "$rf_dir"
	return "$rf_rc"
}

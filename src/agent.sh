#!/bin/sh
# shardcap agent: what shardcap runs on a worker. One POSIX sh file, built
# into shardcap (the Makefile makes agent-text.c of it) and kept on each
# worker as DIR/.shardcap-agent-VERSION.sh, VERSION a digest of this
# text: a shardcap that finds another version (or none) sends its own.
# shardcap calls it as
#
#	sh AGENT VERB ARG...
#
# every argument quoted by one function (shell_quote, src/remote.c), none
# parsed as shell code here. Verbs:
#
#	slot [--silence S --mark FILE] [--warm LIB --placeholder P
#	     --template CHUNK [--hub FIFO] [--attach]] [--tz ZONE]
#	     [--stream | --stdin] -- COMMAND...
#		runs the jobs of a run (below); COMMAND holds {} for a chunk
#	version         says it is there (and has been sent, if it was not)
#	check DIR LIB   what a worker has: writable, cores, space, tools
#	list DIR        the regular files in DIR, a line each
#	sizes DIR       ... each as "SIZE NAME"
#	remove DIR...   each DIR and everything in it, gone
#	delete DIR FILE...      files in DIR, gone
#	link DIR BASIS FILE...  FILEs in DIR made hard links to their BASIS
#	peer DIR [NFILES FILE... NWORDS RSYNC...]...
#			FILEs of DIR sent to other workers, by rsyncs run here
#	rsync-watch MARK SILENCE RSYNC...
#			the worker's side of a copy, ended once MARK is gone
#
# The protocol of a slot (src/slot.h says it from shardcap's side): the
# first line of its stdin is the run's token, TOKEN; each line after is
# one call, shell words quoted by shell_quote: "" (a beat), "start ...",
# "forget", "pause", "resume", "attach ...". Its stdout and stderr are its
# jobs' own; its records go among them as "TOKEN TYPE ARGS\n", each one
# printf, never split. The token is in no argv and no environment.
set -u

# --- helpers ---

# rec TYPE ARGS...: a record on stderr.
rec() {
	printf '%s %s\n' "$T" "$*" >&2
}

# run_cmd PATH PREFIX...: runs PREFIX... and then the command (the words
# c1..c$nc) with every {} in it replaced by PATH. exec_cmd: the same, in
# place of the shell (which holds no fd of its own any more).
exec_cmd() {
	_exec=1
	run_cmd "$@"
}
run_cmd() {
	_path=$1
	shift
	_i=1
	while [ "$_i" -le "$nc" ]; do
		eval "_w=\$c$_i"
		_r=
		while :; do
			case $_w in
			*'{}'*)
				_r=$_r${_w%%'{}'*}$_path
				_w=${_w#*'{}'}
				;;
			*)
				_r=$_r$_w
				break
				;;
			esac
		done
		set -- "$@" "$_r"
		_i=$((_i + 1))
	done
	[ "$_exec" = 1 ] && exec "$@"
	"$@"
}

# set_command WORD...: the command, kept as c1..c$nc.
set_command() {
	nc=0
	for _a in "$@"; do
		nc=$((nc + 1))
		eval "c$nc=\$_a"
	done
}

# --- a job (in a session of its own) ---

# job STREAM STDIN WARM-PID ID CHECK N PATH SIZE ... -- COMMAND...: the
# chunks' command, in the job's own process. CHECK 1:
# first, every chunk is there with its size, or the command does not
# run: a "bad" record names the chunks (by index) that are not, and the
# job ends with 125. A warm tool (WARM-PID set, fds 5 and 6 its
# answers and requests) is handed each chunk; one it will not take (it
# has gone) is run by a tool of its own. Streaming, the chunks go into
# one tool one after the other (pcap ones after the first without their
# file header, pcapng ones whole: their sections follow one another), a
# "fed" record after each. Its status is the command's.
job() {
	stream=$1 stdin=$2 _z=$3 _tr=$4 _ta=$5 _tb=$6 _id=$7 _check=$8 _n=$9
	shift 9
	_p='' _s='' _bad='' _k=0
	while [ "$_k" -lt "$_n" ]; do
		eval "p$_k=\$1 s$_k=\$2"
		shift 2
		_k=$((_k + 1))
	done
	shift
	set_command "$@"
	if [ "$_check" = 1 ]; then
		_k=0
		while [ "$_k" -lt "$_n" ]; do
			eval "_p=\$p$_k _s=\$s$_k"
			[ "$(wc -c 2>/dev/null < "$_p")" = "$_s" ] ||
			    _bad="$_bad $_k"
			_k=$((_k + 1))
		done
		if [ -n "$_bad" ]; then
			rec bad "$_id$_bad"
			return 125
		fi
	fi
	if [ -n "$_z" ]; then
		_st=0
		_k=0
		while [ "$_k" -lt "$_n" ]; do
			eval "_p=\$p$_k"
			if (printf '%s\n' "$_p" >&6) 2>/dev/null; then
				IFS= read -r _t <&5 || {
					_t=126
					echo "shardcap: the slot's warm tool ended" >&2
				}
			else
				run_cmd "$_p" < /dev/null 5<&- 6>&-
				_t=$?
			fi
			[ "$_st" = 0 ] && _st=$_t
			[ "$_n" -gt 1 ] && rec fed "$_k"
			_k=$((_k + 1))
		done
		return "$_st"
	fi
	if [ "$_tr" = 1 ] && ! command -v editcap > /dev/null 2>&1; then
		echo "shardcap: this worker has no editcap (wireshark-common)," \
		    "which cuts chunks to the run's --since/--until" >&2
		return 127
	fi
	if [ "$stream" = 1 ]; then
		_k=0
		while [ "$_k" -lt "$_n" ]; do
			eval "_p=\$p$_k"
			case $_tr:$_k:$_p in
			0:0:* | 0:*.pcapng) cat "$_p" ;;
			0:*) tail -c +25 "$_p" ;;
			1:0:* | 1:*.pcapng) window "$_p" ;;
			*) window "$_p" | tail -c +25 ;;
			esac
			rec fed "$_k"
			_k=$((_k + 1))
		done | run_cmd -
		return
	fi
	eval "_p=\$p0"
	# shellcheck disable=SC2094 # the chunk is read, by both
	if [ "$stdin" = 1 ]; then
		run_cmd "$_p" < "$_p"
	else
		run_cmd "$_p" < /dev/null
	fi
}

# window CHUNK: the chunk's packets of time stamps in [$_ta, $_tb) (either
# may be empty: no bound), a capture of the chunk's format and time
# resolution, on stdout.
window() {
	case $(od -An -tx1 -N4 "$1" | tr -d ' \n') in
	0a0d0d0a) _f=pcapng ;;
	4d3cb2a1 | a1b23c4d) _f=nsecpcap ;;
	*) _f=pcap ;;
	esac
	editcap -F "$_f" ${_ta:+-A "$_ta"} ${_tb:+-B "$_tb"} "$1" -
}

# A job is read from here: it stops before the rest is parsed (one is
# started for every chunk).
if [ "${1:-}" = job ]; then
	shift
	agent=$0
	_exec=0
	IFS= read -r T
	exec < /dev/null
	nc=0
	job "$@"
	exit
fi

# --- a slot ---

# start [-s] [-t SINCE UNTIL] ID CHECK N PATH SIZE ...: the slot starts a
# job in a session of its own, its token on its stdin; a subshell of the slot
# waits for it and writes the ends of its output and stderr, whatever
# way it ended (a tool that kills its shell or its group ends its job as
# it would have ended), once what the session still runs is killed:
# nothing of the job follows its ends. The slot kills the job through
# that subshell ($p), which passes it on.
start() {
	# -s: the chunks streamed into the command, not to a warm tool (a
	# group of one flow's chunks); -t SINCE UNTIL: each cut to that
	# window first
	_st=$stream _wz=$z _tr=0 _ta='' _tb=''
	if [ "$1" = -s ]; then
		_st=1 _wz=''
		shift
	fi
	if [ "$1" = -t ]; then
		_tr=1 _ta=$2 _tb=$3
		shift 3
	fi
	no_traps
	(
		q=
		trap '[ -n "$q" ] && kill_group "$q"; exit 143' TERM HUP INT
		_i=1
		set -- "$@" --
		while [ "$_i" -le "$nc" ]; do
			eval "set -- \"\$@\" \"\$c$_i\""
			_i=$((_i + 1))
		done
		# (the token on its stdin: a here-document of a few bytes,
		# which the shell writes to a pipe without a process)
		setsid sh "$agent" job "$_st" "$stdin" "$_wz" "$_tr" "$_ta" \
		    "$_tb" "$@" <<-EOF &
		$T
		EOF
		q=$!
		wait "$q"
		s=$?
		kill -KILL -"$q" 2>/dev/null
		printf '%s %s %s\n' "$T" "$1" "$s"
		rec 'done' "$1"
	) < /dev/null &
	p=$!
	slot_traps
}

# kill_group PID...: each process and its process group get TERM: the
# slot's job and watchdog run each in a session of its own, the pid's
# group; a process that has not reached its setsid yet is killed by its
# pid. (Two kills: dash's kill, given both, has been seen to leave the
# process running.)
kill_group() {
	for _g in "$@"; do
		kill -TERM -"$_g"
		kill -TERM "$_g"
	done 2>/dev/null
}
# The slot's job, watchdog and warm tool killed.
kill_all() {
	# shellcheck disable=SC2086 # each a pid, or none
	kill_group $p $w $z
}
kill_wd() {
	# shellcheck disable=SC2086
	kill_group $w
	w=''
}

# The mark file and a warm tool's files removed, without waiting for rm.
unmark() {
	if [ -n "$h$Z" ]; then
		rm -f ${h:+"$h"} ${Z:+"$Z" "$Z.q" "$Z.r" "$Z.e"} \
		    > /dev/null 2>&1 &
	fi
}

# The watchdog: a session of its own that looks every $silence seconds
# for the mark; none made since the last look, and it stops the slot as
# a closed stdin would.
watchdog() {
	kill_wd
	[ -n "$h" ] || return 0
	no_traps
	# shellcheck disable=SC2016 # the watchdog's own script
	setsid sh -c 'while sleep "$3"; do
		if [ -e "$1" ]; then rm -f "$1"; else kill -TERM "$2"; exit 0; fi
	done' watchdog "$h" $$ "$silence" < /dev/null > /dev/null 2>&1 &
	w=$!
	slot_traps
}

# The slot's traps: what it runs is killed, its files removed, and it
# ends. Lifted while it starts a process (no_traps): a child takes its
# parent's traps until it drops them, and a TERM that comes in between
# is lost - the slot's kill would leave it running.
slot_traps() {
	trap 'kill_all; unmark; exit 143' HUP INT TERM
}
no_traps() {
	trap - HUP INT TERM
}

# The calls of the slot's stdin, other than job.
forget() { p=''; }
pause() { kill_wd; }
resume() { watchdog; }

# attach PLACEHOLDER HUB: a warm tool from the hub (src/warm.c), which
# answers a line "PID PATH" on its fifo with one for the slot whose
# process PID has the slot's stdout on fd 4, its stderr on fd 8 and, on
# fd 3, the pipe the tool's pid comes back on (not fd 1, which that sh
# has on the hub's fifo while it writes there): a sh that becomes a
# sleep, which the tool kills once it has answered; a sleep that ends
# first, nothing came. The fifos are gone once both sides hold them.
attach() {
	Z=$1
	rm -f "$Z.q" "$Z.r"
	if mkfifo "$Z.q" "$Z.r" 2>/dev/null; then
		exec 4>&1
		no_traps
		z=$({ sh -c 'printf "%s %s\n" $$ "$1" > "$2" && exec sleep "$3"' \
		    warm "$Z" "$2" "$attach_wait"; } 3>&1 8>&2 2>/dev/null \
		    < /dev/null)
		slot_traps
		if [ -n "$z" ]; then
			exec 6>"$Z.q" 5<"$Z.r" && (echo >&6) 2>/dev/null
		fi
	fi
	rm -f "$Z.q" "$Z.r"
	Z=''
}

# The warm tool (src/warm.c): its answer on fd 3 is its pid once it has
# set itself up, nothing if it ended first; it takes the slot's stdout
# (fd 4) and stderr (fd 8) then. The requests' fifo is held open for
# writing (fd 6), the answers' for reading (fd 5); the files are gone
# once it holds them.
warm_start() {
	[ -r "$lib" ] || return 0
	Z=$placeholder
	rm -f "$Z" "$Z.q" "$Z.r" "$Z.e"
	if mkfifo "$Z.q" "$Z.r" 2>/dev/null &&
	    ln -s "$template" "$Z" 2>/dev/null; then
		exec 4>&1
		no_traps
		z=$(exec_cmd "$Z" env LD_PRELOAD="$lib" SHARDCAP_WARM="$Z" \
		    ${hub:+"SHARDCAP_WARM_HUB=$hub"} setsid \
		    3>&1 8>&2 2>"$Z.e" > /dev/null < /dev/null &)
		slot_traps
		case $z in
		"exit "*)
			# it ended setting itself up, before it opened a file,
			# and said why: the command's arguments are wrong
			# (src/warm.c). (Silent, it may be the warm start's
			# doing: the jobs start the tool each.)
			if grep -v '^Running as user' "$Z.e" 2>/dev/null |
			    grep -q .; then
				wfail=${z#exit }
				cat "$Z.e" >&2
			fi
			z=''
			;;
		?*)
			exec 6>"$Z.q" 5<"$Z.r" && (echo >&6) 2>/dev/null
			;;
		esac
	fi
	rm -f "$Z" "$Z.q" "$Z.r" "$Z.e"
	Z=''
}

# One shell on the worker for the whole run: it reads calls from its
# stdin, one a line, and starts each job in a session of its own;
# shardcap sends the next job once the last one has ended. When its stdin
# closes - shardcap closes it at the end of the run or when it stops; ssh
# when the connection goes; the kernel when shardcap dies - the running
# job's session is killed and the slot ends. A connection can also go
# without sshd seeing it: with a silence, shardcap sends an empty line
# every second, each line read marks a file, and the watchdog stops the
# slot when none came.
slot() {
	silence=0 h='' lib='' placeholder='' template='' hub='' att=0
	stream=0 stdin=0 tz=''
	while [ $# -gt 0 ]; do
		case $1 in
		--silence) silence=$2; shift 2 ;;
		--mark) h=$2; shift 2 ;;
		--warm) lib=$2; shift 2 ;;
		--placeholder) placeholder=$2; shift 2 ;;
		--template) template=$2; shift 2 ;;
		--hub) hub=$2; shift 2 ;;
		--attach) att=1; shift ;;
		--tz) tz=$2; shift 2 ;;
		--stream) stream=1; shift ;;
		--stdin) stdin=1; shift ;;
		--) shift; break ;;
		*) echo "shardcap agent: slot: unknown option $1" >&2; exit 2 ;;
		esac
	done
	set_command "$@"
	slot_traps
	# The tools print local times in shardcap's zone (--tz), as they
	# would over the whole file there, whatever this worker's own is.
	# Without one, the worker's zone, pinned: with TZ unset, glibc looks
	# at /etc/localtime again (a stat) for every time stamp a tool
	# prints in local time (tcpdump: each packet, over half its CPU);
	# read once from the same file, the times printed are the same.
	nozone=''
	if [ -n "$tz" ]; then
		TZ=$tz
		export TZ
		case $tz in
		*/*) [ -f "${TZDIR:-/usr/share/zoneinfo}/$tz" ] || nozone=1 ;;
		esac
	elif [ -z "${TZ+set}" ] && [ -f /etc/localtime ]; then
		TZ=:/etc/localtime
		export TZ
	fi
	p='' w='' z='' Z='' wfail=''
	IFS= read -r T || exit 0
	if [ "$silence" -gt 0 ] && [ -n "$h" ]; then
		: > "$h" 2>/dev/null || h=
		watchdog
	else
		h=
	fi
	rec started "$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"
	# (a zone its tzdata lacks: the tools print UTC, shardcap says so)
	[ -n "$nozone" ] && rec note no-zone
	if [ -n "$lib" ] && [ "$att" = 1 ]; then
		# a warm tool from the hub: the first line says how
		IFS= read -r _j && eval "$_j"
	elif [ -n "$lib" ]; then
		warm_start
	fi
	rec ready${z:+ warm}${wfail:+ failed $wfail}
	while IFS= read -r _j; do
		[ -n "$h" ] && : > "$h"
		eval "$_j"
	done
	kill_all
	unmark
	exit 0
}

# --- other verbs ---

# check DIR LIB ZONE [TOOL...]: what shardcap check reports, a key=value a
# line; ZONE: shardcap's time zone ("" for none), as slot --tz has it;
# TOOL: more tools to look for.
check() {
	_d=$1 _l=$2 _z=$3
	shift 3
	mkdir -p -- "$_d" 2>/dev/null
	if [ -n "$_l" ] && [ -r "$_l" ]; then echo warm=1; else echo warm=0; fi
	if _t=$(mktemp "$_d/.shardcap-check.XXXXXX" 2>/dev/null) &&
	    rm -f -- "$_t"; then
		echo writable=1
	else
		echo writable=0
	fi
	# (as slot does: a name in tzdata's tree that is not there)
	case $_z in
	*/*)
		if [ -f "${TZDIR:-/usr/share/zoneinfo}/$_z" ]; then
			echo zone=1
		else
			echo zone=0
		fi ;;
	esac
	echo "cores=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)"
	echo "free=$(df -Pk -- "$_d" 2>/dev/null |
	    awk 'NR==2 {printf "%.0f", $4 * 1024}')"
	# one line for each tool that is there (none for one that is not):
	# the packet tools with their versions (or ?), then the tools asked
	# for, found on PATH but not run
	_p='tshark tcpdump mergecap editcap rsync ngrep'
	for _t in $_p; do
		command -v "$_t" > /dev/null 2>&1 || continue
		# (ngrep says its version with -V)
		_o=--version
		[ "$_t" = ngrep ] && _o=-V
		_v=$("$_t" "$_o" 2>/dev/null < /dev/null | head -n 1 |
		    sed -n 's/^[^0-9]*\([0-9][0-9.a-z-]*\).*/\1/p')
		echo "tool.$_t=${_v:-?}"
	done
	for _t in "$@"; do
		case " $_p " in *" $_t "*) continue ;; esac
		if command -v "$_t" > /dev/null 2>&1; then
			echo "tool.$_t=?"
		fi
	done
}

# list DIR: its regular files, a name a line (nothing when it is not
# there).
list() {
	cd -- "$1" 2>/dev/null || return 0
	for _f in *; do
		[ -f "$_f" ] && printf '%s\n' "$_f"
	done
	return 0
}

# sizes DIR: the regular files in DIR (not hidden ones), "SIZE NAME" a
# line, from one ls and one awk, thousands at once (names hold no blank:
# chunk names never do).
sizes() {
	cd -- "$1" 2>/dev/null || return 0
	# shellcheck disable=SC2012 # chunk names: no blank, no newline
	LC_ALL=C ls -ln | awk '/^-/ { print $5, $NF }'
}

# remove DIR...: gone, with what they hold.
remove() {
	rm -rf -- "$@"
}

# delete DIR FILE...: the files in DIR gone (one not there is no error;
# DIR not there, none is). DIR there but not a directory: status 1, the
# files' state is not known (rm -f would take "not a directory" for gone,
# and a directory put back would bring them back).
delete() {
	_d=$1
	shift
	if [ -e "$_d" ] && [ ! -d "$_d" ]; then
		echo "shardcap agent: '$_d' is not a directory" >&2
		return 1
	fi
	_n=$#
	while [ "$_n" -gt 0 ]; do
		set -- "$@" "$_d/$1"
		shift
		_n=$((_n - 1))
	done
	rm -f -- "$@"
}

# peer DIR [NFILES FILE... NWORDS WORD...]...: in DIR, each command (the
# WORDs: an rsync that reads the names of the files it sends, NUL-
# separated, on its stdin) is given its FILEs, one after the other; the
# first that fails ends it, with its status.
peer() {
	cd -- "$1" || return
	shift
	while [ $# -gt 0 ]; do
		_nf=$1
		shift
		{
			_i=0
			for _a in "$@"; do
				[ "$_i" -lt "$_nf" ] || break
				printf '%s\0' "$_a"
				_i=$((_i + 1))
			done
		} | {
			shift "$_nf"
			_nw=$1
			shift
			_m=$#
			_i=0
			for _a in "$@"; do
				[ "$_i" -lt "$_nw" ] || break
				set -- "$@" "$_a"
				_i=$((_i + 1))
			done
			shift "$_m"
			exec "$@"
		} || return
		shift "$_nf"
		_nw=$1
		shift $((_nw + 1))
	done
}

# rsync-watch MARK SILENCE RSYNC...: the worker's side of a copy (RSYNC,
# the words of its --rsync-path and those rsync adds), watched. Once MARK
# (a beacon's, made again at each of its beats: src/beat.h) has been seen
# and then not for SILENCE looks in a row, a second apart, the whole
# process group is ended - the rsync (both of its processes), this shell,
# the session sshd started - so that a copy cut off from shardcap does not
# wait here for TCP to give up. A mark never seen arms nothing. rsync's
# stdin is handed over explicitly: a background command's would be
# /dev/null. The status is rsync's.
rsync_watch() {
	_h=$1
	_n=$2
	shift 2
	exec 3<&0
	"$@" <&3 3<&- &
	_p=$!
	exec 3<&-
	{
		_s=
		_k=0
		while sleep 1; do
			if [ -e "$_h" ]; then
				_s=1
				_k=0
			elif [ -n "$_s" ]; then
				_k=$((_k + 1))
				[ "$_k" -lt "$_n" ] || kill -TERM 0
			fi
		done
	} < /dev/null > /dev/null 2>&1 &
	_w=$!
	wait "$_p"
	_r=$?
	kill "$_w" 2>/dev/null
	return "$_r"
}

# link DIR BASIS FILE ...: each FILE in DIR made a hard link to its BASIS
# there, where it can be (best effort: status 0).
link() {
	_d=$1
	shift
	while [ $# -ge 2 ]; do
		ln -f -- "$_d/$1" "$_d/$2" 2>/dev/null
		shift 2
	done
	return 0
}

agent=$0
attach_wait=10
_exec=0
verb=${1:-}
[ $# -gt 0 ] && shift
case $verb in
slot) slot "$@" ;;
version) echo shardcap-agent ;;
check) check "$@" ;;
list) list "$@" ;;
sizes) sizes "$@" ;;
remove) remove "$@" ;;
delete) delete "$@" ;;
link) link "$@" ;;
peer) peer "$@" ;;
rsync-watch) rsync_watch "$@" ;;
*)
	echo "shardcap agent: unknown verb '$verb'" >&2
	exit 2
	;;
esac

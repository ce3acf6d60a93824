#!/bin/sh
# Byte-for-byte comparison of two builds' outputs on every fixture snapshot.
#
#   tests/compare-outputs.sh record BIN DIR     record BIN's outputs into DIR
#   tests/compare-outputs.sh BEFORE AFTER       compare; each is a binary or a recorded DIR
#
# For every snapshot of GS_FIXTURES (pair/scenario, `-large` ones left out) and of
# GS_THIRDPARTY_OUT (both processes: exe/core and peer-exe/peer-core) it runs goroutines,
# streams, why-blocked (text and --json) and info --json, and keeps stdout, stderr and the
# exit code. info --json's "sources" object may gain keys (a new source named by a later
# build); everything else must match exactly. Prints one line per difference and a final
# "N same, N differ" line; exits 1 when anything differs.
set -eu

FIX=${GS_FIXTURES:-fixtures/out}
TP=${GS_THIRDPARTY_OUT:-fixtures/out-thirdparty}
COMMANDS="goroutines|goroutines --json|streams|streams --json|why-blocked|why-blocked --json|info --json"

# targets: "name exe core" lines.
targets() {
	for d in "$FIX"/*/*/; do
		d=${d%/}
		case $d in *-large) continue ;; esac
		[ -f "$d/exe" ] && [ -f "$d/core" ] || continue
		echo "$(basename "$(dirname "$d")")/$(basename "$d") $d/exe $d/core"
	done
	for d in "$TP"/*/; do
		d=${d%/}
		[ -f "$d/exe" ] && [ -f "$d/core" ] && echo "tp-$(basename "$d") $d/exe $d/core"
		[ -f "$d/peer-exe" ] && [ -f "$d/peer-core" ] &&
			echo "tp-$(basename "$d")-peer $d/peer-exe $d/peer-core"
	done
	return 0
}

record() {
	bin=$1 out=$2
	mkdir -p "$out"
	targets | while read -r name exe core; do
		mkdir -p "$out/$name"
		echo "$COMMANDS" | tr '|' '\n' | while read -r cmd; do
			f="$out/$name/$(echo "$cmd" | tr ' ' '_')"
			rc=0
			# shellcheck disable=SC2086 # cmd is words on purpose
			"$bin" $cmd "$exe" "$core" >"$f.out" 2>"$f.err" </dev/null || rc=$?
			echo "$rc" >"$f.rc"
		done
	done
}

# AFTER's info --json without the "sources" keys BEFORE lacks (a new source passes).
strip_new_sources() {
	python3 -c '
import re, sys
b, a = (open(p).read() for p in sys.argv[1:3])
obj = r"\"sources\":\{([^{}]*)\}"
mb, ma = re.search(obj, b), re.search(obj, a)
if mb and ma:
    old = set(re.findall(r"\"([^\"]+)\":", mb.group(1)))
    items = re.findall(r"\"([^\"]+)\":(\"[^\"]*\"|null|true|false|-?[0-9.]+)", ma.group(1))
    kept = ",".join("\"%s\":%s" % kv for kv in items if kv[0] in old)
    a = a[:ma.start(1)] + kept + a[ma.end(1):]
sys.stdout.write(a)
' "$1" "$2"
}

outputs() {
	if [ -d "$1" ]; then
		echo "$1"
	else
		tmp=$(mktemp -d)
		record "$1" "$tmp"
		echo "$tmp"
	fi
}

if [ "${1:-}" = record ]; then
	[ $# -eq 3 ] || { echo "usage: $0 record BIN DIR" >&2; exit 2; }
	record "$2" "$3"
	echo "recorded $(find "$3" -name '*.rc' | wc -l) outputs into $3"
	exit 0
fi
[ $# -eq 2 ] || { echo "usage: $0 BEFORE AFTER | record BIN DIR" >&2; exit 2; }
B=$(outputs "$1")
A=$(outputs "$2")
tmp=$(mktemp)
same=0 differ=0
for f in $(cd "$B" && find . -type f | sort); do
	if [ ! -f "$A/$f" ]; then
		echo "missing after: $f"
		differ=$((differ + 1))
		continue
	fi
	after=$A/$f
	case $f in
	*info_--json.out)
		strip_new_sources "$B/$f" "$A/$f" >"$tmp"
		after=$tmp
		;;
	esac
	if cmp -s "$B/$f" "$after"; then
		same=$((same + 1))
	else
		echo "differs: $f"
		differ=$((differ + 1))
	fi
done
rm -f "$tmp"
echo "$same same, $differ differ"
[ "$differ" -eq 0 ]

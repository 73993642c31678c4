#!/bin/sh
# The translations: are they complete, and do the programs use them?
#
#   i18n_check.sh complete SRCDIR
#       every message marked in cli/, daemon/ and proto/ (_, N_, P_, NC_) has a
#       translation in every po/LANG/ (all its .po files merged), none of
#       them fuzzy, and each catalog passes msgfmt --check; fails naming
#       each message that does not
#   i18n_check.sh lint SRCDIR
#       no message for a person in cli/*.c and daemon/*.c is printed
#       untranslated: cli_err("…"), cli_usage_err(…, "…"), dlog(…, "…")
#       and fprintf(stderr, "…") must wrap the literal in _(); a line may
#       say why not with /* no i18n: reason */
#   i18n_check.sh cli SRCDIR HAMLET [HAMLETD]
#       with LANG=vi_VN.UTF-8 hamlet help is Vietnamese, with LANG=C
#       English; for every command hamlet help lists, CMD --help has its
#       description and text translated, its synopsis and option names
#       unchanged; hamletd --help is translated too; and --json output is
#       the same bytes under both
#       (77, skipped, when the vi_VN.UTF-8 locale is not installed)
set -u

mode=${1:?mode: complete, lint or cli}
src=${2:?source directory}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail=0
bad() {
	printf 'FAIL: %s\n' "$*"
	fail=1
}

# The msgids of a .po file on stdin, one a line, as "FILE:LINE: msgid"
# (the first source reference), "\n" kept escaped.
po_msgids() {
	awk '
	/^#: / { if (ref == "") ref = $2; next }
	/^msgid / { s = substr($0, 7); inid = 1; next }
	/^msgstr/ || /^msgid_plural/ {
		if (inid && s != "\"\"")
			print (ref == "" ? "?" : ref) ": " s
		inid = 0; ref = ""; s = ""; next
	}
	/^"/ { if (inid) s = (s == "\"\"" ? $0 : substr(s, 1, length(s) - 1) substr($0, 2)); next }
	/^$/ { ref = "" }
	'
}

complete() {
	cd "$src" || exit 1
	find cli daemon proto -name '*.[ch]' | LC_ALL=C sort >"$tmp/files"
	xgettext --from-code=UTF-8 --language=C --keyword=_ --keyword=N_ \
		--keyword=P_:1,2 --keyword=CLI_P_:1,2 --keyword=NC_:1c,2 \
		--no-wrap -f "$tmp/files" \
		-o "$tmp/hamlet.pot" ||
		{ bad "xgettext failed"; return; }
	[ -s "$tmp/hamlet.pot" ] || { bad "no marked message found"; return; }
	nlang=0
	for dir in po/*/; do
		lang=$(basename "$dir")
		set -- "$dir"*.po
		[ -e "$1" ] || continue
		nlang=$((nlang + 1))
		for po in "$@"; do
			msgfmt --check -o /dev/null "$po" 2>"$tmp/err" ||
				bad "$po: msgfmt --check: $(cat "$tmp/err")"
			n=$(msgattrib --only-fuzzy --no-obsolete "$po" | po_msgids | wc -l)
			[ "$n" -eq 0 ] || bad "$po: $n fuzzy entries (translate them and remove the fuzzy flag)"
		done
		msgcat --use-first -o "$tmp/$lang.po" "$@" ||
			{ bad "$lang: msgcat failed"; continue; }
		msgfmt --check -o /dev/null "$tmp/$lang.po" 2>"$tmp/err" ||
			bad "$lang (po/$lang/*.po merged): msgfmt --check: $(cat "$tmp/err")"
		# the catalog as the sources want it; no guessing (no fuzzy match)
		msgmerge -q --no-fuzzy-matching --no-wrap -o "$tmp/$lang.merged.po" \
			"$tmp/$lang.po" "$tmp/hamlet.pot" ||
			{ bad "$lang: msgmerge failed"; continue; }
		# formats checked as the sources flag them (c-format), even where
		# a .po file lacks the flag
		msgfmt --check -o /dev/null "$tmp/$lang.merged.po" 2>"$tmp/err" ||
			bad "$lang (against the sources): msgfmt --check: $(cat "$tmp/err")"
		msgattrib --untranslated --no-obsolete --no-wrap "$tmp/$lang.merged.po" |
			po_msgids >"$tmp/missing"
		while IFS= read -r m; do
			bad "$lang: no translation: $m"
		done <"$tmp/missing"
		# fuzzy: flagged so in a .po file, or a format that does not match
		msgattrib --only-fuzzy --no-obsolete --no-wrap "$tmp/$lang.merged.po" |
			po_msgids >"$tmp/fuzzy"
		while IFS= read -r m; do
			bad "$lang: fuzzy translation (check it, fix its format, remove the flag): $m"
		done <"$tmp/fuzzy"
		total=$(grep -c '^msgid ' "$tmp/hamlet.pot")
		echo "$lang: $(($(cat "$tmp/missing" "$tmp/fuzzy" | wc -l))) of $((total - 1)) messages untranslated or fuzzy"
	done
	[ "$nlang" -gt 0 ] || bad "no po/LANG/*.po catalog"
}

lint() {
	cd "$src" || exit 1
	# the call and its first literal may be on different lines; the
	# exception comment may be on either. A literal without a word (only
	# conversions, punctuation, "hamlet" or "hamletd") needs no _().
	perl -e '
	my $bad = 0;
	for my $f (@ARGV) {
		open(my $fh, "<", $f) or die "$f: $!";
		local $/; my $s = <$fh>; close $fh;
		my @lines = split /\n/, $s, -1;
		while ($s =~ /\b(cli_err\s*\(\s*|cli_usage_err\s*\([^,();]*,\s*|dlog\s*\([^,();]*,\s*|fprintf\s*\(\s*stderr\s*,\s*)"((?:[^"\\]|\\.)*)"/g) {
			my ($call, $lit) = ($1, $2);
			my $start = $-[0];
			my $end = $start + length($call) + 1;
			# nothing to translate: conversions, punctuation, our names
			(my $words = $lit) =~ s/%[-+ #0-9.*lzjh]*[a-zA-Z]|\\[nrt]|\bhamletd?\b//g;
			next unless $words =~ /[A-Za-z]{2}/;
			my $l1 = 1 + (substr($s, 0, $start) =~ tr/\n//);
			my $l2 = 1 + (substr($s, 0, $end) =~ tr/\n//);
			next if grep { $lines[$_ - 1] =~ m{/\*\s*no i18n:} } ($l1 .. $l2);
			(my $name = $call) =~ s/\s*\(.*//s;
			print "FAIL: $f:$l1: $name with an untranslated message: wrap it in _() or say why not with /* no i18n: reason */\n";
			$bad = 1;
		}
	}
	exit $bad;
	' cli/*.c daemon/*.c || fail=1
}

# Split the --help output in FILE into PREFIX.syn (the synopsis lines,
# without the word usage and the indentation), PREFIX.desc (the first
# paragraph after it), PREFIX.text (the indented paragraphs up to the
# first heading or option) and PREFIX.opts (the option lines: "  -..."
# followed by a line indented by six, its description).
help_parts() {
	awk -v p="$2" '
	{ l[NR] = $0 }
	function opt(i) { return l[i] ~ /^  -/ && l[i + 1] ~ /^      [^ ]/ }
	END {
		printf "" >(p ".syn"); printf "" >(p ".desc")
		printf "" >(p ".text"); printf "" >(p ".opts")
		for (i = 1; i <= NR && l[i] != ""; i++) {
			s = l[i]
			if (i == 1) sub(/^[^:]*: */, "", s); else sub(/^ */, "", s)
			print s >(p ".syn")
		}
		for (; i <= NR && l[i] == ""; i++) ;
		for (; i <= NR && l[i] != ""; i++) print l[i] >(p ".desc")
		for (; i <= NR && l[i] !~ /^[^ ]/ && !opt(i); i++)
			print l[i] >(p ".text")
		for (; i <= NR; i++) if (opt(i)) print l[i] >(p ".opts")
	}' "$1"
}

# The English messages with a translation that the Vietnamese text in
# TEXTFILE quotes ("..."), one a line: what it quotes as the program's
# output must be what the program prints in that language. Only quotes
# of more than one word: one word may be a JSON field, which stays.
english_quotes() { # CATALOG TEXTFILE
	awk '
	function unq(s) {
		s = substr(s, 2, length(s) - 2)
		gsub(/\\"/, "\"", s); gsub(/\\n/, "\n", s)
		return s
	}
	function done() {
		if (k == "str" && id != "" && str != "" && str != id) tr[id] = 1
		k = ""
	}
	FNR == NR {
		if (/^msgid "/) { done(); k = "id"; id = unq(substr($0, 7)); next }
		if (/^msgstr(\[0\])? "/) { k = "str"; sub(/^msgstr(\[0\])? /, ""); str = unq($0); next }
		if (/^"/) { if (k == "id") id = id unq($0); else if (k == "str") str = str unq($0); next }
		if (/^msgid_plural/) { next }
		if (/^msgstr\[/) { done(); k = "pl"; next }
		done(); next
	}
	{ text = text " " $0 }
	END {
		gsub(/  +/, " ", text)
		while (match(text, /"[^"]+"/)) {
			q = substr(text, RSTART + 1, RLENGTH - 2)
			if (q ~ / / && ((q in tr) || ((q "\n") in tr)))
				print q
			text = substr(text, RSTART + RLENGTH)
		}
	}' "$1" "$2"
}

cli() {
	hamlet=${3:?hamlet program}
	hamletd=${4:-}
	if ! locale -a 2>/dev/null | grep -qix 'vi_VN\.utf-\{0,1\}8'; then
		echo "SKIP: the vi_VN.UTF-8 locale is not installed (locale -a); build.sh makes it"
		exit 77
	fi
	unset LANGUAGE LC_ALL LC_MESSAGES
	LANG=C "$hamlet" help >"$tmp/help.C" || bad "LANG=C hamlet help failed"
	LANG=vi_VN.UTF-8 "$hamlet" help >"$tmp/help.vi" ||
		bad "LANG=vi_VN.UTF-8 hamlet help failed"
	grep -q '^exit status:$' "$tmp/help.C" ||
		bad "LANG=C: hamlet help has no \"exit status:\" heading"
	grep -q '^Trạng thái thoát:$' "$tmp/help.vi" ||
		bad "LANG=vi_VN.UTF-8: hamlet help has no \"Trạng thái thoát:\" heading"
	grep -q 'tạo một mạng lưới' "$tmp/help.vi" ||
		bad "LANG=vi_VN.UTF-8: the command descriptions are not translated"
	LANG=vi_VN.UTF-8 "$hamlet" conflicts --help >"$tmp/conflicts.vi"
	grep -q '^Cách dùng: hamlet conflicts \[--json\]$' "$tmp/conflicts.vi" ||
		bad "LANG=vi_VN.UTF-8: hamlet conflicts --help has no Vietnamese usage line with the synopsis unchanged"
	grep -q '^  --delete$' "$tmp/conflicts.vi" ||
		bad "LANG=vi_VN.UTF-8: the option names must stay as they are"

	msgcat --use-first --no-wrap -o "$tmp/vi.cat.po" "$src"/po/vi/*.po ||
		bad "po/vi: msgcat failed"
	# every command's --help: description and text translated, synopsis
	# and option names as they are; what it quotes of the output, as
	# printed in that language
	cmds=$(awk '/^commands:$/ { on = 1; next } on && /^$/ { exit }
		on && /^  [a-z]/ { print $1 }' "$tmp/help.C" | uniq)
	[ "$(echo "$cmds" | wc -w)" -ge 20 ] ||
		bad "LANG=C hamlet help lists only these commands: $cmds"
	for cmd in $cmds; do
		LANG=C "$hamlet" "$cmd" --help >"$tmp/cmd.C" ||
			{ bad "LANG=C hamlet $cmd --help failed"; continue; }
		LANG=vi_VN.UTF-8 "$hamlet" "$cmd" --help >"$tmp/cmd.vi" ||
			{ bad "LANG=vi_VN.UTF-8 hamlet $cmd --help failed"; continue; }
		help_parts "$tmp/cmd.C" "$tmp/C"
		help_parts "$tmp/cmd.vi" "$tmp/vi"
		english_quotes "$tmp/vi.cat.po" "$tmp/vi.text" >"$tmp/quotes"
		while IFS= read -r q; do
			bad "LANG=vi_VN.UTF-8 hamlet $cmd --help quotes the English output \"$q\": quote its translation, as the program prints it (po/vi/help.po)"
		done <"$tmp/quotes"
		for part in desc text; do
			[ -s "$tmp/C.$part" ] ||
				bad "hamlet $cmd --help: no $part found (the layout changed?)"
			cmp -s "$tmp/C.$part" "$tmp/vi.$part" &&
				bad "hamlet $cmd --help: its $part is the same under LANG=C and LANG=vi_VN.UTF-8: mark it with N_() in cli/main.c and translate it in po/vi/"
		done
		for part in syn opts; do
			what=synopsis
			[ "$part" = syn ] || what="option name"
			cmp -s "$tmp/C.$part" "$tmp/vi.$part" || {
				bad "hamlet $cmd --help: the $what lines differ between LANG=C and LANG=vi_VN.UTF-8 (they must stay as they are):"
				diff "$tmp/C.$part" "$tmp/vi.$part"
			}
		done
	done
	if [ -n "$hamletd" ]; then
		LANG=C "$hamletd" --help >"$tmp/d.C" 2>&1
		LANG=vi_VN.UTF-8 "$hamletd" --help >"$tmp/d.vi" 2>&1
		grep -q -- '--home DIR' "$tmp/d.C" ||
			bad "LANG=C hamletd --help does not show --home DIR"
		cmp -s "$tmp/d.C" "$tmp/d.vi" &&
			bad "hamletd --help is the same under LANG=C and LANG=vi_VN.UTF-8: translate it"
		help_parts "$tmp/d.C" "$tmp/dC"
		help_parts "$tmp/d.vi" "$tmp/dvi"
		cmp -s "$tmp/dC.syn" "$tmp/dvi.syn" || {
			bad "hamletd --help: the usage lines differ between LANG=C and LANG=vi_VN.UTF-8 beyond the word usage:"
			diff "$tmp/dC.syn" "$tmp/dvi.syn"
		}
	fi

	# a fresh node: --json is for programs, the same bytes in any language
	"$hamlet" network create i18n --out "$tmp" >/dev/null ||
		{ bad "network create failed"; return; }
	LANG=C "$hamlet" --home "$tmp/node" init --network "$tmp/i18n.network" \
		--scope t/c1/v1 >/dev/null || { bad "init failed"; return; }
	LANG=C "$hamlet" --home "$tmp/node" put payment PAY-1 \
		'{"beneficiary_id":"001190012345","program":"forest_service","amount_vnd":500000,"period":"2026-01"}' \
		>/dev/null 2>"$tmp/put.err" || cat "$tmp/put.err"
	for cmd in "status" "verify" "digest"; do
		# a command that fails prints the same JSON error under both
		LANG=C "$hamlet" --home "$tmp/node" --json $cmd >"$tmp/$cmd.C" 2>/dev/null
		c=$?
		LANG=vi_VN.UTF-8 "$hamlet" --home "$tmp/node" --json $cmd >"$tmp/$cmd.vi" 2>/dev/null
		v=$?
		[ -s "$tmp/$cmd.C" ] || bad "hamlet --json $cmd printed nothing"
		[ "$c" -eq "$v" ] || bad "hamlet --json $cmd exits $c under LANG=C, $v under vi_VN.UTF-8"
		cmp -s "$tmp/$cmd.C" "$tmp/$cmd.vi" || {
			bad "hamlet --json $cmd differs between LANG=C and LANG=vi_VN.UTF-8:"
			diff "$tmp/$cmd.C" "$tmp/$cmd.vi"
		}
	done
}

case "$mode" in
complete) complete ;;
lint) lint ;;
cli) cli "$@" ;;
*) echo "unknown mode $mode" >&2; exit 2 ;;
esac
[ "$fail" -eq 0 ] && echo "ok: $mode"
exit "$fail"

# The msgids of the message catalogs that hold a conversion (%), as the
# body of a C array of strings: the sentences why_retranslate() matches a
# stored English reason against. Their lines are C string literals as
# they stand in the .po files (the same escapes).
#   awk -v out=why_formats.inc -f why_formats.awk po/*/*.po
function flush() {
	if (id != "" && id ~ /%/ && !(id in seen)) {
		seen[id] = 1
		print "\t" id "," > out
	}
	id = ""
	inid = 0
}
/^#~/ { next }
/^msgid "/ { flush(); id = substr($0, 7); inid = 1; next }
/^"/ { if (inid) id = id " " $0; next }
{ if (inid) flush() }
END { flush(); printf "" > out }

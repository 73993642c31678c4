#include "filekind.h"

#include "i18n.h"

#include <string.h>

#define SECTION_SCAN 4096 /* bytes a section is looked for in */

static const struct {
	enum filekind_id id;
	char letter;	     /* binary: "HAMLET" and this letter */
	const char *section; /* INI: its first section */
	const char *is, *use;
} kinds[] = {
	{ FILEKIND_CERT, 'C', NULL, N_("a certificate (made by hamlet cert issue)"),
	  N_("the node it is for installs it with \"hamlet cert install FILE\"") },
	{ FILEKIND_BUNDLE, 'B', NULL, N_("a bundle (made by hamlet bundle create)"),
	  N_("the node it is for imports it with \"hamlet bundle import FILE\"") },
	{ FILEKIND_BUNDLE, 'E', NULL, N_("a bundle (made by hamlet bundle create)"),
	  N_("the node it is for imports it with \"hamlet bundle import FILE\"") },
	{ FILEKIND_SUMMARY, 'S', NULL, N_("a summary (made by hamlet summary)"),
	  N_("it goes to the node with the newer data, which makes a bundle for it with \"hamlet bundle create --for FILE OUT\"") },
	{ FILEKIND_NETWORK, 0, "network", N_("a network file"),
	  N_("a new node joins the network with it: \"hamlet init --network FILE\"") },
	{ FILEKIND_ROOT_KEY, 0, "root", N_("the network's root key"),
	  N_("it stays on the administrator's offline PC, where \"hamlet cert issue --root-key FILE\" uses it") },
	{ FILEKIND_NODE_KEY, 0, "key", N_("a node's secret key (node.key)"),
	  N_("it belongs in its node's directory and nowhere else") },
	{ FILEKIND_NODE_CONF, 0, "node", N_("a node's settings (its node.conf, or hamletd's configuration)"),
	  N_("hamlet and hamletd read it where it is; nothing imports it") },
};

#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static int found(size_t i, struct filekind *ret)
{
	ret->id = kinds[i].id;
	ret->is = kinds[i].is;
	ret->use = kinds[i].use;
	return 1;
}

/* The name of the first section of an INI text, into name (cap bytes):
 * past blank lines and comments only, as our INI files start. */
static int first_section(const char *p, size_t n, char *name, size_t cap)
{
	size_t i = 0;

	if (n > SECTION_SCAN)
		n = SECTION_SCAN;
	if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < n) {
		while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
				 p[i] == '\n'))
			i++;
		if (i == n)
			return 0;
		if (p[i] == '#' || p[i] == ';') {
			while (i < n && p[i] != '\n')
				i++;
			continue;
		}
		if (p[i] != '[')
			return 0;
		size_t s = ++i, k = 0;
		while (i < n && p[i] != ']' && p[i] != '\n' && k + 1 < cap)
			name[k++] = p[i++];
		name[k] = 0;
		if (i == n || p[i] != ']' || i == s)
			return 0;
		/* after "]", nothing but blanks or a comment to the line's
		 * end: "[key],name" is a CSV's header, no section */
		for (i++; i < n && p[i] != '\n'; i++) {
			if (p[i] == ';' || p[i] == '#')
				break;
			if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
				return 0;
		}
		return 1;
	}
	return 0;
}

int filekind_of(const void *head, size_t n, struct filekind *ret)
{
	const char *p = head;
	char section[16];

	if (n >= 8 && memcmp(p, "HAMLET", 6) == 0 && p[7] >= 1 && p[7] <= 9) {
		for (size_t i = 0; i < NKINDS; i++)
			if (kinds[i].letter && kinds[i].letter == p[6])
				return found(i, ret);
		return 0;
	}
	if (!first_section(p, n, section, sizeof(section)))
		return 0;
	for (size_t i = 0; i < NKINDS; i++)
		if (kinds[i].section && strcmp(kinds[i].section, section) == 0)
			return found(i, ret);
	return 0;
}

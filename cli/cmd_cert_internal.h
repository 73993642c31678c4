/*
 * cmd_cert_internal: what cmd_cert.c (issue, revoke and the dispatch of
 * hamlet cert) and cmd_cert_chain.c (install, list, show) share. Nothing
 * else includes it.
 */
#ifndef HAMLET_CMD_CERT_INTERNAL_H
#define HAMLET_CMD_CERT_INTERNAL_H

/* hamlet cert install|list|show, argv[0] being the verb: 0 or a negative
 * error, printed (cmd_cert() makes it an exit code). */
int cmd_cert__install(int argc, char **argv);
int cmd_cert__list(int argc, char **argv);
int cmd_cert__show(int argc, char **argv);

#endif

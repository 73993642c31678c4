/*
 * The release of hamlet, printed by "hamlet --version" and
 * "hamletd --version".
 */
#ifndef HAMLET_VERSION_H
#define HAMLET_VERSION_H

#define HAMLET_VERSION "0.1.0"

#endif

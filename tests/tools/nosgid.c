/* nosgid PROGRAM ARGS...: runs PROGRAM as systemd's RestrictSUIDSGID=yes
 * (set in the units of systemd/) would: chmod, fchmod, fchmodat, mkdir and
 * mkdirat fail with EPERM when their mode holds S_ISUID or S_ISGID,
 * whatever the file. A seccomp filter, so with no systemd running; x86-64
 * only (exit 77, a skip, elsewhere). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__) && defined(__linux__)
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#define ARG(n) (offsetof(struct seccomp_data, args) + 8 * (n))
/* syscall NR whose argument A has a set-ID bit: EPERM */
#define RULE(NR, A)                                                        \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)), \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR, 0, 3),                     \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG(A)),                        \
	BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, S_ISUID | S_ISGID, 0, 1),     \
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM)

int main(int argc, char **argv)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		RULE(__NR_chmod, 1),
		RULE(__NR_fchmod, 1),
		RULE(__NR_fchmodat, 2),
		RULE(__NR_mkdir, 1),
		RULE(__NR_mkdirat, 2),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog p = { sizeof(f) / sizeof(f[0]), f };

	if (argc < 2) {
		fprintf(stderr, "usage: nosgid PROGRAM ARGS...\n");
		return 2;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p) != 0) {
		perror("nosgid: seccomp");
		return 77;
	}
	execvp(argv[1], argv + 1);
	perror(argv[1]);
	return 127;
}
#else
int main(void)
{
	fprintf(stderr, "nosgid: x86-64 Linux only\n");
	return 77;
}
#endif

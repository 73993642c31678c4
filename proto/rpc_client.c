#include "rpc_client.h"

#include "bytes.h"
#include "error.h"
#include "mp.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Every request and response length fits the u32 before it. */
_Static_assert(RPC_MAX_REQUEST <= UINT32_MAX && RPC_MAX_RESPONSE <= UINT32_MAX,
	       "RPC sizes must fit a u32 length");

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for fd to be ready for events before the deadline. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = { fd, events, 0 };
	long long left = deadline - now_ms();
	int r;
	if (left <= 0)
		return -ETIMEDOUT;
	r = poll(&p, 1, (int)left);
	if (r < 0)
		return -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

static int io_all(int fd, uint8_t *p, size_t n, int writing,
		  long long deadline)
{
	while (n) {
		ssize_t k;
		int r;
		if ((r = wait_fd(fd, writing ? POLLOUT : POLLIN, deadline)) < 0)
			return r;
		k = writing ? send(fd, p, n, MSG_NOSIGNAL) : recv(fd, p, n, 0);
		if (k < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (k == 0) /* closed early: the daemon stopped, say */
			return writing ? -EPIPE : -ECONNRESET;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int rpc_client_call(const char *socket_path, const char *method,
		    const char *arg, int timeout_ms, uint8_t **ret,
		    size_t *ret_len)
{
	struct mp_writer w;
	uint8_t *req;
	size_t rl;
	int r;
	mp_writer_init(&w);
	msgpack_pack_array(&w.pk, arg ? 2 : 1);
	mp_pack_str(&w.pk, method);
	if (arg)
		mp_pack_str(&w.pk, arg);
	req = mp_writer_take(&w, &rl);
	mp_writer_destroy(&w);
	if (!req)
		return -ENOMEM;
	r = rpc_client_call_raw(socket_path, req, rl, timeout_ms, ret, ret_len);
	free(req);
	return r;
}

int rpc_client_call_raw(const char *socket_path, const uint8_t *req,
			size_t rl, int timeout_ms, uint8_t **ret,
			size_t *ret_len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long long deadline = now_ms() + timeout_ms;
	uint8_t *resp = NULL, hdr[4];
	struct bytes_writer hw;
	struct bytes_reader hr;
	uint32_t n;
	int fd, r;

	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, socket_path);
	if (rl > RPC_MAX_REQUEST)
		return HAMLET_ETOOBIG;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		goto out;
	}
	bytes_writer_init(&hw, hdr, sizeof(hdr));
	if ((r = bytes_put_be32(&hw, (uint32_t)rl)) < 0 ||
	    (r = io_all(fd, hdr, bytes_written(&hw), 1, deadline)) < 0 ||
	    (r = io_all(fd, (uint8_t *)req, rl, 1, deadline)) < 0 ||
	    (r = io_all(fd, hdr, sizeof(hdr), 0, deadline)) < 0)
		goto out;
	bytes_reader_init(&hr, hdr, sizeof(hdr));
	if ((r = bytes_get_be32(&hr, &n)) < 0)
		goto out;
	if (n == 0 || n > RPC_MAX_RESPONSE) {
		r = HAMLET_ETOOBIG;
		goto out;
	}
	if (!(resp = malloc(n))) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = io_all(fd, resp, n, 0, deadline)) < 0)
		goto out;
	*ret = resp;
	*ret_len = n;
	resp = NULL;
	r = 0;
out:
	close(fd);
	free(resp);
	return r;
}

void rpc_pack_write_op(struct msgpack_packer *pk, int kind,
		       const char *collection, const char *record_id,
		       const char *scope, const uint8_t *body,
		       size_t body_len, int resolve,
		       const uint8_t (*heads)[32], size_t nheads)
{
	/* [.., resolve] alone when no heads go: as before they did */
	msgpack_pack_array(pk, heads ? 7 : 6);
	msgpack_pack_uint64(pk, (uint64_t)kind);
	mp_pack_str(pk, collection);
	mp_pack_str(pk, record_id);
	if (scope)
		mp_pack_str(pk, scope);
	else
		msgpack_pack_nil(pk);
	if (body)
		mp_pack_bin(pk, body, body_len);
	else
		msgpack_pack_nil(pk);
	if (resolve)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	if (heads)
		mp_pack_bin(pk, heads, nheads * 32);
}

int rpc_client_call_bin(const char *socket_path, const char *method,
			const void *arg, size_t arg_len, int timeout_ms,
			uint8_t **ret, size_t *ret_len)
{
	struct mp_writer req;
	int r;
	mp_writer_init(&req);
	msgpack_pack_array(&req.pk, 2);
	mp_pack_str(&req.pk, method);
	mp_pack_bin(&req.pk, arg, arg_len);
	r = rpc_client_call_raw(socket_path, (const uint8_t *)req.sb.data,
				req.sb.size, timeout_ms, ret, ret_len);
	mp_writer_destroy(&req);
	return r;
}

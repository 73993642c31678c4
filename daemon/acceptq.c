/*
 * acceptq: taking a listener's connections a share at a time. See
 * acceptq.h.
 */
#include "acceptq.h"

#include "dlog.h"
#include "i18n.h"


#define RETRY_MS 1000 /* after no handle could be made for one */

static void on_timer(uv_timer_t *t)
{
	struct acceptq *q = t->data;
	q->taken = 0;
	acceptq_take(q);
}

void acceptq_take(struct acceptq *q)
{
	uint64_t now;
	int r;

	if (!q->open)
		return;
	now = uv_now(q->timer.loop);
	if (now != q->turn_ms) {
		q->turn_ms = now;
		q->taken = 0;
	}
	if (q->taken >= q->per_turn) {
		uv_timer_start(&q->timer, on_timer, 0, 0);
		return;
	}
	q->taken++;
	r = q->take(q, q->server);
	if (r == ACCEPTQ_LATER) {
		uv_timer_start(&q->timer, on_timer, RETRY_MS, 0);
	} else if (r < 0 && r != UV_EAGAIN) {
		/* libuv watches the listener again only after an accept
		 * that worked: listening again starts it */
		if ((r = uv_listen(q->server, q->backlog, q->on_connection)) <
		    0)
			dlog(DLOG_ERR, _("cannot listen on %s: %s"), q->where,
			     dlog_err(r));
	}
}

int acceptq_listen(struct acceptq *q, uv_stream_t *server, const char *where,
		   int backlog, uv_connection_cb on_connection,
		   unsigned per_turn, acceptq_take_fn take)
{
	*q = (struct acceptq){ .server = server,
			       .where = where,
			       .per_turn = per_turn ? per_turn : 1,
			       .backlog = backlog,
			       .on_connection = on_connection,
			       .take = take };
	uv_timer_init(server->loop, &q->timer);
	q->timer.data = q;
	q->open = 1;
	return uv_listen(server, backlog, on_connection);
}

void acceptq_close(struct acceptq *q)
{
	if (!q->open)
		return;
	q->open = 0;
	uv_close((uv_handle_t *)&q->timer, NULL);
}

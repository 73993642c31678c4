/*
 * faultproxy: a TCP proxy for tests that makes a link behave like a bad
 * one. Everything is bounded: it exits after --max-seconds.
 *
 *   faultproxy LISTEN_PORT TARGET_PORT [--rate BYTES_PER_S] [--delay MS]
 *              [--drop MIN:MAX] [--stall PERCENT:MS] [--seed N]
 *              [--max-seconds S]
 *
 * --rate   caps each direction's throughput (a 2G link: 10000)
 * --delay  one-way latency added to every chunk (300 ms RTT: 150)
 * --drop   cut each connection after a random number of bytes in
 *          [MIN, MAX] (both ways counted)
 * --stall  with PERCENT chance per chunk, hold the direction for MS
 * Once listening it prints "faultproxy: listening on 127.0.0.1:PORT". On
 * exit (--max-seconds passed, or SIGTERM/SIGINT) it prints one line:
 * connections, drops, bytes each way.
 * Only 127.0.0.1 is ever listened on or connected to.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

struct chunk {
	struct chunk *next;
	uint64_t due;
	size_t len;
	char data[];
};

struct dir;
struct conn {
	uv_tcp_t down, up; /* client side, target side */
	int closing, handles;
	uint64_t budget, moved;
	struct dir *d[2];
};

struct dir {
	struct conn *c;
	uv_tcp_t *from, *to;
	uv_timer_t timer;
	struct chunk *head, *tail;
	size_t queued;
	uint64_t next_free;
	int reading, idx, eof;
	uv_shutdown_t sd;
};

static struct {
	uint64_t rate, delay, drop_min, drop_max, stall_pct, stall_ms, max_s;
	int target_port;
	uint64_t conns, drops, bytes[2];
} cfg;
static uv_loop_t *loop;
static uv_tcp_t server;
static uv_timer_t deadline;
static uv_signal_t sigterm, sigint;

static uint64_t rnd(uint64_t n)
{
	return n ? ((uint64_t)rand() * RAND_MAX + (uint64_t)rand()) % n : 0;
}

static void dir_pump(struct dir *d);

static void on_closed(uv_handle_t *h)
{
	struct conn *c = ((struct dir *)h->data)->c;
	if (--c->handles > 0)
		return;
	for (int i = 0; i < 2; i++) {
		struct dir *d = c->d[i];
		while (d->head) {
			struct chunk *n = d->head->next;
			free(d->head);
			d->head = n;
		}
		free(d);
	}
	free(c);
}

static void conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	c->handles = 4;
	uv_close((uv_handle_t *)&c->down, on_closed);
	uv_close((uv_handle_t *)&c->up, on_closed);
	uv_close((uv_handle_t *)&c->d[0]->timer, on_closed);
	uv_close((uv_handle_t *)&c->d[1]->timer, on_closed);
}

static void on_alloc(uv_handle_t *h, size_t sug, uv_buf_t *b)
{
	(void)h;
	(void)sug;
	b->base = malloc(16384);
	b->len = b->base ? 16384 : 0;
}

struct wreq {
	uv_write_t w;
	struct chunk *ch;
};

static void on_written(uv_write_t *w, int status)
{
	struct wreq *q = (struct wreq *)w;
	struct conn *c = q->w.data;
	free(q->ch);
	free(q);
	if (status < 0 && status != UV_ECANCELED && !c->closing)
		conn_close(c);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct dir *d = s->data;
	struct conn *c = d->c;
	if (n < 0) {
		/* the sender is done: deliver what is queued, then pass the
		 * end of stream on */
		free(b->base);
		if (d->reading)
			uv_read_stop(s);
		d->reading = 0;
		d->eof = 1;
		dir_pump(d);
		return;
	}
	if (n == 0 || c->closing) {
		free(b->base);
		return;
	}
	struct chunk *ch = malloc(sizeof(*ch) + (size_t)n);
	memcpy(ch->data, b->base, (size_t)n);
	free(b->base);
	ch->len = (size_t)n;
	ch->next = NULL;
	uint64_t now = uv_now(loop);
	uint64_t start = now + cfg.delay;
	if (cfg.stall_pct && rnd(100) < cfg.stall_pct)
		start += cfg.stall_ms;
	if (cfg.rate) {
		if (d->next_free > start)
			start = d->next_free;
		d->next_free = start + (uint64_t)n * 1000 / cfg.rate;
	}
	ch->due = start;
	if (d->tail)
		d->tail->next = ch;
	else
		d->head = ch;
	d->tail = ch;
	d->queued += (size_t)n;
	if (d->queued > (1 << 20) && d->reading) {
		uv_read_stop((uv_stream_t *)d->from);
		d->reading = 0;
	}
	dir_pump(d);
}

static void on_timer(uv_timer_t *t)
{
	dir_pump(t->data);
}

static void on_shutdown(uv_shutdown_t *sd, int status)
{
	(void)status;
	struct dir *d = sd->data;
	/* both directions finished: close */
	if (d->c->d[0]->eof && d->c->d[1]->eof)
		conn_close(d->c);
}

static void dir_pump(struct dir *d)
{
	struct conn *c = d->c;
	uint64_t now = uv_now(loop);
	while (!c->closing && d->head && d->head->due <= now) {
		struct chunk *ch = d->head;
		struct wreq *q = malloc(sizeof(*q));
		uv_buf_t b = uv_buf_init(ch->data, (unsigned)ch->len);
		d->head = ch->next;
		if (!d->head)
			d->tail = NULL;
		d->queued -= ch->len;
		q->ch = ch;
		q->w.data = c;
		if (uv_write(&q->w, (uv_stream_t *)d->to, &b, 1, on_written) < 0) {
			free(ch);
			free(q);
			conn_close(c);
			return;
		}
		cfg.bytes[d->idx] += ch->len;
		c->moved += ch->len;
		if (c->budget && c->moved >= c->budget) {
			cfg.drops++;
			conn_close(c);
			return;
		}
	}
	if (c->closing)
		return;
	if (d->eof) {
		if (!d->head && !d->sd.data) {
			d->sd.data = d;
			if (uv_shutdown(&d->sd, (uv_stream_t *)d->to,
					on_shutdown) < 0)
				conn_close(c);
		} else if (d->head) {
			uv_timer_start(&d->timer, on_timer, d->head->due - now, 0);
		}
		return;
	}
	if (!d->reading && d->queued < (256 << 10)) {
		uv_read_start((uv_stream_t *)d->from, on_alloc, on_read);
		d->reading = 1;
	}
	if (d->head)
		uv_timer_start(&d->timer, on_timer, d->head->due - now, 0);
}

static void on_up_connected(uv_connect_t *req, int status)
{
	struct conn *c = req->data;
	free(req);
	if (status < 0 || c->closing) {
		conn_close(c);
		return;
	}
	for (int i = 0; i < 2; i++) {
		uv_read_start((uv_stream_t *)c->d[i]->from, on_alloc, on_read);
		c->d[i]->reading = 1;
	}
}

static void on_accept(uv_stream_t *srv, int status)
{
	if (status < 0)
		return;
	struct conn *c = calloc(1, sizeof(*c));
	uv_tcp_init(loop, &c->down);
	uv_tcp_init(loop, &c->up);
	for (int i = 0; i < 2; i++) {
		struct dir *d = calloc(1, sizeof(*d));
		d->c = c;
		d->idx = i;
		d->from = i == 0 ? &c->down : &c->up;
		d->to = i == 0 ? &c->up : &c->down;
		uv_timer_init(loop, &d->timer);
		d->timer.data = d;
		c->d[i] = d;
	}
	c->down.data = c->d[0];
	c->up.data = c->d[1];
	if (uv_accept(srv, (uv_stream_t *)&c->down) < 0) {
		conn_close(c);
		return;
	}
	cfg.conns++;
	if (cfg.drop_max)
		c->budget = cfg.drop_min + rnd(cfg.drop_max - cfg.drop_min + 1);
	struct sockaddr_in a;
	uv_ip4_addr("127.0.0.1", cfg.target_port, &a);
	uv_connect_t *req = malloc(sizeof(*req));
	req->data = c;
	if (uv_tcp_connect(req, &c->up, (struct sockaddr *)&a,
			   on_up_connected) < 0) {
		free(req);
		conn_close(c);
	}
}

static void on_deadline(uv_timer_t *t)
{
	(void)t;
	uv_stop(loop);
}

/* a test ends the proxy with SIGTERM and reads the figures it prints */
static void on_signal(uv_signal_t *s, int signum)
{
	(void)s;
	(void)signum;
	uv_stop(loop);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: faultproxy LISTEN_PORT TARGET_PORT [options]\n");
		return 2;
	}
	int listen_port = atoi(argv[1]);
	cfg.target_port = atoi(argv[2]);
	cfg.max_s = 600;
	unsigned seed = 1;
	for (int i = 3; i + 1 < argc; i += 2) {
		const char *o = argv[i], *v = argv[i + 1];
		if (!strcmp(o, "--rate"))
			cfg.rate = strtoull(v, NULL, 10);
		else if (!strcmp(o, "--delay"))
			cfg.delay = strtoull(v, NULL, 10);
		else if (!strcmp(o, "--drop"))
			sscanf(v, "%lu:%lu", &cfg.drop_min, &cfg.drop_max);
		else if (!strcmp(o, "--stall"))
			sscanf(v, "%lu:%lu", &cfg.stall_pct, &cfg.stall_ms);
		else if (!strcmp(o, "--seed"))
			seed = (unsigned)atoi(v);
		else if (!strcmp(o, "--max-seconds"))
			cfg.max_s = strtoull(v, NULL, 10);
		else {
			fprintf(stderr, "faultproxy: unknown option %s\n", o);
			return 2;
		}
	}
	srand(seed);
	/* a write to a connection its peer closed fails with EPIPE instead
	 * of killing the proxy */
	signal(SIGPIPE, SIG_IGN);
	loop = uv_default_loop();
	struct sockaddr_in a;
	uv_ip4_addr("127.0.0.1", listen_port, &a);
	uv_tcp_init(loop, &server);
	if (uv_tcp_bind(&server, (struct sockaddr *)&a, 0) < 0 ||
	    uv_listen((uv_stream_t *)&server, 64, on_accept) < 0) {
		fprintf(stderr, "faultproxy: cannot listen on 127.0.0.1:%d\n",
			listen_port);
		return 1;
	}
	printf("faultproxy: listening on 127.0.0.1:%d\n", listen_port);
	fflush(stdout);
	uv_timer_init(loop, &deadline);
	uv_timer_start(&deadline, on_deadline, cfg.max_s * 1000, 0);
	uv_signal_init(loop, &sigterm);
	uv_signal_start(&sigterm, on_signal, SIGTERM);
	uv_signal_init(loop, &sigint);
	uv_signal_start(&sigint, on_signal, SIGINT);
	uv_run(loop, UV_RUN_DEFAULT);
	printf("faultproxy: %lu connections, %lu drops, %lu bytes down->up, %lu bytes up->down\n",
	       cfg.conns, cfg.drops, cfg.bytes[0], cfg.bytes[1]);
	return 0;
}

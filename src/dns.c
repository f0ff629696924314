/*
 * dns.c - non-blocking stub resolver (see dns.h).
 *
 * A lookup owns one slot of a fixed table: a connected UDP socket to the
 * current nameserver, the two query ids (A and AAAA), and the addresses
 * gathered so far.  Both queries go out together; the lookup completes
 * when both are answered, or on timeout moves to the next server (with
 * fresh ids) until attempts run out.  Answers are accepted only from the
 * connected server and only with the expected id and question type.
 *
 * Results are cached by name for the smallest TTL seen (capped at five
 * minutes).  The hosts file and resolv.conf are read once at start-up and
 * on SIGHUP, never on the request path.
 *
 * State lives in the caller's struct dns_ctx, sized by use: the cache
 * (DNS_CACHE_SIZE entries, ~40 KB) is allocated with the first answer from
 * the network, and a lookup slot (~1.4 KB) the first time that many
 * lookups are in flight at once.  A server that never resolves a name
 * through the network (literals, hosts, localhost) never makes either.
 */
#define _GNU_SOURCE
#include "dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "log.h"

#define T_A 1
#define T_AAAA 28
#define CACHE_MAX_TTL 300
#define CACHE_MIN_TTL 5

const char *dns_strerror(int err)
{
	switch (err) {
	case DNS_OK: return "ok";
	case DNS_NOTFOUND: return "host not found";
	case DNS_TIMEOUT: return "DNS timeout";
	case DNS_BUSY: return "too many DNS lookups in flight";
	default: return "DNS failure";
	}
}

/* ---- pure helpers ----------------------------------------------------------- */

int dns_build_query(uint8_t *buf, size_t cap, uint16_t id, const char *name,
		    uint16_t qtype)
{
	size_t nl = strlen(name), o = 12;
	const char *p = name;

	if (nl == 0 || nl > DNS_NAME_MAX || cap < 12 + nl + 2 + 4)
		return -1;
	memset(buf, 0, 12);
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
	buf[2] = 0x01; /* RD */
	buf[5] = 1;    /* QDCOUNT */
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t ll = dot ? (size_t)(dot - p) : strlen(p);
		if (ll == 0 || ll > 63)
			return -1;
		buf[o++] = (uint8_t)ll;
		memcpy(buf + o, p, ll);
		o += ll;
		p += ll;
		if (*p == '.')
			p++;
	}
	buf[o++] = 0;
	buf[o++] = (uint8_t)(qtype >> 8);
	buf[o++] = (uint8_t)qtype;
	buf[o++] = 0;
	buf[o++] = 1; /* IN */
	return (int)o;
}

/* Skip a (possibly compressed) name at *off.  -1 if malformed. */
static int skip_name(const uint8_t *b, size_t len, size_t *off)
{
	size_t o = *off;
	int labels = 0;
	while (o < len) {
		uint8_t l = b[o];
		if ((l & 0xc0) == 0xc0) {
			if (o + 2 > len)
				return -1;
			*off = o + 2; /* a pointer ends the name here */
			return 0;
		}
		if (l & 0xc0)
			return -1;
		o += 1 + (size_t)l;
		if (l == 0) {
			*off = o;
			return 0;
		}
		if (++labels > 127)
			return -1;
	}
	return -1;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int dns_parse_answer(const uint8_t *b, size_t len, uint16_t id,
		     uint16_t qtype, struct dns_addrs *out, uint32_t *ttl)
{
	struct dns_addrs got = *out; /* committed only if all is well */
	uint32_t min_ttl = *ttl;
	size_t o = 12;
	int qd, an, i, added = 0, rcode;

	if (len < 12 || rd16(b) != id || !(b[2] & 0x80))
		return DNS_FAIL;
	qd = rd16(b + 4);
	an = rd16(b + 6);
	if (qd != 1)
		return DNS_FAIL;
	if (skip_name(b, len, &o) < 0 || o + 4 > len ||
	    rd16(b + o) != qtype)
		return DNS_FAIL;
	o += 4;
	rcode = b[3] & 0x0f;
	if (rcode == 3)
		return DNS_NOTFOUND;
	if (rcode != 0)
		return DNS_FAIL;
	for (i = 0; i < an; i++) {
		uint16_t type, rdlen;
		uint32_t t;
		if (skip_name(b, len, &o) < 0 || o + 10 > len)
			return DNS_FAIL;
		type = rd16(b + o);
		t = (uint32_t)b[o + 4] << 24 | (uint32_t)b[o + 5] << 16 |
		    (uint32_t)b[o + 6] << 8 | b[o + 7];
		if (t > 0x7fffffffu) /* RFC 2181 8: treat as zero */
			t = 0;
		rdlen = rd16(b + o + 8);
		o += 10;
		if (o + rdlen > len)
			return DNS_FAIL;
		if (type == qtype && got.n < DNS_MAX_ADDRS &&
		    ((type == T_A && rdlen == 4) ||
		     (type == T_AAAA && rdlen == 16))) {
			struct sockaddr_storage *ss = &got.a[got.n++];
			memset(ss, 0, sizeof(*ss));
			if (type == T_A) {
				struct sockaddr_in *s4 = (void *)ss;
				s4->sin_family = AF_INET;
				memcpy(&s4->sin_addr, b + o, 4);
			} else {
				struct sockaddr_in6 *s6 = (void *)ss;
				s6->sin6_family = AF_INET6;
				memcpy(&s6->sin6_addr, b + o, 16);
			}
			if (t < min_ttl)
				min_ttl = t;
			added++;
		}
		o += rdlen;
	}
	*out = got;
	*ttl = min_ttl;
	return added;
}

static int parse_ip(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (void *)ss;
	struct sockaddr_in6 *s6 = (void *)ss;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		return 0;
	}
	return -1;
}

void dns_parse_resolv_conf(const char *text, struct dns_conf *conf)
{
	const char *p = text;
	memset(conf, 0, sizeof(*conf));
	conf->timeout_ms = 5000;
	conf->attempts = 2;
	while (p && *p) {
		char line[256], *w, *save = NULL;
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl ? nl + 1 : NULL;
		w = strtok_r(line, " \t\r", &save);
		if (!w || *w == '#' || *w == ';')
			continue;
		if (!strcmp(w, "nameserver")) {
			w = strtok_r(NULL, " \t\r", &save);
			if (w && conf->nservers < DNS_MAX_SERVERS &&
			    parse_ip(w, &conf->server[conf->nservers]) == 0)
				conf->nservers++;
		} else if (!strcmp(w, "options")) {
			while ((w = strtok_r(NULL, " \t\r", &save)) != NULL) {
				if (!strncmp(w, "timeout:", 8)) {
					int v = atoi(w + 8);
					if (v >= 1 && v <= 30)
						conf->timeout_ms = v * 1000;
				} else if (!strncmp(w, "attempts:", 9)) {
					int v = atoi(w + 9);
					if (v >= 1 && v <= 5)
						conf->attempts = v;
				}
			}
		}
	}
	if (conf->nservers == 0) { /* as the C library: a local server */
		parse_ip("127.0.0.1", &conf->server[0]);
		conf->nservers = 1;
	}
}

int dns_hosts_lookup(const char *text, const char *name,
		     struct dns_addrs *out)
{
	const char *p = text;
	int found = 0;
	while (p && *p) {
		char line[512], *w, *save = NULL;
		struct sockaddr_storage ss;
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *hash;
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl ? nl + 1 : NULL;
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		w = strtok_r(line, " \t\r", &save);
		if (!w || parse_ip(w, &ss) < 0)
			continue;
		while ((w = strtok_r(NULL, " \t\r", &save)) != NULL)
			if (!strcasecmp(w, name) && out->n < DNS_MAX_ADDRS) {
				out->a[out->n++] = ss;
				found++;
				break;
			}
	}
	return found;
}

/* ---- run-time state -------------------------------------------------------- */

struct dns_cache_ent {
	char name[DNS_NAME_MAX + 1];
	struct dns_addrs addrs;
	int64_t expires;
};

struct dns_query {
	int busy;
	unsigned gen;
	struct dns_ctx *d;
	struct loop_watch w;
	struct loop_timer t;
	char name[DNS_NAME_MAX + 1];
	uint16_t id4, id6;
	int done4, done6;
	int notfound;
	uint32_t ttl;
	int server, tries;
	struct dns_addrs res;
	dns_cb cb;
	void *user;
};

void dns_init(struct dns_ctx *d, struct loop *l)
{
	memset(d, 0, sizeof(*d));
	d->l = l;
}

static uint16_t next_id(struct dns_ctx *d)
{
	if (!d->rng) {
		if (getrandom(&d->rng, sizeof(d->rng), GRND_NONBLOCK) !=
		    sizeof(d->rng))
			d->rng = (uint64_t)time(NULL) * 2654435761u ^
				 (uint64_t)getpid();
		d->rng |= 1;
	}
	d->rng ^= d->rng << 13;
	d->rng ^= d->rng >> 7;
	d->rng ^= d->rng << 17;
	return (uint16_t)(d->rng >> 24);
}

/* The file's text (up to 64 KB), in a block of its own size. */
static char *read_small_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf, *fit;
	size_t n = 0;
	ssize_t k;
	if (fd < 0)
		return NULL;
	buf = malloc(65536);
	if (!buf) {
		close(fd);
		return NULL;
	}
	while (n < 65535 && ((k = read(fd, buf + n, 65535 - n)) > 0 ||
			     (k < 0 && errno == EINTR)))
		if (k > 0)
			n += (size_t)k;
	buf[n] = '\0';
	close(fd);
	fit = realloc(buf, n + 1);
	return fit ? fit : buf;
}

void dns_reload(struct dns_ctx *d)
{
	const char *rc = getenv("CPA_RESOLV_CONF");
	const char *hp = getenv("CPA_HOSTS");
	const char *dp = getenv("CPA_DNS_PORT");
	char *text = read_small_file(rc ? rc : "/etc/resolv.conf");

	dns_parse_resolv_conf(text ? text : "", &d->conf);
	free(text);
	free(d->hosts);
	d->hosts = read_small_file(hp ? hp : "/etc/hosts");
	d->port = (uint16_t)(dp ? atoi(dp) : 0);
	if (d->cache)
		memset(d->cache, 0, DNS_CACHE_SIZE * sizeof(*d->cache));
	d->loaded = 1;
}

void dns_free(struct dns_ctx *d)
{
	int i;
	for (i = 0; i < DNS_MAX_QUERIES && d->q[i]; i++) {
		struct dns_handle h = {i, d->q[i]->gen};
		dns_cancel(d, &h);
		free(d->q[i]);
		d->q[i] = NULL;
	}
	free(d->cache);
	d->cache = NULL;
	free(d->hosts);
	d->hosts = NULL;
	d->loaded = 0;
}

static void lower_copy(char *dst, const char *src)
{
	size_t i;
	for (i = 0; src[i] && i < DNS_NAME_MAX; i++)
		dst[i] = (char)((src[i] >= 'A' && src[i] <= 'Z') ? src[i] + 32
								  : src[i]);
	if (i > 0 && dst[i - 1] == '.')
		i--;
	dst[i] = '\0';
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

/* Remember an answer; the cache is made with the first one. */
static void cache_put(struct dns_ctx *d, const char *name,
		      const struct dns_addrs *a, uint32_t ttl)
{
	struct dns_cache_ent *c = d->cache;
	int i, victim = 0;
	if (!c && !(c = d->cache = calloc(DNS_CACHE_SIZE, sizeof(*c))))
		return; /* no memory: answers are simply not cached */
	if (ttl < CACHE_MIN_TTL)
		ttl = CACHE_MIN_TTL;
	if (ttl > CACHE_MAX_TTL)
		ttl = CACHE_MAX_TTL;
	for (i = 0; i < DNS_CACHE_SIZE; i++) {
		if (!strcmp(c[i].name, name)) {
			victim = i;
			break;
		}
		if (c[i].expires < c[victim].expires)
			victim = i;
	}
	fmt_snprintf(c[victim].name, sizeof(c[victim].name), "%s", name);
	c[victim].addrs = *a;
	c[victim].expires = loop_now(d->l) + (int64_t)ttl * 1000;
}

static int cache_get(struct dns_ctx *d, const char *name,
		     struct dns_addrs *out)
{
	int i;
	for (i = 0; d->cache && i < DNS_CACHE_SIZE; i++)
		if (d->cache[i].name[0] && !strcmp(d->cache[i].name, name) &&
		    d->cache[i].expires > loop_now(d->l)) {
			*out = d->cache[i].addrs;
			return 1;
		}
	return 0;
}

/* ---- queries ------------------------------------------------------------------ */

/* The slot is free again (its socket and timer gone); a handle to the
 * lookup it held is stale from now on. */
static void q_release(struct dns_query *q)
{
	loop_close(q->d->l, &q->w);
	loop_timer_cancel(q->d->l, &q->t);
	q->busy = 0;
	q->gen++;
}

static void q_finish(struct dns_query *q, int err)
{
	dns_cb cb = q->cb;
	void *user = q->user;
	struct dns_addrs res = q->res;

	q_release(q);
	if (err == DNS_OK)
		cache_put(q->d, q->name, &res, q->ttl);
	log_debug("dns: %s -> %s (%d address(es))", q->name,
		  dns_strerror(err), res.n);
	cb(user, err, &res);
}

/* Send the unanswered queries to the current server. */
static int q_send(struct dns_query *q)
{
	struct dns_ctx *d = q->d;
	struct sockaddr_storage ss = d->conf.server[q->server % d->conf.nservers];
	socklen_t sl;
	uint8_t pkt[300];
	int n, fd;
	uint16_t port = d->port ? d->port : 53;

	loop_close(q->d->l, &q->w);
	if (ss.ss_family == AF_INET) {
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
		sl = sizeof(struct sockaddr_in);
	} else {
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		sl = sizeof(struct sockaddr_in6);
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		close(fd);
		return -1;
	}
	q->w.fd = fd;
	if (loop_add(d->l, &q->w, POLLIN) < 0) {
		close(fd);
		q->w.fd = -1;
		return -1;
	}
	q->id4 = next_id(d);
	q->id6 = (uint16_t)(q->id4 + 1);
	if (!q->done4 &&
	    ((n = dns_build_query(pkt, sizeof(pkt), q->id4, q->name, T_A)) < 0 ||
	     send(fd, pkt, (size_t)n, 0) < 0))
		return -1;
	if (!q->done6 &&
	    ((n = dns_build_query(pkt, sizeof(pkt), q->id6, q->name, T_AAAA)) <
		     0 ||
	     send(fd, pkt, (size_t)n, 0) < 0))
		return -1;
	loop_timer_set(d->l, &q->t, d->conf.timeout_ms);
	return 0;
}

static void q_check_done(struct dns_query *q)
{
	if (!q->done4 || !q->done6)
		return;
	if (q->res.n > 0)
		q_finish(q, DNS_OK);
	else
		q_finish(q, q->notfound ? DNS_NOTFOUND : DNS_FAIL);
}

static void q_on_read(struct loop *l, struct loop_watch *w, int revents)
{
	struct dns_query *q = container_of(w, struct dns_query, w);
	uint8_t pkt[1500];
	ssize_t n;
	(void)l;
	(void)revents;

	while ((n = recv(w->fd, pkt, sizeof(pkt), 0)) >= 0) {
		uint16_t id;
		int rc, is4;
		if (n < 12)
			continue;
		id = rd16(pkt);
		if (!((is4 = id == q->id4 && !q->done4) ||
		      (id == q->id6 && !q->done6)))
			continue; /* stale or spoofed */
		rc = dns_parse_answer(pkt, (size_t)n, id, is4 ? T_A : T_AAAA,
				      &q->res, &q->ttl);
		if (rc == DNS_FAIL)
			continue; /* let the timeout move to the next server */
		if (rc == DNS_NOTFOUND)
			q->notfound = 1;
		if (is4)
			q->done4 = 1;
		else
			q->done6 = 1;
		q_check_done(q);
		return;
	}
	if (errno != EAGAIN && errno != EINTR) {
		/* ICMP unreachable etc.: try the next server right away. */
		loop_timer_set(q->d->l, &q->t, 0);
	}
}

static void q_on_timeout(struct loop *l, struct loop_timer *t)
{
	struct dns_query *q = container_of(t, struct dns_query, t);
	struct dns_ctx *d = q->d;
	(void)l;

	if (q->res.n > 0) { /* one family answered: good enough */
		q_finish(q, DNS_OK);
		return;
	}
	q->server++;
	if (q->server >= d->conf.nservers * d->conf.attempts) {
		q_finish(q, DNS_TIMEOUT);
		return;
	}
	if (q_send(q) < 0)
		loop_timer_set(d->l, &q->t, 0);
}

/* A free lookup slot, made on first use; -1 when all are busy (or out of
 * memory).  Slots are made in order, so the ones made are a prefix. */
static int q_slot(struct dns_ctx *d)
{
	int i;
	for (i = 0; i < DNS_MAX_QUERIES; i++) {
		if (!d->q[i]) {
			if (!(d->q[i] = calloc(1, sizeof(*d->q[i]))))
				return -1;
			d->q[i]->d = d;
			loop_watch_init(&d->q[i]->w, -1, q_on_read);
			loop_timer_init(&d->q[i]->t, q_on_timeout);
			return i;
		}
		if (!d->q[i]->busy)
			return i;
	}
	return -1;
}

/* An answer known without asking the network: 1 with *out filled, 0 to
 * ask, a negative dns_err. */
static int lookup_local(struct dns_ctx *d, const char *host, char *name,
			struct dns_addrs *out)
{
	if (parse_ip(host, &out->a[0]) == 0) {
		out->n = 1;
		return 1;
	}
	if (strlen(host) > DNS_NAME_MAX)
		return DNS_NOTFOUND;
	lower_copy(name, host);
	if (!name[0] || !strcmp(name, "invalid") || ends_with(name, ".invalid"))
		return DNS_NOTFOUND;
	if (d->hosts && dns_hosts_lookup(d->hosts, name, out) > 0)
		return 1;
	if (!strcmp(name, "localhost") || ends_with(name, ".localhost")) {
		parse_ip("127.0.0.1", &out->a[0]);
		parse_ip("::1", &out->a[1]);
		out->n = 2;
		return 1;
	}
	return cache_get(d, name, out);
}

int dns_lookup(struct dns_ctx *d, const char *host, struct dns_addrs *out,
	       dns_cb cb, void *user, struct dns_handle *h)
{
	char name[DNS_NAME_MAX + 1];
	struct dns_query *q;
	int i, rc;

	if (!d->loaded)
		dns_reload(d);
	memset(out, 0, sizeof(*out));
	if ((rc = lookup_local(d, host, name, out)) != 0)
		return rc;
	if ((i = q_slot(d)) < 0)
		return DNS_BUSY;
	q = d->q[i];
	memset(&q->res, 0, sizeof(q->res));
	q->busy = 1;
	fmt_snprintf(q->name, sizeof(q->name), "%s", name);
	q->done4 = q->done6 = q->notfound = 0;
	q->ttl = CACHE_MAX_TTL;
	q->server = 0;
	q->cb = cb;
	q->user = user;
	h->slot = i;
	h->gen = q->gen;
	if (q_send(q) < 0)
		loop_timer_set(d->l, &q->t, 0); /* next server on the next tick */
	return 0;
}

void dns_cancel(struct dns_ctx *d, struct dns_handle *h)
{
	struct dns_query *q;
	if (h->slot < 0 || h->slot >= DNS_MAX_QUERIES || !d->q[h->slot])
		return;
	q = d->q[h->slot];
	if (!q->busy || q->gen != h->gen)
		return;
	q_release(q);
	h->slot = -1;
}

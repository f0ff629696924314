/*
 * dns.h - a stub resolver that never blocks the loop.
 *
 * Names are answered, in order, from: a literal IPv4/IPv6 address; the
 * special-use names (localhost -> loopback, *.invalid -> not found, RFC
 * 6761); the hosts file; a small TTL cache; else A and AAAA queries over
 * UDP to the nameservers of resolv.conf, one after another on timeout.
 *
 * All run-time state lives in a struct dns_ctx the caller owns (struct
 * srv has one); two contexts share nothing.
 *
 * The pure parts (query building, answer parsing, resolv.conf and hosts
 * parsing) are exposed for unit tests.  Test hooks: the environment
 * variables CPA_RESOLV_CONF and CPA_HOSTS name other files to read, and
 * CPA_DNS_PORT sends queries to another port than 53.
 */
#ifndef DNS_H
#define DNS_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "loop.h"

#define DNS_MAX_ADDRS 8
#define DNS_MAX_SERVERS 3
#define DNS_CACHE_SIZE 32
#define DNS_MAX_QUERIES 64
#define DNS_NAME_MAX 253

struct dns_addrs {
	int n;
	struct sockaddr_storage a[DNS_MAX_ADDRS]; /* port 0 */
};

enum dns_err {
	DNS_OK = 0,
	DNS_NOTFOUND = -1,  /* NXDOMAIN or no address records */
	DNS_TIMEOUT = -2,
	DNS_FAIL = -3,      /* server failure, malformed answers, no socket */
	DNS_BUSY = -4,      /* too many lookups in flight */
};

const char *dns_strerror(int err);

/* Called once with the outcome (never from inside dns_lookup). */
typedef void (*dns_cb)(void *user, int err, const struct dns_addrs *res);

/* Handle of a pending lookup, for cancelling. */
struct dns_handle {
	int slot;
	unsigned gen;
};

/* nameserver lines (IPv4/IPv6 literals) and options timeout:/attempts:. */
struct dns_conf {
	int nservers;
	struct sockaddr_storage server[DNS_MAX_SERVERS];
	int timeout_ms;
	int attempts;
};

struct dns_query;        /* a lookup in flight (dns.c) */
struct dns_cache_ent;    /* a cached answer (dns.c) */

/*
 * The resolver's state; struct srv owns one.  An idle resolver holds
 * about a kilobyte here plus the hosts file's text: the answer cache is
 * allocated with the first answer from the network, a lookup slot when it
 * is first needed (and kept for the next lookup until dns_free).
 */
struct dns_ctx {
	struct loop *l;
	int loaded;                           /* resolv.conf and hosts read */
	struct dns_conf conf;
	uint16_t port;                        /* CPA_DNS_PORT test hook, or 0 */
	char *hosts;                          /* the hosts file's text */
	struct dns_cache_ent *cache;          /* DNS_CACHE_SIZE, or NULL */
	struct dns_query *q[DNS_MAX_QUERIES]; /* NULL until first used */
	uint64_t rng;                         /* query ids */
};

/* An empty resolver on loop l; files are read by the first dns_reload or
 * lookup. */
void dns_init(struct dns_ctx *d, struct loop *l);
/* Cancel every lookup (no callbacks) and free everything. */
void dns_free(struct dns_ctx *d);

/*
 * Resolve host.  Returns 1 with *out filled when the answer is known at
 * once (literal, hosts, cache); 0 when pending (cb will be called; *h lets
 * the caller cancel); a negative dns_err on immediate failure.
 */
int dns_lookup(struct dns_ctx *d, const char *host, struct dns_addrs *out,
	       dns_cb cb, void *user, struct dns_handle *h);
/* Cancel a pending lookup (no callback); a stale or unset handle
 * (slot -1) is ignored.  Sets h->slot to -1. */
void dns_cancel(struct dns_ctx *d, struct dns_handle *h);

/* (Re)read resolv.conf and hosts; drop the cache.  Called at start-up and
 * on SIGHUP. */
void dns_reload(struct dns_ctx *d);

/* ---- pure helpers (unit tested) ---- */

/* Build a query for name (qtype 1 = A, 28 = AAAA).  Returns its length,
 * or -1 if the name is not a valid DNS name or cap is too small. */
int dns_build_query(uint8_t *buf, size_t cap, uint16_t id, const char *name,
		    uint16_t qtype);

/*
 * Parse an answer to query id/qtype: append A or AAAA records to *out and
 * lower *ttl to the smallest record TTL.  Returns the number of addresses
 * added (>= 0), DNS_NOTFOUND for NXDOMAIN, DNS_FAIL for anything else
 * wrong (bad id, question mismatch, a record running past the end, rcode
 * other than 0 or 3, bad names).  On failure *out and *ttl are unchanged.
 * A truncated (TC) answer is used for the records it holds: there is no
 * TCP fallback, and A/AAAA answers fit in UDP.
 */
int dns_parse_answer(const uint8_t *buf, size_t len, uint16_t id,
		     uint16_t qtype, struct dns_addrs *out, uint32_t *ttl);

/* Parse resolv.conf's text into *conf (see struct dns_conf). */
void dns_parse_resolv_conf(const char *text, struct dns_conf *conf);

/* Addresses of name in a hosts file's text; returns how many. */
int dns_hosts_lookup(const char *text, const char *name,
		     struct dns_addrs *out);

#endif

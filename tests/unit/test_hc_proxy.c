/*
 * test_hc_proxy.c - unit tests of the proxy handshake engines
 * (src/hc_proxy.c): HTTP CONNECT and SOCKS5, as hc.c uses them.
 *
 * Each case is a scripted proxy: what the engine must send, and every
 * byte the proxy sends back (its replies, maybe followed by bytes of the
 * tunnel).  The same case runs with the proxy's bytes arriving whole, one
 * byte at a time and in random splits; every run must end alike (open,
 * failed with the same error, or waiting for more) and take the same
 * bytes.  Reply bytes are presented from guarded copies, so reading one
 * byte past what was presented crashes the test, and output is taken in
 * halves to exercise partial sends.
 */
#include "t.h"
#include "hc_proxy.h"
#include "sizes.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How the engine is set up: HTTP CONNECT or SOCKS5 to host:port; for
 * SOCKS5 ip is the literal sent (NULL: send host as a name, socks5h). */
struct setup {
	int socks;
	const char *host;
	int port;
	const char *ip;
	const char *user, *pass;
};

static int init(struct hc_proxy *p, const struct setup *s)
{
	struct sockaddr_storage ss;

	if (!s->socks)
		return hc_proxy_http_init(p, s->host, s->port, s->user,
					  s->pass);
	memset(&ss, 0, sizeof(ss));
	if (s->ip && inet_pton(AF_INET, s->ip,
			       &((struct sockaddr_in *)&ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (s->ip && inet_pton(AF_INET6, s->ip,
				    &((struct sockaddr_in6 *)&ss)->sin6_addr) ==
				  1)
		ss.ss_family = AF_INET6;
	return hc_proxy_socks5_init(p, s->host, s->port, s->ip ? &ss : NULL,
				    s->user, s->pass);
}

/* The outcome of one run. */
struct run {
	unsigned char sent[2 * HC_PROXY_OUT_MAX];
	size_t nsent;
	size_t consumed;   /* proxy bytes the engine took */
	int rc;            /* 1 open, HC_PROXY_FAILED, HC_PROXY_PARTIAL */
	int err, detail;
};

/*
 * Play the proxy: in[0..n) arrives in pieces (whole when rng is NULL and
 * step 0, else step bytes at a time, else random pieces); the engine's
 * output is taken before the replies to it are presented.
 */
static void play(const struct setup *s, const void *in, size_t n,
		 struct t_rng *rng, size_t step, struct run *r)
{
	struct hc_proxy p;
	size_t arrived = 0;

	memset(r, 0, sizeof(*r));
	if (init(&p, s) < 0) {
		r->rc = HC_PROXY_FAILED;
		r->err = hc_proxy_last_error(&p);
		return;
	}
	for (;;) {
		size_t len, k;
		const unsigned char *o;
		void *g;
		int rc;

		while ((o = hc_proxy_sendbuf(&p, &len)) != NULL) {
			k = len > 1 ? len / 2 : len;
			if (r->nsent + k <= sizeof(r->sent))
				memcpy(r->sent + r->nsent, o, k);
			r->nsent += k;
			hc_proxy_sendack(&p, k);
		}
		if (hc_proxy_done(&p)) {
			r->rc = 1;
			break;
		}
		g = t_guarded_copy((const char *)in + r->consumed,
				   arrived - r->consumed);
		rc = hc_proxy_recv(&p, g, arrived - r->consumed);
		t_guarded_free(g);
		if (rc > 0) {
			if (!CHECK((size_t)rc <= arrived - r->consumed))
				break;
			r->consumed += (size_t)rc;
			continue;
		}
		if (rc == HC_PROXY_FAILED) {
			r->rc = rc;
			break;
		}
		if (!CHECK_EQ_INT(rc, HC_PROXY_PARTIAL) || arrived == n) {
			r->rc = HC_PROXY_PARTIAL;
			break;
		}
		if (rng)
			arrived += t_rng_piece(rng, n - arrived);
		else if (step)
			arrived += step < n - arrived ? step : n - arrived;
		else
			arrived = n;
	}
	r->err = hc_proxy_last_error(&p);
	r->detail = hc_proxy_detail(&p);
	CHECK_EQ_INT(hc_proxy_done(&p), r->rc == 1);
}

/* What a case must come to. */
struct want {
	int rc, err, detail;
	size_t consumed;
	const void *sent;  /* NULL: not checked */
	size_t nsent;
};

static int same(const struct run *a, const struct want *w)
{
	return a->rc == w->rc && a->err == w->err && a->detail == w->detail &&
	       a->consumed == w->consumed &&
	       (!w->sent || (a->nsent == w->nsent &&
			     !memcmp(a->sent, w->sent, w->nsent)));
}

static void report(const char *what, const char *how, const struct run *r,
		   const struct want *w)
{
	FAILF("%s (%s): rc %d err %d detail %d consumed %zu sent %zu [%s]; "
	      "want rc %d err %d detail %d consumed %zu sent %zu",
	      what, how, r->rc, r->err, r->detail, r->consumed, r->nsent,
	      t_esc(r->sent, r->nsent < sizeof(r->sent) ? r->nsent
							 : sizeof(r->sent)),
	      w->rc, w->err, w->detail, w->consumed, w->nsent);
}

/* Run a case whole, byte by byte (inputs up to 4 KB) and in random
 * splits. */
static void check_case(const char *what, const struct setup *s,
		       const void *in, size_t n, const struct want *w)
{
	struct t_rng rng;
	struct run r;
	int i;

	play(s, in, n, NULL, 0, &r);
	if (!same(&r, w))
		report(what, "whole", &r, w);
	if (n <= 4096) {
		play(s, in, n, NULL, 1, &r);
		if (!same(&r, w))
			report(what, "byte by byte", &r, w);
	}
	t_rng_seed(&rng, t_seed(0x5eed));
	for (i = 0; i < (n <= 4096 ? 24 : 3); i++) {
		play(s, in, n, &rng, 0, &r);
		if (!same(&r, w)) {
			report(what, "random split", &r, w);
			break;
		}
	}
}

#define L(s) (s), (sizeof(s) - 1)

static const struct setup http_plain = {0, "api.example", 443, NULL, "", ""};

/* ======================================================================
 * HTTP CONNECT
 * ====================================================================== */

TEST(hc_proxy_http_connect_opens)
{
	static const char sent[] = "CONNECT api.example:443 HTTP/1.1\r\n"
				   "Host: api.example:443\r\n\r\n";
	static const char *const ok[] = {
		"HTTP/1.1 200 Connection established\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nProxy-Agent: test/1\r\nVia: 1.1 p\r\n\r\n",
		"HTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 299 Whatever\r\n\r\n",
		"HTTP/1.1 200 OK\n\n",
	};
	size_t i;
	for (i = 0; i < T_ARRAY_LEN(ok); i++) {
		struct want w = {1, 0, 0, strlen(ok[i]), L(sent)};
		check_case(ok[i], &http_plain, ok[i], strlen(ok[i]), &w);
	}
}

TEST(hc_proxy_http_connect_credentials)
{
	static const struct setup s = {0, "api.example", 443, NULL, "user",
				       "pass"};
	static const char sent[] =
		"CONNECT api.example:443 HTTP/1.1\r\n"
		"Host: api.example:443\r\n"
		"Proxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\n";
	static const char reply[] = "HTTP/1.1 200 OK\r\n\r\n";
	struct want w = {1, 0, 0, sizeof(reply) - 1, L(sent)};
	check_case("basic auth", &s, L(reply), &w);
}

TEST(hc_proxy_http_connect_address_forms)
{
	static const struct setup v6 = {0, "2001:db8::1", 8443, NULL, "", ""};
	static const struct setup v4 = {0, "192.0.2.7", 80, NULL, "", ""};
	static const char sent6[] = "CONNECT [2001:db8::1]:8443 HTTP/1.1\r\n"
				    "Host: [2001:db8::1]:8443\r\n\r\n";
	static const char sent4[] = "CONNECT 192.0.2.7:80 HTTP/1.1\r\n"
				    "Host: 192.0.2.7:80\r\n\r\n";
	static const char reply[] = "HTTP/1.1 200 OK\r\n\r\n";
	struct want w6 = {1, 0, 0, sizeof(reply) - 1, L(sent6)};
	struct want w4 = {1, 0, 0, sizeof(reply) - 1, L(sent4)};
	check_case("IPv6 literal", &v6, L(reply), &w6);
	check_case("IPv4 literal", &v4, L(reply), &w4);
}

TEST(hc_proxy_http_connect_refused)
{
	static const struct {
		const char *reply;
		int status;
	} no[] = {
		{"HTTP/1.1 407 Proxy Authentication Required\r\n"
		 "Proxy-Authenticate: Basic realm=\"p\"\r\n"
		 "Content-Length: 0\r\n\r\n", 407},
		{"HTTP/1.1 403 Forbidden\r\n\r\n", 403},
		{"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 5\r\n\r\nerror",
		 502},
		{"HTTP/1.1 503 Service Unavailable\r\n\r\n", 503},
		{"HTTP/1.1 301 Moved\r\nLocation: /\r\n\r\n", 301},
		{"HTTP/1.1 300 Choices\r\n\r\n", 300},
		{"HTTP/1.1 100 Continue\r\n\r\n", 100},
		{"HTTP/1.1 199 Odd\r\n\r\n", 199},
		{"HTTP/1.0 404 Not Found\r\n\r\n", 404},
	};
	size_t i;
	for (i = 0; i < T_ARRAY_LEN(no); i++) {
		struct want w = {HC_PROXY_FAILED, HC_PROXY_ESTATUS, no[i].status,
				 0, NULL, 0};
		check_case(no[i].reply, &http_plain, no[i].reply,
			   strlen(no[i].reply), &w);
	}
}

TEST(hc_proxy_http_connect_garbled)
{
	static const char *const bad[] = {
		"SSH-2.0-OpenSSH_9.6\r\n\r\n",
		"\x05\x01\x02\x03 socks\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/2 200\r\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
		"HTTP/1.1 200 OK\r\n: no name\r\n\r\n",
	};
	size_t i;
	for (i = 0; i < T_ARRAY_LEN(bad); i++) {
		struct want w = {HC_PROXY_FAILED, HC_PROXY_EGARBLED, 0, 0, NULL,
				 0};
		check_case(bad[i], &http_plain, bad[i], strlen(bad[i]), &w);
	}
}

TEST(hc_proxy_http_connect_too_many_headers_is_garbled)
{
	char reply[4096];
	size_t n = 0;
	int i;
	struct want w = {HC_PROXY_FAILED, HC_PROXY_EGARBLED, 0, 0, NULL, 0};

	n += (size_t)snprintf(reply + n, sizeof(reply) - n,
			      "HTTP/1.1 200 OK\r\n");
	for (i = 0; i < HTTP_MAX_HEADERS + 1; i++)
		n += (size_t)snprintf(reply + n, sizeof(reply) - n,
				      "X-H%d: v\r\n", i);
	n += (size_t)snprintf(reply + n, sizeof(reply) - n, "\r\n");
	REQUIRE(n < sizeof(reply) - 1);
	check_case("too many headers", &http_plain, reply, n, &w);
}

TEST(hc_proxy_http_connect_oversize_head)
{
	size_t n = HC_PROXY_HEAD_MAX + 100;
	char *reply = malloc(n + 4);
	struct want w = {HC_PROXY_FAILED, HC_PROXY_ETOOBIG, 0, 0, NULL, 0};
	REQUIRE(reply != NULL);

	/* no end in sight: refused once HC_PROXY_HEAD_MAX bytes wait */
	memcpy(reply, "HTTP/1.1 200 OK\r\nX-Pad: ", 24);
	memset(reply + 24, 'a', n - 24);
	check_case("endless head", &http_plain, reply, n, &w);
	/* a whole head, but longer than the cap */
	memcpy(reply + n, "\r\n\r\n", 4);
	check_case("long head", &http_plain, reply, n + 4, &w);
	free(reply);
}

TEST(hc_proxy_http_connect_head_at_the_cap_opens)
{
	size_t n = HC_PROXY_HEAD_MAX;
	char *reply = malloc(n);
	struct want w = {1, 0, 0, HC_PROXY_HEAD_MAX, NULL, 0};
	REQUIRE(reply != NULL);
	memcpy(reply, "HTTP/1.1 200 OK\r\nX-Pad: ", 24);
	memset(reply + 24, 'a', n - 28);
	memcpy(reply + n - 4, "\r\n\r\n", 4);
	check_case("head of exactly the cap", &http_plain, reply, n, &w);
	free(reply);
}

TEST(hc_proxy_http_connect_keeps_tunnel_bytes)
{
	/* The head, then what the target said already: never consumed. */
	static const char reply[] = "HTTP/1.1 200 OK\r\n\r\n"
				    "\x16\x03\x03\x00\x02hello";
	struct want w = {1, 0, 0, 19, NULL, 0};
	check_case("bytes after the head", &http_plain, L(reply), &w);
}

TEST(hc_proxy_http_connect_truncated_waits)
{
	static const char *const part[] = {
		"", "H", "HTTP/1.1 200 OK\r\n", "HTTP/1.1 200 OK\r\nVia: x\r\n\r",
	};
	size_t i;
	for (i = 0; i < T_ARRAY_LEN(part); i++) {
		struct want w = {HC_PROXY_PARTIAL, 0, 0, 0, NULL, 0};
		check_case(part[i], &http_plain, part[i], strlen(part[i]), &w);
	}
}

TEST(hc_proxy_http_init_too_long)
{
	char host[1100];
	struct hc_proxy p;
	size_t len;
	memset(host, 'h', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	CHECK_EQ_INT(hc_proxy_http_init(&p, host, 443, "", ""),
		     HC_PROXY_FAILED);
	CHECK_EQ_INT(hc_proxy_last_error(&p), HC_PROXY_ETOOLONG);
	CHECK(hc_proxy_sendbuf(&p, &len) == NULL && len == 0);
	CHECK_EQ_INT(hc_proxy_recv(&p, "HTTP/1.1 200 OK\r\n\r\n", 19),
		     HC_PROXY_FAILED);
	CHECK(!hc_proxy_done(&p));
}

TEST(hc_proxy_http_longest_request_fits)
{
	/* hc's limits: a 255-byte host, 127-byte user and password */
	char host[256], user[128], pass[128];
	struct hc_proxy p;
	memset(host, 'h', 255);
	host[0] = '1'; /* with a ':' it is bracketed, the longest form */
	host[1] = ':';
	host[255] = '\0';
	memset(user, 'u', 127);
	user[127] = '\0';
	memset(pass, 'p', 127);
	pass[127] = '\0';
	CHECK_EQ_INT(hc_proxy_http_init(&p, host, 65535, user, pass), 0);
	CHECK_EQ_INT(hc_proxy_last_error(&p), HC_PROXY_OK);
}

/* ======================================================================
 * SOCKS5
 * ====================================================================== */

#define GREET_NONE "\x05\x01\x00"
#define GREET_USER "\x05\x01\x02"
/* request for 192.0.2.7:443 */
#define REQ_V4 "\x05\x01\x00\x01\xc0\x00\x02\x07\x01\xbb"
/* success with bound address 0.0.0.0:0 */
#define OK_V4 "\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00"

static const struct setup socks_v4 = {1, "api.example", 443, "192.0.2.7", "",
				      ""};
static const struct setup socks_v4_auth = {1, "api.example", 443, "192.0.2.7",
					   "user", "pass"};

TEST(hc_proxy_socks5_ipv4_no_auth)
{
	static const char sent[] = GREET_NONE REQ_V4;
	static const char reply[] = "\x05\x00" OK_V4;
	struct want w = {1, 0, 0, sizeof(reply) - 1, L(sent)};
	check_case("IPv4, no auth", &socks_v4, L(reply), &w);
}

TEST(hc_proxy_socks5_ipv6_and_name)
{
	static const struct setup v6 = {1, "api.example", 8443, "2001:db8::9",
					"", ""};
	static const struct setup name = {1, "api.example", 443, NULL, "",
					  ""};
	static const char sent6[] =
		GREET_NONE "\x05\x01\x00\x04"
		"\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x09"
		"\x20\xfb";
	static const char sentn[] = GREET_NONE "\x05\x01\x00\x03\x0b"
					       "api.example\x01\xbb";
	static const char reply[] = "\x05\x00" OK_V4;
	struct want w6 = {1, 0, 0, sizeof(reply) - 1, L(sent6)};
	struct want wn = {1, 0, 0, sizeof(reply) - 1, L(sentn)};
	check_case("IPv6 address", &v6, L(reply), &w6);
	check_case("name (socks5h)", &name, L(reply), &wn);
}

TEST(hc_proxy_socks5_ports)
{
	static const struct setup lo = {1, "h", 1, "192.0.2.7", "", ""};
	static const struct setup hi = {1, "h", 65535, "192.0.2.7", "", ""};
	static const char sentlo[] =
		GREET_NONE "\x05\x01\x00\x01\xc0\x00\x02\x07\x00\x01";
	static const char senthi[] =
		GREET_NONE "\x05\x01\x00\x01\xc0\x00\x02\x07\xff\xff";
	static const char reply[] = "\x05\x00" OK_V4;
	struct want wl = {1, 0, 0, sizeof(reply) - 1, L(sentlo)};
	struct want wh = {1, 0, 0, sizeof(reply) - 1, L(senthi)};
	check_case("port 1", &lo, L(reply), &wl);
	check_case("port 65535", &hi, L(reply), &wh);
}

TEST(hc_proxy_socks5_user_password)
{
	static const char sent[] = GREET_USER "\x01\x04user\x04pass" REQ_V4;
	static const char reply[] = "\x05\x02" "\x01\x00" OK_V4;
	/* RFC 1929 says version 1; servers that answer 5 are let through */
	static const char reply5[] = "\x05\x02" "\x05\x00" OK_V4;
	struct want w = {1, 0, 0, sizeof(reply) - 1, L(sent)};
	check_case("user/password", &socks_v4_auth, L(reply), &w);
	check_case("user/password, version 5", &socks_v4_auth, L(reply5), &w);
}

TEST(hc_proxy_socks5_credentials_but_no_auth_chosen)
{
	static const char sent[] = GREET_USER REQ_V4;
	static const char reply[] = "\x05\x00" OK_V4;
	struct want w = {1, 0, 0, sizeof(reply) - 1, L(sent)};
	check_case("server needs no auth", &socks_v4_auth, L(reply), &w);
}

TEST(hc_proxy_socks5_long_fields_cut_to_255)
{
	char user[300], host[300];
	struct setup s = {1, host, 80, NULL, user, "p"};
	struct hc_proxy p;
	const unsigned char *o;
	size_t len;

	memset(user, 'u', 299);
	user[299] = '\0';
	memset(host, 'h', 299);
	host[299] = '\0';
	REQUIRE(CHECK_EQ_INT(init(&p, &s), 0));
	o = hc_proxy_sendbuf(&p, &len);
	REQUIRE(CHECK_EQ_INT(len, 3));
	hc_proxy_sendack(&p, len);
	REQUIRE(CHECK_EQ_INT(hc_proxy_recv(&p, "\x05\x02", 2), 2));
	o = hc_proxy_sendbuf(&p, &len);
	REQUIRE(CHECK_EQ_INT(len, 1 + 1 + 255 + 1 + 1));
	CHECK_EQ_INT(o[1], 255);
	CHECK_EQ_INT(o[257], 1);
	hc_proxy_sendack(&p, len);
	REQUIRE(CHECK_EQ_INT(hc_proxy_recv(&p, "\x01\x00", 2), 2));
	o = hc_proxy_sendbuf(&p, &len);
	REQUIRE(CHECK_EQ_INT(len, 4 + 1 + 255 + 2));
	CHECK_EQ_INT(o[3], 3);
	CHECK_EQ_INT(o[4], 255);
}

TEST(hc_proxy_socks5_methods_refused)
{
	static const struct {
		const struct setup *s;
		const char *reply;
		int method;
	} no[] = {
		{&socks_v4, "\x05\xff", 0xff},
		{&socks_v4_auth, "\x05\xff", 0xff},
		{&socks_v4, "\x05\x02", 2},    /* we offered no credentials */
		{&socks_v4, "\x05\x01", 1},    /* GSSAPI */
		{&socks_v4_auth, "\x05\x80", 0x80},
	};
	size_t i;
	for (i = 0; i < T_ARRAY_LEN(no); i++) {
		struct want w = {HC_PROXY_FAILED, HC_PROXY_EMETHOD,
				 no[i].method, 0, NULL, 0};
		check_case(t_esc(no[i].reply, 2), no[i].s, no[i].reply, 2, &w);
	}
}

TEST(hc_proxy_socks5_auth_refused)
{
	static const char reply[] = "\x05\x02\x01\x01";
	static const char reply_ff[] = "\x05\x02\x01\xff";
	struct want w = {HC_PROXY_FAILED, HC_PROXY_EAUTH, 1, 2, NULL, 0};
	struct want wf = {HC_PROXY_FAILED, HC_PROXY_EAUTH, 0xff, 2, NULL, 0};
	check_case("auth status 1", &socks_v4_auth, L(reply), &w);
	check_case("auth status 255", &socks_v4_auth, L(reply_ff), &wf);
}

TEST(hc_proxy_socks5_every_rep_code)
{
	int rep;
	for (rep = 1; rep <= 256; rep++) {
		char reply[12] = "\x05\x00\x05\x00\x00\x01\x00\x00\x00\x00\x00";
		int code = rep == 256 ? 0xff : rep;
		struct want w = {HC_PROXY_FAILED, HC_PROXY_EREP, code, 2, NULL,
				 0};
		char what[32];
		if (rep > 10 && rep < 256)
			continue;
		reply[3] = (char)code;
		snprintf(what, sizeof(what), "REP %d", code);
		check_case(what, &socks_v4, reply, 12, &w);
		/* a proxy that closes right after the code: known at once */
		check_case(what, &socks_v4, reply, 4, &w);
	}
}

TEST(hc_proxy_socks5_garbled_replies)
{
	static const struct {
		const char *reply;
		size_t n;
		size_t consumed;
	} bad[] = {
		{"\x04\x00", 2, 0},                            /* SOCKS4 */
		{"HTTP/1.1 400 Bad\r\n\r\n", 20, 0},           /* not SOCKS */
		{"\x05\x00\x04\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12, 2},
		{"\x05\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00", 12, 2},
		{"\x05\x00\x05\x00\x00\x02\x00\x00\x00\x00\x00\x00", 12, 2},
		{"\x05\x00\x05\x00\x00\x05\x00\x00\x00\x00\x00\x00", 12, 2},
		{"\x05\x00\x05\x00\x00\xff\x00\x00\x00\x00\x00\x00", 12, 2},
	};
	size_t i;
	for (i = 0; i < T_ARRAY_LEN(bad); i++) {
		struct want w = {HC_PROXY_FAILED, HC_PROXY_EGARBLED, 0,
				 bad[i].consumed, NULL, 0};
		check_case(t_esc(bad[i].reply, bad[i].n), &socks_v4,
			   bad[i].reply, bad[i].n, &w);
	}
}

TEST(hc_proxy_socks5_bound_address_forms)
{
	static const struct {
		const char *reply;
		size_t n;
	} ok[] = {
		{"\x05\x00" "\x05\x00\x00\x01\x0a\x00\x00\x01\x04\x38", 12},
		{"\x05\x00" "\x05\x00\x00\x03\x09proxy.lan\x04\x38", 2 + 16},
		{"\x05\x00" "\x05\x00\x00\x03\x00\x04\x38", 2 + 7},
		{"\x05\x00" "\x05\x00\x00\x04"
		 "\xfe\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
		 "\x04\x38", 2 + 22},
	};
	size_t i;
	for (i = 0; i < T_ARRAY_LEN(ok); i++) {
		struct want w = {1, 0, 0, ok[i].n, NULL, 0};
		check_case(t_esc(ok[i].reply, ok[i].n), &socks_v4, ok[i].reply,
			   ok[i].n, &w);
	}
}

TEST(hc_proxy_socks5_keeps_tunnel_bytes)
{
	static const char reply[] = "\x05\x00" OK_V4 "\x16\x03\x03\x00\x01X";
	static const char reply_auth[] = "\x05\x02\x01\x00" OK_V4 "HTTP/1.1";
	struct want w = {1, 0, 0, 12, NULL, 0};
	struct want wa = {1, 0, 0, 14, NULL, 0};
	check_case("bytes after the reply", &socks_v4, L(reply), &w);
	check_case("bytes after the reply, auth", &socks_v4_auth,
		   L(reply_auth), &wa);
}

TEST(hc_proxy_socks5_truncated_waits)
{
	static const struct {
		const char *reply;
		size_t n, consumed;
	} part[] = {
		{"", 0, 0},
		{"\x05", 1, 0},
		{"\x05\x00\x05", 3, 2},
		{"\x05\x00\x05\x00\x00\x01\x00", 7, 2},
		{"\x05\x00\x05\x00\x00\x03\x09prox", 10, 2},
		{"\x05\x00\x05\x00\x00\x04\x00\x00\x00\x00", 10, 2},
	};
	size_t i;
	for (i = 0; i < T_ARRAY_LEN(part); i++) {
		struct want w = {HC_PROXY_PARTIAL, 0, 0, part[i].consumed, NULL,
				 0};
		check_case(t_esc(part[i].reply, part[i].n), &socks_v4,
			   part[i].reply, part[i].n, &w);
	}
}

/* ======================================================================
 * The contract: order, stickiness
 * ====================================================================== */

TEST(hc_proxy_reply_before_request_sent_fails)
{
	struct hc_proxy p;
	size_t len;
	REQUIRE(CHECK_EQ_INT(hc_proxy_socks5_init(&p, "h", 80, NULL, "", ""),
			     0));
	hc_proxy_sendbuf(&p, &len);
	hc_proxy_sendack(&p, len - 1); /* one byte still to send */
	CHECK_EQ_INT(hc_proxy_recv(&p, "\x05\x00", 2), HC_PROXY_FAILED);
	CHECK_EQ_INT(hc_proxy_last_error(&p), HC_PROXY_EORDER);
	CHECK(hc_proxy_sendbuf(&p, &len) == NULL && len == 0);
}

TEST(hc_proxy_reply_after_open_fails)
{
	struct hc_proxy p;
	size_t len;
	REQUIRE(CHECK_EQ_INT(hc_proxy_http_init(&p, "h", 80, "", ""), 0));
	hc_proxy_sendbuf(&p, &len);
	hc_proxy_sendack(&p, len + 100); /* more than asked: capped */
	CHECK(hc_proxy_sendbuf(&p, &len) == NULL);
	CHECK_EQ_INT(hc_proxy_recv(&p, "HTTP/1.1 200 OK\r\n\r\n", 19), 19);
	CHECK(hc_proxy_done(&p));
	CHECK_EQ_INT(hc_proxy_recv(&p, "x", 1), HC_PROXY_FAILED);
	CHECK_EQ_INT(hc_proxy_last_error(&p), HC_PROXY_EORDER);
	CHECK(!hc_proxy_done(&p));
}

TEST(hc_proxy_failure_is_sticky)
{
	struct hc_proxy p;
	size_t len;
	REQUIRE(CHECK_EQ_INT(hc_proxy_http_init(&p, "h", 80, "", ""), 0));
	hc_proxy_sendbuf(&p, &len);
	hc_proxy_sendack(&p, len);
	CHECK_EQ_INT(hc_proxy_recv(&p, "HTTP/1.1 403 No\r\n\r\n", 19),
		     HC_PROXY_FAILED);
	CHECK_EQ_INT(hc_proxy_detail(&p), 403);
	CHECK_EQ_INT(hc_proxy_recv(&p, "HTTP/1.1 200 OK\r\n\r\n", 19),
		     HC_PROXY_FAILED);
	CHECK_EQ_INT(hc_proxy_last_error(&p), HC_PROXY_ESTATUS);
	CHECK_EQ_INT(hc_proxy_detail(&p), 403);
	CHECK(!hc_proxy_done(&p));
}

/*
 * http.c - HTTP/1.1 request-head parser and chunked-body decoder.
 *
 * The head parser is a single forward pass over the buffer.  It is
 * "restartable" rather than resumable: it keeps no state between calls, so
 * the caller simply calls again with the longer buffer.  That is cheap
 * because heads are small (<= CONN_HEAD_MAX) and the first thing it does is
 * look for the blank line that ends the head: a partial head costs one
 * memchr-like scan, never a full parse.
 *
 * The chunked decoder is a true state machine (struct http_chunked): any
 * byte boundary is a valid place to stop, so it can decode straight from
 * socket reads, in place.
 *
 * Invariants: every pointer returned points into the caller's buffer;
 * nothing is written to the input; no byte past len is read.
 */
#include "http.h"

#include <string.h>

/* RFC 9110 tchar, as a table: header names are checked byte by byte on
 * every request and every upstream response. */
static const unsigned char tchar_tab[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

static int is_tchar(unsigned char c)
{
	return tchar_tab[c];
}

/* ASCII lower case of every byte (others map to themselves). */
#define LC4(b) (b), (b) + 1, (b) + 2, (b) + 3
#define LC16(b) LC4(b), LC4((b) + 4), LC4((b) + 8), LC4((b) + 12)
static const unsigned char lc_tab[256] = {
	LC16(0x00), LC16(0x10), LC16(0x20), LC16(0x30),
	0x40, LC4(0x61), LC4(0x65), LC4(0x69), LC4(0x6d), LC4(0x71),
	LC4(0x75), 0x79, 0x7a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
	LC16(0x60), LC16(0x70), LC16(0x80), LC16(0x90), LC16(0xa0),
	LC16(0xb0), LC16(0xc0), LC16(0xd0), LC16(0xe0), LC16(0xf0),
};

int http_span_eq_n(const char *s, size_t len, const char *lit,
		   size_t lit_len)
{
	size_t i;
	if (len != lit_len)
		return 0;
	for (i = 0; i < len; i++)
		if (lc_tab[(unsigned char)s[i]] != lc_tab[(unsigned char)lit[i]])
			return 0;
	return 1;
}

/* Read one line [*pos, eol) and advance *pos past its terminator;
 * -1 when the line is not complete yet. */
static int next_line(const char *buf, size_t end, size_t *pos,
		     const char **line, size_t *line_len)
{
	size_t s = *pos, i;
	const char *nl = s < end ? memchr(buf + s, '\n', end - s) : NULL;
	if (!nl)
		return -1;
	i = (size_t)(nl - buf);
	*line = buf + s;
	*line_len = i - s;
	if (*line_len > 0 && buf[i - 1] == '\r')
		(*line_len)--;
	*pos = i + 1;
	return 0;
}

static int parse_request_line(const char *l, size_t n, struct http_request *r)
{
	size_t i = 0, s;

	for (s = i; i < n && is_tchar((unsigned char)l[i]); i++)
		;
	if (i == s || i >= n || l[i] != ' ')
		return HTTP_INVALID;
	r->method = l + s;
	r->method_len = i - s;
	i++;

	for (s = i; i < n && l[i] != ' '; i++) {
		unsigned char c = (unsigned char)l[i];
		if (c <= 0x20 || c == 0x7f)
			return HTTP_INVALID;
	}
	if (i == s || i >= n || l[s] != '/')
		return HTTP_INVALID;
	r->target = l + s;
	r->target_len = i - s;
	i++;

	if (n - i != 8 || memcmp(l + i, "HTTP/1.", 7) != 0)
		return HTTP_INVALID;
	if (l[i + 7] == '0')
		r->minor_version = 0;
	else if (l[i + 7] == '1')
		r->minor_version = 1;
	else
		return HTTP_INVALID;
	return 0;
}

/*
 * Header lines from pos up to and including the blank line, in one pass
 * over the bytes: each line is validated as it is found, so the head is
 * not searched for its end first.  Returns the head's length, or
 * HTTP_PARTIAL when the blank line has not arrived yet (a bad byte seen
 * before that is already HTTP_INVALID).
 */
static int parse_headers(const char *buf, size_t len, size_t pos,
			 struct http_header *hs, size_t *nh)
{
	const unsigned char *u = (const unsigned char *)buf;
	size_t i, vs, ve;

	*nh = 0;
	for (;;) {
		struct http_header *h;
		if (pos >= len)
			return HTTP_PARTIAL;
		if (u[pos] == '\n') {
			pos++;
			break;
		}
		if (u[pos] == '\r') {
			if (pos + 1 >= len)
				return HTTP_PARTIAL;
			if (u[pos + 1] != '\n')
				return HTTP_INVALID;
			pos += 2;
			break;
		}
		if (*nh == HTTP_MAX_HEADERS)
			return HTTP_TOO_MANY_HEADERS;
		/* field-name ":" OWS field-value OWS; no obs-fold, no space
		 * before the colon */
		for (i = pos; i < len && is_tchar(u[i]); i++)
			;
		if (i >= len)
			return HTTP_PARTIAL;
		if (i == pos || u[i] != ':')
			return HTTP_INVALID;
		h = &hs[*nh];
		h->name = buf + pos;
		h->name_len = i - pos;
		for (vs = i + 1; vs < len && (u[vs] == ' ' || u[vs] == '\t');
		     vs++)
			;
		for (i = vs;; i++) {
			if (i >= len)
				return HTTP_PARTIAL;
			if (u[i] >= 0x20 && u[i] != 0x7f)
				continue;
			if (u[i] == '\t')
				continue;
			if (u[i] == '\n')
				break;
			if (u[i] != '\r')
				return HTTP_INVALID;
			if (i + 1 >= len)
				return HTTP_PARTIAL;
			if (u[i + 1] != '\n')
				return HTTP_INVALID;
			break;
		}
		ve = i;
		pos = i + (u[i] == '\r' ? 2 : 1);
		while (ve > vs && (u[ve - 1] == ' ' || u[ve - 1] == '\t'))
			ve--;
		h->value = buf + vs;
		h->value_len = ve - vs;
		(*nh)++;
	}
	if (pos > (size_t)0x7fffffff)
		return HTTP_INVALID;
	return (int)pos;
}

int http_parse_request(const char *buf, size_t len, struct http_request *req)
{
	size_t start = 0, pos;
	const char *line;
	size_t line_len;
	int rc;

	/* Skip empty lines left over from a previous message. */
	while (start < len && (buf[start] == '\r' || buf[start] == '\n')) {
		if (buf[start] == '\r' &&
		    (start + 1 >= len || buf[start + 1] != '\n'))
			return start + 1 >= len ? HTTP_PARTIAL : HTTP_INVALID;
		start++;
	}
	pos = start;
	if (next_line(buf, len, &pos, &line, &line_len) < 0)
		return HTTP_PARTIAL;
	if ((rc = parse_request_line(line, line_len, req)) < 0)
		return rc;

	return parse_headers(buf, len, pos, req->headers, &req->num_headers);
}

int http_parse_response(const char *buf, size_t len, struct http_response *res)
{
	size_t pos = 0, i;
	const char *l;
	size_t n;

	if (next_line(buf, len, &pos, &l, &n) < 0)
		return HTTP_PARTIAL;
	/* HTTP/1.x SP 3DIGIT [SP reason] */
	if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 ||
	    (l[7] != '0' && l[7] != '1') || l[8] != ' ')
		return HTTP_INVALID;
	res->minor_version = l[7] - '0';
	res->status = 0;
	for (i = 9; i < 12; i++) {
		if (l[i] < '0' || l[i] > '9')
			return HTTP_INVALID;
		res->status = res->status * 10 + (l[i] - '0');
	}
	if (res->status < 100 || (n > 12 && l[12] != ' '))
		return HTTP_INVALID;
	/* reason-phrase = *( HTAB / SP / VCHAR / obs-text ): a bare CR (or
	 * any other control) is refused, as in header values */
	for (i = 13; i < n; i++) {
		unsigned char c = (unsigned char)l[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return HTTP_INVALID;
	}
	res->reason = n > 13 ? l + 13 : l + n;
	res->reason_len = n > 13 ? n - 13 : 0;
	return parse_headers(buf, len, pos, res->headers, &res->num_headers);
}

static const struct http_header *find_in(const struct http_header *hs,
					 size_t nh, const char *name,
					 size_t name_len, size_t *from)
{
	size_t i = from ? *from : 0;
	for (; i < nh; i++) {
		const struct http_header *h = &hs[i];
		if (h->name_len == name_len &&
		    http_span_eq_n(h->name, h->name_len, name, name_len)) {
			if (from)
				*from = i + 1;
			return h;
		}
	}
	if (from)
		*from = nh;
	return NULL;
}

const struct http_header *http_find_header_n(const struct http_request *req,
					     const char *name, size_t name_len,
					     size_t *from)
{
	return find_in(req->headers, req->num_headers, name, name_len, from);
}

const struct http_header *http_find_response_header_n(
	const struct http_response *res, const char *name, size_t name_len,
	size_t *from)
{
	return find_in(res->headers, res->num_headers, name, name_len, from);
}

/* The next non-empty item of a comma-separated header value from *i,
 * without its surrounding whitespace; NULL at the end. */
static const char *list_item(const char *v, size_t len, size_t *i,
			     size_t *n)
{
	while (*i < len) {
		size_t s, e;
		while (*i < len && (v[*i] == ' ' || v[*i] == '\t' ||
				    v[*i] == ','))
			(*i)++;
		s = *i;
		while (*i < len && v[*i] != ',')
			(*i)++;
		e = *i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e > s) {
			*n = e - s;
			return v + s;
		}
	}
	return NULL;
}

int http_transfer_codings(const struct http_header *hs, size_t nh)
{
	size_t from = 0, n = 0;
	int chunked = 0, last_chunked = 0, seen = 0;
	const struct http_header *h;

	while ((h = find_in(hs, nh, "transfer-encoding", 17, &from)) != NULL) {
		const char *v = h->value;
		size_t len = h->value_len, i = 0;
		seen = 1;
		const char *t;
		size_t tn;
		while ((t = list_item(v, len, &i, &tn)) != NULL) {
			n++;
			last_chunked = http_span_eq(t, tn, "chunked");
			chunked += last_chunked;
		}
		if (len == 0)
			return HTTP_TE_INVALID;
	}
	if (!seen)
		return HTTP_TE_NONE;
	if (n == 0 || !last_chunked || chunked > 1)
		return HTTP_TE_INVALID;
	return n == 1 ? HTTP_TE_CHUNKED : HTTP_TE_OTHER;
}

int http_value_has_token(const char *v, size_t len, const char *token)
{
	size_t i = 0, tn;
	const char *t;
	while ((t = list_item(v, len, &i, &tn)) != NULL)
		if (http_span_eq(t, tn, token))
			return 1;
	return 0;
}

int64_t http_parse_length(const char *v, size_t len)
{
	int64_t n = 0;
	size_t i;
	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		int dgt = v[i] - '0';
		if (dgt < 0 || dgt > 9 || n > (INT64_MAX - dgt) / 10)
			return -1;
		n = n * 10 + dgt;
	}
	return n;
}

/* ---- chunked decoder ---------------------------------------------------- */

enum {
	CH_SIZE,      /* reading hex digits */
	CH_SIZE_WS,   /* blanks after the digits */
	CH_EXT,       /* after ';': extensions up to CRLF */
	CH_SIZE_LF,   /* CR seen at the end of the size line */
	CH_DATA,      /* copying chunk payload */
	CH_DATA_CR,   /* expecting CR or LF after payload */
	CH_DATA_LF,   /* expecting LF after CR */
	CH_TRAILER,   /* start of a trailer line (or the final blank line) */
	CH_TRAILER_LINE, /* inside a trailer line */
	CH_LAST_LF,   /* saw CR of the final blank line */
	CH_DONE,
};

void http_chunked_init(struct http_chunked *d)
{
	memset(d, 0, sizeof(*d));
	d->state = CH_SIZE;
}

/* The size line ended: payload next, or the trailer after the last chunk. */
static void size_line_done(struct http_chunked *d)
{
	d->line_len = 0;
	d->digits = 0;
	d->state = d->left ? CH_DATA : CH_TRAILER;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lc_tab[c & 0xff];
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int http_chunked_decode(struct http_chunked *d, const char *in, size_t in_len,
			size_t *consumed, char *out, size_t out_cap,
			size_t *out_len)
{
	size_t i = 0, o = 0;

	while (i < in_len) {
		unsigned char c = (unsigned char)in[i];
		switch (d->state) {
		case CH_SIZE: {
			int v = hexval(c);
			if (++d->line_len > HTTP_CHUNK_LINE_MAX)
				return HTTP_INVALID;
			i++;
			if (v >= 0) {
				if (++d->digits > 16)
					return HTTP_INVALID;
				d->left = (d->left << 4) | (uint64_t)v;
				break;
			}
			if (d->digits == 0)
				return HTTP_INVALID;
			if (c == ';')
				d->state = CH_EXT;
			else if (c == ' ' || c == '\t')
				d->state = CH_SIZE_WS;
			else if (c == '\r')
				d->state = CH_SIZE_LF;
			else if (c == '\n')
				size_line_done(d);
			else
				return HTTP_INVALID;
			break;
		}
		case CH_SIZE_WS: /* blanks between the size and ';' or CRLF */
		case CH_EXT:     /* ;name=value extensions, ignored */
			if (++d->line_len > HTTP_CHUNK_LINE_MAX)
				return HTTP_INVALID;
			i++;
			if (c == '\r')
				d->state = CH_SIZE_LF;
			else if (c == '\n')
				size_line_done(d);
			else if (d->state == CH_SIZE_WS && c == ';')
				d->state = CH_EXT;
			else if (d->state == CH_SIZE_WS && c != ' ' && c != '\t')
				return HTTP_INVALID;
			else if ((c < 0x20 && c != '\t') || c == 0x7f)
				return HTTP_INVALID;
			break;
		case CH_SIZE_LF:
			i++;
			if (c != '\n')
				return HTTP_INVALID;
			size_line_done(d);
			break;
		case CH_DATA: {
			size_t n = in_len - i;
			if (n > d->left)
				n = (size_t)d->left;
			if (n > out_cap - o)
				n = out_cap - o;
			if (n == 0)
				goto out; /* output full */
			memmove(out + o, in + i, n);
			o += n;
			i += n;
			d->left -= n;
			if (d->left == 0)
				d->state = CH_DATA_CR;
			break;
		}
		case CH_DATA_CR:
			i++;
			if (c == '\r')
				d->state = CH_DATA_LF;
			else if (c == '\n')
				d->state = CH_SIZE;
			else
				return HTTP_INVALID;
			break;
		case CH_DATA_LF:
		case CH_LAST_LF: /* the LF of a CRLF: the next line, or the end */
			i++;
			if (c != '\n')
				return HTTP_INVALID;
			if (d->state == CH_LAST_LF) {
				d->state = CH_DONE;
				goto out;
			}
			d->state = CH_SIZE;
			break;
		case CH_TRAILER:
			i++;
			if (c == '\n') {
				d->state = CH_DONE;
				goto out;
			}
			if (c == '\r') {
				d->state = CH_LAST_LF;
				break;
			}
			d->state = CH_TRAILER_LINE;
			if (++d->trailer_len > HTTP_TRAILER_MAX)
				return HTTP_INVALID;
			break;
		case CH_TRAILER_LINE:
			i++;
			if (++d->trailer_len > HTTP_TRAILER_MAX)
				return HTTP_INVALID;
			if (c == '\n')
				d->state = CH_TRAILER;
			break;
		default:
			goto out;
		}
	}
out:
	*consumed = i;
	*out_len = o;
	return d->state == CH_DONE ? 1 : 0;
}

const char *http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return status < 300 ? "OK" : status < 500 ? "Client Error"
							  : "Server Error";
	}
}

/* ---- request helpers ------------------------------------------------------- */

size_t http_path_len(const struct http_request *r)
{
	const char *q = memchr(r->target, '?', r->target_len);
	return q ? (size_t)(q - r->target) : r->target_len;
}

int http_query_param(const struct http_request *r, const char *name,
		     char *out, size_t outcap)
{
	const char *q = memchr(r->target, '?', r->target_len);
	const char *end = r->target + r->target_len;
	size_t nl = strlen(name);

	if (!q)
		return -1;
	for (q++; q < end;) {
		const char *amp = memchr(q, '&', (size_t)(end - q));
		const char *pe = amp ? amp : end;
		if ((size_t)(pe - q) > nl && !memcmp(q, name, nl) &&
		    q[nl] == '=') {
			const char *v = q + nl + 1;
			size_t o = 0;
			while (v < pe && o + 1 < outcap) {
				int h1, h2;
				if (*v == '%' && pe - v >= 3 &&
				    (h1 = hexval(v[1])) >= 0 &&
				    (h2 = hexval(v[2])) >= 0) {
					out[o++] = (char)(h1 * 16 + h2);
					v += 3;
				} else {
					out[o++] = *v == '+' ? ' ' : *v;
					v++;
				}
			}
			out[o] = '\0';
			return (int)o;
		}
		q = amp ? amp + 1 : end;
	}
	return -1;
}

int http_secret_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char d = (unsigned char)(alen != blen);
	size_t i;
	if (blen == 0)
		return 0;
	/* Touch every byte of a whatever the contents; the length of the
	 * configured key is not a secret worth hiding. */
	for (i = 0; i < alen; i++)
		d |= (unsigned char)(a[i] ^ b[i % blen]);
	return d == 0;
}

/*
 * rlog.h - request-log = true: one file per request, for debugging.
 *
 * As in the reference, each request gets logs/<path>-<unix nanoseconds>.log
 * beside the config file, holding the request as received, every upstream
 * attempt (request and response) and the answer sent back.  Credentials
 * never reach the file: the values of authorization, x-api-key,
 * x-goog-api-key, api-key, proxy-authorization and cookie headers, and of
 * key / api_key / access_token query parameters, are written as
 * [redacted].  Prompts and answers are written as they are (that is the
 * point of the option): the files are created 0600, and each is capped at
 * RLOG_MAX bytes so a long stream cannot fill a router's flash.
 *
 * Writes are buffered (4 KB) and blocking, on the loop's thread: this is a
 * debugging switch, off by default.
 */
#ifndef RLOG_H
#define RLOG_H

#include <stddef.h>

#include "http.h"

#define RLOG_MAX (4u << 20)

struct rlog;

/* Open the file for req (NULL when it cannot be created: the reason is
 * logged once per failure) and write the request section. */
struct rlog *rlog_open(const char *config_path, const char *method,
		       size_t method_len, const char *target,
		       size_t target_len, const struct http_header *hs,
		       size_t nh, const char *body, size_t body_len);

/* "=== title ===" then free text (may be NULL). */
void rlog_section(struct rlog *r, const char *title, const char *text);
/* Header lines of a message head ("Name: value" each ending in CRLF or
 * LF), secrets redacted. */
void rlog_head_lines(struct rlog *r, const char *lines, size_t n);
/* Header lines whose values are all hidden (configured upstream headers:
 * often credentials). */
void rlog_head_names(struct rlog *r, const char *lines, size_t n);
/* Parsed headers, secrets redacted. */
void rlog_headers(struct rlog *r, const struct http_header *hs, size_t nh);
/* Bytes right after a section. */
void rlog_body(struct rlog *r, const char *p, size_t n);
/* A piece of a streamed body; pieces of the upstream's and the client's
 * answers interleave, so each change of stream opens a section again. */
enum { RLOG_UPSTREAM = 1, RLOG_CLIENT = 2 };
void rlog_stream(struct rlog *r, int which, const char *p, size_t n);
/* A pass-through: the client's answer is the upstream's, not written
 * twice. */
void rlog_relay(struct rlog *r);
int rlog_relaying(const struct rlog *r);
void rlog_close(struct rlog **r);

#endif

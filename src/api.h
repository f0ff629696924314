/*
 * api.h - the inbound API surface: route table (path + method -> handler
 * and client format), client authentication at the head, model lists, and
 * the request handler srv calls (api_attach).  Errors are rendered by
 * apierr in the caller's format (enum hub_fmt).
 */
#ifndef API_H
#define API_H

#include <stddef.h>

#include "buf.h"
#include "hub.h"

struct conn;
struct cfg;
struct srv;

/* Client format (enum hub_fmt) implied by a request path, for errors
 * before routing: Gemini, Claude or OpenAI. */
enum hub_fmt api_format_for_path(const char *path, size_t len);

/* Respond to c with an error (uses the server's scratch buffer). */
void api_error(struct conn *c, enum hub_fmt f, int status, const char *msg);

/* A request head has been parsed: authenticate the client now, before
 * any body is read or memory is set aside for it.  0 go on; -1 answered
 * (401, and the connection closes after it). */
int api_head(struct conn *c);

/* Route and answer the request whose head and body c holds (api_head
 * passed). */
void api_handle(struct conn *c);

/* The connection layer's own errors (408, 413, ...), in the format the
 * request path implies. */
void api_conn_error(struct conn *c, int status, const char *msg);

/* Answer the requests of s's connections; set up the exchange pool.
 * 0 ok, -1 out of memory. */
int api_attach(struct srv *s);

/* Constant-time check of a presented key against the configured list. */
int api_key_allowed(const struct cfg *cfg, const char *key, size_t len);

#endif

/*
 * api_int.h - what the request handler's files (api.c, api_ca.c) share;
 * not for other modules.
 */
#ifndef API_INT_H
#define API_INT_H

#include <stddef.h>

#include "conn.h"
#include "http.h"
#include "hub.h"
#include "json.h"

enum { M_GET = 1, M_POST = 2 };

#define RT(path) path, sizeof(path) - 1

struct endpoint;
typedef void (*endpoint_fn)(struct conn *c, const struct endpoint *r);

struct endpoint {
	const char *path;
	size_t len;      /* of path, folded at compile time (RT) */
	int prefix;      /* path is a prefix (the rest is a parameter) */
	unsigned methods;
	enum hub_fmt fmt;   /* errors are rendered in this format */
	enum hub_fmt cfmt;  /* the request body's wire format (inference) */
	int auth;
	endpoint_fn get, post;
};

/* Parse the body into j, charged to max-body-total: 0, or -1 answered. */
int api_parse_body(struct conn *c, enum hub_fmt f, struct json *j);
void api_body_free(struct conn *c, struct json *j);
/* Is model[0..n) a name a client may ask for?  1, or 0 answered (400). */
int api_model_name_ok(struct conn *c, enum hub_fmt f, const char *model,
		      size_t n);
/* A Gemini call (countTokens or a generation) on model, the body in j
 * (freed here); gemini_cli: the Code Assist envelope both ways. */
void api_gemini_call(struct conn *c, struct json *j, const char *model,
		     size_t ml, const char *meth, size_t mlen, int gemini_cli);

/* POST /v1internal:<method> (api_ca.c). */
void api_v1internal(struct conn *c, const struct endpoint *r);

#endif

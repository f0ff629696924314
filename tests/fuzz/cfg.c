/*
 * cfg.c - fuzz target: the config loader (cfg_load_string).
 *
 * Input: the text of a config.ini (cut at the first NUL, as a file's
 * text would be by the C string API).  Checks: the loader returns 0 or
 * -1; on -1 it wrote a message; on 0 the config frees cleanly.  And the
 * promise of cfg.h that a message never holds a secret: the value of an
 * api-key, api-keys, generative-language-api-key or secret-key line (12
 * bytes or more, found once in the text) never appears in the message.
 */
#include "cfg.h"
#include "fuzz.h"

static const char *const secret_keys[] = {
	"api-key", "api-keys", "generative-language-api-key", "secret-key",
	NULL,
};

static int count(const char *hay, const char *needle)
{
	int n = 0;
	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay++;
	}
	return n;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The value of each secret line must not show in err. */
static void check_secrets(const char *text, const char *err)
{
	const char *l = text;

	while (*l) {
		const char *e = strchr(l, '\n'), *eq, *k, *v, *ve;
		size_t ln = e ? (size_t)(e - l) : strlen(l), kn, i;
		char *val;

		eq = memchr(l, '=', ln);
		for (k = l; k < l + ln && is_blank(*k); k++)
			;
		if (!eq)
			goto next;
		for (kn = (size_t)(eq - k); kn && is_blank(k[kn - 1]); kn--)
			;
		for (i = 0; secret_keys[i]; i++)
			if (strlen(secret_keys[i]) == kn &&
			    !memcmp(k, secret_keys[i], kn))
				break;
		if (!secret_keys[i])
			goto next;
		for (v = eq + 1; v < l + ln && is_blank(*v); v++)
			;
		for (ve = v; ve < l + ln && !(ve[0] == ';' && ve > v &&
					      is_blank(ve[-1])); ve++)
			;
		while (ve > v && is_blank(ve[-1]))
			ve--;
		if (ve - v >= 12) {
			val = fz_strdup(v, (size_t)(ve - v));
			if (count(text, val) == 1 && strstr(err, val)) {
				fprintf(stderr, "secret '%s' in message: %s\n",
					val, err);
				abort();
			}
			free(val);
		}
next:
		l += ln + (e != NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fz_strdup(data, size), err[512];
	struct cfg c;
	int rc;

	memset(err, 'x', sizeof(err));
	rc = cfg_load_string(&c, text, "fuzz.ini", err, sizeof(err));
	FZ_CHECK(rc == 0 || rc == -1);
	FZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	if (rc == 0) {
		FZ_CHECK(c.port >= 0 && c.port <= 65535);
		cfg_free(&c);
	} else {
		FZ_CHECK(err[0] != '\0');
		check_secrets(text, err);
	}
	free(text);
	return 0;
}

/*
 * test_acct.c - the account store (acct.c) over a temporary auth-dir,
 * routes built with accounts (route.c), and the reset time of a quota
 * answer (apierr.c).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "acct.h"
#include "apierr.h"
#include "cfg.h"
#include "http.h"
#include "loop.h"
#include "route.h"
#include "t.h"

struct fixture {
	char dir[64];
	struct loop l;
	struct cfg cfg;
	struct acct_store st;
};

static void put(const struct fixture *fx, const char *name, const char *text)
{
	char path[256], tmp[256];
	FILE *f;
	snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", fx->dir, name);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
	rename(tmp, path);
}

static void rm(const struct fixture *fx, const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
	unlink(path);
}

static int setup(struct fixture *fx)
{
	char err[256], text[512];
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/ut-acct-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(text, sizeof(text), "auth-dir = %s\n", fx->dir);
	if (cfg_load_string(&fx->cfg, text, "t.ini", err, sizeof(err)) < 0 ||
	    loop_init(&fx->l, 8, 8) < 0)
		return -1;
	acct_store_init(&fx->st, &fx->l, NULL, &fx->cfg);
	return 0;
}

static void teardown(struct fixture *fx)
{
	char cmd[128];
	acct_store_free(&fx->st);
	loop_free(&fx->l);
	cfg_free(&fx->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	if (system(cmd) != 0)
		FAILF("could not remove %s", fx->dir);
}

static struct acct *find(struct fixture *fx, const char *name)
{
	struct acct *a;
	for (a = fx->st.list; a; a = a->next)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

#define CODEX(tok) \
	"{\"type\":\"codex\",\"access_token\":\"" tok "\",\"refresh_token\":" \
	"\"r\",\"account_id\":\"acc\",\"email\":\"c@example.com\"," \
	"\"expired\":\"2099-01-01T00:00:00Z\"}"

TEST(acct_store_reads_changes_and_forgets)
{
	struct fixture fx;
	struct acct *a, *old;
	unsigned g;
	REQUIRE(setup(&fx) == 0);
	put(&fx, "codex-a.json", CODEX("t1"));
	put(&fx, "broken.json", "{\"type\":\"codex\"");
	put(&fx, "off.json", "{\"type\":\"qwen\",\"access_token\":\"q\","
			     "\"disabled\":true}");
	put(&fx, "nogem.json", "{\"type\":\"gemini\",\"access_token\":\"g\"}");
	put(&fx, "notes.txt", "x");
	CHECK_EQ_INT(acct_store_scan(&fx.st), 1);
	g = fx.st.gen;
	REQUIRE((a = find(&fx, "codex-a.json")) != NULL);
	CHECK(a->usable);
	CHECK_EQ_STR(a->f.access_token, "t1");
	CHECK(a->f.id_token == NULL);
	REQUIRE(find(&fx, "broken.json") && find(&fx, "off.json"));
	CHECK(!find(&fx, "broken.json")->usable);
	CHECK(!find(&fx, "off.json")->usable);
	CHECK(strstr(find(&fx, "off.json")->why, "disabled") != NULL);
	CHECK(!find(&fx, "nogem.json")->usable); /* no project */
	CHECK(find(&fx, "notes.txt") == NULL);
	/* nothing changed: nothing read again */
	CHECK_EQ_INT(acct_store_scan(&fx.st), 0);
	CHECK(find(&fx, "codex-a.json") == a);
	CHECK_EQ_INT(fx.st.gen, g);
	/* a change is a new account; the old one lives while held */
	old = acct_ref(a);
	sleep(1); /* a new mtime even on coarse clocks */
	put(&fx, "codex-a.json", CODEX("t2-longer"));
	CHECK_EQ_INT(acct_store_scan(&fx.st), 1);
	REQUIRE((a = find(&fx, "codex-a.json")) != NULL);
	CHECK(a != old);
	CHECK_EQ_STR(a->f.access_token, "t2-longer");
	CHECK(old->st == NULL);
	CHECK_EQ_STR(old->f.access_token, "t1");
	acct_unref(old);
	/* removed */
	rm(&fx, "codex-a.json");
	CHECK_EQ_INT(acct_store_scan(&fx.st), 1);
	CHECK(find(&fx, "codex-a.json") == NULL);
	/* removing an unusable file changes nothing served */
	rm(&fx, "broken.json");
	CHECK_EQ_INT(acct_store_scan(&fx.st), 0);
	teardown(&fx);
}

TEST(acct_projects_rotate_and_rest_one_by_one)
{
	struct fixture fx;
	struct acct *a;
	int64_t now = 1000;
	REQUIRE(setup(&fx) == 0);
	put(&fx, "gemini-g-all.json",
	    "{\"type\":\"gemini\",\"project_id\":\"p1, p2,p3\",\"token\":"
	    "{\"access_token\":\"ya\",\"refresh_token\":\"r\"}}");
	acct_store_scan(&fx.st);
	REQUIRE((a = find(&fx, "gemini-g-all.json")) && a->usable);
	REQUIRE(a->nproj == 3);
	CHECK_EQ_STR(a->projects[1], "p2");
	CHECK_EQ_INT(acct_pick_project(a, now), 0);
	CHECK_EQ_INT(acct_pick_project(a, now), 1);
	acct_rest(a, 2, now + 500);
	CHECK_EQ_INT(acct_pick_project(a, now), 0); /* p3 rests */
	CHECK(acct_available(a, now));
	acct_rest(a, 0, now + 300);
	acct_rest(a, 1, now + 400);
	CHECK(!acct_available(a, now));
	CHECK_EQ_INT(acct_available_at(a), now + 300);
	CHECK_EQ_INT(acct_pick_project(a, now), -1);
	CHECK(acct_available(a, now + 300));
	teardown(&fx);
}

TEST(acct_must_refresh_by_expiry)
{
	struct fixture fx;
	struct acct *a;
	char text[256];
	REQUIRE(setup(&fx) == 0);
	snprintf(text, sizeof(text), "{\"type\":\"claude\",\"access_token\":"
		 "\"a\",\"refresh_token\":\"r\",\"expired\":%lld}",
		 (long long)time(NULL) + 10);
	put(&fx, "claude-soon.json", text);
	put(&fx, "claude-later.json", "{\"type\":\"claude\",\"access_token\":"
				      "\"a\",\"refresh_token\":\"r\","
				      "\"expired\":\"2099-01-01T00:00:00Z\"}");
	put(&fx, "claude-nokey.json", "{\"type\":\"claude\",\"refresh_token\":"
				      "\"r\"}");
	acct_store_scan(&fx.st);
	REQUIRE((a = find(&fx, "claude-soon.json")) != NULL);
	CHECK(acct_must_refresh(a)); /* within ACCT_MUST_WAIT_S */
	CHECK(!acct_must_refresh(find(&fx, "claude-later.json")));
	CHECK(acct_must_refresh(find(&fx, "claude-nokey.json")));
	CHECK_EQ_INT(acct_refresh_lead(AK_CODEX), 5L * 24 * 3600);
	CHECK_EQ_INT(acct_refresh_lead(AK_CLAUDE), 4L * 3600);
	teardown(&fx);
}

static const char *next_token(struct route *r, const char *model, int64_t now)
{
	struct model_info m;
	int i;
	struct prov_key k;
	if (!route_find(r, model, strlen(model), &m))
		return "(not served)";
	if ((i = route_pick(r, m.rm, now, NULL)) < 0)
		return "(resting)";
	route_key_of(route_cred_at(r, m.rm, i), -1, &k);
	return k.key;
}

TEST(route_with_accounts_rotates_keys_and_logins_and_skips_resting)
{
	struct fixture fx;
	struct route *r;
	struct cfg c;
	struct model_info m;
	char err[256];
	REQUIRE(setup(&fx) == 0);
	put(&fx, "codex-a.json", CODEX("tok-a"));
	put(&fx, "codex-b.json", CODEX("tok-b"));
	put(&fx, "qwen-q.json", "{\"type\":\"qwen\",\"access_token\":\"qw\","
				"\"resource_url\":\"portal.example\"}");
	acct_store_scan(&fx.st);
	REQUIRE(cfg_load_string(&c, "[codex-api-key]\napi-key = key-1\n",
				"t.ini", err, sizeof(err)) == 0);
	REQUIRE((r = route_build(&c, &fx.st, NULL, 1)) != NULL);
	/* gpt-5: the key, then the two logins, in turn */
	CHECK_EQ_STR(next_token(r, "gpt-5", 0), "key-1");
	CHECK_EQ_STR(next_token(r, "gpt-5", 0), "tok-a");
	CHECK_EQ_STR(next_token(r, "gpt-5", 0), "tok-b");
	CHECK_EQ_STR(next_token(r, "gpt-5", 0), "key-1");
	/* a login's model list by plan: none given, so Plus's */
	CHECK(route_find(r, "gpt-5.5", 7, &m));
	CHECK(route_find(r, "qwen3-coder-plus", 16, &m));
	{
		struct prov_key k;
		route_key_of(route_cred_at(r, m.rm, 0), -1, &k);
		CHECK_EQ_STR(k.base_url, "https://portal.example/v1");
	}
	/* an unlisted gpt- name goes to the Codex family */
	REQUIRE(route_find(r, "gpt-9-unknown", 13, &m));
	CHECK(m.id == NULL);
	CHECK_EQ_INT(m.rm->n, 3);
	/* tok-a rests: skipped until its reset */
	acct_rest(find(&fx, "codex-a.json"), -1, 5000);
	CHECK_EQ_STR(next_token(r, "gpt-5.4", 1000), "key-1");
	CHECK_EQ_STR(next_token(r, "gpt-5.4", 1000), "tok-b");
	CHECK_EQ_STR(next_token(r, "gpt-5.4", 1000), "key-1");
	CHECK_EQ_STR(next_token(r, "gpt-5.4", 5000), "tok-a");
	/* the route holds its accounts: a removed file does not free them */
	rm(&fx, "codex-b.json");
	acct_store_scan(&fx.st);
	CHECK_EQ_STR(next_token(r, "gpt-5.4", 5000), "tok-b");
	route_unref(r);
	teardown(&fx);
}

TEST(apierr_reset_from_heads_and_bodies)
{
	static const char h1[] = "HTTP/1.1 429 x\r\nRetry-After: 7\r\n\r\n";
	static const char h2[] = "HTTP/1.1 429 x\r\nretry-after-ms: 1500\r\n"
				 "Retry-After: 9\r\n\r\n";
	static const char h3[] = "HTTP/1.1 429 x\r\nRetry-After: Wed, 21 Oct "
				 "2026 07:28:00 GMT\r\n\r\n";
	static const char g[] = "{\"error\":{\"details\":[{\"@type\":\"type."
				"googleapis.com/google.rpc.RetryInfo\","
				"\"retryDelay\": \"34.5s\"}]}}";
	static const char cx[] = "{\"error\":{\"type\":\"usage_limit_reached\","
				 "\"resets_in_seconds\":1800}}";
	static const char huge[] = "{\"retryDelay\":\"99999999999s\"}";
	struct http_response res;
	char at[96];
	long long v;

	REQUIRE(http_parse_response(h1, sizeof(h1) - 1, &res) > 0);
	CHECK_EQ_INT(apierr_reset_head_ms(&res), 7000);
	REQUIRE(http_parse_response(h2, sizeof(h2) - 1, &res) > 0);
	CHECK_EQ_INT(apierr_reset_head_ms(&res), 1500);
	REQUIRE(http_parse_response(h3, sizeof(h3) - 1, &res) > 0);
	CHECK_EQ_INT(apierr_reset_head_ms(&res), 0); /* a date: not read */
	CHECK_EQ_INT(apierr_reset_body_ms(g, sizeof(g) - 1), 34500);
	CHECK_EQ_INT(apierr_reset_body_ms(cx, sizeof(cx) - 1), 1800000);
	CHECK_EQ_INT(apierr_reset_body_ms(huge, sizeof(huge) - 1),
		     24LL * 3600 * 1000);
	CHECK_EQ_INT(apierr_reset_body_ms("{}", 2), 0);
	snprintf(at, sizeof(at), "{\"resets_at\":%lld}",
		 (long long)time(NULL) + 60);
	v = apierr_reset_body_ms(at, strlen(at));
	CHECK(v > 55000 && v <= 60000);
}

/*
 * models.c - static model tables per provider and the walk over what the
 * running config serves (see models.h).
 */
#include "models.h"

#include <string.h>

#include "sizes.h"

/* Release dates (unix time) are the providers' announcements; they are
 * what OpenAI's "created" and Claude's "created_at" report. */
#define D2024_10 1729555200L
#define D2025_02 1739923200L
#define D2025_05 1747180800L
#define D2025_06 1750118400L
#define D2025_07 1753142400L
#define D2025_08 1754352000L
#define D2025_09 1757894400L
#define D2025_11 1762992000L
#define D2026_02 1770854400L
#define D2026_05 1778198400L
#define D2026_08 1786147200L

/* AI Studio keys and Gemini CLI accounts (the reference's newest Gemini
 * CLI table, v7.2.19). */
static const struct model_fixed gemini_models[] = {
	{"gemini-2.5-pro", "Gemini 2.5 Pro", D2025_06},
	{"gemini-2.5-flash", "Gemini 2.5 Flash", D2025_06},
	{"gemini-2.5-flash-lite", "Gemini 2.5 Flash Lite", D2025_07},
	{"gemini-3-pro-preview", "Gemini 3 Pro Preview", D2025_11},
	{"gemini-3.1-pro-preview", "Gemini 3.1 Pro Preview", D2026_02},
	{"gemini-3-flash-preview", "Gemini 3 Flash Preview", D2025_11},
	{"gemini-3.1-flash-lite-preview", "Gemini 3.1 Flash Lite Preview",
	 D2026_02},
	{NULL, NULL, 0},
};

/* Antigravity (the reference's table at its newest). */
static const struct model_fixed antigravity_models[] = {
	{"claude-opus-4-6-thinking", "Claude Opus 4.6 Thinking", D2026_02},
	{"claude-sonnet-4-6", "Claude Sonnet 4.6", D2026_02},
	{"gemini-3-flash", "Gemini 3 Flash", D2025_11},
	{"gemini-3-flash-agent", "Gemini 3 Flash Agent", D2026_05},
	{"gemini-3.1-pro-low", "Gemini 3.1 Pro Low", D2026_02},
	{"gemini-3.1-flash-image", "Gemini 3.1 Flash Image", D2026_02},
	{"gemini-3.1-flash-lite", "Gemini 3.1 Flash Lite", D2026_02},
	{"gemini-3.5-flash-low", "Gemini 3.5 Flash Low", D2026_05},
	{"gemini-3.5-flash-extra-low", "Gemini 3.5 Flash Extra Low", D2026_05},
	{"gemini-3.6-flash-high", "Gemini 3.6 Flash High", D2026_08},
	{"gemini-3.7-flash-high", "Gemini 3.7 Flash High", D2026_08},
	{"gemini-pro-agent", "Gemini Pro Agent", D2026_05},
	{"gpt-oss-120b-medium", "GPT OSS 120B Medium", D2025_08},
	{NULL, NULL, 0},
};

/* Claude keys and Claude Code accounts; claude-sonnet-4-20250514 stays:
 * the reference's README names it. */
static const struct model_fixed claude_models[] = {
	{"claude-opus-4-6", "Claude Opus 4.6", D2026_02},
	{"claude-sonnet-4-6", "Claude Sonnet 4.6", D2026_02},
	{"claude-opus-4-5-20251101", "Claude Opus 4.5", D2025_11},
	{"claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", D2025_09},
	{"claude-haiku-4-5-20251001", "Claude Haiku 4.5", D2025_09},
	{"claude-opus-4-1-20250805", "Claude Opus 4.1", D2025_08},
	{"claude-sonnet-4-20250514", "Claude Sonnet 4", D2025_05},
	{NULL, NULL, 0},
};

/* Codex keys and ChatGPT Plus / Pro / Team accounts: the reference's
 * newest table, with gpt-5 and gpt-5-codex (its README names them) and
 * their effort names. */
static const struct model_fixed codex_models[] = {
	{"gpt-5.6-sol", "GPT 5.6 Sol", D2026_08},
	{"gpt-5.6-terra", "GPT 5.6 Terra", D2026_08},
	{"gpt-5.6-luna", "GPT 5.6 Luna", D2026_08},
	{"gpt-5.5", "GPT 5.5", D2026_05},
	{"gpt-5.4", "GPT 5.4", D2026_02},
	{"gpt-5.4-mini", "GPT 5.4 Mini", D2026_02},
	{"gpt-5.3-codex-spark", "GPT 5.3 Codex Spark", D2026_02},
	{"codex-auto-review", "Codex Auto Review", D2026_05},
	{"gpt-5", "GPT 5", D2025_08},
	{"gpt-5-minimal", "GPT 5 Minimal", D2025_08},
	{"gpt-5-low", "GPT 5 Low", D2025_08},
	{"gpt-5-medium", "GPT 5 Medium", D2025_08},
	{"gpt-5-high", "GPT 5 High", D2025_08},
	{"gpt-5-codex", "GPT 5 Codex", D2025_09},
	{"gpt-5-codex-low", "GPT 5 Codex Low", D2025_09},
	{"gpt-5-codex-medium", "GPT 5 Codex Medium", D2025_09},
	{"gpt-5-codex-high", "GPT 5 Codex High", D2025_09},
	{NULL, NULL, 0},
};

/* ChatGPT Free accounts: without the 5.3 and later models. */
static const struct model_fixed codex_free_models[] = {
	{"gpt-5", "GPT 5", D2025_08},
	{"gpt-5-codex", "GPT 5 Codex", D2025_09},
	{"gpt-5-codex-mini", "GPT 5 Codex Mini", D2025_11},
	{"gpt-5.1", "GPT 5.1", D2025_11},
	{"gpt-5.1-codex", "GPT 5.1 Codex", D2025_11},
	{"gpt-5.1-codex-mini", "GPT 5.1 Codex Mini", D2025_11},
	{"gpt-5.2", "GPT 5.2", D2026_02},
	{"gpt-5.2-codex", "GPT 5.2 Codex", D2026_02},
	{NULL, NULL, 0},
};

/* Qwen Code accounts (v6.9.7's table, the names its README gives). */
static const struct model_fixed qwen_models[] = {
	{"qwen3-coder-plus", "Qwen3 Coder Plus", D2025_07},
	{"qwen3-coder-flash", "Qwen3 Coder Flash", D2025_07},
	{"coder-model", "Qwen Coder", D2025_09},
	{"vision-model", "Qwen Vision", D2025_09},
	{NULL, NULL, 0},
};

const struct model_fixed *models_table(enum prov_kind k, const char *plan)
{
	switch (k) {
	case PROV_GEMINI:
	case PROV_GEMINI_CLI: return gemini_models;
	case PROV_ANTIGRAVITY: return antigravity_models;
	case PROV_CLAUDE:
	case PROV_CLAUDE_OAUTH: return claude_models;
	case PROV_CODEX: return codex_models;
	case PROV_CODEX_OAUTH:
		return plan && !strcmp(plan, "free") ? codex_free_models
						     : codex_models;
	case PROV_QWEN: return qwen_models;
	default: return NULL;
	}
}

const char *const *models_kept(enum prov_kind k)
{
	static const char *const gemini[] = {"gemini-2.5-pro",
					     "gemini-2.5-flash", NULL};
	static const char *const claude[] = {"claude-sonnet-4-20250514",
					     "claude-opus-4-1-20250805", NULL};
	switch (k) {
	case PROV_GEMINI: return gemini;
	case PROV_CLAUDE:
	case PROV_CLAUDE_OAUTH: return claude;
	default: return NULL;
	}
}

const char *models_provider_name(enum prov_kind p)
{
	return prov_desc(p)->owned_by;
}

/* Bytes a model name may hold besides ASCII letters and digits. */
static int name_punct(unsigned char c)
{
	switch (c) {
	case '-': case '.': case '_': case '~': case ':': case '/': case '@':
	case '+': case '=': case ',': case '(': case ')': case '[': case ']':
	case '!':
		return 1;
	default:
		return 0;
	}
}

const char *models_name_check(const char *s, size_t n)
{
	size_t i, seg = 0;

	if (n == 0)
		return "\"model\" is empty";
	if (n > MODEL_NAME_MAX)
		return "\"model\" is longer than the 255 bytes a model name "
		       "may have";
	for (i = 0; i <= n; i++) {
		unsigned char c;
		if (i == n || s[i] == '/') {
			size_t len = i - seg;
			if (len == 0 || (len == 1 && s[seg] == '.') ||
			    (len == 2 && s[seg] == '.' && s[seg + 1] == '.'))
				return "\"model\" has an empty, '.' or '..' "
				       "path segment";
			seg = i + 1;
			continue;
		}
		c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || name_punct(c)))
			return "\"model\" has a character a model name may "
			       "not have: model names are ASCII letters, "
			       "digits and - . _ ~ : / @ + = , ( ) [ ] !";
	}
	return NULL;
}

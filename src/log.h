/*
 * log.h - one line per event on stderr: "<UTC time> <level> <message>",
 * or "<level>: <message>" when plain (under procd/logd or journald, which
 * add the time and the program's name themselves).
 *
 * Rule: no secret is ever passed to these functions.  Callers log paths
 * without query strings, and key material only as log_mask() fingerprints.
 */
#ifndef LOG_H
#define LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_debug(int on);
void log_set_plain(int on);
int log_debug_on(void);
void log_msg(enum log_level lv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) \
	do { if (log_debug_on()) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif

/*
 * cfg_import.h - a CLIProxyAPI config.yaml turned into our config.ini
 * (--import-yaml).
 */
#ifndef CFG_IMPORT_H
#define CFG_IMPORT_H

#include <stddef.h>

struct buf;

/*
 * Read the YAML text[0..len) (text[len] must be a NUL; the text is
 * decoded in place, see yaml.h) and append the equivalent config.ini,
 * comments carried over, to ini.  Every key left out gets one line
 * "name:line: 'key' why, skipped" in notes (names only, never a value);
 * a result that cfg.c would refuse gets one more, with cfg.c's message
 * (never a secret).  Returns 0 (ini written), or -1 with
 * "name[:line]: message" in notes and nothing added to ini when the YAML
 * cannot be read, holds no settings or is not a map, or ini has no room.
 */
int cfg_import_yaml(const char *name, char *text, size_t len,
		    struct buf *ini, struct buf *notes);

/*
 * The same for the file at path (cfg_read_file: a regular file of at
 * most CFG_FILE_MAX bytes).  -1 also when it cannot be read ("path:
 * why" in notes).
 */
int cfg_import_file(const char *path, struct buf *ini, struct buf *notes);

#endif

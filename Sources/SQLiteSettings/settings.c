// Process-wide SQLite settings, made before anything opens a connection. They live in C
// because `sqlite3_config` is variadic, which Swift cannot call, and because it only works
// before SQLite initializes itself: a constructor runs at load time, before `main` and before
// any test, whichever code opens a database first.
#include <sqlite3.h>
#include "SQLiteSettings.h"

static int memory_statistics_result = -1;

// SQLite counts every allocation under a global mutex so that `sqlite3_memory_used()` and
// its kin can answer; Pitstop never asks. SQLite's own list of recommended compile-time
// options turns the counting off (SQLITE_DEFAULT_MEMSTATUS=0) because it makes
// `sqlite3_malloc()` "run much faster"; Debian's library leaves it on, so it is turned off
// here. Measured on a million-VM import: about a tenth of its CPU time.
__attribute__((constructor)) static void pitstop_configure_sqlite(void) {
    memory_statistics_result = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int pitstop_sqlite_memory_statistics_result(void) { return memory_statistics_result; }

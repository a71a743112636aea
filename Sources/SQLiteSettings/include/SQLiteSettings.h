#ifndef PITSTOP_SQLITE_SETTINGS_H
#define PITSTOP_SQLITE_SETTINGS_H

/// What `sqlite3_config` answered when this process turned SQLite's memory statistics off
/// at load time: `SQLITE_OK`, or the error that left them on.
int pitstop_sqlite_memory_statistics_result(void);

#endif

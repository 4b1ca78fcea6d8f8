/*
 * mc_file - durable writes to plain files: the whole buffer or an error,
 * and a directory's new entries made durable.
 *
 * Contract: generic (no motcua knowledge); every function returns 0 or -1
 * with errno set by the failing call; nothing is logged.
 */
#ifndef MC_FILE_H
#define MC_FILE_H

#include <stddef.h>

/* mc_file_write_all - write every byte of buf to fd (retrying short writes and EINTR); 0 or -1 */
int mc_file_write_all(int fd, const void *buf, size_t len);

/* mc_file_fsync_dir - fsync the directory dir, so a file created or renamed in it survives a crash; 0 or -1 */
int mc_file_fsync_dir(const char *dir);

#endif

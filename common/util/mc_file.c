/*
 * mc_file - durable writes to plain files (contract in mc_file.h).
 */
#include "mc_file.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* mc_file_write_all - loop until all is written: write() may take less */
int mc_file_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* mc_file_fsync_dir - open the directory read-only and fsync it */
int mc_file_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

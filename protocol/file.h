/*
 * crosscount: files that must be written atomically and durably, read
 * exactly, and destroyed by overwriting: key files (the node's at-rest
 * key, SPEC.md 6.1; its per-query r, 5.4; the aggregator's attribute key,
 * 5.6), configuration files, batch files (8.1) and the PEM files of 5.7.
 *
 * Writing: the bytes go to a temporary file in the same directory
 * (mkstemp: O_EXCL, mode 0600, then the mode asked for), which is
 * fsync'ed and then renamed over the final name, or linked to it when an
 * existing file must never be replaced; then the directory is fsync'ed so
 * that the new name survives a crash too. A reader therefore sees the
 * old file or the whole new one, never a part.
 *
 * Reading: a regular file, bounded. A key file is read with O_NOFOLLOW
 * (a symbolic link is refused) and refused when group or others may read
 * or write it; other files may be linked into place (certificates often
 * are).
 *
 * None of these functions logs; each fills diag (may be NULL) on error.
 */
#ifndef CC_FILE_H
#define CC_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "protocol/error.h"

/* Flags of cc_file_write(). */
enum {
	/*
	 * Replace an existing file (rename). Without it the file is linked
	 * to its name, which fails with CC_ERR_EXISTS if the name is taken
	 * (even by a dangling symbolic link), and a failure after the link
	 * (the directory cannot be synced) unlinks it again: on any error
	 * nothing new is left at path.
	 */
	CC_FILE_REPLACE = 1 << 0,
	/*
	 * The bytes are secret: a temporary copy that is not kept (and a
	 * linked file that is unlinked again) is overwritten with zeros
	 * before it is removed.
	 */
	CC_FILE_SECRET = 1 << 1,
	/*
	 * Name the temporary file DIR/.NAME.XXXXXX instead of PATH.XXXXXX,
	 * for directories whose other files are found by their names.
	 */
	CC_FILE_HIDDEN_TEMP = 1 << 2,
};

/*
 * Write len bytes of data to path with the permission bits mode (e.g.
 * 0600, 0640), atomically and durably as described above. CC_ERR_LIMIT
 * if the path is too long, CC_ERR_EXISTS (see CC_FILE_REPLACE), CC_ERR_IO.
 */
int cc_file_write(const char *path, const void *data, size_t len,
    mode_t mode, unsigned flags, struct cc_diag *diag);

/*
 * Read a key file: exactly len bytes into buf (which the caller owns and
 * wipes; it is wiped here on error). what names the file in messages
 * ("key", "attribute key"). CC_ERR_NOT_FOUND if there is none, CC_ERR_IO
 * if it cannot be read or is not a regular file (a symbolic link is not
 * followed), CC_ERR_AUTH if group or others may read or write it,
 * CC_ERR_FORMAT if it holds fewer or more bytes.
 */
int cc_file_read_key(const char *path, void *buf, size_t len,
    const char *what, struct cc_diag *diag);

/*
 * Read a whole regular file of at most max_len bytes into a new buffer of
 * *ret_len + room + 1 bytes, zero after the file's bytes (so text is
 * NUL-terminated and a caller may append up to room bytes). The file must
 * not change size while it is read. CC_ERR_IO (missing, cannot be opened
 * or read, not a regular file, changed), CC_ERR_LIMIT (larger than max_len),
 * CC_ERR_ALLOC. Free with cc_file_free(*ret_data, *ret_len + room + 1)
 * when the bytes may be secret, else with free().
 */
int cc_file_read_all(const char *path, size_t max_len, size_t room,
    uint8_t **ret_data, size_t *ret_len, struct cc_diag *diag);

/* Wipe cap bytes of p and free it; NULL is allowed. */
void cc_file_free(void *p, size_t cap);

/*
 * Overwrite a regular file's bytes with zeros and fsync it (best effort:
 * the filesystem may keep copies elsewhere). 0 also if there is no file.
 */
int cc_file_overwrite(const char *path, struct cc_diag *diag);

/*
 * Destroy a file: overwrite it (cc_file_overwrite), unlink it and fsync
 * its directory (SPEC 12). 0 also when there was none; *ret_existed (may
 * be NULL) says whether there was. Whatever fails, the name is unlinked
 * if it can be; the first error is returned.
 */
int cc_file_destroy(const char *path, bool *ret_existed,
    struct cc_diag *diag);

/*
 * The SHA-256 and size of the regular file at path (not through a
 * symbolic link), read to its end; with sync the file is also fsync'ed
 * (an accepted upload must survive a crash). CC_ERR_NOT_FOUND if there is
 * no file, CC_ERR_IO otherwise. The read buffer is wiped (batches hold
 * per-query secrets).
 */
int cc_file_sha256(const char *path, bool sync, uint64_t *ret_size,
    uint8_t ret_digest[32], struct cc_diag *diag);

/*
 * Exactly len bytes at off, retrying short transfers and EINTR: 0, or -1
 * with errno set (EIO when the file ends first). For the chunked batch
 * reader and writer (batch_stream.h, batch_file.h).
 */
int cc_file_pread_all(int fd, void *buf, size_t len, off_t off);
int cc_file_pwrite_all(int fd, const void *buf, size_t len, off_t off);

/*
 * Write the one byte b to fd (a worker thread waking an event loop
 * through a pipe), retrying on EINTR. Other errors are ignored: on a
 * full non-blocking pipe a wake-up is pending already.
 */
void cc_file_signal(int fd, uint8_t b);

/* fsync a directory, or the directory that holds path. CC_ERR_IO. */
int cc_file_sync_dir(const char *dir, struct cc_diag *diag);
int cc_file_sync_parent(const char *path, struct cc_diag *diag);

#endif

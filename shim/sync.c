/* SPDX-License-Identifier: MIT */
/*
 * sync.c - fsync, fdatasync and sync_file_range of tracked files.
 *
 * A sync is skipped only when the shared dirty table proves the inode
 * clean (design.md invariant 2) and fstat(fd) still shows that inode.
 * Otherwise the real call runs; an error poisons the inode, and a success
 * whose fstat before and after agree records the dirty count read before
 * it began as clean.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stats.h"
#include "wt.h"

static int real_sync(int fd, bool datasync)
{
	int r = datasync ? wt_real.fdatasync(fd) : wt_real.fsync(fd);
	return r < 0 ? -errno : 0;
}

/*
 * The tracked file behind fd if fstat still shows its inode, with a
 * reference; NULL (and the stale slot forgotten) otherwise.
 */
static struct wt_file *checked(int fd, bool count)
{
	struct wt_file *f = wt_fd_get(fd, NULL);
	struct stat st;

	if (!f)
		return NULL;
	if (wt_fd_ident(fd, &st) < 0 || st.st_dev != f->key.dev ||
	    st.st_ino != f->key.ino) {
		if (count)
			wt_stats_pass(f->rule, WT_PASS_FSTAT);
		wt_fd_forget_stale(fd, f);
		wt_file_put(f);
		return NULL;
	}
	return f;
}

int wt_sync(int fd, bool datasync)
{
	if (wt_depth > 0 || getpid() != wt.pid)
		return real_sync(fd, datasync);

	wt_depth++;
	int r;
	struct wt_file *f = checked(fd, true);
	if (!f) {
		r = real_sync(fd, datasync);
		goto out;
	}
	/* This process's sync: its next writes go writethrough again. */
	atomic_store(&f->writes_since_sync, 0);
	int why = f->rule->mode == WT_MODE_WRITETHROUGH ?
		  wt_dirty_check(&f->key, &f->dref) : WT_PASS_MODE;
	if (why == WT_PASS_NR) {
		wt_stats_add(f->rule, WT_C_SYNC_SKIPPED, 1);
		wt_log(WT_LOG_DEBUG, "%s(%d) skipped: %s is clean",
		       datasync ? "fdatasync" : "fsync", fd, f->path);
		r = 0;
		goto out;
	}
	wt_stats_pass(f->rule, why);
	/* Did the number name f for the whole call? (design 1b.2) */
	struct wt_slot *sl = wt_slot(fd);
	unsigned seq0 = sl ? atomic_load(&sl->seq) : 1;
	struct wt_dref at;
	uint64_t before = wt_dirty_sync_begin(&f->key, &f->dref, &at);
	r = real_sync(fd, datasync);
	if (r < 0) {
		wt_stats_error(f->rule, -r);
		if (r != -EBADF)
			wt_dirty_poison(&f->key, &f->dref);
		goto out;
	}
	struct stat st;
	if (wt_fd_ident(fd, &st) == 0 && st.st_dev == f->key.dev &&
	    st.st_ino == f->key.ino && !wt_slot_moved(sl, seq0))
		wt_dirty_synced(&f->key, &at, before);
out:
	wt_file_put(f);
	wt_depth--;
	return r;
}

int wt_sync_range(int fd, off_t off, off_t n, unsigned flags)
{
	/* Only a waiting call promises anything worth skipping. */
	if ((flags & SYNC_FILE_RANGE_WAIT_AFTER) && wt_depth == 0 &&
	    getpid() == wt.pid) {
		wt_depth++;
		struct wt_file *f = checked(fd, true);
		bool skip = f && f->rule->mode == WT_MODE_WRITETHROUGH &&
			    wt_dirty_check(&f->key, &f->dref) == WT_PASS_NR;
		if (f)
			wt_stats_add(f->rule, skip ? WT_C_SYNC_SKIPPED :
				     WT_C_SYNC_PASSED, 1);
		wt_file_put(f);
		wt_depth--;
		if (skip)
			return 0;
	}
	int r = wt_real.sync_file_range(fd, off, n, flags);
	return r < 0 ? -errno : 0;
}

/*
 * For writes the shim does not route itself. Where no lock may be taken
 * (a signal handler inside the shim, a vfork child) the whole table stops
 * skipping instead: coarse, lock-free, and safe.
 */
static struct wt_file *note_get(int fd)
{
	if (wt_depth > 0 || getpid() != wt.pid) {
		struct wt_slot *s = wt_slot(fd);
		if (s && atomic_load(&s->state) != WT_FD_UNTRACKED)
			wt_dirty_degrade("changed where it could not be recorded");
		return NULL;
	}
	return checked(fd, false);
}

void wt_note_write(int fd)
{
	struct wt_file *f = note_get(fd);
	if (f)
		wt_dirty_mark(&f->key, &f->dref);
	wt_file_put(f);
}

/*
 * Raised before a call that changes the file and lowered after, as pending
 * is for a write (design 1.3): a process killed in between leaves pending
 * up, so no later sync of the inode is skipped. unsafe: never skip again.
 */
void wt_change_begin(int fd, struct wt_change *c, bool unsafe)
{
	c->f = note_get(fd);
	c->tok = -1;
	if (!c->f)
		return;
	if (unsafe)
		wt_dirty_unsafe(&c->f->key, &c->f->dref);
	else
		c->tok = wt_dirty_write_begin(&c->f->key, &c->f->dref);
}

void wt_change_end(struct wt_change *c)
{
	wt_dirty_write_end(c->tok, false);
	wt_file_put(c->f);
	c->f = NULL;
}

void wt_note_unsafe(int fd)
{
	struct wt_file *f = note_get(fd);
	if (f)
		wt_dirty_unsafe(&f->key, &f->dref);
	wt_file_put(f);
}

/* crosscount-aggregator: signing in off the event loop (see login.h). */
#include "aggregator/login.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <sodium.h>

#include "aggregator/auth.h"
#include "protocol/file.h"

struct login_wait {
	TAILQ_ENTRY(login_wait) link;
	struct cc_login *l;
	struct cc_request *req;          /* NULL once the client went away */
	struct cc_auth_attempt *attempt;
	char address[64];                /* the client's, without the port */
};
TAILQ_HEAD(login_waits, login_wait);

struct cc_login {
	struct cc_app *app;
	struct login_waits waits;        /* the head is being checked */
	size_t nwaits;
	bool checking;                   /* the thread runs for the head */
	pthread_t thread;
	int pipe[2];                     /* the thread's "done" to the loop */
	struct event *pipe_ev;
};

static void login_next(struct cc_login *l);

static void
login_wait_free(struct login_wait *w)
{
	if (w == NULL)
		return;
	cc_auth_attempt_free(w->attempt);
	free(w);
}

static void
login_closed(struct cc_request *req, void *arg)
{
	struct login_wait *w = arg;

	(void)req;
	w->req = NULL;
}

/* Answer a sign-in that got a session. */
static void
login_reply_session(struct cc_request *req, struct cc_auth_session *ses)
{
	char cookie[sizeof(ses->cookie) + sizeof(CC_AUTH_COOKIE_ATTRS) + 32];

	snprintf(cookie, sizeof(cookie), "%s=%s; %s", CC_AUTH_COOKIE,
	    ses->cookie, CC_AUTH_COOKIE_ATTRS);
	cc_request_add_header(req, "Set-Cookie", cookie);
	sodium_memzero(cookie, sizeof(cookie));
	cc_reply_json(req, 200, json_pack("{s:s,s:s,s:s}",
	    "username", ses->username, "role", cc_auth_role_name(ses->role),
	    "csrf", ses->csrf));
}

/* Answer a sign-in that did not get one (r from auth.h). */
static void
login_reply_refusal(struct cc_request *req, int r, long wait)
{
	char retry[32];

	switch (r) {
	case CC_ERR_AUTH:
		cc_reply_error(req, 401, "wrong user name or password");
		break;
	case CC_ERR_LIMIT:
		snprintf(retry, sizeof(retry), "%ld", wait);
		cc_request_add_header(req, "Retry-After", retry);
		cc_reply_error(req, 429, "too many failed sign-ins for this user "
		    "name; try again in %ld seconds", wait);
		break;
	default:
		cc_reply_error(req, 500, "cannot sign in now");
		break;
	}
}

/* Take the head off the queue and answer it with r (and ses). */
static void
login_done(struct cc_login *l, int r, long wait, struct cc_auth_session *ses)
{
	struct login_wait *w = TAILQ_FIRST(&l->waits);

	TAILQ_REMOVE(&l->waits, w, link);
	l->nwaits--;
	if (w->req != NULL) {
		if (r == 0)
			login_reply_session(w->req, ses);
		else
			login_reply_refusal(w->req, r, wait);
	}
	login_wait_free(w);
}

/* The thread: one check (the loop does not touch the attempt meanwhile). */
static void *
login_thread(void *arg)
{
	struct login_wait *w = arg;

	cc_auth_login_verify(w->attempt);
	cc_file_signal(w->l->pipe[1], 'l');
	return NULL;
}

/* The head's check is done: record it and go on with the next. */
static void
login_checked(struct cc_login *l)
{
	struct login_wait *w = TAILQ_FIRST(&l->waits);
	struct cc_auth_session ses;
	struct cc_diag d = { "" };
	int r;

	r = cc_auth_login_finish(l->app->store, w->attempt, time(NULL),
	    l->app->cfg.session_hours, w->req != NULL, &ses, &d);
	login_done(l, r, 0, &ses);
	sodium_memzero(&ses, sizeof(ses));
	login_next(l);
}

static void
login_pipe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cc_login *l = arg;
	uint8_t buf[16];

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	if (!l->checking)
		return;
	pthread_join(l->thread, NULL);
	l->checking = false;
	login_checked(l);
}

/* Start on the head of the queue unless a check runs already. */
static void
login_next(struct cc_login *l)
{
	struct login_wait *w;
	struct cc_diag d = { "" };
	long wait = 0;
	int r;

	while (!l->checking && (w = TAILQ_FIRST(&l->waits)) != NULL) {
		if (w->req == NULL) {
			/* Gone before its turn: nothing tried, nothing counted. */
			login_done(l, CC_ERR_STATE, 0, NULL);
			continue;
		}
		if ((r = cc_auth_login_begin(l->app->store, w->attempt, time(NULL),
		    &wait, &d)) != 0) {
			login_done(l, r, wait, NULL);
			continue;
		}
		if (pthread_create(&l->thread, NULL, login_thread, w) != 0) {
			/* No thread: check here (the loop waits meanwhile). */
			cc_auth_login_verify(w->attempt);
			login_checked(l);
			return;
		}
		l->checking = true;
	}
}

/* The client's address ("127.0.0.1" of "127.0.0.1:51460"). */
static void
login_address(char *out, size_t size, struct cc_request *req)
{
	char *colon;

	snprintf(out, size, "%s", cc_request_peer(req));
	if ((colon = strrchr(out, ':')) != NULL)
		*colon = '\0';
}

/* Sign-ins waiting from address (the one being checked included). */
static size_t
login_from(struct cc_login *l, const char *address)
{
	struct login_wait *w;
	size_t n = 0;

	TAILQ_FOREACH(w, &l->waits, link)
		if (strcmp(w->address, address) == 0)
			n++;
	return n;
}

void
cc_login_start(struct cc_login *l, struct cc_request *req, const char *name,
    const char *password)
{
	struct login_wait *w;
	char address[sizeof(w->address)];

	login_address(address, sizeof(address), req);
	if (l->nwaits >= CC_LOGIN_QUEUE_MAX ||
	    login_from(l, address) >= CC_LOGIN_PER_ADDRESS) {
		cc_request_add_header(req, "Retry-After", "1");
		cc_reply_error(req, 503, "too many sign-ins at once; try again "
		    "in a second");
		return;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    cc_auth_attempt_new(&w->attempt, name, password) != 0) {
		login_wait_free(w);
		cc_reply_error(req, 500, "cannot sign in now");
		return;
	}
	memcpy(w->address, address, sizeof(address));
	w->l = l;
	w->req = req;
	cc_request_hold(req, login_closed, w);
	TAILQ_INSERT_TAIL(&l->waits, w, link);
	l->nwaits++;
	login_next(l);
}

int
cc_login_new(struct cc_login **ret_login, struct cc_app *app,
    struct cc_diag *diag)
{
	struct cc_login *l;

	*ret_login = NULL;
	if (app == NULL || app->base == NULL || app->store == NULL)
		return CC_ERR_INVALID_ARGUMENT;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return CC_ERR_ALLOC;
	l->app = app;
	TAILQ_INIT(&l->waits);
	if (pipe2(l->pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		cc_diag_set(diag, "pipe: %s", strerror(errno));
		free(l);
		return CC_ERR_IO;
	}
	if ((l->pipe_ev = event_new(app->base, l->pipe[0], EV_READ | EV_PERSIST,
	    login_pipe_cb, l)) == NULL || event_add(l->pipe_ev, NULL) != 0) {
		cc_diag_set(diag, "sign-ins: cannot watch the pipe of the "
		    "password checks");
		cc_login_free(l);
		return CC_ERR_ALLOC;
	}
	*ret_login = l;
	return 0;
}

void
cc_login_free(struct cc_login *l)
{
	struct cc_auth_session ses;
	struct cc_diag d = { "" };
	struct login_wait *w;

	if (l == NULL)
		return;
	if (l->checking) {
		/* Checked: counted like any other, but no session. */
		pthread_join(l->thread, NULL);
		l->checking = false;
		w = TAILQ_FIRST(&l->waits);
		(void)cc_auth_login_finish(l->app->store, w->attempt, time(NULL),
		    l->app->cfg.session_hours, false, &ses, &d);
	}
	while ((w = TAILQ_FIRST(&l->waits)) != NULL) {
		TAILQ_REMOVE(&l->waits, w, link);
		if (w->req != NULL) {
			cc_request_add_header(w->req, "Retry-After", "1");
			cc_reply_error(w->req, 503, "the aggregator is stopping; "
			    "sign in again later");
		}
		login_wait_free(w);
	}
	if (l->pipe_ev != NULL)
		event_free(l->pipe_ev);
	close(l->pipe[0]);
	close(l->pipe[1]);
	free(l);
}

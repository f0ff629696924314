/*
 * test_loop.c - the loop's deferred work (loop_defer): what a callback
 * queues runs after it returns, in order, once, and can be cancelled.
 */
#include <string.h>

#include "loop.h"
#include "t.h"

struct job {
	struct loop_defer d;
	char name;
	struct job *then;    /* queued from inside this one's callback */
	struct job *cancel;  /* cancelled from inside this one's callback */
};

static char trace[32];
static size_t ntrace;

static void run(struct loop *l, struct loop_defer *d)
{
	struct job *j = container_of(d, struct job, d);
	trace[ntrace++] = j->name;
	if (j->then)
		loop_defer(l, &j->then->d);
	if (j->cancel)
		loop_defer_cancel(l, &j->cancel->d);
}

static void job_init(struct job *j, char name)
{
	memset(j, 0, sizeof(*j));
	j->name = name;
	j->d.cb = run;
}

TEST(loop_defer_runs_in_order_once_and_cancels)
{
	struct loop l;
	struct job a, b, c, d;
	REQUIRE(loop_init(&l, 4, 4) == 0);
	job_init(&a, 'a');
	job_init(&b, 'b');
	job_init(&c, 'c');
	job_init(&d, 'd');
	ntrace = 0;
	loop_defer(&l, &a.d);
	loop_defer(&l, &b.d);
	loop_defer(&l, &a.d); /* already queued: once */
	loop_defer(&l, &c.d);
	loop_defer_cancel(&l, &b.d);
	loop_defer_cancel(&l, &b.d); /* not queued: nothing */
	a.then = &d;          /* queued while draining: runs in the same drain */
	loop_run_deferred(&l);
	CHECK_EQ_MEM(trace, ntrace, "acd", 3);
	CHECK(!a.d.queued && !c.d.queued && !d.d.queued);
	CHECK(l.dhead == NULL && l.dtail == NULL);

	/* a callback may cancel one queued after it, and re-queue itself */
	ntrace = 0;
	job_init(&a, 'a');
	job_init(&b, 'b');
	a.cancel = &b;
	loop_defer(&l, &a.d);
	loop_defer(&l, &b.d);
	loop_run_deferred(&l);
	CHECK_EQ_MEM(trace, ntrace, "a", 1);
	loop_free(&l);
}

static int fired;

static void on_timer(struct loop *l, struct loop_timer *t)
{
	static struct job later;
	(void)t;
	fired++;
	job_init(&later, 'z');
	loop_defer(l, &later.d);
	CHECK_EQ_INT(ntrace, 0); /* not yet: after this callback */
}

TEST(loop_defer_runs_after_the_callback_that_queued_it)
{
	struct loop l;
	struct loop_timer t;
	REQUIRE(loop_init(&l, 4, 4) == 0);
	t.slot = -1;
	t.cb = on_timer;
	ntrace = 0;
	fired = 0;
	loop_timer_set(&l, &t, 0);
	REQUIRE(loop_run_once(&l, 100) == 0);
	CHECK_EQ_INT(fired, 1);
	CHECK_EQ_MEM(trace, ntrace, "z", 1);
	loop_free(&l);
}

#include "executor.h"

#include <pthread.h>
#include <stdlib.h>


/* A pool thread: its job slot (NULL when idle), under the executor's lock. */
typedef struct worker {
	gs_exec *ex;
	pthread_t tid;
	pthread_cond_t wake; /* a job was handed over, or stop */
	gs_job *job;
} worker;

struct gs_exec {
	pthread_mutex_t lock;
	pthread_cond_t done; /* some job finished */
	bool stop;
	size_t max, nthreads;
	worker w[GS_EXEC_MAX_THREADS];
};

static void *worker_loop(void *arg)
{
	worker *w = arg;
	gs_exec *ex = w->ex;
	pthread_mutex_lock(&ex->lock);
	for (;;) {
		while (!w->job && !ex->stop)
			pthread_cond_wait(&w->wake, &ex->lock);
		if (!w->job)
			break;
		gs_job *j = w->job;
		pthread_mutex_unlock(&ex->lock);
		j->fn(j->arg);
		pthread_mutex_lock(&ex->lock);
		j->done = true;
		w->job = NULL;
		pthread_cond_broadcast(&ex->done);
	}
	pthread_mutex_unlock(&ex->lock);
	return NULL;
}

gs_exec *gs_exec_new(size_t max_threads)
{
	gs_exec *ex = calloc(1, sizeof *ex);
	if (!ex)
		return NULL;
	ex->max = max_threads < GS_EXEC_MAX_THREADS ? max_threads : GS_EXEC_MAX_THREADS;
	pthread_mutex_init(&ex->lock, NULL);
	pthread_cond_init(&ex->done, NULL);
	return ex;
}

/* An idle thread, or a new one while under the bound; NULL: none. Under the lock. */
static worker *idle_worker(gs_exec *ex)
{
	for (size_t i = 0; i < ex->nthreads; i++)
		if (!ex->w[i].job)
			return &ex->w[i];
	if (ex->nthreads == ex->max)
		return NULL;
	worker *w = &ex->w[ex->nthreads];
	w->ex = ex;
	w->job = NULL;
	pthread_cond_init(&w->wake, NULL);
	if (pthread_create(&w->tid, NULL, worker_loop, w) != 0) {
		pthread_cond_destroy(&w->wake);
		return NULL;
	}
	ex->nthreads++;
	return w;
}

bool gs_exec_submit(gs_exec *ex, gs_job *job, void (*fn)(void *), void *arg)
{
	*job = (gs_job){ex, fn, arg, false, false};
	if (!ex)
		return false;
	pthread_mutex_lock(&ex->lock);
	worker *w = ex->stop ? NULL : idle_worker(ex);
	if (w) {
		job->started = true;
		w->job = job;
		pthread_cond_signal(&w->wake);
	}
	pthread_mutex_unlock(&ex->lock);
	return job->started;
}

void gs_exec_join(gs_job *job)
{
	if (!job->started)
		return;
	gs_exec *ex = job->ex;
	pthread_mutex_lock(&ex->lock);
	while (!job->done)
		pthread_cond_wait(&ex->done, &ex->lock);
	pthread_mutex_unlock(&ex->lock);
	job->started = false; /* joined: a second join is a no-op */
}

void gs_exec_free(gs_exec *ex)
{
	if (!ex)
		return;
	pthread_mutex_lock(&ex->lock);
	ex->stop = true; /* a thread finishes the job it has, then leaves */
	for (size_t i = 0; i < ex->nthreads; i++)
		pthread_cond_signal(&ex->w[i].wake);
	pthread_mutex_unlock(&ex->lock);
	for (size_t i = 0; i < ex->nthreads; i++) {
		pthread_join(ex->w[i].tid, NULL);
		pthread_cond_destroy(&ex->w[i].wake);
	}
	pthread_cond_destroy(&ex->done);
	pthread_mutex_destroy(&ex->lock);
	free(ex);
}

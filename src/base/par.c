#include "base/par.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "base/mem.h"

typedef struct step {
	int (*fn)(void *arg, int i, dm_err *err);
	void *arg;
	int i, rc;
	dm_err err;
} step;

static void *run_step(void *p)
{
	step *s = p;
	s->rc = s->fn(s->arg, s->i, &s->err);
	return NULL;
}

int dm_par_each(int n, int (*fn)(void *arg, int i, dm_err *err), void *arg, dm_err *err)
{
	if (n <= 0)
		return 0;
	step *steps = dm_xcalloc((size_t)n, sizeof(*steps));
	pthread_t *threads = dm_xcalloc((size_t)n, sizeof(*threads));
	bool *started = dm_xcalloc((size_t)n, sizeof(*started));
	for (int i = 0; i < n; i++) {
		steps[i] = (step){.fn = fn, .arg = arg, .i = i};
		/* no thread to spare: the step runs here, in turn */
		started[i] = pthread_create(&threads[i], NULL, run_step, &steps[i]) == 0;
		if (!started[i])
			run_step(&steps[i]);
	}
	int rc = 0;
	for (int i = 0; i < n; i++) {
		if (started[i])
			pthread_join(threads[i], NULL);
		if (steps[i].rc < 0 && rc == 0) {
			*err = steps[i].err;
			rc = -1;
		}
	}
	free(started);
	free(threads);
	free(steps);
	return rc;
}

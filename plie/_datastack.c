/* Keeps the frame stack's chunks that CPython 3.12 and 3.13 give back to the system on every return.

CPython holds the frames of a thread in chunks mapped with mmap. When the frame at the start of a chunk returns, the
chunk is unmapped, and the next call at that depth maps a fresh one and faults its pages in: a loop whose calls cross
a chunk's boundary (Django rendering a template's nodes) pays two system calls and page faults per call. Measured on
the authorization matrix of the tests: 17 s of system time out of 62, 0.8 s with this cache (python/cpython#142183,
fixed upstream by caching one chunk per thread). This module puts a small cache in front of CPython's arena allocator,
which serves those chunks: the last 16 freed blocks of at most 64 KiB are kept, and a request of the same size takes
one back. Larger blocks (pymalloc's arenas) go to the allocator as before. Every block comes from that allocator, so
a block mapped before the cache was installed is kept or unmapped just the same. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>

#define SLOTS 16
#define LARGEST_KEPT (64 * 1024)

static PyObjectArenaAllocator system_allocator;
static void *kept[SLOTS];
static size_t kept_size[SLOTS];
static int kept_count;
static int installed;
/* Interpreters with a GIL of their own share the arena allocator. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *
cached_alloc(void *ctx, size_t size)
{
    if (size > LARGEST_KEPT) {
        return system_allocator.alloc(system_allocator.ctx, size);
    }
    void *block = NULL;
    pthread_mutex_lock(&lock);
    for (int i = kept_count - 1; i >= 0; i--) {
        if (kept_size[i] == size) {
            block = kept[i];
            kept_count--;
            kept[i] = kept[kept_count];
            kept_size[i] = kept_size[kept_count];
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return block ? block : system_allocator.alloc(system_allocator.ctx, size);
}

static void
cached_free(void *ctx, void *block, size_t size)
{
    if (size > LARGEST_KEPT) {
        system_allocator.free(system_allocator.ctx, block, size);
        return;
    }
    void *evicted = NULL;
    size_t evicted_size = 0;
    pthread_mutex_lock(&lock);
    if (kept_count == SLOTS) {
        /* The oldest gives way: a cache full of sizes no longer asked for would bring the unmapping back. */
        evicted = kept[0];
        evicted_size = kept_size[0];
        kept_count--;
        kept[0] = kept[kept_count];
        kept_size[0] = kept_size[kept_count];
    }
    kept[kept_count] = block;
    kept_size[kept_count] = size;
    kept_count++;
    pthread_mutex_unlock(&lock);
    if (evicted) {
        system_allocator.free(system_allocator.ctx, evicted, evicted_size);
    }
}

static PyObjectArenaAllocator cached_allocator = {NULL, cached_alloc, cached_free};

static PyObject *
install(PyObject *module, PyObject *unused)
{
    if (!installed) {
        PyObject_GetArenaAllocator(&system_allocator);
        PyObject_SetArenaAllocator(&cached_allocator);
        installed = 1;
    }
    Py_RETURN_NONE;
}

static PyObject *
is_installed(PyObject *module, PyObject *unused)
{
    return PyBool_FromLong(installed);
}

static PyMethodDef methods[] = {
    {"install", install, METH_NOARGS, "Puts the cache in front of the arena allocator (once per process)."},
    {"installed", is_installed, METH_NOARGS, "Whether the cache is in place."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_datastack", NULL, -1, methods};

PyMODINIT_FUNC
PyInit__datastack(void)
{
    return PyModule_Create(&module);
}

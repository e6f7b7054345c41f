#ifndef WEIGHIN_CLIBPQ_SHIM_H
#define WEIGHIN_CLIBPQ_SHIM_H
// The whole of libpq's public C API, and nothing else: the Postgres target wraps it.
#include <libpq-fe.h>
#endif

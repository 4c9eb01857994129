#ifndef PG_CLIENTS_CLIBPQ_SHIM_H
#define PG_CLIENTS_CLIBPQ_SHIM_H
// libpq (Debian's libpq-dev), for the libpq-client benchmark only.
#include <libpq-fe.h>
#endif

#ifndef DOSSIER_CLIBPQ_SHIM_H
#define DOSSIER_CLIBPQ_SHIM_H
// libpq, PostgreSQL's client library (Debian's libpq-dev). Only Storage/Postgres/ imports it.
#include <libpq-fe.h>
#endif

#ifndef DOSSIER_CSODIUM_SHIM_H
#define DOSSIER_CSODIUM_SHIM_H
#include <sodium.h>
#endif

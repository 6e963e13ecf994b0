#ifndef DISCERN_CYAML_SHIM_H
#define DISCERN_CYAML_SHIM_H
#include <yaml.h>
#endif

#ifndef DISCERN_CPCRE2_SHIM_H
#define DISCERN_CPCRE2_SHIM_H
// The 8-bit library only; Swift calls the `_8` names because the plain names are macros.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

// PCRE2_ZERO_TERMINATED and PCRE2_UNSET are casts Swift cannot import.
static inline PCRE2_SIZE discern_pcre2_unset(void) { return PCRE2_UNSET; }
static inline PCRE2_SIZE discern_pcre2_zero_terminated(void) { return PCRE2_ZERO_TERMINATED; }
#endif

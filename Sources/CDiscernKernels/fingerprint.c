#include "DiscernKernels.h"
#include <string.h>

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x00000100000001b3ULL
#define BLOCK 65536

/* One block: FNV-1a over its 8-byte little-endian words, then its trailing bytes one at a time. */
static uint64_t block_hash(const uint8_t *p, size_t n) {
  uint64_t h = FNV_OFFSET;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t word;
    memcpy(&word, p + i, 8);
    h = (h ^ word) * FNV_PRIME;
  }
  for (; i < n; i++) h = (h ^ p[i]) * FNV_PRIME;
  return h;
}

uint64_t dk_fingerprint_blocks(const uint8_t *data, size_t n, uint64_t value) {
  for (size_t start = 0; start < n; start += BLOCK) {
    uint64_t h = block_hash(data + start, n - start < BLOCK ? n - start : BLOCK);
    for (int b = 0; b < 8; b++) value = (value ^ ((h >> (8 * b)) & 0xff)) * FNV_PRIME;
  }
  return value;
}

// The extern "C" shim over libcld2 (discern_cld2.h says why).
#include "discern_cld2.h"

// compact_lang_det.h uses FILE without including <cstdio>.
#include <cstdio>
#include <cld2/public/compact_lang_det.h>
#include <cld2/public/encodings.h>
#include <cstring>

extern "C" discern_language_guess discern_detect_language(const char *text, int length, const char *hint) {
  // A hint is both a Content-Language hint and a language prior: the first alone barely moves CLD2.
  CLD2::CLDHints hints = {hint, nullptr, CLD2::UNKNOWN_ENCODING, hint ? CLD2::GetLanguageFromName(hint) : CLD2::UNKNOWN_LANGUAGE};
  CLD2::Language language3[3];
  int percent3[3] = {0, 0, 0};
  double scores3[3] = {0, 0, 0};
  int textBytes = 0;
  bool reliable = false;
  int validPrefix = 0;
  // Best effort: without it CLD2 answers "unknown" for most messages under a few dozen letters,
  // which is most of what a moderator reads.
  CLD2::Language language = CLD2::ExtDetectLanguageSummaryCheckUTF8(
      text, length, /*is_plain_text=*/true, &hints, CLD2::kCLDFlagBestEffort, language3, percent3, scores3,
      /*resultchunkvector=*/nullptr, &textBytes, &reliable, &validPrefix);
  discern_language_guess guess;
  std::memset(&guess, 0, sizeof guess);
  std::strncpy(guess.code, CLD2::LanguageCode(language), sizeof guess.code - 1);
  std::strncpy(guess.name, CLD2::LanguageName(language), sizeof guess.name - 1);
  guess.percent = percent3[0];
  guess.text_bytes = textBytes;
  guess.reliable = reliable ? 1 : 0;
  guess.valid_utf8 = validPrefix == length ? 1 : 0;
  return guess;
}

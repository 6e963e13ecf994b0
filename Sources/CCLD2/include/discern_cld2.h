#ifndef DISCERN_CLD2_H
#define DISCERN_CLD2_H
// A C face on Chromium's Compact Language Detector 2 (Debian's libcld2), whose API is C++ (Swift
// imports C, not CLD2's namespaces and std::vector).

#ifdef __cplusplus
extern "C" {
#endif

/// CLD2's reading of one text.
typedef struct {
  /// ISO 639 code of the most likely language ("en", "es", "de"; "un" when CLD2 cannot say).
  char code[16];
  /// CLD2's English name of that language ("ENGLISH", "SPANISH"; "Unknown").
  char name[48];
  /// Share of the scored text, 0–100, in that language.
  int percent;
  /// Letters CLD2 scored, in bytes (tags, digits, punctuation and emoji are not scored).
  int text_bytes;
  /// 1 when CLD2 calls the language clearly more probable than the next one.
  int reliable;
  /// 0 when `text` was not valid UTF-8 (the guess is then "un").
  int valid_utf8;
} discern_language_guess;

/// The most likely language of `length` bytes of UTF-8 plain text. `hint` ("en"), when not NULL,
/// boosts that language (as a Content-Language header and a language prior).
discern_language_guess discern_detect_language(const char *text, int length, const char *hint);

#ifdef __cplusplus
}
#endif
#endif

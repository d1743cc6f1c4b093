/*
 * convert-global.c: re-save an MJCF model in local coordinates with native MuJoCo 2.2.2.
 *
 * gym's hopper.xml and walker2d.xml use <compiler coordinate="global">, which MuJoCo >= 2.3.4
 * (and so @mujoco/mujoco 3.x) refuses. MuJoCo 2.2.2 still compiles them, and mj_saveLastXML
 * writes the model it just compiled back out in local coordinates (every body, joint and geom
 * frame relative to its parent, angles in radians, fromto turned into pos/quat/size).
 *
 * What this program does, in order:
 *   1. mj_loadXML(IN): compile the model with MuJoCo 2.2.2.
 *   2. Raise the precision of numbers written by mj_saveLastXML from 6 to 17 significant
 *      digits, so every double is written exactly (at 6 digits, e.g. the joint range -150 deg
 *      would be written as -2.61799 rad, 3.9e-6 off). The switch is
 *      _mjPRIVATE__set_xml_precision, exported by libmujoco 2.2.x with C linkage; MuJoCo's
 *      own tests use it (class FullFloatPrecision in src/xml/xml_numeric_format.h).
 *   3. mj_saveLastXML(OUT).
 *   4. Rewrite every number in the saved file in its shortest form that parses back to the
 *      same value: shortest double round-trip (e.g. 0.20000000000000001 -> 0.2), or, for a
 *      value that is exactly a float (MuJoCo stores colours and other visual settings as
 *      float), the shortest float round-trip when that is shorter (0.80000001192092896 ->
 *      0.8). Only attribute values whose tokens all parse as numbers are touched. This only
 *      changes how the numbers are spelled, not their values; the model-equivalence test
 *      checks the result.
 *
 * Build:  gcc -O2 -o convert-global convert-global.c -lmujoco -lm
 * Usage:  convert-global IN.xml OUT.xml
 *
 * scripts/reference/convert-models.sh runs this on gym's files and applies the remaining,
 * documented pre- and post-processing (see assets/README.md).
 */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mujoco/mujoco.h>

// Exported by libmujoco 2.2.x (src/xml/xml_numeric_format.h), not declared in its public headers.
extern void _mjPRIVATE__set_xml_precision(const int precision);

// Shortest "%.*g" spelling of v that strtod reads back as exactly v (or, for a value that is
// exactly a float, the shortest that strtof reads back as that float, if it is shorter).
static void shortest(double v, char* out, size_t outsz) {
  char buf[64];
  if (v == (double)(long long)v && v > -1e15 && v < 1e15) {  // integer: no exponent form
    snprintf(out, outsz, "%lld", (long long)v);
    return;
  }
  for (int p = 1; p <= 17; p++) {
    snprintf(buf, sizeof(buf), "%.*g", p, v);
    if (strtod(buf, NULL) == v) break;
  }
  float f = (float)v;
  if ((double)f == v) {
    char fbuf[64];
    for (int p = 1; p <= 9; p++) {
      snprintf(fbuf, sizeof(fbuf), "%.*g", p, (double)f);
      if (strtof(fbuf, NULL) == f) break;
    }
    if (strlen(fbuf) < strlen(buf)) memcpy(buf, fbuf, strlen(fbuf) + 1);
  }
  snprintf(out, outsz, "%s", buf);
}

// If every whitespace-separated token of the attribute value [s, s+len) is a number, write the
// value with each number in its shortest exact form to `out` and return 1; else return 0.
static int rewrite_numbers(const char* s, size_t len, FILE* out) {
  char* value = malloc(len + 1);
  memcpy(value, s, len);
  value[len] = '\0';

  // check: all tokens numeric (and at least one)
  int ntok = 0;
  for (char* p = value; *p;) {
    while (*p == ' ') p++;
    if (!*p) break;
    char* end;
    strtod(p, &end);
    if (end == p || (*end && *end != ' ')) {
      free(value);
      return 0;
    }
    ntok++;
    p = end;
  }
  if (!ntok) {
    free(value);
    return 0;
  }

  // rewrite
  int first = 1;
  for (char* p = value; *p;) {
    while (*p == ' ') p++;
    if (!*p) break;
    char* end;
    double v = strtod(p, &end);
    char num[64];
    shortest(v, num, sizeof(num));
    fprintf(out, first ? "%s" : " %s", num);
    first = 0;
    p = end;
  }
  free(value);
  return 1;
}

static char* read_file(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char* buf = malloc(n + 1);
  if (fread(buf, 1, n, f) != (size_t)n) {
    fclose(f);
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  fclose(f);
  *size = (size_t)n;
  return buf;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s IN.xml OUT.xml\n", argv[0]);
    return 2;
  }
  const char* in = argv[1];
  const char* outpath = argv[2];

  // 1. compile with MuJoCo 2.2.2
  char error[1000] = "";
  mjModel* m = mj_loadXML(in, NULL, error, sizeof(error));
  if (!m) {
    fprintf(stderr, "%s: cannot compile: %s\n", in, error);
    return 1;
  }
  if (error[0]) fprintf(stderr, "%s: warning: %s\n", in, error);

  // 2-3. save in local coordinates, numbers at full precision
  size_t tmplen = strlen(outpath) + 16;
  char* tmp = malloc(tmplen);
  snprintf(tmp, tmplen, "%s.full.tmp", outpath);
  _mjPRIVATE__set_xml_precision(17);
  error[0] = '\0';
  int ok = mj_saveLastXML(tmp, m, error, sizeof(error));
  _mjPRIVATE__set_xml_precision(6);
  mj_deleteModel(m);
  if (!ok) {
    fprintf(stderr, "%s: cannot save: %s\n", tmp, error);
    return 1;
  }

  // 4. respell numbers in their shortest exact form
  size_t size;
  char* text = read_file(tmp, &size);
  if (!text) {
    fprintf(stderr, "cannot read back %s\n", tmp);
    return 1;
  }
  FILE* out = fopen(outpath, "wb");
  if (!out) {
    fprintf(stderr, "cannot write %s\n", outpath);
    return 1;
  }
  for (size_t i = 0; i < size;) {
    // attribute value: =" ... "
    if (text[i] == '=' && i + 1 < size && text[i + 1] == '"') {
      fputs("=\"", out);
      size_t start = i + 2;
      char* close = strchr(text + start, '"');
      if (!close) {
        fprintf(stderr, "unterminated attribute in %s\n", tmp);
        return 1;
      }
      size_t len = (size_t)(close - (text + start));
      if (!rewrite_numbers(text + start, len, out)) fwrite(text + start, 1, len, out);
      fputc('"', out);
      i = start + len + 1;
    } else {
      fputc(text[i++], out);
    }
  }
  fclose(out);
  free(text);
  remove(tmp);
  free(tmp);
  fprintf(stderr, "MuJoCo %s: %s -> %s (local coordinates)\n", mj_versionString(), in, outpath);
  return 0;
}

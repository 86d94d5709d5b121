/* qemu_insn_plugin.c: exact executed-instruction counts for qbuild firmware under qemu-system-arm (TCG plugin).
 *
 * Build:  gcc -O2 -shared -fPIC -o qemu_insn_plugin.so runtime/tools/qemu_insn_plugin.c
 * Run:    qemu-system-arm -M mps2-an505 ... -kernel fw.elf \
 *           -plugin ./qemu_insn_plugin.so,out=counts.txt,span=0x10001234:0x10001238,range=0x10002000:0x10002400
 *
 * Arguments (comma-separated key=value after the .so path; addresses hex 0x... or decimal; any number of each):
 *   out=PATH        write the report to PATH (default: qemu_plugin_outs, which QEMU only prints with `-d plugin`)
 *   span=A:B        an execution span: starts each time the instruction at A executes, ends when the instruction at
 *                   B executes; every completed span is one record. Typical use: A = a call instruction
 *                   (`bl qbuild::Model::invoke`, or the `blx` through which Model::invoke calls an op's eval), B = the
 *                   instruction after it (the return address), so a record is the instructions of that call,
 *                   the call instruction included. A second start before the end restarts the span.
 *   range=A:B       count executed instructions whose address lies in [A, B) (e.g. a function from the ELF symbol
 *                   table, or a single 2/4-byte instruction: A:A+size counts how often it ran).
 *   ranges=PATH     more ranges, one per line: `A B [name]` (hex or decimal; # starts a comment).
 *   Thumb addresses are the instruction addresses (symbol value with bit 0 cleared).
 *
 * Report (text, written at exit, one record per line, fields separated by single spaces):
 *   total <instructions executed by the whole run>
 *   span <span index> <occurrence index> <instructions>      one line per completed span, in execution order
 *   range <range index> <instructions> <name>                one line per range, in argument/file order (range=
 *                                                            arguments first, named "arg<N>"); name may be empty
 * Counts are exact: every executed instruction adds 1 through an inline TCG add (no sampling), and the same ELF
 * gives the same counts on every run. A span counts the instructions executed from the start instruction
 * (inclusive) to the end instruction (exclusive), whatever code ran in between (calls, interrupts).
 *
 * Debian's qemu-system-arm 7.2 supports plugins but packages no qemu-plugin.h: the few API v1 declarations used are
 * written out below (they resolve against the QEMU binary at load time). */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- QEMU plugin API (version 1, QEMU 7.2), declared by hand ---- */
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t; /* only passed through */
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS = 0 };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 = 0 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb* tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void* userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void* userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb* tb);
struct qemu_plugin_insn* qemu_plugin_tb_get_insn(const struct qemu_plugin_tb* tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn* insn);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn* insn, enum qemu_plugin_op op, void* ptr,
                                                uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn* insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void* userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void* userdata);
void qemu_plugin_outs(const char* string);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

/* ---- state (one vCPU: M-profile machines are single core, TCG runs them in one thread) ---- */
typedef struct {
  uint64_t start, end;
  uint64_t count;
  char name[96];
} Range;

typedef struct {
  uint64_t start_addr, end_addr;
  uint64_t at_start; /* total when the current occurrence began */
  bool open;
  uint64_t occurrences;
} Span;

typedef struct {
  uint32_t span;
  uint64_t occurrence, insns;
} SpanRecord;

static uint64_t g_total;
static Range* g_ranges;
static size_t g_nranges, g_cap_ranges;
static Span* g_spans;
static size_t g_nspans;
static SpanRecord* g_records;
static size_t g_nrecords, g_cap_records;
static char* g_out_path;

static bool parse_u64(const char* s, uint64_t* v) {
  char* end;
  if (!s || !*s) return false;
  *v = strtoull(s, &end, 0);
  return *end == '\0' || *end == ':' || *end == ' ' || *end == '\t' || *end == '\n';
}

static bool add_range(uint64_t a, uint64_t b, const char* name) {
  if (b <= a) return false;
  if (g_nranges == g_cap_ranges) {
    g_cap_ranges = g_cap_ranges ? 2 * g_cap_ranges : 16;
    g_ranges = realloc(g_ranges, g_cap_ranges * sizeof(Range));
    if (!g_ranges) return false;
  }
  Range* r = &g_ranges[g_nranges++];
  memset(r, 0, sizeof(*r));
  r->start = a;
  r->end = b;
  snprintf(r->name, sizeof(r->name), "%s", name ? name : "");
  return true;
}

static bool parse_pair(const char* s, uint64_t* a, uint64_t* b) {
  const char* colon = strchr(s, ':');
  return colon && parse_u64(s, a) && parse_u64(colon + 1, b);
}

static bool load_ranges(const char* path) {
  FILE* f = fopen(path, "r");
  if (!f) return false;
  char line[512];
  bool ok = true;
  while (ok && fgets(line, sizeof(line), f)) {
    char* hash = strchr(line, '#');
    if (hash) *hash = '\0';
    char a[64], b[64], name[128] = "";
    int n = sscanf(line, "%63s %63s %127s", a, b, name);
    if (n <= 0) continue;
    uint64_t va, vb;
    ok = n >= 2 && parse_u64(a, &va) && parse_u64(b, &vb) && add_range(va, vb, name);
  }
  fclose(f);
  return ok;
}

/* Span start/end: called before the instruction executes; the inline total counter of the same instruction is
 * ordered the same way for both ends, so a record is exactly [start instruction, end instruction). */
static void span_start(unsigned int vcpu, void* userdata) {
  (void)vcpu;
  Span* s = userdata;
  s->at_start = g_total;
  s->open = true;
}

static void span_end(unsigned int vcpu, void* userdata) {
  (void)vcpu;
  Span* s = userdata;
  if (!s->open) return;
  s->open = false;
  if (g_nrecords == g_cap_records) {
    g_cap_records = g_cap_records ? 2 * g_cap_records : 256;
    g_records = realloc(g_records, g_cap_records * sizeof(SpanRecord));
    if (!g_records) abort();
  }
  g_records[g_nrecords++] = (SpanRecord){(uint32_t)(s - g_spans), s->occurrences++, g_total - s->at_start};
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb* tb) {
  (void)id;
  size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; ++i) {
    struct qemu_plugin_insn* insn = qemu_plugin_tb_get_insn(tb, i);
    uint64_t pc = qemu_plugin_insn_vaddr(insn);
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &g_total, 1);
    for (size_t r = 0; r < g_nranges; ++r) {
      if (pc >= g_ranges[r].start && pc < g_ranges[r].end) {
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &g_ranges[r].count, 1);
      }
    }
    for (size_t s = 0; s < g_nspans; ++s) {
      /* End before start: a span whose end is its own start (or the next span's start) closes first. */
      if (pc == g_spans[s].end_addr) {
        qemu_plugin_register_vcpu_insn_exec_cb(insn, span_end, QEMU_PLUGIN_CB_NO_REGS, &g_spans[s]);
      }
    }
    for (size_t s = 0; s < g_nspans; ++s) {
      if (pc == g_spans[s].start_addr) {
        qemu_plugin_register_vcpu_insn_exec_cb(insn, span_start, QEMU_PLUGIN_CB_NO_REGS, &g_spans[s]);
      }
    }
  }
}

static void emit(FILE* f, const char* line) {
  if (f) {
    fputs(line, f);
  } else {
    qemu_plugin_outs(line);
  }
}

static void at_exit(qemu_plugin_id_t id, void* userdata) {
  (void)id;
  (void)userdata;
  FILE* f = g_out_path ? fopen(g_out_path, "w") : NULL;
  char line[256];
  snprintf(line, sizeof(line), "total %" PRIu64 "\n", g_total);
  emit(f, line);
  for (size_t i = 0; i < g_nrecords; ++i) {
    snprintf(line, sizeof(line), "span %" PRIu32 " %" PRIu64 " %" PRIu64 "\n", g_records[i].span,
             g_records[i].occurrence, g_records[i].insns);
    emit(f, line);
  }
  for (size_t r = 0; r < g_nranges; ++r) {
    snprintf(line, sizeof(line), "range %zu %" PRIu64 " %s\n", r, g_ranges[r].count, g_ranges[r].name);
    emit(f, line);
  }
  if (f) fclose(f);
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t* info,
                                                               int argc, char** argv) {
  (void)info;
  /* Spans are kept in one array whose addresses are handed to QEMU: size it before filling. */
  size_t nspans = 0;
  for (int i = 0; i < argc; ++i) nspans += strncmp(argv[i], "span=", 5) == 0;
  g_spans = calloc(nspans ? nspans : 1, sizeof(Span));
  const char* ranges_file = NULL;
  for (int i = 0; i < argc; ++i) {
    const char* a = argv[i];
    uint64_t x, y;
    char name[32];
    if (strncmp(a, "out=", 4) == 0) {
      g_out_path = strdup(a + 4);
    } else if (strncmp(a, "span=", 5) == 0 && parse_pair(a + 5, &x, &y)) {
      g_spans[g_nspans].start_addr = x;
      g_spans[g_nspans].end_addr = y;
      ++g_nspans;
    } else if (strncmp(a, "range=", 6) == 0 && parse_pair(a + 6, &x, &y)) {
      snprintf(name, sizeof(name), "arg%zu", g_nranges);
      if (!add_range(x, y, name)) return -1;
    } else if (strncmp(a, "ranges=", 7) == 0) {
      ranges_file = a + 7;
    } else {
      fprintf(stderr, "qemu_insn_plugin: bad argument '%s'\n", a);
      return -1;
    }
  }
  if (ranges_file && !load_ranges(ranges_file)) {
    fprintf(stderr, "qemu_insn_plugin: cannot read ranges file '%s'\n", ranges_file);
    return -1;
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
  qemu_plugin_register_atexit_cb(id, at_exit, NULL);
  return 0;
}

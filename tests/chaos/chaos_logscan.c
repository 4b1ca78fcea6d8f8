/*
 * chaos_logscan - the log scan for personal data after a run (issue 9
 * point 10): every citizen ID, phone number, e-mail address, full name,
 * postal address, receipt secret (= rating token) and submission id the
 * load put on the wire is looked for in every log the run produced.
 *
 * Contract: a value counts as found where it stands as a whole: a value
 * that ends in a digit must not be followed by a digit (a phone number
 * inside a 13-digit timestamp is not a phone number), one that ends in a
 * letter must not be followed by a letter or digit ("chaos-1-1" is not in
 * "chaos-1-12"); same at the start. So a citizen ID in "cccd=001185012345"
 * or "CCCD001185012345" counts, in "10011850123456" it does not. Phones
 * are also looked for as 84xxxxxxxxx (the +84 form). Reports name the
 * file and the kind of value with a count, never the value.
 *
 * What is scanned: DIR/ *.log (the daemons', the agencies' and pgtmp's
 * logs): their hits are the figure "personal data in logs" and fail the
 * run. PostgreSQL's own log (DIR/pg/server.log) is scanned too, but its
 * hits are printed apart and not counted: it is not written by our code
 * (an error's DETAIL, e.g. a unique violation's key, is PostgreSQL's
 * choice), yet a hit there is a finding worth reporting. The CLI's output
 * (motcua.out), the notify spool (the messages themselves) and the
 * agencies' journals are not logs and are not scanned.
 *
 * How: one hash table of the values keyed by (polynomial hash, length),
 * and for each distinct length one Rabin-Karp pass over the file with a
 * first-byte filter before the probe; a few tens of passes over a few MB.
 */
#include "chaos.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIN_LEN  6                  /* shorter values would match by chance */
#define MAX_LEN  255                /* longer values are not looked for */
#define HASH_B   0x100000001b3ull   /* polynomial base (odd) */

/* one value in the table */
typedef struct entry {
    uint64_t hash;  /* polynomial hash of the value, 0 with len 0 = free slot */
    uint32_t off;   /* where the value starts in pool */
    uint16_t len;   /* its length in bytes, 0 = free slot */
    uint8_t  kind;  /* chaos_pii_kind_t */
} entry_t;

struct chaos_logscan {
    entry_t *tab;                    /* open addressing, cap a power of two */
    size_t   cap;                    /* slots */
    size_t   n;                      /* values */
    char    *pool;                   /* the values, back to back */
    size_t   pool_len;               /* bytes used */
    size_t   pool_cap;               /* bytes allocated */
    uint64_t first[MAX_LEN + 1][4];  /* per length: bitmap of the values' first bytes */
};

static const char *const kind_names[CHAOS_PII_KINDS] = {
    "citizen_id", "phone", "email", "name", "address", "secret", "submission_id"};

/* poly - the polynomial hash of n bytes */
static uint64_t poly(const unsigned char *p, size_t n)
{
    uint64_t h = 0;
    for (size_t i = 0; i < n; i++)
        h = h * HASH_B + p[i];
    return h;
}

/* slot_of - the first slot to probe for (hash, len) */
static size_t slot_of(const chaos_logscan_t *s, uint64_t hash, size_t len)
{
    uint64_t k = (hash ^ (len * 0xff51afd7ed558ccdull)) * 0x9e3779b97f4a7c15ull;
    return (size_t)(k >> 32) & (s->cap - 1);
}

/* find - the entry holding bytes p[0..len), NULL if none */
static const entry_t *find(const chaos_logscan_t *s, uint64_t hash, const unsigned char *p, size_t len)
{
    for (size_t i = slot_of(s, hash, len);; i = (i + 1) & (s->cap - 1)) {
        const entry_t *e = &s->tab[i];
        if (e->len == 0)
            return NULL;
        if (e->hash == hash && e->len == len && memcmp(s->pool + e->off, p, len) == 0)
            return e;
    }
}

/* put - place an entry in a table with room (no duplicate check) */
static void put(chaos_logscan_t *s, entry_t e)
{
    size_t i = slot_of(s, e.hash, e.len);
    while (s->tab[i].len != 0)
        i = (i + 1) & (s->cap - 1);
    s->tab[i] = e;
}

/* grow - double the table (rehash); -1 on OOM */
static int grow(chaos_logscan_t *s)
{
    entry_t *old = s->tab;
    size_t old_cap = s->cap;
    s->cap = old_cap ? old_cap * 2 : 1024;
    s->tab = calloc(s->cap, sizeof *s->tab);
    if (!s->tab) {
        s->tab = old;
        s->cap = old_cap;
        return -1;
    }
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].len)
            put(s, old[i]);
    free(old);
    return 0;
}

/* chaos_logscan_new - an empty set */
chaos_logscan_t *chaos_logscan_new(void)
{
    chaos_logscan_t *s = calloc(1, sizeof *s);
    if (s && grow(s) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

/* chaos_logscan_add - one value (duplicates are kept once) */
int chaos_logscan_add(chaos_logscan_t *s, chaos_pii_kind_t kind, const char *value)
{
    size_t len = strlen(value);
    const unsigned char *v = (const unsigned char *)value;
    if (len < MIN_LEN || len > MAX_LEN)
        return 0;
    uint64_t hash = poly(v, len);
    if (find(s, hash, v, len))
        return 0;
    if ((s->n + 1) * 2 > s->cap && grow(s) != 0)
        return -1;
    if (s->pool_len + len > s->pool_cap) {
        size_t cap = (s->pool_cap + len) * 2;
        char *p = realloc(s->pool, cap);
        if (!p)
            return -1;
        s->pool = p;
        s->pool_cap = cap;
    }
    memcpy(s->pool + s->pool_len, value, len);
    put(s, (entry_t){hash, (uint32_t)s->pool_len, (uint16_t)len, (uint8_t)kind});
    s->pool_len += len;
    s->n++;
    s->first[len][v[0] >> 6] |= 1ull << (v[0] & 63);
    return 0;
}

/* chaos_logscan_add_sub - the submission's values, the phone also in its 84xxxxxxxxx form */
int chaos_logscan_add_sub(chaos_logscan_t *s, const chaos_pii_t *pii)
{
    char intl[32] = "";
    if (pii->phone[0] == '0')
        snprintf(intl, sizeof intl, "84%s", pii->phone + 1);
    return chaos_logscan_add(s, CHAOS_PII_CITIZEN_ID, pii->citizen_id) ||
           chaos_logscan_add(s, CHAOS_PII_PHONE, pii->phone) ||
           chaos_logscan_add(s, CHAOS_PII_PHONE, intl) ||
           chaos_logscan_add(s, CHAOS_PII_EMAIL, pii->email) ||
           chaos_logscan_add(s, CHAOS_PII_NAME, pii->name) ||
           chaos_logscan_add(s, CHAOS_PII_ADDRESS, pii->address) ||
           chaos_logscan_add(s, CHAOS_PII_SECRET, pii->secret) ||
           chaos_logscan_add(s, CHAOS_PII_SUBMISSION_ID, pii->submission_id)
               ? -1 : 0;
}

/* is_digit - ASCII digit (no locale) */
static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* is_word - a byte that belongs to a word: ASCII letter or digit, '_', or part of a UTF-8 sequence */
static bool is_word(unsigned char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

/* continues - would neighbour extend a value whose edge byte is edge (then it is not this value) */
static bool continues(unsigned char edge, unsigned char neighbour)
{
    if (is_digit(edge))
        return is_digit(neighbour);
    return is_word(edge) && is_word(neighbour);
}

/* scan_len - the hits of the values of length len in buf */
static long scan_len(const chaos_logscan_t *s, const unsigned char *buf, size_t size, size_t len,
                     long hits[CHAOS_PII_KINDS])
{
    const uint64_t *first = s->first[len];
    uint64_t top = 1; /* HASH_B^(len-1): the weight of the byte leaving the window */
    for (size_t j = 1; j < len; j++)
        top *= HASH_B;
    uint64_t h = poly(buf, len);
    long total = 0;
    for (size_t i = 0;; i++) {
        unsigned char c = buf[i];
        if (first[c >> 6] & (1ull << (c & 63))) {
            const entry_t *e = find(s, h, buf + i, len);
            if (e && (i == 0 || !continues(c, buf[i - 1])) &&
                (i + len == size || !continues(buf[i + len - 1], buf[i + len]))) {
                hits[e->kind]++;
                total++;
            }
        }
        if (i + len >= size)
            return total;
        h = (h - c * top) * HASH_B + buf[i + len];
    }
}

/* read_all - a whole file in a malloc'd buffer; NULL if unreadable */
static unsigned char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f)
        return NULL;
    unsigned char *buf = NULL;
    if (fstat(fileno(f), &st) == 0 && (buf = malloc((size_t)st.st_size + 1)) != NULL) {
        *size = fread(buf, 1, (size_t)st.st_size, f);
        if (ferror(f)) {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

/* chaos_logscan_file - every length's pass over the file */
long chaos_logscan_file(const chaos_logscan_t *s, const char *path, long hits[CHAOS_PII_KINDS])
{
    size_t size = 0;
    unsigned char *buf = read_all(path, &size);
    if (!buf)
        return -1;
    long total = 0;
    for (size_t len = MIN_LEN; len <= MAX_LEN && len <= size; len++) {
        const uint64_t *f = s->first[len];
        if (f[0] | f[1] | f[2] | f[3])
            total += scan_len(s, buf, size, len, hits);
    }
    free(buf);
    return total;
}

/* report - scan one file and print its hits by kind under label; hits or -1 */
static long report(const chaos_logscan_t *s, const char *path, const char *label)
{
    long hits[CHAOS_PII_KINDS] = {0};
    long n = chaos_logscan_file(s, path, hits);
    if (n < 0) {
        printf("  chaos: log scan: cannot read %s\n", path);
        return -1;
    }
    if (n == 0)
        return 0;
    printf("  chaos: %s: %ld personal value(s):", label, n);
    for (int k = 0; k < CHAOS_PII_KINDS; k++)
        if (hits[k])
            printf(" %s=%ld", kind_names[k], hits[k]);
    printf("\n");
    return n;
}

/* cmp_name - order file names */
static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* log_names - the regular files named *.log directly in dir, sorted (malloc'd); -1 on error */
static int log_names(const char *dir, char ***out, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    size_t cap = 0;
    int rc = 0;
    struct dirent *de;
    *out = NULL;
    *n = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        char path[1024];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 4, ".log") != 0 || stat(path, &st) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (*n == cap) {
            char **more = realloc(*out, (cap = cap ? cap * 2 : 32) * sizeof *more);
            if (!more) {
                rc = -1;
                break;
            }
            *out = more;
        }
        if (((*out)[*n] = strdup(de->d_name)) == NULL)
            rc = -1;
        else
            (*n)++;
    }
    closedir(d);
    if (*n)
        qsort(*out, *n, sizeof **out, cmp_name);
    return rc;
}

/* chaos_logscan_dir - our logs counted, PostgreSQL's apart */
long chaos_logscan_dir(const chaos_logscan_t *s, const char *dir)
{
    char **names = NULL;
    size_t n = 0;
    long total = log_names(dir, &names, &n) == 0 ? 0 : -1;
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        long k = total >= 0 ? report(s, path, names[i]) : 0;
        total = k < 0 ? -1 : total + k;
        free(names[i]);
    }
    free(names);
    char pg[1024];
    snprintf(pg, sizeof pg, "%s/pg/server.log", dir);
    if (total >= 0 && access(pg, R_OK) == 0)
        report(s, pg, "PostgreSQL's own log pg/server.log (not ours, not counted)");
    printf("  chaos: log scan: %zu logs against %zu personal values\n", n, s->n);
    return total;
}

/* chaos_logscan_destroy - free the set */
void chaos_logscan_destroy(chaos_logscan_t **s)
{
    if (!*s)
        return;
    free((*s)->tab);
    free((*s)->pool);
    free(*s);
    *s = NULL;
}

/* write_file - dir/name with text; -1 on error */
static int write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int rc = fputs(text, f) < 0 ? -1 : 0;
    return fclose(f) != 0 ? -1 : rc;
}

/*
 * chaos_logscan_selftest - the check can fail: a fake run directory whose
 * daemon log holds one planted phone number among near misses (the phone
 * inside a longer number, a longer submission id, a longer name, the
 * e-mail behind a letter, the ID inside a 13-digit run), PostgreSQL's log
 * a citizen ID (not counted); and a file holding one value of each kind,
 * each of which must be found.
 */
int chaos_logscan_selftest(void)
{
    static const chaos_pii_t pii = {
        "001185012345", "0912345678", "load1@example.vn", "Nguyễn Văn An",
        "Số 12 ngõ 3 phố Kim Liên, Đống Đa, Hà Nội", "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
        "chaos-7-1"};
    static const char *const fake_log =
        "<6>2026-11-30T23:17:25.153Z motcua-notify: event=sms_sent id=7 ms=10912345678123\n"
        "<6>2026-11-30T23:17:25.154Z motcua-intake: event=received sid=chaos-7-12 n=10011850123456\n"
        "<6>2026-11-30T23:17:25.155Z motcua-intake: event=x who=Nguyễn Văn Anh mail=xload1@example.vn\n"
        "<4>2026-11-30T23:17:25.156Z motcua-notify: event=sms_failed to=0912345678 status=500\n";
    static const char *const every_kind =
        "cccd=001185012345 to=+84912345678 0912345678 <load1@example.vn> \"Nguyễn Văn An\","
        " Số 12 ngõ 3 phố Kim Liên, Đống Đa, Hà Nội t=1b4e28ba-2fa1-11d2-883f-0016d3cca427"
        " sid=chaos-7-1\n";
    static const long expected[CHAOS_PII_KINDS] = {1, 2, 1, 1, 1, 1, 1};
    char dir[] = "/tmp/motcua-logscan-XXXXXX", sub[64], path[96];
    if (!mkdtemp(dir))
        return -1;
    snprintf(sub, sizeof sub, "%s/pg", dir);
    chaos_logscan_t *s = chaos_logscan_new();
    int rc = s && chaos_logscan_add_sub(s, &pii) == 0 && mkdir(sub, 0700) == 0 &&
                     write_file(dir, "notify.log", fake_log) == 0 &&
                     write_file(sub, "server.log", "DETAIL:  Key (cccd)=(001185012345)\n") == 0 &&
                     write_file(dir, "every-kind.txt", every_kind) == 0
                 ? 0 : -1;
    long found = rc == 0 ? chaos_logscan_dir(s, dir) : -1;
    printf("personal data in logs: %ld\n", found);
    long hits[CHAOS_PII_KINDS] = {0};
    snprintf(path, sizeof path, "%s/every-kind.txt", dir);
    if (found != 1 || chaos_logscan_file(s, path, hits) != 8)
        rc = -1;
    for (int k = 0; k < CHAOS_PII_KINDS; k++)
        if (hits[k] != expected[k]) {
            printf("  logscan selftest: %s found %ld times, expected %ld\n", kind_names[k], hits[k],
                   expected[k]);
            rc = -1;
        }
    chaos_logscan_destroy(&s);
    harness_run("rm -rf '%s'", dir);
    printf("logscan selftest: %s\n", rc == 0 ? "PASS" : "FAIL");
    return rc;
}

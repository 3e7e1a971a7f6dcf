/*
 * The exact Connect Four search, in C because pure Python is some hundred
 * times too slow for the one-second bound (see docs/solver.md).
 *
 * Negamax with alpha-beta on bitboards, moves that lose at once pruned,
 * moves ordered by the threats they make, a transposition table, and an
 * iterative null-window search on the score, after the algorithm Pascal
 * Pons published; and beyond it: a small table of two-entry buckets holding
 * both bounds, looked up for the children before they are searched; bounds
 * from who can still make four (a follow-up on top of the other's moves, and
 * zugzwang, among them); moves early in the game ordered by the potential of
 * their lines.  Written for this project; no code of his is used.
 *
 * Bit layout as in connectfour.rules: bit column * 7 + row, row 0 at the
 * bottom, the seventh bit of each column a sentinel that stays empty.
 *
 * Every thread has its own table, so searches run in parallel threads; the
 * GIL is released for the whole search.  The opening book is read-only
 * once loaded.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>

#define WIDTH 7
#define HEIGHT 6
#define CELLS (WIDTH * HEIGHT)
#define MIN_SCORE (-(CELLS) / 2 + 3)
#define MAX_SCORE ((CELLS + 1) / 2 - 3)
#define BOOK_PLY 12

typedef uint64_t bb;

static const bb BOTTOM = 0x0040810204081ULL; /* the bottom cell of every column */
static const bb BOARD = 0x0FDFBF7EFDFBFULL;  /* every playable cell */

static inline bb bottom_of(int col) { return 1ULL << (col * (HEIGHT + 1)); }
static inline bb top_of(int col) { return 1ULL << (HEIGHT - 1 + col * (HEIGHT + 1)); }
static inline bb column_of(int col) { return ((1ULL << HEIGHT) - 1) << (col * (HEIGHT + 1)); }

typedef struct {
    bb current; /* stones of the side to move */
    bb mask;    /* every stone */
    int moves;
} Pos;

static inline int can_play(const Pos *p, int col) { return (p->mask & top_of(col)) == 0; }

static inline void play_bits(Pos *p, bb move) {
    p->current ^= p->mask;
    p->mask |= move;
    p->moves++;
}

static inline void play_col(Pos *p, int col) { play_bits(p, (p->mask + bottom_of(col)) & column_of(col)); }

/* The empty cells that would complete four of `stones`. */
static bb winning_cells(bb stones, bb mask) {
    bb r = (stones << 1) & (stones << 2) & (stones << 3); /* vertical: only upwards */
    static const int shifts[3] = {HEIGHT + 1, HEIGHT, HEIGHT + 2};
    for (int i = 0; i < 3; i++) {
        int s = shifts[i];
        bb pair = (stones << s) & (stones << 2 * s);
        r |= pair & (stones << 3 * s);
        r |= pair & (stones >> s);
        pair = (stones >> s) & (stones >> 2 * s);
        r |= pair & (stones >> 3 * s);
        r |= pair & (stones << s);
    }
    return r & (BOARD ^ mask);
}

static inline bb playable(const Pos *p) { return (p->mask + BOTTOM) & BOARD; }
static inline bb opponent_wins(const Pos *p) { return winning_cells(p->current ^ p->mask, p->mask); }
static inline bb own_wins(const Pos *p) { return winning_cells(p->current, p->mask); }
static inline int can_win_next(const Pos *p) { return (own_wins(p) & playable(p)) != 0; }

/* Moves that do not hand the opponent a win on the next move, given its winning cells. */
static bb non_losing_moves(const Pos *p, bb threats) {
    bb possible = playable(p);
    bb forced = possible & threats;
    if (forced) {
        if (forced & (forced - 1)) return 0; /* two threats: lost */
        possible = forced;
    }
    return possible & ~(threats >> 1);
}

static inline int popcount(bb x) { return __builtin_popcountll(x); }

/* The build's flags are setuptools' own, for any x86-64: without POPCNT, so
 * that a population count is a library call.  The search, which counts cells
 * at every node, is built twice, with the instruction and without, and the
 * processor's own is picked when the module loads (2 to 6% less time; the
 * choice at load time needs glibc). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__GLIBC__) && !defined(__POPCNT__)
#define WITH_POPCNT __attribute__((target_clones("popcnt", "default")))
#else
#define WITH_POPCNT
#endif

/* ---- opening book: the 12-ply positions of bitbully-databases ---- */

static int32_t *book_keys = NULL;
static int8_t *book_values = NULL;
static Py_ssize_t book_size = 0;

/* bitbully's encoding: columns left to right, each bottom up, '10' for a
 * stone of the first player, '11' for the second, '0' closing a column. */
static int32_t book_code(bb first, bb mask, int mirrored) {
    uint32_t code = 0;
    for (int i = 0; i < WIDTH; i++) {
        int col = mirrored ? WIDTH - 1 - i : i;
        for (int row = 0; row < HEIGHT; row++) {
            bb cell = 1ULL << (col * (HEIGHT + 1) + row);
            if (!(mask & cell)) break;
            code = (code << 2) | ((first & cell) ? 2u : 3u);
        }
        code <<= 1;
    }
    code <<= 1;
    return (int32_t)code;
}

static int book_find(int32_t code) {
    Py_ssize_t lo = 0, hi = book_size - 1;
    while (lo <= hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (book_keys[mid] == code) return book_values[mid];
        if (book_keys[mid] < code) lo = mid + 1;
        else hi = mid - 1;
    }
    return -128;
}

/* The exact score of a 12-ply position (first player to move), or 127 when
 * the book does not hold it.  The book's value v > 0 means a win 100 - v
 * plies after the position, counted to the winning stone included. */
static int book_score(const Pos *p) {
    bb first = p->current; /* at an even ply the first player is to move */
    int v = book_find(book_code(first, p->mask, 0));
    if (v == -128) v = book_find(book_code(first, p->mask, 1));
    if (v == -128) return 127;
    if (v == 0) return 0;
    int plies = 100 - (v > 0 ? v : -v);
    int stones = (p->moves + plies + 1) / 2; /* of the winner, after the winning stone */
    int score = (CELLS + 2) / 2 - stones;
    return v > 0 ? score : -score;
}

/* ---- transposition table ---- */

/* Each thread's table: 2^17 buckets of two entries, 2 MiB.  The search's
 * time goes to reading the table more than to anything else, and a table
 * this small stays in the processor's caches: 64 MiB made the hardest
 * searches 1.8 times as slow for 10% fewer nodes.  Its entries outlive a
 * search (a bound is true of its position whatever the search), so one
 * game's searches reuse each other's work. */
#define TABLE_BITS 17
#define BUCKETS (1u << TABLE_BITS)
#define WAYS 2
#define KEY_BITS 49 /* current + mask: 7 columns of 7 bits */
/* Odd, so multiplying by it modulo 2^49 is a bijection: its high bits pick the
 * bucket, its low 32 bits identify the position within it, exactly. */
#define MIX 0x5DEECE66DB3ULL

typedef struct {
    uint32_t check;     /* the mixed key's low 32 bits */
    uint8_t lower;      /* a lower bound on the score, score - MIN_SCORE + 1; 0 none */
    uint8_t upper;      /* an upper bound, likewise */
    uint8_t work;       /* log2 of the nodes its bounds cost: what it is worth keeping */
    uint8_t generation; /* the search that last wrote it */
} Entry;

typedef struct {
    Entry e[WAYS];
} Bucket;

typedef struct {
    Bucket *buckets;
    uint8_t generation;
} Table;

static pthread_key_t table_key;

static void table_free(void *arg) {
    Table *t = arg;
    if (!t) return;
    free(t->buckets);
    free(t);
}

/* The calling thread's table, ready for a new search; NULL if out of memory. */
static Table *table_for_search(void) {
    Table *t = pthread_getspecific(table_key);
    if (!t) {
        t = calloc(1, sizeof *t);
        if (!t) return NULL;
        t->buckets = calloc(BUCKETS, sizeof *t->buckets);
        if (!t->buckets || pthread_setspecific(table_key, t)) {
            table_free(t);
            return NULL;
        }
    }
    t->generation++;
    return t;
}

typedef struct {
    Table *table;
    uint64_t nodes;
    struct timespec deadline;
    int has_deadline;
    int timed_out;
    int use_book;
} Search;

static inline bb key_of(const Pos *p) { return p->current + p->mask; }
static inline bb mixed(bb key) { return (key * MIX) & ((1ULL << KEY_BITS) - 1); }
static inline Bucket *bucket_of(const Search *s, bb h) { return &s->table->buckets[h >> (KEY_BITS - TABLE_BITS)]; }

static inline Entry *tt_find(const Search *s, bb h) {
    Bucket *b = bucket_of(s, h);
    for (int i = 0; i < WAYS; i++)
        if (b->e[i].check == (uint32_t)h && (b->e[i].lower | b->e[i].upper)) return &b->e[i];
    return NULL;
}

static inline int score_of(uint8_t stored) { return stored - 1 + MIN_SCORE; }
static inline uint8_t stored_of(int score) { return (uint8_t)(score - MIN_SCORE + 1); }

/* Record a bound (0 for the one not known) found with `nodes` nodes of work. */
static void tt_put(Search *s, bb h, uint8_t lower, uint8_t upper, uint64_t nodes) {
    Table *t = s->table;
    int work = 63 - __builtin_clzll(nodes | 1);
    Entry *e = tt_find(s, h);
    if (e) { /* both bounds stay true: keep the tighter of each */
        if (lower > e->lower) e->lower = lower;
        if (upper && (!e->upper || upper < e->upper)) e->upper = upper;
        if (work > e->work) e->work = (uint8_t)work;
        e->generation = t->generation;
        return;
    }
    /* Replace an empty entry, else one from an earlier search, else the one that cost less. */
    Bucket *b = bucket_of(s, h);
    e = &b->e[0];
    int least = INT32_MAX;
    for (int i = 0; i < WAYS; i++) {
        Entry *c = &b->e[i];
        int worth = !(c->lower | c->upper) ? -1 : c->work + (c->generation == t->generation ? 64 : 0);
        if (worth < least) {
            least = worth;
            e = c;
        }
    }
    *e = (Entry){(uint32_t)h, lower, upper, (uint8_t)work, t->generation};
}

static int past_deadline(Search *s) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > s->deadline.tv_sec ||
           (now.tv_sec == s->deadline.tv_sec && now.tv_nsec >= s->deadline.tv_nsec);
}

/* ---- what a position says without a search ---- */

#define ROWS_1_3_5 (BOTTOM * 0x15ULL) /* the first, third and fifth rows from the bottom */
#define ROWS_2_4_6 (BOTTOM * 0x2AULL)

/* Whether four in a row fit in `cells` anywhere. */
static inline int has_four(bb cells) {
    if (cells & (cells >> 1) & (cells >> 2) & (cells >> 3)) return 1;
    static const int shifts[3] = {HEIGHT + 1, HEIGHT, HEIGHT + 2};
    for (int i = 0; i < 3; i++) {
        bb pairs = cells & (cells >> shifts[i]);
        if (pairs & (pairs >> 2 * shifts[i])) return 1;
    }
    return 0;
}

/* How promising `own`'s lines are: over every line of four that holds none of
 * `other`'s stones, one point for holding one of `own`'s, two more for two,
 * three more for three. */
WITH_POPCNT static int potential(bb own, bb other) {
    bb open = ~other & BOARD;
    int sum = 0;
    static const int shifts[4] = {1, HEIGHT + 1, HEIGHT, HEIGHT + 2};
    for (int i = 0; i < 4; i++) {
        int s = shifts[i];
        bb lines = open & (open >> s) & (open >> 2 * s) & (open >> 3 * s); /* by their first cell */
        bb a = own & lines, b = (own >> s) & lines, c = (own >> 2 * s) & lines, d = (own >> 3 * s) & lines;
        bb ab = a & b, cd = c & d, a_b = a | b, c_d = c | d;
        sum += popcount(a_b | c_d) + 2 * popcount(ab | cd | (a_b & c_d)) + 3 * popcount((ab & c_d) | (cd & a_b));
    }
    return sum;
}

/* Whether `owner` wins by zugzwang, whoever is to move: it has winning cells
 * in its own `rows` (rows 3 and 5 for the first player, 2, 4 and 6 for the
 * second) over an empty cell, and `other` can make four nowhere but in such a
 * cell or above it.  Neither side then plays under such a cell: the owner
 * would waste it, the other would lose at once; and when every other cell is
 * full, the empty cells left in those columns make it the other's turn, so it
 * must.  For the second player each such column leaves an even number of
 * cells, so all of them count at once; for the first player, an odd number:
 * one column at a time. */
static int zugzwang_wins(bb owner_wins, bb other, bb mask, bb rows, int second) {
    bb empty = ~mask & BOARD;
    bb good = owner_wins & rows & (empty << 1);
    bb above = 0; /* each good cell and the cells above it */
    for (; good; good &= good - 1) {
        bb cell = good & -good;
        bb up = column_of(__builtin_ctzll(cell) / (HEIGHT + 1)) & ~(cell - 1);
        if (!second && !has_four(other | (empty & ~up))) return 1;
        above |= up;
    }
    return second && above && !has_four(other | (empty & ~above));
}

/* ---- the search ---- */

#define LATE 20      /* from this ply on, look whether either side can still make four */
#define EARLY 24     /* before this ply, order moves by their lines' potential too */
#define ORDERED 34   /* from this ply on, try moves centre first only: ordering costs more than it saves */
#define ETC_BEFORE 36 /* before this ply, look the children up in the table before searching them */

static const int ORDER[WIDTH] = {3, 2, 4, 1, 5, 0, 6};

/* Fail-soft null-window negamax: the score if it lies in (alpha, beta), else a
 * bound beyond the window on the side it lies. */
WITH_POPCNT static int negamax(Search *s, const Pos *p, int alpha, int beta) {
    if (s->timed_out) return 0;
    if ((++s->nodes & 0xFFF) == 0 && s->has_deadline && past_deadline(s)) {
        s->timed_out = 1;
        return 0;
    }
    bb threats = opponent_wins(p);
    bb next = non_losing_moves(p, threats);
    if (next == 0) return -(CELLS - p->moves) / 2;
    if (p->moves >= CELLS - 2) return 0;

    int lo = -(CELLS - 2 - p->moves) / 2; /* the opponent cannot win before its stone after next */
    int hi = (CELLS - 1 - p->moves) / 2;  /* nor can we before our stone after next */
    if (p->moves >= LATE) {
        /* What either side can still make, whatever the other does.  Each
         * bound is on the 0 or the +-1 side of a draw, and the window is null:
         * one is worked out only where it would end the search. */
        bb opponent = p->current ^ p->mask, empty = ~p->mask & BOARD;
        int second = p->moves & 1;          /* the side to move is the second player */
        bb theirs = second ? ROWS_1_3_5 : ROWS_2_4_6; /* the rows of the opponent's zugzwang */
        bb base = playable(p) & ROWS_2_4_6; /* the next cell of each column with an odd number of empty cells */
        if (alpha >= -1) {
            if (!second) {
                /* Follow-up: the second player answers each move on top of it, and
                 * each move on `base` on another cell of `base` (there is an even
                 * number of them), so we get at most the empty cells of rows 1, 3
                 * and 5 and those of `base`; it gets the others of rows 2, 4 and 6. */
                if (!has_four(p->current | (empty & ROWS_1_3_5) | base)) {
                    int most = has_four(opponent | (empty & ROWS_2_4_6 & ~base)) ? -1 : 0;
                    if (hi > most) hi = most;
                }
            } else {
                if (alpha >= 0 && !has_four(p->current | empty)) hi = hi < 0 ? hi : 0; /* we cannot make four any more */
                /* One column with an odd number of empty cells, and in it a winning
                 * cell of the first player's in row 3 or 5 over an empty one: it
                 * answers each of our moves on top of it and never plays under that
                 * cell, so at last we must.  We get only the empty cells of rows 1,
                 * 3 and 5 elsewhere, and of rows 2, 4 and 6 in that column up to the
                 * one under its cell. */
                if (hi > -1 && base && !(base & (base - 1))) {
                    bb column = column_of(__builtin_ctzll(base) / (HEIGHT + 1));
                    bb good = threats & column & ROWS_1_3_5 & (empty << 1);
                    if (good) {
                        bb cell = good & -good;
                        if (!has_four(p->current | (empty & ROWS_1_3_5 & ~column) | (empty & ROWS_2_4_6 & column & (cell - 1))))
                            return -1;
                    }
                }
            }
            if (hi <= alpha) return hi;
            /* (Our own zugzwang is found as the opponent's in each position after our move.) */
            if (zugzwang_wins(threats, p->current, p->mask, theirs, !second)) return -1;
        }
        if (beta <= 1) {
            if (second) {
                /* Follow-up the other way: a move on `base` leaves the first player
                 * to move with an even number of them, us answering as above. */
                bb cells = opponent | (empty & ROWS_1_3_5), claimed = p->current | (empty & ROWS_2_4_6 & ~base);
                if (!has_four(cells | (base & ~next)))
                    for (bb left = base & next; left && lo < 1; left &= left - 1) {
                        bb move = left & -left;
                        if (!has_four(cells | (base ^ move))) lo = has_four(claimed | move) ? 1 : 0;
                    }
            }
            if (lo < 0 && beta <= 0 && !has_four(opponent | empty)) lo = 0; /* nor can the opponent */
            if (lo >= beta) return lo;
        }
    }
    if (alpha < lo) {
        alpha = lo;
        if (alpha >= beta) return alpha;
    }
    if (beta > hi) {
        beta = hi;
        if (alpha >= beta) return beta;
    }

    bb h = mixed(key_of(p));
    Entry *cached = tt_find(s, h);
    if (cached) {
        if (cached->lower && alpha < score_of(cached->lower)) {
            alpha = score_of(cached->lower);
            if (alpha >= beta) return alpha;
        }
        if (cached->upper && beta > score_of(cached->upper)) {
            beta = score_of(cached->upper);
            if (alpha >= beta) return beta;
        }
    }

    if (s->use_book && p->moves == BOOK_PLY && __atomic_load_n(&book_size, __ATOMIC_ACQUIRE)) {
        int exact = book_score(p);
        if (exact != 127) return exact;
    }

    /* Order the moves: the more winning cells a move makes, the earlier; early
     * in the game, where few moves make any, the more promising its lines and
     * the less the opponent's afterwards; centre first among equals.  Each
     * child's bucket is fetched meanwhile. */
    uint64_t start = s->nodes;
    bb moves[WIDTH], keys[WIDTH];
    int scores[WIDTH];
    int n = 0;
    bb opponent = p->current ^ p->mask;
    for (int i = 0; i < WIDTH; i++) {
        bb move = next & column_of(ORDER[i]);
        if (!move) continue;
        bb key = mixed(opponent + (p->mask | move)); /* the child's: the opponent to move */
        __builtin_prefetch(bucket_of(s, key));
        int score = 0;
        if (p->moves < ORDERED) score = popcount(winning_cells(p->current | move, p->mask | move));
        if (p->moves < EARLY)
            score = score * 1024 + 512 + potential(p->current | move, opponent) - potential(opponent, p->current | move);
        int j = n++;
        while (j > 0 && scores[j - 1] < score) {
            moves[j] = moves[j - 1];
            keys[j] = keys[j - 1];
            scores[j] = scores[j - 1];
            j--;
        }
        moves[j] = move;
        keys[j] = key;
        scores[j] = score;
    }

    int best = lo; /* fail-soft: no move scores more than the best bound found */
    if (p->moves < ETC_BEFORE) {
        /* Enhanced transposition cutoff: a child the table holds as bad enough for
         * the opponent refutes the window unsearched; one it holds as good enough
         * for the opponent cannot raise alpha, and is not searched either. */
        int kept = 0;
        for (int i = 0; i < n; i++) {
            Entry *c = tt_find(s, keys[i]);
            if (c && c->upper && -score_of(c->upper) >= beta) {
                tt_put(s, h, stored_of(-score_of(c->upper)), 0, 1);
                return -score_of(c->upper);
            }
            if (c && c->lower && -score_of(c->lower) <= alpha) {
                if (-score_of(c->lower) > best) best = -score_of(c->lower);
                continue;
            }
            moves[kept++] = moves[i];
        }
        n = kept;
    }

    for (int i = 0; i < n; i++) {
        Pos child = *p;
        play_bits(&child, moves[i]);
        int score = -negamax(s, &child, -beta, -alpha);
        if (s->timed_out) return 0;
        if (score >= beta) {
            tt_put(s, h, stored_of(score), 0, s->nodes - start);
            return score;
        }
        if (score > best) best = score;
    }
    tt_put(s, h, 0, stored_of(best), s->nodes - start);
    return best;
}

/* A lower bound on the score of a position one ply past the book: no position
 * scores less than the opposite of one it follows, and every one it follows
 * (the last mover's stone on top of some column taken back) is in the book. */
static int book_floor(const Pos *p) {
    int floor = -CELLS;
    bb mover = p->current ^ p->mask;
    for (int col = 0; col < WIDTH; col++) {
        bb stones = p->mask & column_of(col);
        bb top = ((stones + bottom_of(col)) >> 1) & stones;
        if (!(top & mover)) continue;
        Pos before = {mover ^ top, p->mask ^ top, p->moves - 1};
        int score = book_score(&before);
        if (score != 127 && -score > floor) floor = -score;
    }
    return floor;
}

/* The exact score of a position where the side to move has not won yet, known
 * to be at least `floor`: null-window searches, the first at the floor if there
 * is one (most moves of a position score just what it does), else at 0 (where
 * most scores lie), each next one beside the bound the last one found. */
static int solve_above(Search *s, const Pos *p, int floor) {
    if (can_win_next(p)) return (CELLS + 1 - p->moves) / 2;
    if (p->moves >= CELLS) return 0;
    if (s->use_book && p->moves == BOOK_PLY + 1 && __atomic_load_n(&book_size, __ATOMIC_ACQUIRE)) {
        int known = book_floor(p);
        if (known > floor) floor = known;
    }
    int lo = -(CELLS - p->moves) / 2;
    int hi = (CELLS + 1 - p->moves) / 2;
    int guess = 0;
    if (lo < floor) lo = guess = floor;
    while (lo < hi) {
        int med = guess < lo ? lo : guess >= hi ? hi - 1 : guess;
        int r = negamax(s, p, med, med + 1);
        if (s->timed_out) return 0;
        if (r <= med) {
            hi = r;
            guess = r - 1;
        } else {
            lo = r;
            guess = r;
        }
    }
    return lo;
}

static int solve(Search *s, const Pos *p) { return solve_above(s, p, -CELLS); }

/* ---- Python interface ---- */

/* Play a move string; -1 and an error on a bad one (the Python layer gives
 * people the friendly messages; this is the last line of defence). */
static int parse(const char *moves, Py_ssize_t length, Pos *p) {
    memset(p, 0, sizeof *p);
    for (Py_ssize_t i = 0; i < length; i++) {
        int col = moves[i] - '1';
        if (col < 0 || col >= WIDTH || !can_play(p, col)) {
            PyErr_Format(PyExc_ValueError, "move %zd is not a legal column", i + 1);
            return -1;
        }
        Pos after = *p;
        play_col(&after, col);
        if (winning_cells(p->current, p->mask) & ((p->mask + bottom_of(col)) & column_of(col))) {
            PyErr_Format(PyExc_ValueError, "move %zd wins the game", i + 1);
            return -1;
        }
        *p = after;
    }
    return 0;
}

static int search_init(Search *s, double budget, int use_book) {
    memset(s, 0, sizeof *s);
    s->table = table_for_search();
    if (!s->table) {
        PyErr_NoMemory();
        return -1;
    }
    s->use_book = use_book;
    if (budget > 0) {
        s->has_deadline = 1;
        clock_gettime(CLOCK_MONOTONIC, &s->deadline);
        double whole = (double)(long)budget;
        s->deadline.tv_sec += (time_t)whole;
        s->deadline.tv_nsec += (long)((budget - whole) * 1e9);
        if (s->deadline.tv_nsec >= 1000000000L) {
            s->deadline.tv_sec += 1;
            s->deadline.tv_nsec -= 1000000000L;
        }
    }
    return 0;
}

static void search_free(Search *s) { s->table = NULL; }

static PyObject *timeout_error(void) {
    PyErr_SetString(PyExc_TimeoutError, "the search ran out of its time budget");
    return NULL;
}

/* solve(moves: str, budget: float = 0, book: bool = True) -> (score, nodes) */
static PyObject *py_solve(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"moves", "budget", "book", NULL};
    const char *moves;
    Py_ssize_t length;
    double budget = 0;
    int use_book = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s#|dp", names, &moves, &length, &budget, &use_book))
        return NULL;
    Pos p;
    if (parse(moves, length, &p) < 0) return NULL;
    Search s;
    if (search_init(&s, budget, use_book) < 0) return NULL;
    int score;
    Py_BEGIN_ALLOW_THREADS
    score = solve(&s, &p);
    Py_END_ALLOW_THREADS
    int timed_out = s.timed_out;
    uint64_t nodes = s.nodes;
    search_free(&s);
    if (timed_out) return timeout_error();
    return Py_BuildValue("iK", score, (unsigned long long)nodes);
}

/* analyse(moves, budget=0, book=True) -> ([score or None] * 7, nodes):
 * the score of each move, from the side to move; None for a full column. */
static PyObject *py_analyse(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"moves", "budget", "book", NULL};
    const char *moves;
    Py_ssize_t length;
    double budget = 0;
    int use_book = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s#|dp", names, &moves, &length, &budget, &use_book))
        return NULL;
    Pos p;
    if (parse(moves, length, &p) < 0) return NULL;
    Search s;
    if (search_init(&s, budget, use_book) < 0) return NULL;
    int scores[WIDTH];
    int valid[WIDTH];
    Py_BEGIN_ALLOW_THREADS
    bb wins = own_wins(&p) & playable(&p);
    /* The position's own score first: no move scores more, so no reply
     * scores less than its opposite; it narrows every move's search, and
     * the table it leaves serves them all. */
    int best = solve(&s, &p);
    for (int col = 0; col < WIDTH && !s.timed_out; col++) {
        valid[col] = can_play(&p, col);
        if (!valid[col]) continue;
        if (wins & column_of(col)) {
            scores[col] = (CELLS + 1 - p.moves) / 2;
            continue;
        }
        Pos child = p;
        play_col(&child, col);
        scores[col] = -solve_above(&s, &child, -best);
    }
    Py_END_ALLOW_THREADS
    int timed_out = s.timed_out;
    uint64_t nodes = s.nodes;
    search_free(&s);
    if (timed_out) return timeout_error();
    PyObject *list = PyList_New(WIDTH);
    if (!list) return NULL;
    for (int col = 0; col < WIDTH; col++) {
        PyObject *item = valid[col] ? PyLong_FromLong(scores[col]) : Py_NewRef(Py_None);
        if (!item) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, col, item);
    }
    return Py_BuildValue("NK", list, (unsigned long long)nodes);
}

/* load_book(data: bytes) -> entries.  The 12-ply book with distances of
 * bitbully-databases: 5-byte records, a big-endian signed 32-bit position
 * code then a signed byte, sorted by code.  Loads once; later calls are
 * no-ops, so searches running meanwhile never see it change. */
static PyObject *py_load_book(PyObject *self, PyObject *arg) {
    if (book_size) return PyLong_FromSsize_t(book_size);
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    if (view.len == 0 || view.len % 5) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "not a book of 5-byte records");
        return NULL;
    }
    Py_ssize_t n = view.len / 5;
    int32_t *keys = malloc(n * sizeof *keys);
    int8_t *values = malloc(n);
    if (!keys || !values) {
        free(keys);
        free(values);
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    const unsigned char *b = view.buf;
    for (Py_ssize_t i = 0; i < n; i++, b += 5) {
        keys[i] = (int32_t)(((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3]);
        values[i] = (int8_t)b[4];
        if (i && keys[i] <= keys[i - 1]) {
            free(keys);
            free(values);
            PyBuffer_Release(&view);
            PyErr_Format(PyExc_ValueError, "book not sorted at record %zd", i);
            return NULL;
        }
    }
    PyBuffer_Release(&view);
    book_keys = keys;
    book_values = values;
    __atomic_store_n(&book_size, n, __ATOMIC_RELEASE); /* the arrays before their size, for threads searching */
    return PyLong_FromSsize_t(n);
}

/* book_lookup(moves) -> score or None: the book's exact score of a 12-ply position. */
static PyObject *py_book_lookup(PyObject *self, PyObject *arg) {
    Py_ssize_t length;
    const char *moves = PyUnicode_AsUTF8AndSize(arg, &length);
    if (!moves) return NULL;
    Pos p;
    if (parse(moves, length, &p) < 0) return NULL;
    if (p.moves != BOOK_PLY || !book_size) Py_RETURN_NONE;
    int score = book_score(&p);
    if (score == 127) Py_RETURN_NONE;
    return PyLong_FromLong(score);
}

/* clear_table(): empty the calling thread's table, so that its next search starts
 * from nothing (for measuring a search alone). */
static PyObject *py_clear_table(PyObject *self, PyObject *unused) {
    Table *t = table_for_search();
    if (!t) return PyErr_NoMemory();
    memset(t->buckets, 0, BUCKETS * sizeof *t->buckets);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"solve", (PyCFunction)(void (*)(void))py_solve, METH_VARARGS | METH_KEYWORDS,
     "solve(moves, budget=0, book=True) -> (score, nodes)"},
    {"analyse", (PyCFunction)(void (*)(void))py_analyse, METH_VARARGS | METH_KEYWORDS,
     "analyse(moves, budget=0, book=True) -> (scores, nodes)"},
    {"load_book", py_load_book, METH_O, "load_book(data) -> entries"},
    {"book_lookup", py_book_lookup, METH_O, "book_lookup(moves) -> score or None"},
    {"clear_table", py_clear_table, METH_NOARGS, "clear_table(): empty this thread's table"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_core", "The exact search, in C.", -1, methods};

PyMODINIT_FUNC PyInit__core(void) {
    static int keyed = 0;
    if (!keyed) {
        if (pthread_key_create(&table_key, table_free)) return PyErr_NoMemory();
        keyed = 1;
    }
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    if (PyModule_AddIntConstant(m, "BOOK_PLY", BOOK_PLY) < 0) return NULL;
    return m;
}

# grpcscope — the only entry points: all (default), check, demo, deps, fixtures, install.
CC       ?= gcc
OPT      ?= -O2 -g
BUILD    ?= build
PREFIX   ?= /usr/local
GS_CACHE ?= /var/cache/grpcscope
export GS_CACHE

ELF_CFLAGS   := $(shell pkg-config --cflags libelf 2>/dev/null)
ELF_LIBS     := $(shell pkg-config --libs libelf 2>/dev/null || echo -lelf)
DWARF_CFLAGS := $(shell pkg-config --cflags libdwarf 2>/dev/null || echo -I/usr/include/libdwarf)
DWARF_LIBS   := $(shell pkg-config --libs libdwarf 2>/dev/null || echo -ldwarf)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

GS_CFLAGS := -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -fPIC -fvisibility=default \
             -Ianalyzer/include $(ELF_CFLAGS) $(DWARF_CFLAGS) $(OPT) $(EXTRA_CFLAGS)
GS_LIBS   := $(DWARF_LIBS) $(ELF_LIBS) -lz $(EXTRA_LDFLAGS)

LIB_SRCS  := $(sort $(wildcard analyzer/src/*/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_SRCS  := $(sort $(wildcard analyzer/cli/*.c))
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps check unit integration fixtures demo install clean bench bench-fixtures

all: $(BUILD)/.deps $(BUILD)/grpcscope $(BUILD)/libgrpcscope.so $(BUILD)/libgrpcscope.a

# System packages come from the machine's own (bookworm) sources; fixture toolchains never do.
deps $(BUILD)/.deps: scripts/deps.sh
	@scripts/deps.sh
	@mkdir -p $(BUILD) && touch $(BUILD)/.deps

$(BUILD)/obj/%.o: %.c $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(GS_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libgrpcscope.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libgrpcscope.so: $(LIB_OBJS)
	$(CC) -shared -o $@ $^ $(GS_LIBS)

$(BUILD)/grpcscope: $(CLI_OBJS) $(BUILD)/libgrpcscope.a
	$(CC) -o $@ $(CLI_OBJS) $(BUILD)/libgrpcscope.a $(GS_LIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/gs_check.h $(BUILD)/libgrpcscope.a
	@mkdir -p $(dir $@)
	$(CC) $(GS_CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libgrpcscope.a $(GS_LIBS) $(CHECK_LIBS)

# Fixture snapshots: every scenario with every toolchain pair (incremental).
fixtures: all
	@fixtures/fetch-toolchains.sh
	@fixtures/make-snapshots.sh

unit: all $(UNIT_BINS)
	@tests/run-unit.sh $(UNIT_BINS)

check: all $(UNIT_BINS) fixtures
	@tests/run-all.sh $(UNIT_BINS)

demo: all
	@scripts/demo.sh

install: all
	@scripts/install.sh "$(PREFIX)" "$(BUILD)"

bench-fixtures: all
	@fixtures/fetch-toolchains.sh
	@GS_BENCH=1 fixtures/make-snapshots.sh

bench: bench-fixtures
	@bench/run.py

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d)

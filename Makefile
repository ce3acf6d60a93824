# grpcscope — the only entry points: all (default), check, demo, deps, fixtures, install,
# fuzz (FUZZ_SECONDS per target).
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
# libdebuginfod: its header only; the library is dlopen'd when a server is asked
# (binary/debuginfo.c says why).
DBGD_CFLAGS  := $(shell pkg-config --cflags libdebuginfod 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

GS_CFLAGS := -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -fPIC -fvisibility=hidden \
             -Ianalyzer/include $(ELF_CFLAGS) $(DWARF_CFLAGS) $(DBGD_CFLAGS) $(OPT) $(EXTRA_CFLAGS)
GS_LIBS   := $(DWARF_LIBS) $(ELF_LIBS) -ldeflate -lz -lzstd -llzma -llz4 -pthread $(EXTRA_LDFLAGS)

LIB_SRCS  := $(sort $(wildcard analyzer/src/*/*.c))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_SRCS  := $(sort $(wildcard analyzer/cli/*.c))
CLI_OBJS  := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps check unit integration fixtures demo install clean bench bench-fixtures \
        asan tsan fuzz fuzz-build fuzz-bins

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

$(BUILD)/tests/%: tests/unit/%.c tests/unit/gs_check.h tests/unit/gobins.h $(BUILD)/libgrpcscope.a
	@mkdir -p $(dir $@)
	$(CC) $(GS_CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libgrpcscope.a $(GS_LIBS) $(CHECK_LIBS)

# Unit tests of the verdict rules (tests/unit/test_diag_*.c): the diagnose objects linked
# with a program built by hand (tests/unit/mock_model.c) in place of the runtime and gRPC
# models, so no Go toolchain or core is needed.
DIAG_OBJS := $(filter $(BUILD)/obj/analyzer/src/diagnose/% $(BUILD)/obj/analyzer/src/util/% \
               $(BUILD)/obj/analyzer/src/report/findings.o $(BUILD)/obj/analyzer/src/grpc/states.o \
               $(BUILD)/obj/analyzer/src/report/why_blocked.o \
               $(BUILD)/obj/analyzer/src/goruntime/labels_set.o,$(LIB_OBJS))
$(filter $(BUILD)/tests/test_diag_%,$(UNIT_BINS)): $(BUILD)/tests/test_diag_%: tests/unit/test_diag_%.c \
		tests/unit/mock_model.c tests/unit/mock_model.h tests/unit/gs_check.h $(DIAG_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(GS_CFLAGS) -Itests/unit -o $@ $< tests/unit/mock_model.c $(DIAG_OBJS) $(GS_LIBS) $(CHECK_LIBS)

# Fixture snapshots: every scenario with every toolchain pair (incremental).
# The third-party snapshots (fixtures/thirdparty) are built even when a matrix snapshot
# failed; either failure fails the target.
# Snapshots come from pinned inputs and carry a stamp of their inputs' hash: they live in the
# cache, outside the clone, so that a fresh clone (CI) rebuilds only what changed. A clone
# that already has its own fixtures/out directory keeps it.
fixtures/out fixtures/out-thirdparty fixtures/out-chains:
	@mkdir -p "$(GS_CACHE)/fixtures/$(notdir $@)" && ln -sfn "$(GS_CACHE)/fixtures/$(notdir $@)" $@

fixtures: all | fixtures/out fixtures/out-thirdparty fixtures/out-chains
	@fixtures/fetch-toolchains.sh
	@fixtures/thirdparty/fetch.sh
	@rc=0; fixtures/make-snapshots.sh || rc=1; fixtures/thirdparty/snapshot.sh || rc=1; \
	 fixtures/chains/snapshot.sh || rc=1; exit $$rc

unit: all $(UNIT_BINS)
	@tests/run-unit.sh $(UNIT_BINS)

check: all $(UNIT_BINS) fixtures asan tsan fuzz-build
	@tests/run-all.sh $(UNIT_BINS)

demo: all
	@scripts/demo.sh

install: all
	@scripts/install.sh "$(PREFIX)" "$(BUILD)"

bench-fixtures: all | fixtures/out fixtures/out-chains
	@fixtures/fetch-toolchains.sh
	@GS_BENCH=1 fixtures/make-snapshots.sh
	@GS_CHAINS=chain10 fixtures/chains/snapshot.sh

bench: bench-fixtures
	@bench/run.py
	@bench/chains.py

# Sanitizers: the library, CLI and unit tests built with ASan + UBSan into build-asan/;
# make check runs the unit and integration tests against them (tests/sanitize/).
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer
asan:
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g" \
	  EXTRA_CFLAGS="$(SAN_FLAGS) -Wno-format-truncation" EXTRA_LDFLAGS="-fsanitize=address,undefined" \
	  build-asan/grpcscope $(UNIT_SRCS:tests/unit/%.c=build-asan/tests/%)

# ThreadSanitizer build of the CLI (clang) into build-tsan/: make check runs the two-thread
# commands under it (tests/sanitize/run-tsan.sh).
tsan:
	@$(MAKE) --no-print-directory CC=clang BUILD=build-tsan OPT="-O1 -g" \
	  EXTRA_CFLAGS="-fsanitize=thread -Wno-bitwise-instead-of-logical" \
	  EXTRA_LDFLAGS="-fsanitize=thread" build-tsan/grpcscope

# libFuzzer targets (tests/fuzz/fuzz_*.c), built with clang into build-fuzz/. make fuzz runs
# each for FUZZ_SECONDS; make check replays the regressions and runs a short smoke pass.
FUZZ_SECONDS ?= 60
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
fuzz-build:
	@$(MAKE) --no-print-directory CC=clang BUILD=build-fuzz OPT="-O1 -g" \
	  EXTRA_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -Wno-bitwise-instead-of-logical" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" fuzz-bins
fuzz-bins: $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/%)
$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(BUILD)/libgrpcscope.a
	$(CC) $(GS_CFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/libgrpcscope.a $(GS_LIBS)

fuzz: all fuzz-build
	@tests/fuzz/run.sh run "$(FUZZ_SECONDS)"

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d)

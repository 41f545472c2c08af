# shardcap - build, test, demo.
#
#   make                      build ./shardcap and tools/gencap (developer
#                             build: strict warnings, -Werror)
#   make check                install missing Debian packages, build, run
#                             every test (three suites at a time)
#   make check-quick          the same without the files marked slow
#   make SANITIZE=address,undefined check
#                             the same under ASan + UBSan (own build dir)
#   make demo                 install, build, generate a capture, split
#                             it, add it to local workers, query it
#   make fuzz FUZZ_SECONDS=60 run the libFuzzer target on the readers
#   make bench-split          benchmarks: bench/split, bench/push,
#   make bench-push           bench/readd, bench/query (see
#   make bench-readd          bench/README.md)
#   make bench-query
#   make bench-balance        the planner simulated (bench/balance)

VERSION := $(shell cat VERSION)
CC ?= cc
CFLAGS ?= -O2 -g
DEVELOPER ?= 1
SANITIZE ?=
PREFIX ?= /usr/local

comma := ,
ifeq ($(V),1)
Q :=
QUIET_CC :=
QUIET_LINK :=
else
Q := @
QUIET_CC = @echo "  CC      $<";
QUIET_LINK = @echo "  LINK    $@";
endif
ifeq ($(SANITIZE),)
BUILD := build/default
else
BUILD := build/san-$(subst $(comma),-,$(SANITIZE))
endif

WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Wwrite-strings -Wvla
ifeq ($(DEVELOPER),1)
WARNINGS += -Werror
endif

ALL_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	$(WARNINGS) $(CFLAGS) -Isrc -DSHARDCAP_VERSION='"$(VERSION)"' -MMD -MP
ALL_LDFLAGS := $(LDFLAGS)
ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif
LIBS := -lsqlite3 -lzstd -lz -lcrypto -lpthread -lm

# Everything below the command layer: the library the tests link too.
CORE := strbuf strvec xalloc error util file json table source capture \
	digest copier child remote config catalog split inspect cluster push \
	check outbuf agent agent-text slot beat sink run streams sched fetch plan \
	balance costs move repair cut flow flowsplit zmerge iostat
CLI := cli main cmd-init cmd-worker cmd-add cmd-status cmd-run cmd-balance \
	cmd-repair \
	cmd-split cmd-inspect
UNIT := tap testcap test-main test-strbuf test-util test-json test-capture \
	test-source test-split test-cluster test-balance test-flow test-zmerge

CORE_OBJ := $(CORE:%=$(BUILD)/src/%.o)
CLI_OBJ := $(CLI:%=$(BUILD)/src/%.o)
UNIT_OBJ := $(UNIT:%=$(BUILD)/test/unit/%.o)

all: $(BUILD)/shardcap $(BUILD)/shardcap-warm.so $(BUILD)/gencap \
	$(BUILD)/unit-tests $(BUILD)/balance-sim $(BUILD)/kernel-copy \
	$(BUILD)/test/fake-tshark
ifeq ($(SANITIZE),)
	@ln -sf $(BUILD)/shardcap shardcap
	@ln -sf ../$(BUILD)/gencap tools/gencap
endif

# The worker-side agent, built in: src/agent.sh as a C string (each line
# quoted; "?" escaped, so that no trigraph forms).
$(BUILD)/src/agent-text.c: src/agent.sh
	@mkdir -p $(dir $@)
	$(Q){ echo '/* made from src/agent.sh by the Makefile: do not edit */'; \
	  echo '#include "agent.h"'; echo 'const char agent_text[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' \
	    -e 's/^/"/' -e 's/$$/\\n"/' $<; echo ';'; } > $@.tmp && mv $@.tmp $@

$(BUILD)/src/agent-text.o: $(BUILD)/src/agent-text.c
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/test/unit/%.o: test/unit/%.c
	@mkdir -p $(dir $@)
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -Itest/unit -c -o $@ $<

$(BUILD)/tools/%.o: tools/%.c
	@mkdir -p $(dir $@)
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libshardcap.a: $(CORE_OBJ)
	$(QUIET_LINK)rm -f $@ && ar rcs $@ $^

$(BUILD)/shardcap: $(CLI_OBJ) $(BUILD)/libshardcap.a
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/bench/%.o: bench/%.c
	@mkdir -p $(dir $@)
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/balance-sim: $(BUILD)/bench/balance-sim.o $(BUILD)/libshardcap.a
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/kernel-copy: $(BUILD)/bench/kernel-copy.o
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^

# Preloaded into tshark on the workers (src/warm.c): never built with the
# sanitizers, whose run-time the tool does not have.
$(BUILD)/shardcap-warm.so: src/warm.c
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) -std=c11 $(WARNINGS) $(CFLAGS) -fPIC -shared \
		-o $@ $< -ldl

# The tests' stand-in for tshark (test/fake): started warm like it, so
# built like the library, without the sanitizers.
$(BUILD)/test/libfakewtap.so: test/fake/fakewtap.c test/fake/fakewtap.h
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) -std=c11 -D_POSIX_C_SOURCE=200809L $(WARNINGS) \
		$(CFLAGS) -fPIC -shared -o $@ $<

$(BUILD)/test/fake-tshark: test/fake/fake-tshark.c test/fake/fakewtap.h \
	$(BUILD)/test/libfakewtap.so
	$(QUIET_LINK)$(CC) -std=c11 -D_POSIX_C_SOURCE=200809L $(WARNINGS) \
		$(CFLAGS) -o $@ $< -L$(BUILD)/test -lfakewtap \
		-Wl,-rpath,'$$ORIGIN'

$(BUILD)/gencap: $(BUILD)/tools/gencap.o $(BUILD)/tools/gencap-packets.o \
	$(BUILD)/tools/gencap-mixed.o $(BUILD)/tools/gencap-flows.o
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^

$(BUILD)/unit-tests: $(UNIT_OBJ) $(BUILD)/libshardcap.a
	$(QUIET_LINK)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

deps:
	@tools/install-deps test

check:
	@tools/install-deps test
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) test/run

check-quick:
	@tools/install-deps test
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) test/run --quick

demo:
	@tools/install-deps demo
	@$(MAKE) --no-print-directory all
	@tools/demo

fuzz:
	@tools/install-deps test
	@tools/fuzz $(or $(FUZZ_SECONDS),60)

bench-split:
	@tools/install-deps bench
	@$(MAKE) --no-print-directory all
	@bench/split

bench-push:
	@tools/install-deps bench
	@$(MAKE) --no-print-directory all
	@bench/push

bench-readd:
	@tools/install-deps bench
	@$(MAKE) --no-print-directory all
	@bench/readd

bench-query:
	@tools/install-deps bench
	@$(MAKE) --no-print-directory all
	@bench/query

bench-balance: all
	@bench/balance

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 $(BUILD)/shardcap $(DESTDIR)$(PREFIX)/bin/shardcap
	install -d $(DESTDIR)$(PREFIX)/lib/shardcap
	install -m 644 $(BUILD)/shardcap-warm.so \
		$(DESTDIR)$(PREFIX)/lib/shardcap/shardcap-warm.so
	install -m 644 docs/shardcap.1 $(DESTDIR)$(PREFIX)/share/man/man1/shardcap.1

clean:
	rm -rf build shardcap tools/gencap

.PHONY: all deps check check-quick demo fuzz bench-split bench-push bench-readd bench-query \
	bench-balance install clean

-include $(CORE_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) \
	$(BUILD)/tools/gencap.d $(BUILD)/tools/gencap-packets.d \
	$(BUILD)/tools/gencap-mixed.d $(BUILD)/tools/gencap-flows.d \
	$(BUILD)/bench/balance-sim.d \
	$(BUILD)/bench/kernel-copy.d
